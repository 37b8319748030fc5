from rest_framework import serializers

from core.fields import IPField
from core.serializers import StrictSerializer

from ..models import Referral

STATUS_HELP = "One of: " + ", ".join(Referral.Status.values) + "."


class ReferralAttachSerializer(StrictSerializer):
    code = serializers.CharField(max_length=32)
    device_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    ip = IPField(required=False, allow_null=True, default=None)


class ReferralSerializer(serializers.ModelSerializer):
    referrer = serializers.CharField(source="referrer.external_id")
    member = serializers.CharField(source="referred.external_id")
    order_id = serializers.CharField(source="order.order_id", allow_null=True, default=None)
    status = serializers.CharField(help_text=STATUS_HELP)

    class Meta:
        model = Referral
        fields = ["id", "referrer", "member", "code", "status", "reasons", "order_id", "ordinal", "created_at",
                  "qualified_at"]
        read_only_fields = fields


class ReferralBriefSerializer(serializers.ModelSerializer):
    """What an order or a refund answers about the referral it touched."""

    points = serializers.SerializerMethodField()
    status = serializers.CharField(help_text=STATUS_HELP)

    def get_points(self, referral) -> dict[str, int]:
        return {r.role: r.points for r in referral.rewards.all()}

    class Meta:
        model = Referral
        fields = ["id", "status", "reasons", "ordinal", "points"]
        read_only_fields = fields


class ReferredMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.CharField(required=False)
    name = serializers.CharField()
    status = serializers.CharField(help_text=STATUS_HELP)
    joined_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    qualified_at = serializers.DateTimeField(allow_null=True)
    ordinal = serializers.IntegerField(allow_null=True)
    points = serializers.IntegerField(help_text="What this referral paid the member (not taken back).")


class EarnedSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Of which still pending (inside the order's return window).")
    second_level = serializers.IntegerField()


class ReferredBySerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.CharField()


class ReferralOverviewSerializer(serializers.Serializer):
    member = serializers.CharField()
    code = serializers.CharField(allow_null=True, help_text="The member's own referral code (given at registration; "
                                                           "null for a member who has none).")
    referred_by = ReferredBySerializer(allow_null=True)
    earned = EarnedSerializer()
    referrals = ReferredMemberSerializer(many=True)


class CodeLookupSerializer(serializers.Serializer):
    code = serializers.CharField()
    valid = serializers.BooleanField(help_text="False when its owner closed their membership.")
    welcome_points = serializers.IntegerField(help_text="What the new member gets, under the running program.")
