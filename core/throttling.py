"""Rate limits that fail open: when the cache that counts requests (Redis, CACHE_URL) is unreachable, the request
is let through and a warning is logged, instead of failing it. The limits guard against abuse (enumerating
referral codes, minting tokens); an outage of the cache must not stop sign-ups and a member's app with them.
While the cache is down nothing is counted, so the limits are off until it is back (README: Operations)."""

import logging

from redis.exceptions import RedisError

log = logging.getLogger("loyalty.throttling")

CACHE_ERRORS = (RedisError, OSError)


class FailOpenThrottleMixin:
    """Put before a DRF throttle class: `class X(FailOpenThrottleMixin, SimpleRateThrottle)`."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            log.warning("Rate limit %s not applied: the cache is unreachable (%s).", getattr(self, "scope", "?"),
                        type(error).__name__)
            return True
