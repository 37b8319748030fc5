from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from core.throttling import FailOpenThrottleMixin

DEFAULT_RATE = "30/hour"


class ReferralCodeThrottle(FailOpenThrottleMixin, SimpleRateThrottle):
    """Limits code lookups and attaches, so codes cannot be enumerated: per channel (or member token) and per
    client address. A shop's server should pass the end user's address as `ip` (query or body); otherwise the
    connection's address is used. The rate is the setting REFERRAL_CODE_RATE (default 30/hour), counted in
    the Django cache (shared by all processes when CACHE_URL points at Redis)."""

    scope = "referral_code"

    def get_rate(self):
        return getattr(settings, "REFERRAL_CODE_RATE", DEFAULT_RATE)

    def get_cache_key(self, request, view):
        user = request.user
        who = (f"channel:{user.channel_id}" if hasattr(user, "channel_id")
               else f"member:{user.member.pk}" if getattr(user, "is_member", False) else "anonymous")
        data = request.data if isinstance(request.data, dict) else {}
        client = str(data.get("ip") or request.query_params.get("ip") or self.get_ident(request))[:64]
        return self.cache_format % {"scope": self.scope, "ident": f"{who}:{client}"}


class ReferralCodeChannelThrottle(ReferralCodeThrottle):
    """A second, wider allowance per channel that no request can influence (an `ip` that changes with every
    request gets a fresh per-address allowance, not a fresh channel one): REFERRAL_CODE_CHANNEL_RATE, default
    1000/hour."""

    scope = "referral_code_channel"

    def get_rate(self):
        return getattr(settings, "REFERRAL_CODE_CHANNEL_RATE", "1000/hour")

    def get_cache_key(self, request, view):
        user = request.user
        who = (f"channel:{user.channel_id}" if hasattr(user, "channel_id")
               else f"member:{user.member.pk}" if getattr(user, "is_member", False) else self.get_ident(request))
        return self.cache_format % {"scope": self.scope, "ident": who}


class _OnlyWithCode:
    """Counts only the requests that carry a referral code (registration without one is not limited)."""

    def allow_request(self, request, view):
        data = request.data if isinstance(request.data, dict) else {}
        if not data.get("referral_code"):
            return True
        return super().allow_request(request, view)


class RegistrationCodeThrottle(_OnlyWithCode, ReferralCodeThrottle):
    pass


class RegistrationCodeChannelThrottle(_OnlyWithCode, ReferralCodeChannelThrottle):
    pass
