import pytest

from insight.models import Survey


@pytest.fixture
def nps_survey(db):
    return Survey.objects.create(code="nps-q", kind=Survey.Kind.NPS, period=Survey.Period.QUARTER, reward_points=50)


@pytest.fixture
def cli_survey(db):
    return Survey.objects.create(code="cli", kind=Survey.Kind.CLI, period=Survey.Period.MONTH)


@pytest.fixture
def csat_survey(db):
    return Survey.objects.create(code="csat", kind=Survey.Kind.CSAT, period=Survey.Period.ONCE)
