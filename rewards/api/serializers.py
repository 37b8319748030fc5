from rest_framework import serializers

from core.serializers import StrictSerializer
from loyalty.api.serializers import MAX_POINTS, TransactionSerializer

from ..models import Redemption


class RedemptionCreateSerializer(StrictSerializer):
    member = serializers.CharField(max_length=64, help_text="The member's external_id.")
    points = serializers.IntegerField(min_value=1, max_value=MAX_POINTS)
    order_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RedemptionCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RedemptionSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.external_id")
    transaction = TransactionSerializer()
    cancel_transaction = TransactionSerializer(allow_null=True)

    class Meta:
        model = Redemption
        fields = ["id", "member", "points", "order_id", "status", "transaction", "cancel_transaction", "created_at",
                  "cancelled_at"]
        read_only_fields = fields
