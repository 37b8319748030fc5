from django.urls import path

from . import api

urlpatterns = [
    path("members/<key:external_id>/survey-answers", api.SurveyAnswerApi.as_view(), name="member-survey-answers"),
    path("members/<key:external_id>/insight", api.MemberInsightApi.as_view(), name="member-insight"),
    path("me/survey-answers", api.MySurveyAnswerApi.as_view(), name="me-survey-answers"),
    path("segments", api.SegmentListApi.as_view(), name="segments"),
    path("segments/<str:segment>/members", api.SegmentMembersApi.as_view(), name="segment-members"),
    path("metrics", api.MetricsApi.as_view(), name="metrics"),
    path("order-history", api.OrderHistoryApi.as_view(), name="order-history"),
]
