"""Shop authentication: `Authorization: Api-Key <key>`, one key per channel, stored hashed."""

import time
from dataclasses import dataclass, field

from django.conf import settings
from rest_framework import authentication, exceptions

from .db import one_or_none
from .history import history_note
from .models import ApiKey, hash_key


@dataclass(frozen=True)
class ApiPrincipal:
    """What request.user is for a shop's API key."""

    api_key_id: int
    channel_id: int
    channel_name: str
    scopes: frozenset = field(default_factory=frozenset)
    is_authenticated: bool = True
    is_staff: bool = False
    is_member: bool = False

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


_cache: dict[str, tuple[float, ApiPrincipal]] = {}


def principal_for_key(raw: str) -> ApiPrincipal | None:
    digest = hash_key(raw)
    ttl = settings.API_KEY_CACHE_SECONDS
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit and hit[0] > now:
        return hit[1]
    row = one_or_none(
        ApiKey.objects.filter(key_hash=digest, revoked_at__isnull=True)
        .values_list("id", "channel_id", "channel__name", "scopes")
    )
    if row is None:
        _cache.pop(digest, None)
        return None
    principal = ApiPrincipal(api_key_id=row[0], channel_id=row[1], channel_name=row[2], scopes=frozenset(row[3]))
    if ttl > 0:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (now + ttl, principal)
    return principal


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(self.keyword + " "):
            return None
        raw = header[len(self.keyword) + 1 :].strip()
        principal = principal_for_key(raw) if raw else None
        if principal is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        history_note(channel=principal.channel_name, api_key=principal.api_key_id)  # who, in the data history
        return principal, raw

    def authenticate_header(self, request) -> str:
        return self.keyword
