from django.urls import path

from .api import views

urlpatterns = [
    path("members/<key:external_id>/referrals", views.MemberReferralsApi.as_view(), name="member-referrals"),
    path("members/<key:external_id>/referral", views.ReferralAttachApi.as_view(), name="member-referral-attach"),
    path("me/referrals", views.MyReferralsApi.as_view(), name="me-referrals"),
    path("referral-codes/<key:code>", views.ReferralCodeApi.as_view(), name="referral-code"),
]
