"""Member-scoped access: `Authorization: Bearer <token>`, issued to the shop on the member's behalf."""

import hashlib
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import Member, MemberToken


@dataclass(frozen=True)
class MemberPrincipal:
    member: Member
    is_authenticated: bool = True
    is_staff: bool = False
    is_member: bool = True


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def live_tokens():
    """Tokens not expired, not revoked, and whose issuing key (if any) is not revoked."""
    return (MemberToken.objects.select_related("member")
            .filter(expires_at__gt=timezone.now(), revoked_at__isnull=True)
            .filter(Q(api_key__isnull=True) | Q(api_key__revoked_at__isnull=True)))


def member_for_token(raw: str) -> Member | None:
    """The member a live token was issued for; None for an unknown or expired token or a closed membership."""
    if not raw:
        return None
    token = live_tokens().filter(token_hash=token_hash(raw)).first()
    if token is None or token.member.status == Member.Status.CLOSED:
        return None
    return token.member


class MemberTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(self.keyword + " "):
            return None
        raw = header[len(self.keyword) + 1 :].strip()
        token = live_tokens().filter(token_hash=token_hash(raw)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or expired member token.")
        if token.member.status == Member.Status.CLOSED:
            raise exceptions.AuthenticationFailed("This membership is closed.")
        return MemberPrincipal(member=token.member), raw

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsMember:
    """Permission: a member-scoped token."""

    message = "This endpoint needs a member token (Authorization: Bearer ...)."

    def has_permission(self, request, view) -> bool:
        return bool(getattr(request.user, "is_member", False))

    def has_object_permission(self, request, view, obj) -> bool:
        return True
