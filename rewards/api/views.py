from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent_write, request_key
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.pagination import NewestFirstCursorPagination, allowed_values
from core.permissions import requires_scope
from core.serializers import parse
from members.authentication import IsMember
from members.selectors import member_get

from .. import services
from ..models import Cause, Redemption, Reward, Voucher
from ..selectors import quote_get, redemptions_of, vouchers_of
from .serializers import (
    CauseSerializer,
    HoldCreateSerializer,
    QuoteRequestSerializer,
    QuoteSerializer,
    RedemptionCreateSerializer,
    RedemptionSerializer,
    RewardSerializer,
    VoucherRedeemSerializer,
    VoucherSerializer,
)


class RedemptionCollectionApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="redemptions_create", request=RedemptionCreateSerializer,
                   responses={201: RedemptionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        key = request_key(request)
        data = parse(RedemptionCreateSerializer, request)
        member = member_get(external_id=data["member"])
        channel = request.user.channel_id

        def perform():
            if "reward" in data:
                redemption = services.reward_redeem(member=member, reward_code=data["reward"], channel_id=channel,
                                                    idempotency_key=key, quantity=data["quantity"])
            else:
                redemption = services.redemption_create(member=member, points=data["points"], channel_id=channel,
                                                        idempotency_key=key, order_id=data["order_id"],
                                                        reason=data["reason"])
            return 201, RedemptionSerializer(redemption).data

        return idempotent_write(request, channel_id=channel, perform=perform, key=key)


class RedemptionDetailApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="redemptions_read", responses={200: RedemptionSerializer, **ERRORS})
    def get(self, request, redemption_id: int):
        redemption = services.redemption_get(redemption_id=redemption_id, channel_id=request.user.channel_id)
        return Response(RedemptionSerializer(redemption).data)


class RewardListApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="rewards_list", responses={200: RewardSerializer(many=True), **ERRORS})
    def get(self, request):
        now = timezone.now()
        rewards = (Reward.objects.filter(active=True).exclude(valid_until__lte=now)
                   .select_related("cause").prefetch_related("tiers", "plans"))
        return Response(RewardSerializer(rewards, many=True).data)


class RewardDetailApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="rewards_read", responses={200: RewardSerializer, **ERRORS})
    def get(self, request, code: str):
        return Response(RewardSerializer(services.reward_get(code=code)).data)


class CauseListApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="causes_list", responses={200: CauseSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response(CauseSerializer(Cause.objects.order_by("name"), many=True).data)


class QuoteApi(APIView):
    """What can this member use on this cart? Reads only: no Idempotency-Key needed."""

    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="quote", request=QuoteRequestSerializer, responses={200: QuoteSerializer, **ERRORS})
    def post(self, request):
        data = parse(QuoteRequestSerializer, request)
        member = member_get(external_id=data["member"])
        return Response(quote_get(member=member, order_value=data["order_value"], points=data["points"],
                                  reward_codes=data["rewards"], currency=data["currency"]))


class HoldCollectionApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="checkout_hold", request=HoldCreateSerializer,
                   responses={201: RedemptionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        key = request_key(request)
        data = parse(HoldCreateSerializer, request)
        member = member_get(external_id=data["member"])
        channel = request.user.channel_id

        def perform():
            hold = services.checkout_hold(member=member, order_id=data["order_id"], points=data["points"],
                                          order_value=data["order_value"], currency=data["currency"],
                                          channel_id=channel, idempotency_key=key)
            return 201, RedemptionSerializer(hold).data

        return idempotent_write(request, channel_id=channel, perform=perform, key=key)


class HoldDetailApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="checkout_hold_read", responses={200: RedemptionSerializer, **ERRORS})
    def get(self, request, hold_id: int):
        return Response(RedemptionSerializer(services.redemption_get(redemption_id=hold_id,
                                                                     channel_id=request.user.channel_id)).data)


class VoucherDetailApi(APIView):
    """Validate a voucher without using it."""

    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="vouchers_validate", responses={200: VoucherSerializer, **ERRORS})
    def get(self, request, code: str):
        voucher = services.voucher_get(code=code)
        problem = services.voucher_problem(voucher, timezone.now())
        body = VoucherSerializer(voucher).data
        body["valid"] = problem is None
        body["reason"] = {"code": problem[0], "message": problem[1]} if problem else None
        return Response(body)


class VoucherRedeemApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="vouchers_redeem", request=VoucherRedeemSerializer,
                   responses={200: VoucherSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, code: str):
        data = parse(VoucherRedeemSerializer, request)
        channel = request.user.channel_id
        return idempotent_write(request, channel_id=channel, perform=lambda: (200, VoucherSerializer(
            services.voucher_redeem(code=code, channel_id=channel, store=data["store"],
                                    order_id=data["order_id"])).data))


# --- A member's vouchers and redemptions: for the shop (by external_id) and for the member's app (/me) ---------

def _listing_filters(statuses: list[str]) -> list[OpenApiParameter]:
    return [OpenApiParameter("status", str, many=True, enum=statuses, description="Only these statuses (repeatable).")]


class _MemberListBase(ListAPIView):
    """Cursor-paginated like the statement (`results`, `next`, `previous`), newest first."""

    pagination_class = NewestFirstCursorPagination
    statuses: list[str] = []

    def member(self):
        raise NotImplementedError

    def wanted_statuses(self) -> list[str] | None:
        return allowed_values(self.request, "status", self.statuses)


class _VouchersBase(_MemberListBase):
    serializer_class = VoucherSerializer
    statuses = Voucher.Status.values

    def get_queryset(self):
        return vouchers_of(member=self.member(), statuses=self.wanted_statuses())


class _RedemptionsBase(_MemberListBase):
    serializer_class = RedemptionSerializer
    statuses = Redemption.Status.values

    def get_queryset(self):
        return redemptions_of(member=self.member(), statuses=self.wanted_statuses())


class MemberVoucherListApi(_VouchersBase):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    def member(self):
        return member_get(external_id=self.kwargs["external_id"])

    @extend_schema(operation_id="members_vouchers", parameters=_listing_filters(Voucher.Status.values))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MemberRedemptionListApi(_RedemptionsBase):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    def member(self):
        return member_get(external_id=self.kwargs["external_id"])

    @extend_schema(operation_id="members_redemptions", parameters=_listing_filters(Redemption.Status.values))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyVoucherListApi(_VouchersBase):
    permission_classes = [IsMember]

    def member(self):
        return self.request.user.member

    @extend_schema(operation_id="me_vouchers", parameters=_listing_filters(Voucher.Status.values))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyRedemptionListApi(_RedemptionsBase):
    permission_classes = [IsMember]

    def member(self):
        return self.request.user.member

    @extend_schema(operation_id="me_redemptions", parameters=_listing_filters(Redemption.Status.values))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
