from django.urls import path

from .api import memberships, views

urlpatterns = [
    path("members/<key:external_id>", views.MemberDetailApi.as_view(), name="member-detail"),
    path("members/<key:external_id>/tokens", views.MemberTokenApi.as_view(), name="member-tokens"),
    path("members/<key:external_id>/page-links", views.PageLinkApi.as_view(), name="member-page-links"),
    path("members/<key:external_id>/tier", memberships.MemberTierApi.as_view(), name="member-tier"),
    path("members/<key:external_id>/subscriptions", memberships.SubscriptionCollectionApi.as_view(),
         name="member-subscriptions"),
    path("members/<key:external_id>/subscriptions/<int:subscription_id>/renew", memberships.SubscriptionRenewApi.as_view(),
         name="subscription-renew"),
    path("members/<key:external_id>/subscriptions/<int:subscription_id>/cancel",
         memberships.SubscriptionCancelApi.as_view(), name="subscription-cancel"),
    path("tiers", memberships.TierListApi.as_view(), name="tiers"),
    path("plans", memberships.PlanListApi.as_view(), name="plans"),
    path("me", views.MeApi.as_view(), name="me"),
    path("me/tier", memberships.MyTierApi.as_view(), name="me-tier"),
]
