"""Earning is exact at every rate staff can set: money and rates are rational numbers, rounded once.

A rate such as 1 point per 15.00 is 1/15, which no decimal holds exactly; computing it first and multiplying
after lost a point at exact multiples (20.00 x3 at 1 per 15.00 is 4, not 3.999... rounded down to 3)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.models import CategoryMultiplier, ProgramSettings
from loyalty.services.rules import LineInput, order_points, points_exact


def earn(api, member, amount, lines=()):
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "O-1", "amount": amount,
                                    "currency": "EUR", "lines": list(lines)})
    assert r.status_code == 201, r.json()
    return r.json()["points"]


def _rate(program, points, amount, rounding=ProgramSettings.Rounding.DOWN):
    program.earn_points, program.earn_amount, program.rounding = points, Decimal(amount), rounding
    program.save()


def test_a_category_multiplier_at_an_exact_multiple_earns_the_whole_point(api, member, program):
    _rate(program, 1, "15.00")
    CategoryMultiplier.objects.create(category="coffee", multiplier=Decimal("3"))
    assert earn(api, member, "20.00", [{"sku": "C1", "category": "coffee", "amount": "20.00"}]) == 4


def test_an_exact_multiple_of_a_rate_that_no_decimal_holds_earns_the_whole_point(api, member, program):
    _rate(program, 1, "3.00")
    assert earn(api, member, "18.00") == 6


def test_rounding_up_an_exact_number_of_points_adds_nothing(api, member, program):
    _rate(program, 1, "7.00", ProgramSettings.Rounding.UP)  # 1/7 as a decimal rounds up: 35.00 earned 6
    assert earn(api, member, "35.00") == 5


def test_points_exact_is_the_rational_value():
    exact = points_exact(rate_points=1, rate_amount=Decimal("15.00"),
                         parts=[(Decimal("20.00"), Decimal("3")), (Decimal("5.00"), Decimal(1))],
                         member_multiplier=Decimal("1.5"))
    assert exact == Fraction(13, 2)  # (60.00 + 5.00) / 15.00 x 1.5


# What staff can set: earn_points 1..1000 per earn_amount 0.01..10000.00; category multipliers 0..100 with 3
# decimals; member (tier times plan) multipliers with 3 decimals. Orders of 0.01..1000.00.
cents = st.integers(min_value=1, max_value=100_000)
thousandths = st.integers(min_value=0, max_value=100_000)
ROUND = {
    "down": lambda n, d: n // d,
    "up": lambda n, d: -(-n // d),
    "nearest": lambda n, d: (2 * n + d) // (2 * d),  # half up; n, d >= 0
}


@settings(max_examples=500, deadline=None)
@given(data=st.data(), earn_points=st.integers(min_value=1, max_value=1000),
       earn_cents=st.integers(min_value=1, max_value=1_000_000), member_milli=st.integers(min_value=0, max_value=10_000),
       rounding=st.sampled_from(list(ROUND)), on_a_multiple=st.booleans())
def test_points_are_the_exact_value_rounded_once(data, earn_points, earn_cents, member_milli, rounding, on_a_multiple):
    if on_a_multiple and earn_cents <= 100_000:
        # Whole points exactly: where a rate computed as a decimal first lost (or, rounding up, added) a point.
        line_cents = earn_cents * data.draw(st.integers(min_value=1, max_value=100_000 // earn_cents))
        rest_cents = earn_cents * data.draw(st.integers(min_value=0, max_value=100_000 // earn_cents))
        category_milli = 1000 * data.draw(st.integers(min_value=0, max_value=100))
    else:
        line_cents, rest_cents = data.draw(cents), data.draw(st.integers(min_value=0, max_value=100_000))
        category_milli = data.draw(thousandths)
    program = ProgramSettings(earn_points=earn_points, earn_amount=Decimal(earn_cents) / 100, rounding=rounding)
    line = LineInput(sku="S", amount=Decimal(line_cents) / 100, category="c")
    points, qualifying, _ = order_points(
        program=program, amount=Decimal(line_cents + rest_cents) / 100, lines=[line],
        multipliers={"c": Decimal(category_milli) / 1000}, member_multiplier=Decimal(member_milli) / 1000)

    # In whole cents and thousandths: (line * category + rest) * earn_points / earn_amount, then * member.
    numerator = (line_cents * category_milli + rest_cents * 1000) * earn_points
    denominator = 1000 * earn_cents
    assert qualifying == ROUND[rounding](numerator, denominator)
    assert points == ROUND[rounding](numerator * member_milli, denominator * 1000)


@pytest.mark.parametrize(("rounding", "expected"), [("down", 2), ("nearest", 3), ("up", 3)])
def test_the_program_rule_rounds_the_exact_value(rounding, expected):
    program = ProgramSettings(earn_points=1, earn_amount=Decimal("10.00"), rounding=rounding)
    assert order_points(program=program, amount=Decimal("25.00"), lines=[], multipliers={})[0] == expected
