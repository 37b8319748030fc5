"""Signed, read-only links to a member's own page, for e-mails: they work for days (MEMBER_PAGE_LINK_TTL), unlike
the 15-minute member API token, and carry no power beyond reading that page.

A link is `django.core.signing` over (member id, the member's page_link_version) with its own salt and a timestamp.
Raising the version revokes every link issued before; nothing is stored per link.
"""

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict
from core.services import audit_record

from ..exceptions import MembersErrorCode
from ..models import Member

SALT = "members.page-link"


def page_link_issue(*, member: Member) -> tuple[str, datetime]:
    """A new signed token for the member's page and when it stops working."""
    if member.status == Member.Status.CLOSED:
        raise Conflict("This membership is closed.", code=MembersErrorCode.MEMBER_INACTIVE, status_code=422)
    token = signing.dumps({"m": member.pk, "v": member.page_link_version}, salt=SALT, compress=True)
    return token, timezone.now() + settings.MEMBER_PAGE_LINK_TTL


def member_for_page_link(token: str) -> Member | None:
    """The member a link opens; None when it is tampered with, too old, revoked, or the membership is closed."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.MEMBER_PAGE_LINK_TTL)
        member_id, version = int(data["m"]), int(data["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    member = Member.objects.filter(pk=member_id, page_link_version=version).first()
    if member is None or member.status == Member.Status.CLOSED:
        return None
    return member


@transaction.atomic(durable=True)
def page_links_revoke(*, member: Member, actor, channel_id: int | None = None) -> None:
    """Every page link issued to this member so far stops working (links issued later work)."""
    Member.objects.filter(pk=member.pk).update(page_link_version=F("page_link_version") + 1)
    member.refresh_from_db(fields=["page_link_version"])
    audit_record(action="member.page_links_revoke", target_type="member", target_id=member.pk, actor=actor,
                 channel_id=channel_id)
