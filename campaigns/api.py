"""The events API (one event or a batch of up to 1,000, recorded once per event id and channel) and a member's
challenges (the shop's key or the member's token)."""

import re
from datetime import datetime

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent_write, request_key
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from core.serializers import StrictSerializer
from members.authentication import IsMember
from members.selectors import member_get

from . import selectors, services

MAX_BATCH = 1000


class EventSerializer(StrictSerializer):
    event_id = serializers.CharField(max_length=100, help_text="Unique per channel: sent again, it is recorded once.")
    member = serializers.CharField(max_length=64, help_text="The member's external_id.")
    type = serializers.SlugField(max_length=64, help_text="An event type staff defined.")
    occurred_at = serializers.DateTimeField()
    attributes = serializers.DictField(required=False, default=dict,
                                       help_text="As the type's attribute schema says (required keys, types).")


class EventBatchSerializer(StrictSerializer):
    events = serializers.ListField(child=EventSerializer(), min_length=1, max_length=MAX_BATCH)


class EventsResultSerializer(serializers.Serializer):
    recorded = serializers.IntegerField(help_text="Events new to this channel.")
    duplicates = serializers.IntegerField(help_text="Events whose event_id was already recorded: ignored.")
    fired = serializers.IntegerField(help_text="Campaign firings the new events caused.")


EVENT_FIELDS = {"event_id": 100, "member": 64, "type": 64}
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def _fast(items) -> list[dict] | None:
    """A batch checked and parsed in plain Python (the serializers take about as long as the rest of the request
    for 1,000 events); None as soon as anything is unusual, and the serializers then answer with their exact
    error (or accept what this was too strict for)."""
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        return None
    parsed = []
    for item in items:
        if not isinstance(item, dict) or not 4 <= len(item) <= 5 or not set(item) <= ALLOWED:
            return None
        for name, limit in EVENT_FIELDS.items():
            value = item.get(name)
            if not isinstance(value, str) or not value or len(value) > limit or value != value.strip():
                return None
        attributes = item.get("attributes", {})
        occurred_at = item.get("occurred_at")
        if not isinstance(attributes, dict) or not isinstance(occurred_at, str) or not SLUG.match(item["type"]):
            return None
        try:
            moment = datetime.fromisoformat(occurred_at)
        except ValueError:
            return None
        if moment.tzinfo is None or not (1 <= moment.year <= 9999):
            return None
        parsed.append({"event_id": item["event_id"], "member": item["member"], "type": item["type"],
                       "occurred_at": moment, "attributes": attributes})
    return parsed


ALLOWED = {"event_id", "member", "type", "occurred_at", "attributes"}


def _events(request) -> list[dict]:
    """One event, or {"events": [...]}; a bad one is the 400 of the API's error shape, with its path."""
    if isinstance(request.data, dict) and set(request.data) == {"events"}:
        fast = _fast(request.data["events"])
        if fast is not None:
            return fast
    data = request.data if isinstance(request.data, dict) else None
    if data is not None and "events" not in data:
        fast = _fast([data])  # one event: a batch of one
        if fast is not None:
            return fast
        serializer = EventSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        return [serializer.validated_data]
    serializer = EventBatchSerializer(data=data if data is not None else {"events": request.data})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["events"]


class EventsApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_WRITE)]

    @extend_schema(operation_id="events_record", request=EventBatchSerializer,
                   responses={201: EventsResultSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        key = request_key(request)
        events = [services.EventInput(event_id=e["event_id"], member=e["member"], type=e["type"],
                                      occurred_at=e["occurred_at"], attributes=e["attributes"]) for e in _events(request)]
        channel = request.user.channel_id
        return idempotent_write(request, channel_id=channel, key=key, perform=lambda: (
            201, services.events_record(channel_id=channel, events=events)))


class ChallengeRewardSerializer(serializers.Serializer):
    points = serializers.IntegerField(help_text="Bonus points paid when done.")
    reward = serializers.CharField(allow_null=True, help_text="The name of the voucher's reward given when done.")


class ChallengeSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField(help_text="In the member's language.")
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=["count", "streak"],
                                   help_text="count: `target` times within `within_days`; streak: an order every "
                                             "week (Monday to Sunday, the member's time zone) for `target` weeks.")
    event_type = serializers.CharField(allow_null=True, help_text="The event to do; null: orders.")
    target = serializers.IntegerField()
    within_days = serializers.IntegerField(allow_null=True)
    progress = serializers.IntegerField(help_text="Done so far in the current attempt (weeks in a row for a streak).")
    status = serializers.ChoiceField(choices=["not_started", "in_progress", "completed", "expired"])
    started_at = serializers.DateTimeField(allow_null=True)
    due_by = serializers.DateTimeField(allow_null=True, help_text="In progress: the window closes (count), or the "
                                                                  "streak breaks without an order (streak).")
    completed_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True, help_text="The challenge itself ends.")
    reward = ChallengeRewardSerializer()
    points = serializers.IntegerField(help_text="Points paid (completed).")
    voucher = serializers.CharField(allow_null=True, help_text="The voucher's code given (completed).")


class ChallengeListSerializer(serializers.Serializer):
    results = ChallengeSerializer(many=True)


class MemberChallengesApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="member_challenges", responses={200: ChallengeListSerializer, **ERRORS})
    def get(self, request, external_id: str):
        member = member_get(external_id=external_id)
        return Response(ChallengeListSerializer({"results": selectors.challenges_of(member=member)}).data)


class MyChallengesApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="me_challenges", responses={200: ChallengeListSerializer, **ERRORS})
    def get(self, request):
        return Response(ChallengeListSerializer({"results": selectors.challenges_of(member=request.user.member)}).data)
