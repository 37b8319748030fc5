"""Survey answers: NPS (0-10), CSAT (1-5) and CLI (three questions, 1-6 each; the index is their mean).

A member answers a survey once per survey period (a month, quarter, year, or once): a later answer in the same
period changes nothing and returns the first one. The first answer of a period may earn the survey's points,
once: a gift through the ledger's service, under the member's ledger lock, with a key derived from (survey,
member, period), so neither a replay nor a race pays twice.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.errors import BadRequest, BusinessRuleError, NotFound
from core.idempotency import derived_key
from loyalty import services as loyalty
from loyalty.locks import members_locked
from members.exceptions import MembersErrorCode
from members.models import Member

from ..exceptions import InsightErrorCode
from ..models import MemberFacts, Survey, SurveyAnswer
from ..rules import cli_index, survey_period

RANGES = {Survey.Kind.NPS: (0, 10), Survey.Kind.CSAT: (1, 5)}
CLI_RANGE = (1, 6)
CLI_FIELDS = ("recommend", "buy_again", "try_other")


@dataclass
class AnswerInput:
    score: int | None = None
    recommend: int | None = None
    buy_again: int | None = None
    try_other: int | None = None
    comment: str = ""


def _validate(survey: Survey, given: AnswerInput) -> Decimal:
    """The answer's score, or a 400 naming the fields that do not fit the survey's kind."""
    errors = {}
    if survey.kind == Survey.Kind.CLI:
        for name in CLI_FIELDS:
            value = getattr(given, name)
            if value is None:
                errors[name] = ["Required for a CLI survey."]
            elif not CLI_RANGE[0] <= value <= CLI_RANGE[1]:
                errors[name] = [f"Must be between {CLI_RANGE[0]} and {CLI_RANGE[1]}."]
        if given.score is not None:
            errors["score"] = ["A CLI survey takes recommend, buy_again and try_other, not a score."]
    else:
        low, high = RANGES[survey.kind]
        if given.score is None:
            errors["score"] = ["Required."]
        elif not low <= given.score <= high:
            errors["score"] = [f"Must be between {low} and {high}."]
        for name in CLI_FIELDS:
            if getattr(given, name) is not None:
                errors[name] = [f"Only for a CLI survey; this one is {survey.kind.upper()}."]
    if errors:
        raise BadRequest(f"This answer does not fit the {survey.kind.upper()} survey {survey.code!r}.", fields=errors)
    if survey.kind == Survey.Kind.CLI:
        return cli_index(given.recommend, given.buy_again, given.try_other)
    return Decimal(given.score)


def survey_get(*, code: str) -> Survey:
    survey = Survey.objects.filter(code=code, active=True).first()
    if survey is None:
        raise NotFound(f"No open survey {code!r}.", code=InsightErrorCode.SURVEY_NOT_FOUND)
    return survey


@transaction.atomic(savepoint=False)
def survey_answer_record(*, member: Member, survey_code: str, answer: AnswerInput, channel_id: int,
                         now: datetime | None = None) -> tuple[SurveyAnswer, bool]:
    """Record a member's answer; returns (the answer of the period, whether this call recorded it)."""
    survey = survey_get(code=survey_code)
    score = _validate(survey, answer)
    if member.status != Member.Status.ACTIVE:
        raise BusinessRuleError("This membership is not active.", code=MembersErrorCode.MEMBER_INACTIVE)
    now = now or timezone.now()
    period = survey_period(survey.period, timezone.localtime(now, timezone.get_fixed_timezone(0)).date())
    with members_locked([member.pk]):  # one answer per period even when two arrive at once
        first = SurveyAnswer.objects.filter(member=member, survey=survey, period=period).first()
        if first is not None:
            return first, False
        recorded = SurveyAnswer.objects.create(
            survey=survey, member=member, period=period, score=score, recommend=answer.recommend,
            buy_again=answer.buy_again, try_other=answer.try_other, comment=answer.comment, channel_id=channel_id,
            answered_at=now)
        if survey.reward_points:
            recorded.reward = loyalty.points_gift(
                member_id=member.pk, points=survey.reward_points, now=now, member_timezone=member.timezone,
                idempotency_key=derived_key("survey", survey.pk, member.pk, period),
                reason=f"Survey {survey.code} answered ({period})",
                details={"survey": survey.code, "period": period})
            recorded.save(update_fields=["reward"])
        facts, _ = MemberFacts.objects.get_or_create(member=member)
        if survey.kind == Survey.Kind.NPS:
            facts.last_nps = int(score)
        elif survey.kind == Survey.Kind.CLI:
            facts.last_cli = score
        facts.save(update_fields=["last_nps", "last_cli", "updated_at"])
    return recorded, True
