from django.urls import path

from .api import views

urlpatterns = [
    path("members", views.MemberCollectionApi.as_view(), name="members"),
    path("members/<key:external_id>", views.MemberDetailApi.as_view(), name="member-detail"),
    path("members/<key:external_id>/tokens", views.MemberTokenApi.as_view(), name="member-tokens"),
    path("me", views.MeApi.as_view(), name="me"),
]
