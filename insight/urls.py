from django.urls import path

from . import api

urlpatterns = [
    path("members/<key:external_id>/survey-answers", api.SurveyAnswerApi.as_view(), name="member-survey-answers"),
    path("me/survey-answers", api.MySurveyAnswerApi.as_view(), name="me-survey-answers"),
]
