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


# The shape of a member's tier (GET /members/{id}/tier, /me/tier, and the balance's `tier`), for the schema: the
# views answer `tier_overview`'s dict as it is; these describe it field by field, null where it can be null.
class TierDescribeSerializer(serializers.Serializer):
    """A tier as `tier_describe` answers it."""

    code = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField(min_value=0, help_text="Higher is better.")
    threshold = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="What qualifies for it.")
    earn_multiplier = serializers.DecimalField(max_digits=6, decimal_places=3)
    birthday_gift_points = serializers.IntegerField(min_value=0)
    birthday_reward_code = serializers.CharField(allow_null=True, help_text="A reward of the catalog, null when none.")
    perks = serializers.ListField(child=serializers.JSONField())


class TierPinSerializer(serializers.Serializer):
    tier = serializers.CharField(help_text="The pinned tier's code.")
    until = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)


class TierBenefitsSerializer(serializers.Serializer):
    earn_multiplier = serializers.DecimalField(max_digits=12, decimal_places=6,
                                               help_text="Tier and paid plan multipliers together (their product).")
    perks = serializers.ListField(child=serializers.JSONField(), help_text="The tier's and the plan's perks.")
    plan = serializers.CharField(allow_null=True, help_text="The live paid plan's code, null without one.")


class TierProgressSerializer(serializers.Serializer):
    basis = serializers.ChoiceField(choices=["points", "spend"], help_text="What qualifies: points earned or spend.")
    window = serializers.ChoiceField(choices=["lifetime", "rolling_12_months", "calendar_year"])
    window_start = serializers.DateField(allow_null=True, help_text="Null for a lifetime window.")
    window_end = serializers.DateField(allow_null=True, help_text="Null for a lifetime or rolling window.")
    qualifying = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="What counts in the window.")
    next_tier = TierDescribeSerializer(allow_null=True, help_text="The next tier within reach, null at the top.")
    needed = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True,
                                      help_text="What is still needed for the next tier, null at the top.")
    by = serializers.DateField(allow_null=True, help_text="The window's last day, where it has one.")


class TierDowngradeSerializer(serializers.Serializer):
    below_since = serializers.DateTimeField()
    downgrade_on = serializers.DateField()


class TierOverviewSerializer(serializers.Serializer):
    tier = TierDescribeSerializer(allow_null=True, help_text="Null before the member qualifies for any tier.")
    since = serializers.DateTimeField(allow_null=True)
    pinned = TierPinSerializer(allow_null=True, help_text="A tier held by staff until a date, null when none.")
    benefits = TierBenefitsSerializer()
    progress = TierProgressSerializer()
    downgrade = TierDowngradeSerializer(allow_null=True, help_text="Below the tier's threshold: the grace period.")


class PlanSerializer(serializers.ModelSerializer):
    tier_floor = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Plan
        fields = ["code", "name", "kind", "period", "duration_days", "price", "currency", "trial_days",
                  "earn_multiplier", "tier_floor", "perks"]


class TierChangeSerializer(serializers.ModelSerializer):
    from_tier = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    to_tier = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = TierChange
        fields = ["from_tier", "to_tier", "reason", "note", "created_at"]


class TierDetailSerializer(TierOverviewSerializer):
    history = TierChangeSerializer(many=True, help_text="The latest 20 tier changes, newest first.")



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

    @extend_schema(operation_id="members_tier", responses={200: TierDetailSerializer, **ERRORS})
    def get(self, request, external_id: str):
        return Response(_tier_body(member_get(external_id=external_id)))


class MyTierApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="me_tier", responses={200: TierDetailSerializer, **ERRORS})
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
