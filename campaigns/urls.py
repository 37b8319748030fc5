from django.urls import path

from . import api

urlpatterns = [
    path("events", api.EventsApi.as_view(), name="events"),
]
