"""How often member tokens may be issued: per member, and per API key (no member id can widen that one)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from core.throttling import FailOpenThrottleMixin


class MemberTokenPerMemberThrottle(FailOpenThrottleMixin, SimpleRateThrottle):
    scope = "member_token_member"

    def get_rate(self):
        return settings.MEMBER_TOKEN_RATE_PER_MEMBER

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": str(view.kwargs.get("external_id", ""))[:128]}


class MemberTokenPerKeyThrottle(FailOpenThrottleMixin, SimpleRateThrottle):
    scope = "member_token_key"

    def get_rate(self):
        return settings.MEMBER_TOKEN_RATE_PER_KEY

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": getattr(request.user, "api_key_id", "none")}
