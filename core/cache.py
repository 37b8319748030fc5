"""A per-process cache for rarely edited configuration rows (program settings, tiers, multipliers).

Each web process keeps a value for SETTINGS_CACHE_SECONDS, so a staff edit reaches every process within that
time; the process that saved it forgets at once (`forget`). With 0 (the tests) nothing is cached.
"""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

_values: dict[str, tuple[float, Any]] = {}


def cached(key: str, load: Callable[[], Any]) -> Any:
    ttl = settings.SETTINGS_CACHE_SECONDS
    if ttl <= 0:
        return load()
    now = time.monotonic()
    hit = _values.get(key)
    if hit and hit[0] > now:
        return hit[1]
    value = load()
    _values[key] = (now + ttl, value)
    return value


def forget(*keys: str) -> None:
    for key in keys or list(_values):
        _values.pop(key, None)
