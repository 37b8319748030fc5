from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent_write, request_key
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.pagination import NewestFirstCursorPagination, allowed_values
from core.permissions import requires_scope
from core.replica import replica_reads
from core.serializers import parse
from members.authentication import IsMember
from members.selectors import member_get

from .. import selectors, services
from ..models import Transaction
from ..services.ledger import channel_id as our_channel
from .serializers import (
    AdjustmentCreateSerializer,
    BalanceSerializer,
    OrderSerializer,
    TransactionSerializer,
    balance_body,
)


class OrderDetailApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_EARN)]

    @extend_schema(operation_id="orders_read", responses={200: OrderSerializer, **ERRORS})
    def get(self, request, order_id: str):
        order = services.order_get(channel_id=request.user.channel_id, order_id=order_id)
        return Response(OrderSerializer(order).data)


class AdjustmentApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_ADJUST, allow_staff_perm="loyalty.adjust_points")]

    @extend_schema(operation_id="points_adjust", request=AdjustmentCreateSerializer,
                   responses={201: TransactionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        key = request_key(request)
        data = parse(AdjustmentCreateSerializer, request)
        member = member_get(external_id=data["member"])
        is_staff = not hasattr(request.user, "channel_id")
        channel = our_channel("admin") if is_staff else request.user.channel_id

        def perform():
            txn = services.points_adjust(member=member, points=data["points"], reason=data["reason"],
                                         channel_id=channel, idempotency_key=key,
                                         actor=request.user if is_staff else None)
            return 201, TransactionSerializer(txn).data

        return idempotent_write(request, channel_id=channel, perform=perform, key=key)


def _balance_response(external_id: str, balance: selectors.Balance) -> Response:
    return Response(balance_body(external_id, balance))


class BalanceApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="members_balance", responses={200: BalanceSerializer, **ERRORS})
    def get(self, request, external_id: str):
        return _balance_response(external_id, selectors.balance_get(external_id=external_id))


STATEMENT_FILTERS = [
    OpenApiParameter("kind", str, many=True, enum=Transaction.Kind.values, description="Only these kinds (repeatable)."),
]


class _StatementBase(ListAPIView):
    serializer_class = TransactionSerializer
    pagination_class = NewestFirstCursorPagination

    def member(self):
        raise NotImplementedError

    def get_queryset(self):
        kinds = allowed_values(self.request, "kind", Transaction.Kind.values)
        return selectors.statement(member=self.member(), kinds=kinds)

    def list(self, request, *args, **kwargs):
        with replica_reads():  # a statement may lag the primary by a moment; the balance never does
            return super().list(request, *args, **kwargs)


class StatementApi(_StatementBase):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    def member(self):
        return member_get(external_id=self.kwargs["external_id"])

    @extend_schema(operation_id="members_transactions", parameters=STATEMENT_FILTERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyBalanceApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="me_balance", responses={200: BalanceSerializer, **ERRORS})
    def get(self, request):
        member = request.user.member
        return _balance_response(member.external_id, selectors.balance_get(member=member))


class MyStatementApi(_StatementBase):
    permission_classes = [IsMember]

    def member(self):
        return self.request.user.member

    @extend_schema(operation_id="me_transactions", parameters=STATEMENT_FILTERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
