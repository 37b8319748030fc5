"""Pure earning arithmetic: rate, rounding, multipliers, expiry dates. No database writes."""

import calendar
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from ..models import ProgramSettings


def _half_up(value: Fraction) -> int:
    """Half away from zero, as Decimal's ROUND_HALF_UP."""
    rounded = math.floor(abs(value) + Fraction(1, 2))
    return rounded if value >= 0 else -rounded


_ROUNDING = {
    ProgramSettings.Rounding.DOWN: math.floor,
    ProgramSettings.Rounding.NEAREST: _half_up,
    ProgramSettings.Rounding.UP: math.ceil,
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
    exact: Fraction


def rate(program: ProgramSettings) -> Fraction:
    """Points per unit of money, exactly: 1 per 15.00 is 1/15, not 0.0666...67."""
    return Fraction(program.earn_points) / Fraction(program.earn_amount)


def round_points(value: Fraction | Decimal, program: ProgramSettings) -> int:
    """Round an exact number of points once, by the program's rule (down, half up, up)."""
    return _ROUNDING[program.rounding](Fraction(value))


def points_exact(*, rate_points: int, rate_amount: Decimal, parts: Iterable[tuple[Decimal, Decimal]],
                 member_multiplier: Decimal = Decimal(1)) -> Fraction:
    """The exact (unrounded) points of money `parts`, each an (amount, category multiplier) pair, at a rate of
    `rate_points` per `rate_amount`, times the member's multiplier. Everything is a rational number: no
    intermediate rounding, so 20.00 at 1 per 15.00 times 3 is exactly 4."""
    total = sum((Fraction(amount) * Fraction(multiplier) for amount, multiplier in parts), Fraction(0))
    return total * rate_points / Fraction(rate_amount) * Fraction(member_multiplier)


def order_points(*, program: ProgramSettings, amount: Decimal, lines: list[LineInput], multipliers: dict[str, Decimal],
                 member_multiplier: Decimal = Decimal(1)) -> tuple[int, int, list[LinePoints]]:
    """Points for an order: each line at the base rate times its category's multiplier; what the lines do
    not cover (shipping, fees) at the base rate; then the member's tier / plan multiplier. Computed exactly and
    rounded once, on the total, by the program's rule. Returns (points, qualifying points before the member
    multiplier, lines)."""
    rate_of = {"rate_points": program.earn_points, "rate_amount": program.earn_amount}
    parts = [(ln.amount, multipliers.get(ln.category, Decimal(1))) for ln in lines]
    per_line = [LinePoints(line=ln, multiplier=m, exact=points_exact(**rate_of, parts=[(ln.amount, m)]))
                for ln, (_, m) in zip(lines, parts, strict=True)]
    parts.append((amount - sum((ln.amount for ln in lines), Decimal(0)), Decimal(1)))
    exact = points_exact(**rate_of, parts=parts)
    qualifying = max(round_points(exact, program), 0)
    return max(round_points(exact * Fraction(member_multiplier), program), 0), qualifying, per_line


def expiry_for(program: ProgramSettings, earned_at: datetime, *, member_timezone: str | None) -> datetime | None:
    """When points earned at `earned_at` expire: at the end of a day in the member's time zone (the last
    microsecond before their next local midnight), so the date they are shown is the last day they can spend.
    The day is N months after the local date of earning (clamped to the month's end), or the fixed date of the
    year after the local year of earning."""
    policy = program.expiry_policy
    if policy == ProgramSettings.ExpiryPolicy.NEVER:
        return None
    zone = member_zone(member_timezone)
    earned_on = earned_at.astimezone(zone).date()
    if policy == ProgramSettings.ExpiryPolicy.MONTHS_AFTER_EARNING:
        return end_of_local_day(add_months(earned_on, program.expiry_months), zone)
    year = earned_on.year + 1
    day = min(program.expiry_day, calendar.monthrange(year, program.expiry_month)[1])
    return end_of_local_day(date(year, program.expiry_month, day), zone)


def add_months(moment: date, months: int) -> date:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def program_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def member_zone(name: str | None) -> ZoneInfo:
    """A member's time zone (`Member.timezone`); the program's when theirs is empty or unknown."""
    if name:
        try:
            return _known_zone(name)
        except (ValueError, ZoneInfoNotFoundError):
            pass
    return program_zone()


def end_of_local_day(day: date, zone: tzinfo) -> datetime:
    """23:59:59.999999 of `day` in `zone`: one microsecond before the next local midnight (computed in UTC, so
    a day made shorter or longer by a change of clocks still ends when the next one begins)."""
    next_day_starts = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return (next_day_starts - timedelta(microseconds=1)).astimezone(zone)


def available_from(program: ProgramSettings, occurred_at: datetime) -> datetime:
    return occurred_at + timedelta(days=program.pending_days)
