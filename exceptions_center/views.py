"""Placeholder while the queue pages are written."""

from django.http import HttpResponse
from django.views import View


class EventQueueView(View):
    def get(self, request):
        return HttpResponse("")


class EventDetailView(View):
    def get(self, request, number):
        return HttpResponse("")


class NotificationListView(View):
    def get(self, request):
        return HttpResponse("")


def event_action(request, number, action):
    return HttpResponse("")


def notifications_read(request):
    return HttpResponse("")
