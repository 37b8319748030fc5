"""Survey answers through the API: validation per kind, once per period, points once, idempotent."""

from datetime import UTC, datetime

import time_machine
from rest_framework.test import APIClient

from insight.models import MemberFacts, SurveyAnswer


def balance(api, member) -> int:
    return api.get(f"/api/v1/members/{member.external_id}/balance").json()["available"]


def answer(api, member, body, **kwargs):
    return api.post(f"/api/v1/members/{member.external_id}/survey-answers", body, **kwargs)


def test_an_nps_answer_earns_the_survey_points_once_per_quarter(api, member, nps_survey):
    with time_machine.travel(datetime(2026, 10, 5, tzinfo=UTC)):
        first = answer(api, member, {"survey": "nps-q", "score": 9, "comment": "great"})
        again = answer(api, member, {"survey": "nps-q", "score": 3})
    assert first.status_code == 201, first.json()
    assert first.json()["period"] == "2026-Q4" and first.json()["points"] == 50 and first.json()["recorded"]
    assert again.status_code == 200 and not again.json()["recorded"] and again.json()["score"] == "9.000"
    assert balance(api, member) == 50
    assert MemberFacts.objects.get(member=member).last_nps == 9

    with time_machine.travel(datetime(2027, 1, 2, tzinfo=UTC)):
        next_quarter = answer(api, member, {"survey": "nps-q", "score": 10})
    assert next_quarter.status_code == 201 and next_quarter.json()["period"] == "2027-Q1"
    assert balance(api, member) == 100


def test_a_replayed_request_returns_the_first_answer_and_pays_nothing_more(api, member, nps_survey):
    body = {"survey": "nps-q", "score": 8}
    first = answer(api, member, body, idempotency_key="k1")
    replay = answer(api, member, body, idempotency_key="k1")
    other_body = answer(api, member, {"survey": "nps-q", "score": 2}, idempotency_key="k1")
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    assert other_body.status_code == 409 and other_body.json()["error"]["code"] == "idempotency_key_reused"
    assert SurveyAnswer.objects.count() == 1 and balance(api, member) == 50


def test_the_cli_index_is_the_mean_of_its_three_answers(api, member, cli_survey):
    r = answer(api, member, {"survey": "cli", "recommend": 6, "buy_again": 5, "try_other": 2})
    assert r.status_code == 201, r.json()
    assert r.json()["score"] == "4.333" and r.json()["points"] == 0
    assert str(MemberFacts.objects.get(member=member).last_cli) == "4.333"


def test_answers_that_do_not_fit_the_survey_are_400_in_the_one_error_shape(api, member, cli_survey, csat_survey,
                                                                           nps_survey):
    cases = [
        ({"survey": "cli", "recommend": 6, "buy_again": 5}, "try_other"),
        ({"survey": "cli", "recommend": 7, "buy_again": 5, "try_other": 1}, "recommend"),
        ({"survey": "cli", "score": 5, "recommend": 6, "buy_again": 5, "try_other": 1}, "score"),
        ({"survey": "csat", "score": 0}, "score"),
        ({"survey": "csat", "score": 6}, "score"),
        ({"survey": "nps-q", "score": 11}, "score"),
        ({"survey": "nps-q"}, "score"),
        ({"survey": "nps-q", "score": 5, "recommend": 3}, "recommend"),
        ({"survey": "nps-q", "score": 5, "colour": "red"}, "colour"),
        ({"survey": "nps-q", "score": "ten"}, "score"),
    ]
    for body, field in cases:
        r = answer(api, member, body)
        assert r.status_code == 400, (body, r.json())
        assert r.json()["error"]["code"] == "invalid" and field in r.json()["error"]["fields"], (body, r.json())
    unknown = answer(api, member, {"survey": "nope", "score": 3})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "survey_not_found"
    assert SurveyAnswer.objects.count() == 0 and balance(api, member) == 0


def test_a_member_answers_through_their_own_token(api, member, csat_survey):
    token = api.post(f"/api/v1/members/{member.external_id}/tokens").json()["token"]
    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    first = app.post("/api/v1/me/survey-answers", {"survey": "csat", "score": 4}, format="json",
                     headers={"Idempotency-Key": "a"})
    missing_key = app.post("/api/v1/me/survey-answers", {"survey": "csat", "score": 4}, format="json")
    assert first.status_code == 201 and first.json()["member"] == member.external_id
    assert missing_key.status_code == 400 and missing_key.json()["error"]["code"] == "idempotency_key_missing"
    # The member token cannot answer for someone else, nor use the shop's path.
    other = app.post(f"/api/v1/members/{member.external_id}/survey-answers", {"survey": "csat", "score": 4},
                     format="json", headers={"Idempotency-Key": "b"})
    assert other.status_code == 403


def test_a_suspended_member_cannot_answer(api, member, nps_survey):
    member.status = member.Status.SUSPENDED
    member.save()
    r = answer(api, member, {"survey": "nps-q", "score": 9})
    assert r.status_code == 422 and r.json()["error"]["code"] == "member_inactive"
    assert SurveyAnswer.objects.count() == 0 and balance(api, member) == 0
