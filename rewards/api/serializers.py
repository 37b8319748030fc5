
from rest_framework import serializers

from core.fields import MoneyField, PlainIntegerField, PointsField
from core.serializers import StrictSerializer
from loyalty.api.serializers import RefundSerializer, TransactionSerializer

from ..models import Cause, Redemption, Reward, Voucher

CURRENCY = dict(regex=r"^[A-Z]{3}$", error_messages={"invalid": "An ISO 4217 code such as EUR."})


class RedemptionCreateSerializer(StrictSerializer):
    member = serializers.CharField(max_length=64, help_text="The member's external_id.")
    points = PointsField(required=False, help_text="Plain points; or give `reward`.")
    reward = serializers.SlugField(max_length=32, required=False, help_text="A reward's code; or give `points`.")
    quantity = PlainIntegerField(min_value=1, max_value=1000, required=False, default=1)
    order_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, data):
        if ("points" in data) == ("reward" in data):
            raise serializers.ValidationError({"points": ["Give either points or reward."],
                                               "reward": ["Give either points or reward."]})
        return data


class RedemptionCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class VoucherSerializer(serializers.ModelSerializer):
    reward = serializers.SlugRelatedField(slug_field="code", read_only=True)
    member = serializers.CharField(source="member.external_id")
    kind = serializers.CharField(source="reward.kind")
    value = serializers.DecimalField(source="reward.value", max_digits=12, decimal_places=2, allow_null=True)
    product_sku = serializers.CharField(source="reward.product_sku")

    class Meta:
        model = Voucher
        fields = ["code", "reward", "member", "kind", "value", "product_sku", "status", "expires_at", "redeemed_at",
                  "redeemed_store", "redeemed_order_id"]
        read_only_fields = fields


class RedemptionSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.external_id")
    reward = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    transaction = TransactionSerializer()
    cancel_transaction = TransactionSerializer(allow_null=True)
    vouchers = VoucherSerializer(many=True, read_only=True)

    class Meta:
        model = Redemption
        fields = ["id", "member", "kind", "reward", "quantity", "points", "points_returned", "order_id", "order_value",
                  "discount", "status", "hold_expires_at", "transaction", "cancel_transaction", "vouchers",
                  "created_at", "cancelled_at"]
        read_only_fields = fields


class RewardSerializer(serializers.ModelSerializer):
    cause = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True,
                                         help_text="The cause a donation goes to; null for other kinds.")
    image_url = serializers.CharField(read_only=True, help_text="A URL, or empty when the reward has no image.")
    limit_period = serializers.ChoiceField(choices=[("", "no period limit"), *Reward.Period.choices], read_only=True,
                                           help_text="The period of `per_period_limit`; empty when there is none.")
    tiers = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    plans = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Reward
        fields = ["code", "name", "description", "image_url", "kind", "points_cost", "value", "currency",
                  "product_sku", "cause", "valid_from", "valid_until", "stock", "per_member_limit", "per_period_limit",
                  "limit_period", "global_limit", "tiers", "plans"]
        read_only_fields = fields


class CauseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cause
        fields = ["code", "name", "description", "donated_points"]
        read_only_fields = fields


class QuoteRequestSerializer(StrictSerializer):
    member = serializers.CharField(max_length=64)
    order_value = MoneyField(required=False, allow_null=True, default=None)
    currency = serializers.RegexField(**CURRENCY, required=False, allow_null=True, default=None)
    points = PointsField(required=False, allow_null=True, default=None,
                         help_text="Points the member would like to use on this order.")
    rewards = serializers.ListField(child=serializers.SlugField(max_length=32), required=False, default=list,
                                    max_length=100, help_text="Reward codes to check (default: the whole catalog).")


# The answer of POST /quote, for the schema (the view answers `quote_get`'s dict as it is).
class QuoteReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The rule that refused, e.g. insufficient_points (the error codes' list).")
    message = serializers.CharField()
    needed = serializers.JSONField(allow_null=True, help_text="What the rule asks for (a number, a date, tiers ...).")
    got = serializers.JSONField(allow_null=True, help_text="What the member or the cart has.")


class QuoteRequestedSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    allowed = serializers.BooleanField()
    discount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="What those points pay.")
    reasons = QuoteReasonSerializer(many=True, help_text="Empty when allowed.")


class QuoteCheckoutSerializer(serializers.Serializer):
    order_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    max_points = serializers.IntegerField(help_text="The most points this order may take (0 when a rule refuses).")
    max_discount = serializers.DecimalField(max_digits=14, decimal_places=2)
    reasons = QuoteReasonSerializer(many=True, help_text="Why no points may be used, empty when they may.")
    requested = QuoteRequestedSerializer(required=False, help_text="Only when the request named `points`.")


class QuoteRewardSerializer(serializers.Serializer):
    code = serializers.CharField()
    points_cost = serializers.IntegerField()
    eligible = serializers.BooleanField()
    reasons = QuoteReasonSerializer(many=True, help_text="Empty when eligible.")


class QuoteSerializer(serializers.Serializer):
    member = serializers.CharField(help_text="The member's external_id.")
    available = serializers.IntegerField(help_text="Points the member can spend now.")
    points_per_unit = serializers.IntegerField(help_text="Points that pay 1.00 of the currency at checkout.")
    currency = serializers.CharField()
    checkout = QuoteCheckoutSerializer(required=False, help_text="Only when the request named `order_value`.")
    rewards = QuoteRewardSerializer(many=True)


class HoldCreateSerializer(StrictSerializer):
    member = serializers.CharField(max_length=64)
    order_id = serializers.CharField(max_length=100)
    points = PointsField()
    order_value = MoneyField()
    currency = serializers.RegexField(**CURRENCY)


class VoucherRedeemSerializer(StrictSerializer):
    store = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    order_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class OrderRefundResultSerializer(RefundSerializer):
    points_returned = serializers.IntegerField(help_text="Points that had paid for the refunded part, given back.")

    class Meta(RefundSerializer.Meta):
        fields = [*RefundSerializer.Meta.fields, "points_returned"]
