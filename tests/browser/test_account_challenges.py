"""A member's challenges on their own page: progress bars, what is left to do and by when, in both languages on a
phone."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from campaigns.models import Challenge, EventType
from tests.browser.conftest import PHONE
from tests.conftest import make_client

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).parent / "screenshots"


def test_a_member_sees_their_challenges_in_both_languages_on_a_phone(live_server, page_at, channel, program):
    api = make_client(channel)
    viewed = EventType.objects.create(name="course_viewed", attributes={"course_id": {"type": "string"}})
    Challenge.objects.create(code="five-courses", title={"en": "Watch 5 courses in a week", "zh-hans": "一周内观看5门课程"},
                             kind=Challenge.Kind.COUNT, event_type=viewed, times=5, within_days=7, active=True,
                             bonus_points=200)
    Challenge.objects.create(code="four-weeks", title={"en": "Order every week for 4 weeks", "zh-hans": "连续4周每周下单"},
                             kind=Challenge.Kind.STREAK, weeks=4, active=True, bonus_points=500)
    api.post("/api/v1/members", {"external_id": "C-1", "name": "Li Lei", "timezone": "Asia/Shanghai"})
    now = timezone.now()
    api.post("/api/v1/events", {"events": [
        {"event_id": f"v-{i}", "member": "C-1", "type": "course_viewed", "attributes": {"course_id": f"c-{i}"},
         "occurred_at": (now - timedelta(hours=i + 1)).isoformat()} for i in range(3)]})
    api.post("/api/v1/orders", {"member": "C-1", "order_id": "A-1", "amount": "20.00", "currency": "EUR"})
    expected = {"en": ["Challenges", "Watch 5 courses in a week", "3 of 5 done, within 7 days", "Finish by",
                       "1 of 4 weeks in a row with an order", "Order by", "Reward: 500 points"],
                "zh-hans": ["挑战任务", "一周内观看5门课程", "已完成 3 / 5 次（7 天内）", "连续4周每周下单",
                            "已连续 1 周下单，目标 4 周", "保持连续记录", "奖励： 500 积分"]}
    for language, words in expected.items():
        url = api.post("/api/v1/members/C-1/page-links", idempotency_key=False).json()["url"]
        page = page_at(PHONE, language)
        page.goto(live_server.url + url.removeprefix("http://testserver") + f"&lang={language}")
        card = page.locator("#challenges")
        card.wait_for()
        text = card.inner_text()
        for w in words:
            assert w in text, (language, w, text)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE  # nothing wider than the phone
        assert [int(v) for v in card.locator("progress").evaluate_all("ps => ps.map(p => p.value)")] == [60, 25]
        if os.environ.get("SAVE_SCREENSHOTS"):
            SHOTS.mkdir(exist_ok=True)
            card.screenshot(path=str(SHOTS / f"challenges-{language}-{PHONE}.png"))
