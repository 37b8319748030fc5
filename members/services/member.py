import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import BadRequest, Conflict, ErrorCode

from ..authentication import token_hash
from ..exceptions import MembersErrorCode
from ..models import Member, MemberToken
from ..phones import InvalidPhone, phone_parse

_TIMEZONES = None


def phone_normalise(raw: str) -> str:
    """'+44 (0)20 7946-0958' -> '+442079460958', '138 0013 8000' -> '+8613800138000' (in the program's region, CN);
    raises BadRequest (field `phone`) when it is not a valid phone number."""
    try:
        return phone_parse(raw)
    except InvalidPhone as exc:
        raise BadRequest("Not a phone number.", fields={"phone": ["Not a valid phone number."]}) from exc


def timezone_validate(name: str) -> str:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = available_timezones()
    if name not in _TIMEZONES:
        raise BadRequest("Unknown time zone.", fields={"timezone": [f"Unknown time zone: {name!r}."]})
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest("Unknown time zone.", fields={"timezone": [f"Unknown time zone: {name!r}."]}) from exc
    return name


def _clean(fields: dict) -> dict:
    out = dict(fields)
    if "email" in out:
        out["email"] = (out["email"] or "").strip().lower()
    if "phone" in out:
        out["phone"] = phone_normalise(out["phone"] or "")
    if out.get("timezone"):
        timezone_validate(out["timezone"])
    if out.get("birth_date") and out["birth_date"] > date.today():
        raise BadRequest("Birth date is in the future.", fields={"birth_date": ["Birth date is in the future."]})
    if "card_number" in out and not out["card_number"]:
        out["card_number"] = None
    return out


@transaction.atomic(savepoint=False)
def member_register(*, external_id: str, name: str = "", email: str = "", phone: str = "",
                    birth_date: date | None = None, timezone_name: str = "UTC", marketing_consent: bool = False,
                    card_number: str | None = None, joined_at: datetime | None = None, language: str = "en") -> Member:
    fields = _clean({"email": email, "phone": phone, "timezone": timezone_name or "UTC", "birth_date": birth_date,
                     "card_number": card_number})
    if Member.objects.filter(external_id=external_id).exists():
        raise Conflict(f"A member with external_id {external_id!r} exists.", code=MembersErrorCode.MEMBER_EXISTS)
    try:
        with transaction.atomic():
            return Member.objects.create(
                external_id=external_id, name=name, marketing_consent=marketing_consent, language=language or "en",
                joined_at=joined_at or timezone.now(), **fields,
            )
    except IntegrityError as exc:
        raise Conflict("A member with this external_id or card number exists.", code=MembersErrorCode.MEMBER_EXISTS) from exc


EDITABLE = {"name", "email", "phone", "birth_date", "timezone", "marketing_consent", "status", "card_number", "language"}


@transaction.atomic(savepoint=False)
def member_update(*, member: Member, **changes) -> Member:
    """Write the fields given, and only those: two updates at once of different fields both stand, whatever the
    state of the `member` objects they were given. Returns the member as stored now."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise BadRequest("Unknown fields.", fields={name: ["Unknown field."] for name in sorted(unknown)})
    changes = _clean(changes)
    for name, value in changes.items():
        setattr(member, name, value)
    if changes:
        try:
            with transaction.atomic():
                member.save(update_fields=[*changes, "updated_at"])
        except IntegrityError as exc:
            raise Conflict("Another member has this card number.", code=ErrorCode.CONFLICT) from exc
    member.refresh_from_db()
    return member


@transaction.atomic(savepoint=False)
def member_token_issue(*, member: Member, channel_id: int | None = None,
                       api_key_id: int | None = None) -> tuple[str, datetime]:
    """A new short-lived token for the member's app, tied to the key that asked for it (revoking the key ends its
    tokens). A member keeps at most MEMBER_TOKENS_MAX_LIVE live tokens: issuing one more revokes the oldest."""
    if member.status == Member.Status.CLOSED:
        raise Conflict("This membership is closed.", code=MembersErrorCode.MEMBER_INACTIVE, status_code=422)
    now = timezone.now()
    raw = "mt_" + secrets.token_urlsafe(32)
    expires_at = now + settings.MEMBER_TOKEN_TTL
    MemberToken.objects.filter(member=member, expires_at__lt=now).delete()
    MemberToken.objects.create(member=member, token_hash=token_hash(raw), channel_id=channel_id, api_key_id=api_key_id,
                               expires_at=expires_at)
    live = MemberToken.objects.filter(member=member, revoked_at__isnull=True).order_by("-created_at", "-id")
    MemberToken.objects.filter(pk__in=live.values("pk")[settings.MEMBER_TOKENS_MAX_LIVE:]).update(revoked_at=now)
    return raw, expires_at


def member_tokens_revoke(*, member: Member) -> int:
    """End every live token of the member at once (a lost phone, a signed-out app). Returns how many."""
    return MemberToken.objects.filter(member=member, revoked_at__isnull=True, expires_at__gt=timezone.now()).update(
        revoked_at=timezone.now())
