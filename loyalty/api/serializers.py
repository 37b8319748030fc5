from decimal import Decimal

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from core.fields import MAX_POINTS, MoneyField, PastDateTimeField, PlainIntegerField, PointsField
from core.serializers import BuiltOnceModelSerializer, StrictSerializer
from members.api.memberships import TierOverviewSerializer

from ..models import Order, Refund, Transaction


class TransactionSerializer(BuiltOnceModelSerializer):
    reverses = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Transaction
        fields = ["id", "kind", "points", "balance_after", "pending_after", "available_delta", "pending_delta",
                  "reference", "reason", "reverses", "multiplier", "created_at"]
        read_only_fields = fields


class OrderLineInputSerializer(StrictSerializer):
    # As sent: a SKU of white space only is a string of the length the schema allows, not a blank one.
    sku = serializers.CharField(max_length=100, trim_whitespace=False)
    category = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    amount = MoneyField()
    quantity = PlainIntegerField(min_value=1, max_value=1_000_000, required=False, default=1)


class OrderCreateSerializer(StrictSerializer):
    member = serializers.CharField(max_length=64, help_text="The member's external_id.")
    order_id = serializers.CharField(max_length=100)
    amount = MoneyField()
    currency = serializers.RegexField(r"^[A-Z]{3}$", error_messages={"invalid": "An ISO 4217 code such as EUR."})
    store = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    occurred_at = PastDateTimeField(required=False, allow_null=True, default=None)
    lines = OrderLineInputSerializer(many=True, required=False, default=list, max_length=1000)


class OrderSerializer(BuiltOnceModelSerializer):
    member = serializers.CharField(source="member.external_id")
    points = serializers.IntegerField(source="points_earned")
    transaction = TransactionSerializer(source="earn_transaction", allow_null=True)
    tier_upgrade = serializers.SerializerMethodField(help_text="The tier this order lifted the member to, if any.")

    @extend_schema_field(inline_serializer("TierUpgrade", {
        "from": serializers.CharField(allow_null=True, help_text="The tier before, null when the member had none."),
        "to": serializers.CharField(help_text="The tier now.")}, allow_null=True))
    def get_tier_upgrade(self, order) -> dict | None:
        change = getattr(order, "tier_change", None)
        if change is None:
            return None
        return {"from": change.from_tier.code if change.from_tier else None, "to": change.to_tier.code}

    class Meta:
        model = Order
        fields = ["order_id", "member", "amount", "currency", "store", "occurred_at", "points", "qualifying_points",
                  "refunded_amount", "points_reversed", "transaction", "tier_upgrade", "created_at"]
        read_only_fields = fields


class RefundLineInputSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=100)
    amount = MoneyField(min_value=Decimal("0.01"))


class RefundCreateSerializer(StrictSerializer):
    amount = MoneyField(
        required=False,
        help_text="What is refunded; all that is left of the order when omitted. 0.00 only for the one full refund "
                  "of an order paid entirely with points (recorded with amount 0.00).")
    lines = RefundLineInputSerializer(many=True, required=False, default=list, max_length=1000)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RefundSerializer(serializers.ModelSerializer):
    order_id = serializers.CharField(source="order.order_id")
    transaction = TransactionSerializer(allow_null=True)

    class Meta:
        model = Refund
        fields = ["id", "order_id", "amount", "points_due", "points_taken", "shortfall", "points_expired", "recovered",
                  "written_off", "substituted", "restored", "transaction", "created_at"]
        read_only_fields = fields


class AdjustmentCreateSerializer(StrictSerializer):
    member = serializers.CharField(max_length=64)
    points = PointsField(min_value=-MAX_POINTS, help_text="Signed: positive to credit, negative to debit.")
    reason = serializers.CharField(max_length=500)


class DatedPointsSerializer(serializers.Serializer):
    date = serializers.DateField()
    points = serializers.IntegerField()


@extend_schema_field(TierOverviewSerializer(allow_null=True))
class TierOverviewField(serializers.DictField):
    """The balance's `tier`: `tier_overview`'s dict answered as it is (no second pass over it), described in the
    schema field by field."""


class BalanceSerializer(serializers.Serializer):
    """The balance's shape, for the schema. The views answer `balance_body`, which builds the same body directly:
    a serializer would build its seven fields again on every request, at a third of the read's cost."""

    member = serializers.CharField()
    available = serializers.IntegerField()
    pending = serializers.IntegerField()
    lifetime_earned = serializers.IntegerField()
    expiring = DatedPointsSerializer(many=True)
    pending_release = DatedPointsSerializer(many=True)
    tier = TierOverviewField(allow_null=True, help_text="The tier, its benefits and progress (see /tier).")


def balance_body(external_id: str, balance) -> dict:
    """The body of a balance read (`loyalty.selectors.Balance`), as `BalanceSerializer` describes it."""
    return {
        "member": external_id,
        "available": balance.available,
        "pending": balance.pending,
        "lifetime_earned": balance.lifetime_earned,
        "expiring": [{"date": e["date"].isoformat(), "points": e["points"]} for e in balance.expiring],
        "pending_release": [{"date": e["date"].isoformat(), "points": e["points"]} for e in balance.pending_release],
        "tier": balance.tier,
    }
