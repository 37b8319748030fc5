"""Pure earning arithmetic: rate, rounding, multipliers, expiry dates. No database writes."""

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ..models import ProgramSettings

_ROUNDING = {
    ProgramSettings.Rounding.DOWN: ROUND_FLOOR,
    ProgramSettings.Rounding.NEAREST: ROUND_HALF_UP,
    ProgramSettings.Rounding.UP: ROUND_CEILING,
}


@dataclass(frozen=True)
class LineInput:
    sku: str
    amount: Decimal
    quantity: int = 1
    category: str = ""


@dataclass(frozen=True)
class LinePoints:
    line: LineInput
    multiplier: Decimal
    exact: Decimal


def rate(program: ProgramSettings) -> Decimal:
    return Decimal(program.earn_points) / program.earn_amount


def round_points(value: Decimal, program: ProgramSettings) -> int:
    return int(value.to_integral_value(rounding=_ROUNDING[program.rounding]))


def order_points(*, program: ProgramSettings, amount: Decimal, lines: list[LineInput], multipliers: dict[str, Decimal],
                 member_multiplier: Decimal = Decimal(1)) -> tuple[int, int, list[LinePoints]]:
    """Points for an order: each line at the base rate times its category's multiplier; what the lines do
    not cover (shipping, fees) at the base rate; then the member's tier / plan multiplier. Rounded once, on the
    total, by the program's rule. Returns (points, qualifying points before the member multiplier, lines)."""
    base = rate(program)
    per_line = [
        LinePoints(line=ln, multiplier=multipliers.get(ln.category, Decimal(1)),
                   exact=ln.amount * base * multipliers.get(ln.category, Decimal(1)))
        for ln in lines
    ]
    rest = amount - sum((ln.amount for ln in lines), Decimal(0))
    exact = sum((lp.exact for lp in per_line), Decimal(0)) + rest * base
    qualifying = max(round_points(exact, program), 0)
    return max(round_points(exact * member_multiplier, program), 0), qualifying, per_line


def expiry_for(program: ProgramSettings, earned_at: datetime) -> datetime | None:
    policy = program.expiry_policy
    if policy == ProgramSettings.ExpiryPolicy.NEVER:
        return None
    if policy == ProgramSettings.ExpiryPolicy.MONTHS_AFTER_EARNING:
        return add_months(earned_at, program.expiry_months)
    year = earned_at.astimezone(UTC).year + 1
    day = min(program.expiry_day, calendar.monthrange(year, program.expiry_month)[1])
    return datetime.combine(datetime(year, program.expiry_month, day).date(), time.max, tzinfo=UTC)


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def available_from(program: ProgramSettings, occurred_at: datetime) -> datetime:
    return occurred_at + timedelta(days=program.pending_days)
