"""Insight's API: survey answers (the shop's key or the member's token), a member's insight, segments and their
counts, and the program's metrics. Views parse, call one service or selector, and render."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.fields import MoneyField
from core.idempotency import derived_key, idempotent_write, request_key
from core.models import Channel, Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from core.serializers import StrictSerializer, parse
from members.authentication import IsMember
from members.selectors import member_get

from . import selectors, services
from .models import MetricSnapshot, SurveyAnswer

MEMBER_APP_CHANNEL = "member_app"


class SurveyAnswerCreateSerializer(StrictSerializer):
    survey = serializers.SlugField(max_length=64, help_text="The survey's code.")
    score = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0, max_value=10,
                                     help_text="NPS 0-10 or CSAT 1-5.")
    recommend = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=6,
                                         help_text="CLI: how likely to recommend us (1-6).")
    buy_again = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=6,
                                         help_text="CLI: how likely to buy from us again (1-6).")
    try_other = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=6,
                                         help_text="CLI: how likely to try our other products (1-6).")
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SurveyAnswerSerializer(serializers.ModelSerializer):
    survey = serializers.CharField(source="survey.code")
    kind = serializers.CharField(source="survey.kind")
    member = serializers.CharField(source="member.external_id")
    points = serializers.SerializerMethodField()
    recorded = serializers.BooleanField(help_text="False when the member had already answered in this period: "
                                                  "the first answer is returned and nothing changed.")

    class Meta:
        model = SurveyAnswer
        fields = ["id", "survey", "kind", "member", "period", "score", "recommend", "buy_again", "try_other",
                  "comment", "points", "answered_at", "recorded"]
        read_only_fields = fields

    def get_points(self, answer) -> int:
        return answer.reward.points if answer.reward_id else 0


def _record(request, *, member, channel_id: int, key: str) -> Response:
    data = parse(SurveyAnswerCreateSerializer, request)
    answer_input = services.AnswerInput(score=data["score"], recommend=data["recommend"], buy_again=data["buy_again"],
                                        try_other=data["try_other"], comment=data["comment"])

    def perform():
        answer, recorded = services.survey_answer_record(member=member, survey_code=data["survey"],
                                                         answer=answer_input, channel_id=channel_id)
        answer.recorded = recorded
        return (201 if recorded else 200), SurveyAnswerSerializer(answer).data

    return idempotent_write(request, channel_id=channel_id, perform=perform, key=key)


class SurveyAnswerApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_WRITE)]

    @extend_schema(operation_id="survey_answers_record", request=SurveyAnswerCreateSerializer,
                   responses={201: SurveyAnswerSerializer, 200: SurveyAnswerSerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, external_id: str):
        key = request_key(request)
        member = member_get(external_id=external_id)
        return _record(request, member=member, channel_id=request.user.channel_id, key=key)


class MySurveyAnswerApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="me_survey_answers_record", request=SurveyAnswerCreateSerializer,
                   responses={201: SurveyAnswerSerializer, 200: SurveyAnswerSerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        member = request.user.member
        # Members' keys share one channel: each member's keys are their own.
        key = derived_key("me", member.pk, request_key(request))
        return _record(request, member=member, channel_id=Channel.named(MEMBER_APP_CHANNEL).pk, key=key)


def _query(serializer_class, request) -> dict:
    """Validate the query string (unknown parameters refused); a bad one is the 400 of the API's error shape."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class MemberInsightApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="member_insight", responses={200: dict, **ERRORS})
    def get(self, request, external_id: str):
        return Response(selectors.member_insight(member=member_get(external_id=external_id)))


class SegmentListApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="segments_list", responses={200: dict, **ERRORS})
    def get(self, request):
        return Response(selectors.segment_counts())


class SegmentQuerySerializer(StrictSerializer):
    after = serializers.IntegerField(required=False, default=0, min_value=0, help_text="The `next` of a page.")
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=500)


class SegmentMembersApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="segment_members", parameters=[SegmentQuerySerializer],
                   responses={200: dict, **ERRORS})
    def get(self, request, segment: str):
        query = _query(SegmentQuerySerializer, request)
        results, after = selectors.segment_members(segment=segment, after=query["after"], limit=query["limit"])
        return Response({"segment": segment, "results": results, "next": after})


class MemberListQuerySerializer(SegmentQuerySerializer):
    segment = serializers.RegexField(r"^[a-z]+:[-a-zA-Z0-9_]+$", max_length=40, required=False, allow_blank=True,
                                     default="", help_text="Only this segment's members: stage:active, value:high, "
                                                           "loyalty:advocate, tag:<code>.")


class MemberListItemSerializer(serializers.Serializer):
    member = serializers.CharField(help_text="The member's external_id.")
    status = serializers.CharField()
    joined_at = serializers.DateTimeField()
    stage = serializers.CharField(allow_null=True, help_text="As of the last nightly run (null before it).")
    value_tier = serializers.CharField(allow_null=True)
    loyalty_type = serializers.CharField(allow_null=True)


class MemberListSerializer(serializers.Serializer):
    segment = serializers.CharField(allow_null=True)
    count = serializers.IntegerField(help_text="How many members the list holds (all its pages).")
    results = MemberListItemSerializer(many=True)
    next = serializers.IntegerField(allow_null=True, help_text="Pass as `after` for the next page; null on the last.")


def member_list_response(request) -> Response:
    """`GET /api/v1/members` (routed with the registration in config): the members, or one segment's, a page."""
    query = _query(MemberListQuerySerializer, request)
    return Response(selectors.member_list(segment=query["segment"], after=query["after"], limit=query["limit"]))


class MetricsQuerySerializer(StrictSerializer):
    period = serializers.ChoiceField(choices=MetricSnapshot.Period.choices)
    date = serializers.DateField(required=False, allow_null=True, default=None,
                                 help_text="A day of the period; today when omitted (a period still running).")
    store = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    segment = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                    help_text="e.g. stage:active, value:high, loyalty:advocate.")


class MetricsApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="metrics_read", parameters=[MetricsQuerySerializer], responses={200: dict, **ERRORS})
    def get(self, request):
        query = _query(MetricsQuerySerializer, request)
        snapshot = services.metrics_snapshot_for(period=query["period"], day=query["date"] or timezone.now().date(),
                                                 store=query["store"], segment=query["segment"])
        return Response({"period": snapshot.period, "start": snapshot.start, "end": snapshot.end,
                         "store": snapshot.store, "segment": snapshot.segment, "computed_at": snapshot.computed_at,
                         "values": snapshot.values})


class HistoryOrderSerializer(StrictSerializer):
    member = serializers.CharField(max_length=64, help_text="The member's external_id.")
    order_id = serializers.CharField(max_length=100)
    amount = MoneyField()
    occurred_at = serializers.DateTimeField()
    categories = serializers.ListField(child=serializers.RegexField(r"^\S(?:.*\S)?$", max_length=64), max_length=50,
                                       required=False,
                                       default=list)


class HistoryImportSerializer(StrictSerializer):
    orders = serializers.ListField(child=HistoryOrderSerializer(), min_length=1, max_length=1000)


class HistoryImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Already imported, or already recorded as orders of the program.")


class OrderHistoryApi(APIView):
    """Past orders, for the facts, segments and lifetime value; they earn no points."""

    permission_classes = [requires_scope(Scope.POINTS_EARN)]

    @extend_schema(operation_id="order_history_import", request=HistoryImportSerializer,
                   responses={201: HistoryImportResultSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        key = request_key(request)
        data = parse(HistoryImportSerializer, request)
        rows = [services.HistoryRow(member=o["member"], order_id=o["order_id"], amount=o["amount"],
                                    occurred_at=o["occurred_at"], categories=tuple(o["categories"]))
                for o in data["orders"]]
        channel = request.user.channel_id
        return idempotent_write(request, channel_id=channel, key=key, perform=lambda: (
            201, services.order_history_import(channel_id=channel, rows=rows)))
