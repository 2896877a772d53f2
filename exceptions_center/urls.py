from django.urls import path  # noqa: F401

app_name = "exceptions_center"
urlpatterns: list = []
