"""Erasure of a member's personal data (GDPR art. 17) by pseudonymisation.

The identity goes (name, e-mail, phone, birth date, card number; the shop's customer id becomes a random
pseudonym), the messages' texts and targets go, the row's data-change history goes (it holds the old values),
tokens and page links stop working, and the membership is closed. What stays: the member row and its id, so the
ledger (transactions, lots, the account) and its totals, orders, redemptions and the audit trail stay whole and
balanced; and the consent the member had given, recorded in the audit entry of the erasure beside the reason.

Only `members`' own data: the apps above erase theirs through their own services, together in
config.flows.member_erase_everywhere.
"""

import secrets

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import BadRequest
from core.services import audit_record

from ..models import Member, MemberToken, Notification

ERASED_PREFIX = "erased-"


def is_erased(member: Member) -> bool:
    return member.external_id.startswith(ERASED_PREFIX)


@transaction.atomic(savepoint=False)
def member_erase(*, member: Member, reason: str, actor, channel_id: int | None) -> Member:
    """Pseudonymise the member (see the module). Erasing an erased member changes nothing and records nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest("Say why the member is erased.", fields={"reason": ["This field is required."]})
    member = Member.objects.select_for_update().get(pk=member.pk)
    if is_erased(member):
        return member
    now = timezone.now()
    consent = {"marketing_consent": member.marketing_consent}
    Member.objects.filter(pk=member.pk).update(
        external_id=f"{ERASED_PREFIX}{secrets.token_hex(12)}", name="", email="", phone="", birth_date=None,
        card_number=None, status=Member.Status.CLOSED, page_link_version=F("page_link_version") + 1, updated_at=now)
    MemberToken.objects.filter(member=member).delete()
    # The data-change history kept every earlier version of the row (name, e-mail, phone ...): it goes too, the
    # erasure's own event included. What remains is the audit log's "member.erase", with its reason.
    apps.get_model("members", "MemberEvent").objects.filter(pgh_obj_id=member.pk).delete()
    Notification.objects.filter(member=member, status=Notification.Status.PENDING).update(
        status=Notification.Status.SKIPPED)
    Notification.objects.filter(member=member).update(payload={}, last_error="")  # targets name channels, not people
    audit_record(action="member.erase", target_type="member", target_id=member.pk, actor=actor, channel_id=channel_id,
                 details={"reason": reason[:300], "consent_at_erasure": consent})
    member.refresh_from_db()
    return member
