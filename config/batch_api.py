"""`POST /api/v1/orders/batch`: up to 1,000 orders in one request (a point of sale's end-of-day sync, bulk awards).

Each order is the single `POST /api/v1/orders` it stands for: the same fields, the same flow (`flows.order_place`),
exactly once by its own `idempotency_key`, fingerprinted as that single request, so a key is one write whichever
way it came. The envelope is checked whole first (a malformed order refuses the batch with a 400 and nothing is
written); then every order is placed in its own savepoint, and one refused order (unknown member, duplicate order,
a business rule) is reported in its result without stopping or undoing the others.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import error_body
from core.idempotency import MAX_KEY_LENGTH, body_fingerprint
from core.models import Scope
from core.openapi import ERRORS
from core.permissions import requires_scope
from core.serializers import StrictSerializer, parse
from loyalty.api.views import OrderDetailApi
from members.exceptions import MembersErrorCode
from members.models import Member

from . import flows
from .api import OrderEarnResultSerializer, OrderEarnSerializer, order_place_answer

MAX_BATCH = 1000


class OrderBatchItemSerializer(OrderEarnSerializer):
    """One order of a batch: the fields of POST /api/v1/orders and the order's own idempotency key."""

    idempotency_key = serializers.CharField(
        max_length=MAX_KEY_LENGTH, trim_whitespace=False,  # the key as sent: the schema's string is the key
        help_text="This order's own Idempotency-Key: the same key with the same order replays the stored answer "
                  "(also one given by POST /api/v1/orders); with another order it is that order's 409.")


class OrderBatchSerializer(StrictSerializer):
    """A batch of orders; an order that is not well-formed refuses the whole batch (400)."""

    orders = serializers.ListField(child=OrderBatchItemSerializer(), min_length=1, max_length=MAX_BATCH,
                                      help_text=f"1 to {MAX_BATCH:,} orders, placed in this order.")


class OrderBatchErrorSerializer(serializers.Serializer):
    """The one error shape's `error`, as a refused order's result carries it."""

    code = serializers.CharField(help_text="Machine-readable, as POST /api/v1/orders answers it (ErrorCode).")
    message = serializers.CharField()
    fields = serializers.DictField(help_text="Input errors by field path; empty when not about a field.")


class OrderBatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The order's position in the request, from 0.")
    status = serializers.IntegerField(help_text="The HTTP status POST /api/v1/orders would have answered: 201 "
                                                "placed (or replayed), 404, 409, 422 ... refused.")
    replayed = serializers.BooleanField(help_text="The answer is the one stored under this idempotency key.")
    order = OrderEarnResultSerializer(required=False, help_text="When placed or replayed.")
    error = OrderBatchErrorSerializer(required=False, help_text="When refused: the API's one error shape.")


class OrderBatchResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Orders placed by this request.")
    replayed = serializers.IntegerField(help_text="Orders answered from an earlier write of the same key.")
    failed = serializers.IntegerField(help_text="Orders refused; nothing of them was written.")
    results = OrderBatchResultSerializer(many=True, help_text="One per order, in request order.")


class OrderBatchApi(APIView):
    permission_classes = [requires_scope(Scope.POINTS_EARN)]

    # Its tag, summary, description, error codes and examples: config/openapi.py.
    @extend_schema(operation_id="orders_earn_batch", request=OrderBatchSerializer,
                   responses={200: OrderBatchResponseSerializer, **ERRORS})
    def post(self, request):
        data = parse(OrderBatchSerializer, request)["orders"]
        raw = request.data["orders"]
        channel = request.user.channel_id
        path = reverse("orders")
        members = {m.external_id: m for m in Member.objects.filter(external_id__in={d["member"] for d in data})}
        items = []
        for order, body in zip(data, raw, strict=True):
            body = {name: value for name, value in body.items() if name != "idempotency_key"}
            member = members.get(order["member"])
            item = flows.BatchItem(key=order["idempotency_key"], digest=body_fingerprint("POST", path, body),
                                   member=member, data=order)
            if member is None:
                item.refused = (404, error_body(MembersErrorCode.MEMBER_NOT_FOUND,
                                                f"No member with external_id {order['member']!r}."))
            else:
                item.perform = self._placer(order, member, channel)
            items.append(item)
        outcomes = flows.orders_place_batch(channel_id=channel, items=items)
        results, counts = [], {"created": 0, "replayed": 0, "failed": 0}
        for index, (status, body, replayed) in enumerate(outcomes):
            result = {"index": index, "status": status, "replayed": replayed}
            if status < 400:
                result["order"] = body
                counts["replayed" if replayed else "created"] += 1
            else:
                result["error"] = body["error"]
                counts["failed"] += 1
            results.append(result)
        return Response({**counts, "results": results}, status=200)

    @property
    def allowed_methods(self):
        """What `Allow` and the schema say: POST. GET (below) only keeps the path of an order named "batch"."""
        return [m for m in super().allowed_methods if m not in ("GET", "HEAD")]

    @extend_schema(exclude=True)
    def get(self, request):
        """The path of the batch is also that of the order whose id is "batch": it is still read here."""
        return OrderDetailApi.get(self, request, order_id="batch")

    @staticmethod
    def _placer(order: dict, member: Member, channel: int):
        return lambda: order_place_answer(order, member=member, channel_id=channel, key=order["idempotency_key"])

