from django.urls import path

from erp import audit_views

app_name = "audit"
urlpatterns = [
    path("history/", audit_views.history_report, name="history_report"),
    path("history/export.csv", audit_views.history_export, name="history_export"),
]
