from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def compute_segments() -> dict:
    """Nightly: every member's stage, RFM scores, value tier and loyalty type, then the rule tags, then the dashboard's
    chart snapshots. Idempotent: a rerun records no stage change twice, and each batch commits whole or not at all."""
    stats = services.segments_compute()
    return {**stats, "tags": services.tags_evaluate(), "charts": services.chart_snapshots_take()}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def fit_clv_model() -> dict:
    """Nightly: refit BG/NBD and Gamma-Gamma on a sample (a rerun adds one more fit; the newest is used)."""
    model = services.clv_model_fit()
    return {"model": model.pk if model else None}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def take_metric_snapshots() -> dict:
    """Nightly: the day, week and month that yesterday belongs to (a rerun replaces them)."""
    yesterday = timezone.now().date() - timedelta(days=1)
    return {period: services.metrics_snapshot_take(period=period, day=yesterday).pk for period in ("day", "week", "month")}
