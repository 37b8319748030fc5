from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent_write, request_key
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from members.selectors import member_get

from .. import services
from .serializers import RedemptionCancelSerializer, RedemptionCreateSerializer, RedemptionSerializer


class RedemptionCollectionApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="redemptions_create", request=RedemptionCreateSerializer,
                   responses={201: RedemptionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        key = request_key(request)
        serializer = RedemptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = member_get(external_id=data["member"])
        channel = request.user.channel_id

        def perform():
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


class RedemptionCancelApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_REDEEM)]

    @extend_schema(operation_id="redemptions_cancel", request=RedemptionCancelSerializer,
                   responses={200: RedemptionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, redemption_id: int):
        key = request_key(request)
        serializer = RedemptionCancelSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        channel = request.user.channel_id

        def perform():
            redemption = services.redemption_cancel(redemption_id=redemption_id, channel_id=channel,
                                                    idempotency_key=key, reason=serializer.validated_data["reason"])
            return 200, RedemptionSerializer(redemption).data

        return idempotent_write(request, channel_id=channel, perform=perform, key=key)
