"""Points and money as the API and the admin accept them: plain ASCII numbers, bounded by what the columns and the
business allow. Every serializer and form that parses points or money uses these, so the bounds live here once.

Python's int() and Decimal() read any Unicode digit ("１００", "١٠٠") and underscores ("1_000"); a number a
person did not type as one is refused instead. Money in the API is a string of digits with at most two decimals,
exactly what the schema's pattern (MoneyField.pattern) says: "1e5", " 5", "+5", "-5", "", "." and a JSON number
(a float, which cannot hold 0.10 exactly) are refused. Points are bounded per operation far below the 64-bit columns,
so that no sum of them can overflow; money to the columns' 12 digits with 2 decimals.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .errors import ErrorCode

MAX_POINTS = 1_000_000_000
"""The most points one operation may move: an adjustment, a redemption, a hold, a reward's cost, a bonus."""

MAX_BALANCE = 1_000_000_000_000_000
"""The most points a member may hold (available plus pending); far inside the 64-bit balance columns."""

MONEY_MAX_DIGITS = 12
MONEY_DECIMAL_PLACES = 2
MAX_MONEY = Decimal("9999999999.99")

_INTEGER = re.compile(r"\s*[+-]?[0-9]+(\.0*)?\s*", re.ASCII)
_DECIMAL = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*", re.ASCII)
_MONEY = re.compile(r"[0-9]+(\.[0-9]{1,2})?", re.ASCII)
NOT_ASCII = "Write the number with the digits 0-9."
NOT_MONEY = 'An amount as a string of digits with at most two decimals, such as "12.50".'


def _plain(value, pattern: re.Pattern) -> bool:
    """Numbers given as JSON numbers pass; a string must be a plain number in ASCII digits."""
    return not isinstance(value, str) or pattern.fullmatch(value) is not None


class PlainIntegerField(serializers.IntegerField):
    """An integer in a request (a count, a quantity), written with the digits 0-9."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("error_messages", {}).setdefault("invalid", "A whole number is required (digits 0-9).")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not _plain(data, _INTEGER):
            self.fail("invalid")
        return super().to_internal_value(data)


class PointsField(PlainIntegerField):
    """Points in a request: an integer from `min_value` (1 unless told) to MAX_POINTS."""

    def __init__(self, *, min_value: int = 1, max_value: int = MAX_POINTS, **kwargs) -> None:
        assert -MAX_POINTS <= min_value <= max_value <= MAX_POINTS
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)


class MoneyField(serializers.DecimalField):
    """An amount of money in a request: 0 (unless told) to MAX_MONEY, at most 2 decimals."""

    def __init__(self, *, min_value: Decimal = Decimal("0"), max_value: Decimal = MAX_MONEY, **kwargs) -> None:
        assert max_value <= MAX_MONEY
        assert min_value in (Decimal("0"), Decimal("0.01")) and max_value == MAX_MONEY, "extend `pattern` first"
        kwargs.setdefault("error_messages", {}).setdefault("invalid", NOT_MONEY)
        super().__init__(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, min_value=min_value,
                         max_value=max_value, **kwargs)

    @property
    def pattern(self) -> str:
        """The strings this field accepts, bounds included, for the schema. At most 10 digits before the point once
        leading zeros are dropped is exactly "at most MAX_MONEY"."""
        if self.min_value:  # 0.01: not zero
            return r"^0*([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
        return r"^0*[0-9]{1,10}(\.[0-9]{1,2})?$"

    def to_internal_value(self, data):
        if not isinstance(data, str) or not _MONEY.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
class IPField(serializers.IPAddressField):
    """An IPv4 or IPv6 address, described as such in the schema."""


@extend_schema_field({"type": "string", "enum": sorted(available_timezones())})
class TimezoneField(serializers.ChoiceField):
    """An IANA time zone name ("Europe/London"), one of those this server knows."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("error_messages", {}).setdefault("invalid_choice", "Unknown time zone: {input!r}.")
        super().__init__(choices=sorted(available_timezones()), **kwargs)


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No purchase or event of this program happened before this: an older `occurred_at` is a mistake, not history."""


def _past_datetime_pattern() -> str:
    """Date-times from EARLIEST to the end of last year: always in the past, and so always accepted. (A date of this
    year may still be in the future: the server says, the schema cannot.)"""
    years = "|".join(str(y) for y in range(EARLIEST.year, timezone.now().year))
    return (rf"^({years})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
            r"(\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$")


@extend_schema_field({"type": "string", "pattern": r"^(\+?[0-9]{6,15})?$", "example": "+8613800138000"})
class PhoneField(serializers.CharField):
    """A phone number, international form best (E.164, "+8613800138000"); typed forms ("+86 138-0013-8000",
    "0086 13800138000", "138 0013 8000" read in the program's country) are accepted and stored in E.164. The schema's
    pattern is the plain form every client can send; a number that is not valid answers 400 (field `phone`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=32, allow_blank=True, **kwargs)


class BirthDateField(serializers.DateField):
    """A birth date: in the past (the service refuses a future one)."""


def _birth_date_pattern() -> str:
    years = "|".join(str(y) for y in range(1900, timezone.now().year))
    return rf"^({years})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"


class PastDateTimeField(serializers.DateTimeField):
    """When something happened: not before EARLIEST (nor in the future, which the service refuses)."""

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if moment < EARLIEST:
            raise serializers.ValidationError(f"Before {EARLIEST.date().isoformat()}: not a date of this program.",
                                              code=ErrorCode.INVALID)
        return moment


class PointsFormField(forms.IntegerField):
    """Points in an admin form: ASCII digits, at most MAX_POINTS either way unless told."""

    def __init__(self, *, min_value: int | None = -MAX_POINTS, max_value: int | None = MAX_POINTS, **kwargs) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value not in self.empty_values and not _plain(value, _INTEGER):
            raise ValidationError(NOT_ASCII, code=ErrorCode.INVALID)
        return super().to_python(value)


class DecimalFormField(forms.DecimalField):
    """A decimal in an admin form (money, multipliers): ASCII digits; the model field sets digits and places."""

    def to_python(self, value):
        if value not in self.empty_values and not _plain(value, _DECIMAL):
            raise ValidationError(NOT_ASCII, code=ErrorCode.INVALID)
        return super().to_python(value)

