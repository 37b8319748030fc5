"""Pure rules of insight (no services, no writes): survey periods and scores, and the metrics' formulas."""

from datetime import date, datetime
from decimal import Decimal


def survey_period(period: str, day: date) -> str:
    """The label of the survey period `day` falls in: 2026-11 (month), 2026-Q4 (quarter), 2026 (year) or once."""
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if period == "year":
        return str(day.year)
    return "once"


def cli_index(recommend: int, buy_again: int, try_other: int) -> Decimal:
    """客户忠诚度指数: the mean of its three answers (each 1-6)."""
    return (Decimal(recommend + buy_again + try_other) / 3).quantize(Decimal("0.001"))


def nps(promoters: int, detractors: int, answers: int) -> Decimal | None:
    """净推荐值: % promoters (9-10) - % detractors (0-6), from -100 to 100."""
    if not answers:
        return None
    return (Decimal(100) * (promoters - detractors) / answers).quantize(Decimal("0.1"))


def ratio(numerator, denominator, scale: int = 1, places: str = "0.01") -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(Decimal(places))


def weeks_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / (7 * 86400)
