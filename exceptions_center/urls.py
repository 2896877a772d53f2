from django.urls import path

from exceptions_center import views

app_name = "exceptions_center"
urlpatterns = [
    path("", views.EventQueueView.as_view(), name="queue"),
    path("events/<str:number>/", views.EventDetailView.as_view(), name="event_detail"),
    path("events/<str:number>/<str:action>/", views.event_action, name="event_action"),
    path("notifications/", views.NotificationListView.as_view(), name="notification_list"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
