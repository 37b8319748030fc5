from django.urls import path

from . import api

urlpatterns = [
    path("events", api.EventsApi.as_view(), name="events"),
    path("members/<key:external_id>/challenges", api.MemberChallengesApi.as_view(), name="member-challenges"),
    path("me/challenges", api.MyChallengesApi.as_view(), name="me-challenges"),
]
