from rest_framework import serializers

from core.errors import BusinessRuleError
from core.fields import BirthDateField, PhoneField, TimezoneField
from core.serializers import StrictSerializer

from ..exceptions import MembersErrorCode
from ..models import Member
from ..phones import InvalidPhone, phone_parse

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9._:@\-]{1,64}$"
EXTERNAL_ID_ERRORS = {"invalid": "Letters, digits and . _ : @ - only, at most 64."}


def phone_validate(value: str) -> str:
    """The typed number in E.164 (read in the program's country when it has no country code)."""
    try:
        return phone_parse(value)
    except InvalidPhone as exc:
        # A number the schema cannot describe (valid for its country) is a rule of the program: 422, not 400.
        raise BusinessRuleError("Not a valid phone number.", code=MembersErrorCode.PHONE_INVALID,
                                fields={"phone": ["Not a valid phone number."]}) from exc


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["external_id", "name", "email", "phone", "card_number", "birth_date", "timezone", "status",
                  "marketing_consent", "language", "joined_at"]
        read_only_fields = fields


class MemberCreateSerializer(StrictSerializer):
    external_id = serializers.RegexField(EXTERNAL_ID_PATTERN, max_length=64, error_messages=EXTERNAL_ID_ERRORS)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = PhoneField(required=False, default="")
    card_number = serializers.CharField(max_length=32, required=False, allow_null=True, default=None)
    birth_date = BirthDateField(required=False, allow_null=True, default=None)
    timezone = TimezoneField(required=False, default="UTC")
    marketing_consent = serializers.BooleanField(required=False, default=False)
    language = serializers.ChoiceField(choices=Member.Language.choices, required=False, default=Member.Language.ENGLISH)

    def validate_phone(self, value: str) -> str:
        if not isinstance(self.initial_data.get("phone", ""), str):  # a number where text belongs is bad input (400)
            raise serializers.ValidationError("Not a valid string.")
        return phone_validate(value)


class MemberUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = PhoneField(required=False)
    card_number = serializers.CharField(max_length=32, required=False, allow_null=True)
    birth_date = BirthDateField(required=False, allow_null=True)
    timezone = TimezoneField(required=False)
    marketing_consent = serializers.BooleanField(required=False)
    language = serializers.ChoiceField(choices=Member.Language.choices, required=False)
    status = serializers.ChoiceField(choices=Member.Status.choices, required=False)

    def validate_phone(self, value: str) -> str:
        if not isinstance(self.initial_data.get("phone", ""), str):  # a number where text belongs is bad input (400)
            raise serializers.ValidationError("Not a valid string.")
        return phone_validate(value)


class PageLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The member's own page, read-only, for e-mails and messages.")
    expires_at = serializers.DateTimeField(help_text="When the link stops working (unless revoked before).")


class MemberTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class MemberTokensRevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many live tokens were revoked.")
