import pytest

from campaigns.models import Campaign, EventType
from rewards.models import Reward


@pytest.fixture
def course_viewed(db):
    return EventType.objects.create(name="course_viewed", attributes={
        "course_id": {"type": "string", "required": True}, "seconds": {"type": "integer"}})


@pytest.fixture
def course_coupon(db):
    return Reward.objects.create(code="course-coupon", name="20% off a course", kind=Reward.Kind.PERCENT_DISCOUNT,
                                 points_cost=1000, value=20, voucher_valid_days=14)


@pytest.fixture
def high_potential(db, course_viewed, course_coupon):
    """The seed's example: more than 10 course views within a day of signing up earn a coupon."""
    return Campaign.objects.create(
        code="high-potential", name="High-potential new user", active=True, trigger=Campaign.Trigger.EVENT_COUNT,
        event_type=course_viewed, event_count=11, window=Campaign.Window.AFTER_SIGN_UP, window_hours=24,
        collect_attribute="course_id", reward=course_coupon,
        message_subject={"en": "A coupon for your courses", "zh-hans": "您的课程优惠券"},
        message_text={"en": "Here is 20% off the courses you looked at.", "zh-hans": "您浏览过的课程八折。"})


def views(member, n, start, *, prefix="", step_minutes=30, course=lambda i: f"course-{i % 3}"):
    from datetime import timedelta

    return [{"event_id": f"{prefix}{member.external_id}-{i}", "member": member.external_id, "type": "course_viewed",
             "occurred_at": (start + timedelta(minutes=step_minutes * i)).isoformat(),
             "attributes": {"course_id": course(i)}} for i in range(n)]
