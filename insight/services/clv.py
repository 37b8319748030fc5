"""The nightly fit of the CLV models on a random sample of the members who ordered, stored for the reads."""

from datetime import datetime

import numpy as np
from django.db import connection
from django.utils import timezone

from .. import clv
from ..models import ClvModel, InsightSettings, MemberFacts

FACTS = MemberFacts._meta.db_table
MIN_CUSTOMERS = 20


def clv_model_fit(*, now: datetime | None = None) -> ClvModel | None:
    """Fit BG/NBD on (x, t_x, T) in weeks and Gamma-Gamma on (x, average order value) of up to clv_sample_size
    members with orders; None (and nothing stored) with fewer than MIN_CUSTOMERS of them."""
    now = now or timezone.now()
    size = InsightSettings.current().clv_sample_size
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT f.orders_count - 1, EXTRACT(EPOCH FROM (f.last_order_at - f.first_order_at)) / 604800.0,
                   EXTRACT(EPOCH FROM (%s - f.first_order_at)) / 604800.0,
                   f.spend / NULLIF(f.orders_count - f.refunded_orders, 0)
            FROM {FACTS} f WHERE f.orders_count > 0 AND f.first_order_at < %s ORDER BY random() LIMIT %s""",
                       [now, now, size])
        rows = cursor.fetchall()
    if len(rows) < MIN_CUSTOMERS:
        return None
    x, t_x, T, zbar = (np.array([float(r[i] or 0) for r in rows]) for i in range(4))
    bg = clv.bgnbd_fit(x, t_x, T)
    gg = clv.gamma_gamma_fit(x, zbar) if int(((x > 0) & (zbar > 0)).sum()) >= MIN_CUSTOMERS else None
    return ClvModel.objects.create(fitted_at=now, customers=len(rows), r=bg.r, alpha=bg.alpha, a=bg.a, b=bg.b,
                                   p=gg.p if gg else None, q=gg.q if gg else None, gamma=gg.gamma if gg else None)
