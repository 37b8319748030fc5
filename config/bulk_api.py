"""Bulk adjustments through the API: one credit or debit, with one reason, for a list of members or a segment,
made by a job in batches (loyalty's `bulk_adjustment_create` / `bulk_adjustment_run`); its progress is read back.
Here, at the composition root, because a segment is insight's and the ledger is loyalty's."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import BusinessRuleError, NotFound
from core.fields import MAX_POINTS, PointsField
from core.idempotency import idempotent_write, request_key
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from core.serializers import StrictSerializer, parse
from insight.selectors import segment_member_ids
from loyalty import services as loyalty
from loyalty.exceptions import LoyaltyErrorCode
from loyalty.models import BulkAdjustment
from loyalty.services.ledger import channel_id as our_channel
from members.exceptions import MembersErrorCode
from members.models import Member

MAX_LISTED = 10_000


class BulkAdjustmentCreateSerializer(StrictSerializer):
    members = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list,
                                    max_length=MAX_LISTED,
                                    help_text=f"The members' external ids (at most {MAX_LISTED:,}).")
    segment = serializers.CharField(max_length=80, required=False, allow_blank=True, default="",
                                    help_text="A segment (e.g. stage:dormant, value:high, tag:vip): every member in "
                                              "it as of the last nightly run. With `members` too, both.")
    points = PointsField(min_value=-MAX_POINTS, help_text="Signed, for each member: positive to credit, negative "
                                                          "to debit (a member without enough points is skipped).")
    reason = serializers.CharField(max_length=500)


class BulkAdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = BulkAdjustment
        fields = ["id", "points", "reason", "source", "status", "total", "done", "skipped", "created_at",
                  "finished_at"]
        read_only_fields = fields


def _is_staff(request) -> bool:
    return not hasattr(request.user, "channel_id")


class BulkAdjustmentCreateApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_ADJUST, allow_staff_perm="loyalty.adjust_points")]

    @extend_schema(operation_id="points_adjust_bulk", request=BulkAdjustmentCreateSerializer,
                   responses={202: BulkAdjustmentSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        key = request_key(request)
        data = parse(BulkAdjustmentCreateSerializer, request)
        listed = sorted(set(data["members"]))
        known = dict(Member.objects.filter(external_id__in=listed).values_list("external_id", "pk"))
        unknown = [m for m in listed if m not in known]
        if unknown:
            raise NotFound(f"No member with external_id {unknown[0]!r}" + (f" and {len(unknown) - 1} more." if
                           len(unknown) > 1 else "."), code=MembersErrorCode.MEMBER_NOT_FOUND,
                           fields={"members": [f"Unknown: {', '.join(unknown[:100])}"]})
        ids = Member.objects.filter(pk__in=list(known.values())).values("pk")
        if data["segment"]:
            ids = ids.union(segment_member_ids(segment=data["segment"]))
        elif not listed:
            raise BusinessRuleError("Name the members: a list, a segment, or both.",
                                    code=LoyaltyErrorCode.BULK_ADJUSTMENT_EMPTY)
        source = ", ".join(filter(None, [data["segment"], f"{len(listed)} listed" if listed else ""]))
        is_staff = _is_staff(request)
        channel = our_channel("admin") if is_staff else request.user.channel_id

        def perform():
            bulk = loyalty.bulk_adjustment_create(points=data["points"], reason=data["reason"], member_ids=ids,
                                                  source=source, channel_id=channel,
                                                  actor=request.user if is_staff else None)
            return 202, BulkAdjustmentSerializer(bulk).data

        return idempotent_write(request, channel_id=channel, perform=perform, key=key)


class BulkAdjustmentDetailApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_ADJUST, allow_staff_perm="loyalty.adjust_points")]

    @extend_schema(operation_id="points_adjust_bulk_read", responses={200: BulkAdjustmentSerializer, **ERRORS})
    def get(self, request, bulk_id: int):
        bulks = BulkAdjustment.objects.all()
        if not _is_staff(request):
            bulks = bulks.filter(channel_id=request.user.channel_id)
        bulk = bulks.filter(pk=bulk_id).first()
        if bulk is None:
            raise NotFound(f"No bulk adjustment {bulk_id}.", code=LoyaltyErrorCode.BULK_ADJUSTMENT_NOT_FOUND)
        return Response(BulkAdjustmentSerializer(bulk).data)
