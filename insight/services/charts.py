"""The dashboard's chart snapshots, taken by the nightly run after the segments: one grouped query each over the
members' segments, their facts and the ledger's last POINTS_DAYS days, and the summary's totals (outstanding points,
members, tiers, referrals), so viewing the dashboard never scans them.
A rerun replaces them."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .. import dashboard
from ..dashboard import CLV, CUBE, POINTS, SUMMARY
from ..models import ChartSnapshot


@transaction.atomic
def chart_snapshots_take(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    until = dashboard.day_start(now)
    data = {
        CUBE: [[*key, n] for key, n in dashboard.segment_cube_live().items()],
        CLV: {str(bucket): n for bucket, n in dashboard.clv_buckets_live(now=now).items()},
        POINTS: {"until": until.isoformat(), "days": {
            day.isoformat(): values for day, values in dashboard.points_per_day_live(
                start=until - dashboard.POINTS_WINDOW, end=until).items()}},
        SUMMARY: dashboard.summary_base_live(now=now),
    }
    for key, value in data.items():
        ChartSnapshot.objects.update_or_create(key=key, defaults={"data": value, "computed_at": now})
    return {CUBE: len(data[CUBE]), CLV: len(data[CLV]), POINTS: len(data[POINTS]["days"]),
            SUMMARY: data[SUMMARY]["members"]}  # rows of each; members in the summary
