"""Tiers and paid memberships over the API."""


from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.fields import MoneyField
from core.idempotency import idempotent_write
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from core.serializers import StrictSerializer, parse

from .. import services
from ..authentication import IsMember
from ..models import Plan, Subscription, SubscriptionEvent, Tier, TierChange
from ..selectors import member_get, tier_overview


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["code", "name", "rank", "threshold", "earn_multiplier", "birthday_gift_points", "birthday_reward_code",
                  "perks"]


class PlanSerializer(serializers.ModelSerializer):
    tier_floor = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Plan
        fields = ["code", "name", "kind", "period", "duration_days", "price", "currency", "trial_days",
                  "earn_multiplier", "tier_floor", "perks"]


class TierChangeSerializer(serializers.ModelSerializer):
    from_tier = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_tier = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = TierChange
        fields = ["from_tier", "to_tier", "reason", "note", "created_at"]


class SubscriptionEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubscriptionEvent
        fields = ["kind", "payment_reference", "amount", "refund_amount", "period_end", "created_at"]


class SubscriptionSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    member = serializers.CharField(source="member.external_id")
    events = SubscriptionEventSerializer(many=True, read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "member", "plan", "status", "started_at", "current_period_start", "current_period_end",
                  "cancel_at_period_end", "cancelled_at", "ended_at", "events"]


class SubscriptionStartSerializer(StrictSerializer):
    plan = serializers.SlugField(max_length=32)
    payment_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    amount = MoneyField(required=False, allow_null=True, default=None)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, allow_null=True, default=None)
    trial = serializers.BooleanField(required=False, default=False)


class SubscriptionRenewSerializer(StrictSerializer):
    payment_reference = serializers.CharField(max_length=100)
    amount = MoneyField(required=False, allow_null=True, default=None)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, allow_null=True, default=None)


class SubscriptionCancelSerializer(StrictSerializer):
    immediately = serializers.BooleanField(required=False, default=False)
    refund_amount = MoneyField(required=False, allow_null=True, default=None)


def _tier_body(member) -> dict:
    body = tier_overview(member=member)
    body["history"] = TierChangeSerializer(member.tier_changes.select_related("from_tier", "to_tier")[:20],
                                           many=True).data
    return body


class TierListApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="tiers_list", responses={200: TierSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response(TierSerializer(Tier.objects.filter(active=True).order_by("rank"), many=True).data)


class PlanListApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="plans_list", responses={200: PlanSerializer(many=True), **ERRORS})
    def get(self, request):
        plans = Plan.objects.filter(active=True).select_related("tier_floor").order_by("price")
        return Response(PlanSerializer(plans, many=True).data)


class MemberTierApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="members_tier", responses={200: dict, **ERRORS})
    def get(self, request, external_id: str):
        return Response(_tier_body(member_get(external_id=external_id)))


class MyTierApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="me_tier", responses={200: dict, **ERRORS})
    def get(self, request):
        return Response(_tier_body(request.user.member))




class SubscriptionCollectionApi(APIView):
    def get_permissions(self):
        scope = Scope.MEMBERS_READ if self.request.method == "GET" else Scope.MEMBERS_WRITE
        return [requires_scope(scope)()]

    @extend_schema(operation_id="subscriptions_list", responses={200: SubscriptionSerializer(many=True), **ERRORS})
    def get(self, request, external_id: str):
        member = member_get(external_id=external_id)
        subs = member.subscriptions.select_related("plan", "member").prefetch_related("events").order_by("-id")
        return Response(SubscriptionSerializer(subs, many=True).data)

    @extend_schema(operation_id="subscriptions_start", request=SubscriptionStartSerializer,
                   responses={201: SubscriptionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, external_id: str):
        data = parse(SubscriptionStartSerializer, request)
        member = member_get(external_id=external_id)

        def perform():
            sub = services.subscription_start(member=member, plan=services.plan_get(code=data["plan"]),
                                              channel_id=request.user.channel_id,
                                              payment_reference=data["payment_reference"], amount=data["amount"],
                                              currency=data["currency"], trial=data["trial"])
            return 201, SubscriptionSerializer(sub).data

        return idempotent_write(request, channel_id=request.user.channel_id, perform=perform)


class SubscriptionRenewApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_WRITE)]

    @extend_schema(operation_id="subscriptions_renew", request=SubscriptionRenewSerializer,
                   responses={200: SubscriptionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, external_id: str, subscription_id: int):
        data = parse(SubscriptionRenewSerializer, request)
        sub = services.subscription_for(member=member_get(external_id=external_id), subscription_id=subscription_id)

        def perform():
            renewed = services.subscription_renew(subscription=sub, channel_id=request.user.channel_id,
                                                  payment_reference=data["payment_reference"],
                                                  amount=data["amount"], currency=data["currency"])
            return 200, SubscriptionSerializer(renewed).data

        return idempotent_write(request, channel_id=request.user.channel_id, perform=perform)


class SubscriptionCancelApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_WRITE)]

    @extend_schema(operation_id="subscriptions_cancel", request=SubscriptionCancelSerializer,
                   responses={200: SubscriptionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, external_id: str, subscription_id: int):
        data = parse(SubscriptionCancelSerializer, request)
        sub = services.subscription_for(member=member_get(external_id=external_id), subscription_id=subscription_id)

        def perform():
            cancelled = services.subscription_cancel(subscription=sub, channel_id=request.user.channel_id,
                                                     immediately=data["immediately"],
                                                     refund_amount=data["refund_amount"])
            return 200, SubscriptionSerializer(cancelled).data

        return idempotent_write(request, channel_id=request.user.channel_id, perform=perform)
