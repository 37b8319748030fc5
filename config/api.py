"""API views of the use cases that span apps, routed in config/urls.py ahead of the apps' own routes.

Each parses, runs one flow (config.flows) in one idempotent write, and renders: registration with a referral
code, an order, a refund, confirming or releasing a checkout hold, cancelling a redemption.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from core.fields import IPField
from core.idempotency import idempotent_write, request_key
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from core.serializers import parse
from insight.api import MemberListQuerySerializer, MemberListSerializer, member_list_response
from loyalty import services as loyalty
from loyalty.api.serializers import OrderCreateSerializer, OrderSerializer, RefundCreateSerializer
from members.api.serializers import MemberCreateSerializer, MemberSerializer
from members.selectors import member_get
from referrals.api.serializers import ReferralBriefSerializer, ReferralSerializer
from referrals.api.throttling import RegistrationCodeChannelThrottle, RegistrationCodeThrottle
from rewards.api.serializers import OrderRefundResultSerializer, RedemptionCancelSerializer, RedemptionSerializer

from . import earn_set, flows


class RegistrationSerializer(MemberCreateSerializer):
    referral_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="",
                                          help_text="The code of the member who referred this one.")
    device_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="",
                                      help_text="The sign-up's device, for the referral fraud checks.")
    ip = IPField(required=False, allow_null=True, default=None,
                                    help_text="The sign-up's IP address, for the referral fraud checks.")


class RegisteredMemberSerializer(MemberSerializer):
    referral_code = serializers.CharField(help_text="The new member's own referral code.")
    referral = ReferralSerializer(allow_null=True, help_text="The referral the given code made, if any.")

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "referral_code", "referral"]
        read_only_fields = fields


class MemberRegisterApi(APIView):
    """`/api/v1/members`: register a member (POST), or list them, all or one segment's (GET, insight's selector)."""

    permission_classes = [requires_scope(Scope.MEMBERS_WRITE)]
    # A bad referral code writes nothing, so without a limit registration would let codes be enumerated.
    throttle_classes = [RegistrationCodeThrottle, RegistrationCodeChannelThrottle]

    def get_permissions(self):
        if self.request.method == "GET":
            return [requires_scope(Scope.MEMBERS_READ)()]
        return super().get_permissions()

    def get_throttles(self):
        return [] if self.request.method == "GET" else super().get_throttles()

    @extend_schema(operation_id="members_list", parameters=[MemberListQuerySerializer],
                   responses={200: MemberListSerializer, **ERRORS})
    def get(self, request):
        return member_list_response(request)

    @extend_schema(operation_id="members_register", request=RegistrationSerializer,
                   responses={201: RegisteredMemberSerializer, 429: ERRORS[400], **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        data = parse(RegistrationSerializer, request)

        def perform():
            member, own_code, referral = flows.member_sign_up(
                external_id=data["external_id"], name=data["name"], email=data["email"], phone=data["phone"],
                birth_date=data["birth_date"], timezone_name=data["timezone"],
                marketing_consent=data["marketing_consent"], card_number=data["card_number"], language=data["language"],
                referral_code=data["referral_code"], device_id=data["device_id"], ip=data["ip"],
            )
            return 201, {**MemberSerializer(member).data, "referral_code": own_code,
                         "referral": ReferralSerializer(referral).data if referral else None}

        return idempotent_write(request, channel_id=request.user.channel_id, perform=perform)


class OrderEarnSerializer(OrderCreateSerializer):
    payment_fingerprint = serializers.CharField(max_length=128, required=False, allow_blank=True, default="",
                                                help_text="The shop's fingerprint of the payment method, for the "
                                                          "referral self-referral check.")


class OrderEarnResultSerializer(OrderSerializer):
    referral = ReferralBriefSerializer(required=False, help_text="Present when this order qualified a referral.")

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "referral"]
        read_only_fields = fields


def order_place_answer(data: dict, *, member, channel_id: int, key: str) -> tuple[int, dict]:
    """Place one parsed order (OrderEarnSerializer) and render the answer: alone (OrderEarnApi) or in a batch."""
    order, referral = flows.order_place(
        member=member, channel_id=channel_id, order_id=data["order_id"], amount=data["amount"],
        currency=data["currency"], idempotency_key=key, store=data["store"], occurred_at=data["occurred_at"],
        lines=[loyalty.LineInput(sku=ln["sku"], amount=ln["amount"], quantity=ln["quantity"],
                                 category=ln["category"]) for ln in data["lines"]],
        payment_fingerprint=data["payment_fingerprint"],
    )
    body = OrderSerializer(order).data
    if referral is not None:
        body["referral"] = ReferralBriefSerializer(referral).data
    return 201, body


class OrderEarnApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_EARN)]

    @extend_schema(operation_id="orders_earn", request=OrderEarnSerializer,
                   responses={201: OrderEarnResultSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        key = request_key(request)
        data = parse(OrderEarnSerializer, request)
        channel = request.user.channel_id

        def general():
            return order_place_answer(data, member=member_get(external_id=data["member"]), channel_id=channel, key=key)

        # Generic plans from the claim on: the set-based earn's lock statement is not planned again on every earn
        # (order_earn_answer turns them off when the general flow takes over, and its write does).
        return idempotent_write(request, channel_id=channel, key=key, generic_plans=True,
                                perform=lambda: earn_set.order_earn_answer(data, channel_id=channel, key=key,
                                                                           general=general))


class RefundReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    points_taken_back = serializers.IntegerField()


class OrderRefundApiResultSerializer(OrderRefundResultSerializer):
    referral = RefundReferralSerializer(required=False, help_text="Present when this refund reversed a referral "
                                                                  "that the order had qualified.")

    class Meta(OrderRefundResultSerializer.Meta):
        fields = [*OrderRefundResultSerializer.Meta.fields, "referral"]
        read_only_fields = fields


class OrderRefundApi(APIView):
    """A refund takes back what the order earned (loyalty), gives back the points that paid for it (rewards),
    and takes back the referral rewards the order had earned its referrer and the new member (referrals)."""

    permission_classes = [requires_scope(Scope.POINTS_EARN)]

    @extend_schema(operation_id="orders_refund", request=RefundCreateSerializer,
                   responses={201: OrderRefundApiResultSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, order_id: str):
        key = request_key(request)
        data = parse(RefundCreateSerializer, request)
        channel = request.user.channel_id

        def perform():
            outcome = flows.order_refund(
                channel_id=channel, order_id=order_id, amount=data.get("amount"), idempotency_key=key,
                lines=[(ln["sku"], ln["amount"]) for ln in data["lines"]], reason=data["reason"])
            outcome.refund.points_returned = outcome.points_returned
            body = OrderRefundResultSerializer(outcome.refund).data
            if outcome.referral is not None:
                body["referral"] = outcome.referral
            return 201, body

        return idempotent_write(request, channel_id=channel, perform=perform, key=key)


class RedemptionCancelApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="redemptions_cancel", request=RedemptionCancelSerializer,
                   responses={200: RedemptionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, redemption_id: int):
        key = request_key(request)
        data = parse(RedemptionCancelSerializer, request)
        channel = request.user.channel_id
        return idempotent_write(request, channel_id=channel, key=key, perform=lambda: (200, RedemptionSerializer(
            flows.redemption_cancel(redemption_id=redemption_id, channel_id=channel, idempotency_key=key,
                                    reason=data["reason"])).data))


class HoldConfirmApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="checkout_confirm", request=None, responses={200: RedemptionSerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, hold_id: int):
        channel = request.user.channel_id
        return idempotent_write(request, channel_id=channel, perform=lambda: (200, RedemptionSerializer(
            flows.hold_confirm(hold_id=hold_id, channel_id=channel)).data))


class HoldReleaseApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="checkout_release", request=None, responses={200: RedemptionSerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, hold_id: int):
        key = request_key(request)
        channel = request.user.channel_id
        return idempotent_write(request, channel_id=channel, key=key, perform=lambda: (200, RedemptionSerializer(
            flows.hold_release(hold_id=hold_id, channel_id=channel, idempotency_key=key)).data))
