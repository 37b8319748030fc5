"""Helpers for the export of a member's personal data (GDPR art. 15/20): rows as plain JSON values."""

from datetime import date, datetime
from decimal import Decimal


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)  # money and multipliers keep their digits
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_rows(queryset, fields: list[str] | None = None) -> list[dict]:
    """Every row of `queryset` as a dict of JSON values (`fields`, or all concrete fields)."""
    return [{k: _plain(v) for k, v in row.items()} for row in queryset.order_by("pk").values(*(fields or []))]


def export_row(obj, fields: list[str]) -> dict:
    return {name: _plain(getattr(obj, name)) for name in fields}
