"""Points and money as the API and the admin accept them: plain ASCII numbers, bounded by what the columns and the
business allow. Every serializer and form that parses points or money uses these, so the bounds live here once.

Python's int() and Decimal() read any Unicode digit ("１００", "١٠٠") and underscores ("1_000"); a number a
person did not type as one is refused instead. Points are bounded per operation far below the 64-bit columns,
so that no sum of them can overflow; money to the columns' 12 digits with 2 decimals.
"""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
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
NOT_ASCII = "Write the number with the digits 0-9."


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
        kwargs.setdefault("error_messages", {}).setdefault("invalid", "A number is required (digits 0-9).")
        super().__init__(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, min_value=min_value,
                         max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        if not _plain(data, _DECIMAL):
            self.fail("invalid")
        return super().to_internal_value(data)


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

