"""Writing the firings that `evaluation.firings_apply` decided, and their effects.

Two writers share the effects' rules: `firing_write` writes one firing at a time (an order, an event batch: a few
firings in the transaction of what caused them), `firings_write_many` a whole batch set-based (the daily date job:
hundreds of members per batch). The batch's firings go in one `INSERT ... ON CONFLICT DO NOTHING RETURNING`, so
the unique key (campaign, member, occurrence) says which are new, and only those are paid: their bonuses through
loyalty's set-based credit (`points_bonus_many`, four statements for the batch), their vouchers through
`rewards.vouchers_grant_many` (a read and a multi-row insert per campaign with a reward), the campaigns' spent points
and vouchers in one UPDATE, the firings' transactions and vouchers in one UPDATE, the messages in one multi-row insert
(`notifications_record_many`, by the caller). Next-order multipliers and tags are still granted one firing at a
time, through their apps' services (two statements per firing that has one).
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F

from core.errors import ApplicationError
from core.idempotency import derived_key
from insight import services as insight
from loyalty import locks as loyalty_locks
from loyalty import services as loyalty
from members.models import Member
from members.services import Message
from rewards import services as rewards

from ..models import Campaign, Firing


@dataclass
class Decided:
    """A candidate that `firings_apply` decided fires (or is held out in the control group)."""

    candidate: object  # evaluation.Candidate
    member: Member
    held_out: bool = False
    may_message: bool = True


def text_for(texts: dict, language: str) -> str:
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


def _key_parts(candidate, member_id: int) -> tuple:
    return ("campaign", candidate.campaign.pk, member_id, candidate.key)


def _unpaid_firing(d: Decided, now: datetime) -> Firing:
    """The firing row before its points and voucher are known: what it will give and whether it messages."""
    c, campaign = d.candidate, d.candidate.campaign
    details = {"occurrence": c.occurrence, **c.details}
    if d.held_out:
        return Firing(campaign=campaign, member=d.member, occurrence_key=c.key, fired_at=now, held_out=True,
                      details=details)
    if campaign.boost_multiplier:
        details["multiplier"] = str(campaign.boost_multiplier)
    if campaign.message_text and not d.may_message:
        details["message_skipped"] = "frequency_cap"
    return Firing(campaign=campaign, member=d.member, occurrence_key=c.key, fired_at=now, details=details,
                  points=campaign.bonus_points, messaged=bool(campaign.message_text) and d.may_message)


def _bonus_line(d: Decided) -> loyalty.CreditLine:
    c, campaign = d.candidate, d.candidate.campaign
    return loyalty.CreditLine(member_id=d.member.pk, points=campaign.bonus_points,
                              idempotency_key=derived_key(*_key_parts(c, d.member.pk)),
                              reason=f"Campaign: {campaign.name}", reference=f"campaign:{campaign.code}",
                              details={"campaign": campaign.code, "occurrence": c.occurrence},
                              member_timezone=d.member.timezone)


def _bonus_skipped(firing: Firing, exc: ApplicationError) -> None:
    """A bonus the ledger refused (a member past the balance limit), as a withdrawn reward skips a voucher: the firing
    records it and pays nothing, its other effects still apply, and nobody else's firing is held up."""
    loyalty_locks.accounts_reload([firing.member_id])  # the refused posting may have moved it in memory
    firing.points = 0
    firing.details["points_skipped"] = exc.message
    if firing.messaged:  # its message would announce points the member did not get
        firing.messaged = False
        firing.details["message_skipped"] = "points_skipped"


def _bonuses_many(bonus: list[tuple[Decided, Firing]], *, channel_id: int, now: datetime) -> list:
    """The batch's bonuses set-based (`points_bonus_many`), in a savepoint. When the ledger refuses one, each is paid in
    its own savepoint instead and a refused one is skipped (`_bonus_skipped`): a transaction or None per firing."""
    lines = [_bonus_line(d) for d, _ in bonus]
    try:
        with transaction.atomic():
            return loyalty.points_bonus_many(lines=lines, channel_id=channel_id, now=now)
    except ApplicationError:
        loyalty_locks.accounts_reload(sorted({line.member_id for line in lines}))
    txns = []
    for (_, firing), line in zip(bonus, lines, strict=True):
        try:
            with transaction.atomic():
                txns.append(loyalty.points_bonus_many(lines=[line], channel_id=channel_id, now=now)[0])
        except ApplicationError as exc:
            _bonus_skipped(firing, exc)
            txns.append(None)
    return txns


def _voucher_effect(d: Decided, firing: Firing, now: datetime) -> None:
    """One firing's voucher, in a savepoint: a reward withdrawn since skips it and the other effects still apply."""
    c, campaign = d.candidate, d.candidate.campaign
    try:
        with transaction.atomic():
            firing.voucher = rewards.voucher_grant(member_id=d.member.pk, reward_code=campaign.reward.code,
                                                   grant_key=derived_key(*_key_parts(c, d.member.pk)), now=now)
        Campaign.objects.filter(pk=campaign.pk).update(spent_vouchers=F("spent_vouchers") + 1)
    except ApplicationError as exc:
        firing.details["voucher_skipped"] = exc.message


def _vouchers_many(paid: list[tuple[Decided, Firing]], now: datetime) -> dict[int, int]:
    """The vouchers of a batch's firings: one multi-row grant per campaign with a reward (in a savepoint: a reward
    withdrawn since skips them and the other effects still apply). Returns the vouchers granted per campaign."""
    by_campaign: dict[int, list[tuple[Decided, Firing]]] = {}
    for d, f in paid:
        if d.candidate.campaign.reward_id:
            by_campaign.setdefault(f.campaign_id, []).append((d, f))
    granted = {}
    for campaign_id, pairs in by_campaign.items():
        campaign = pairs[0][0].candidate.campaign
        keys = [(d.member.pk, derived_key(*_key_parts(d.candidate, d.member.pk))) for d, _ in pairs]
        try:
            with transaction.atomic():
                vouchers = rewards.vouchers_grant_many(reward_code=campaign.reward.code, grants=keys, now=now)
        except ApplicationError as exc:
            for _, f in pairs:
                f.details["voucher_skipped"] = exc.message
            continue
        for (_, f), (_, key) in zip(pairs, keys, strict=True):
            f.voucher = vouchers[key]
        granted[campaign_id] = len(pairs)
    return granted


def _row_effects(d: Decided, now: datetime) -> None:
    """The effects still granted one firing at a time: a next-order multiplier, a tag."""
    c, campaign, member = d.candidate, d.candidate.campaign, d.member
    if campaign.boost_multiplier:
        loyalty.earn_boost_grant(member_id=member.pk, multiplier=campaign.boost_multiplier,
                                 grant_key=derived_key(*_key_parts(c, member.pk)), reason=f"Campaign: {campaign.name}",
                                 now=now, expires_at=now + timedelta(days=campaign.boost_valid_days))
    if campaign.tag_id:
        insight.member_tag_attach(member=member, tag=campaign.tag)


def _message(d: Decided, firing: Firing) -> Message | None:
    if not firing.messaged:
        return None
    c, campaign, member = d.candidate, d.candidate.campaign, d.member
    payload = {"campaign": campaign.code, "subject": text_for(campaign.message_subject, member.language),
               "text": text_for(campaign.message_text, member.language), "points": firing.points,
               **({"multiplier": str(campaign.boost_multiplier)} if campaign.boost_multiplier else {})}
    if firing.voucher:
        payload |= {"voucher_code": firing.voucher.code, "reward_name": campaign.reward.name,
                    "date": firing.voucher.expires_at.date().isoformat()}
    if c.details.get("values"):
        payload["values"] = c.details["values"]
    return Message(member_id=member.pk, kind="campaign", payload=payload, dedupe_key=f"campaign:{firing.pk}",
                   marketing=True)


def firing_write(d: Decided, *, now: datetime, system_channel: int) -> tuple[Firing, Message | None]:
    """One firing and its effects, row by row (the caller checked under the member's lock that it is new)."""
    firing = _unpaid_firing(d, now)
    firing.save(force_insert=True)
    if d.held_out:
        return firing, None
    campaign = d.candidate.campaign
    if campaign.bonus_points:
        line = _bonus_line(d)
        try:
            with transaction.atomic():
                firing.transaction = loyalty.points_bonus(
                    member=d.member, points=line.points, channel_id=system_channel,
                    idempotency_key=line.idempotency_key, reason=line.reason, reference=line.reference,
                    details=line.details)
        except ApplicationError as exc:
            _bonus_skipped(firing, exc)
        else:
            Campaign.objects.filter(pk=campaign.pk).update(spent_points=F("spent_points") + campaign.bonus_points)
    if campaign.reward_id:
        _voucher_effect(d, firing, now)
    _row_effects(d, now)
    firing.save(update_fields=["transaction", "voucher", "details", "points", "messaged"])
    return firing, _message(d, firing)


_INSERT = """
INSERT INTO {table} (campaign_id, member_id, occurrence_key, fired_at, points, details, messaged, held_out)
SELECT campaign_id, member_id, occurrence_key, %s, points, details::jsonb, messaged, held_out
FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::boolean[], %s::boolean[])
     AS v(campaign_id, member_id, occurrence_key, points, details, messaged, held_out)
ON CONFLICT (campaign_id, member_id, occurrence_key) DO NOTHING
RETURNING id, campaign_id, member_id, occurrence_key
"""

# The campaigns' rows are locked in id order (the subquery's FOR UPDATE, sorted) before the update touches them, so
# two batches spending on the same campaigns queue instead of deadlocking.
_SPENT = """
UPDATE {table} c SET spent_points = c.spent_points + v.points, spent_vouchers = c.spent_vouchers + v.vouchers
FROM (SELECT l.id, u.points, u.vouchers
      FROM {table} l JOIN unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS u(id, points, vouchers) ON l.id = u.id
      ORDER BY l.id FOR UPDATE OF l) AS v
WHERE c.id = v.id
"""

_LINK = """
UPDATE {table} f SET transaction_id = v.transaction_id, voucher_id = v.voucher_id, details = v.details::jsonb,
                     points = v.points, messaged = v.messaged
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::bigint[], %s::boolean[])
     AS v(id, transaction_id, voucher_id, details, points, messaged)
WHERE f.id = v.id
"""


def _insert_new(firings: list[Firing]) -> set[tuple[int, int, str]]:
    """Insert the firings whose (campaign, member, occurrence) is not recorded yet; sets their ids and returns
    their keys. One statement: the unique key decides, so a batch retried after a crash pays nothing twice."""
    if not firings:
        return set()
    columns = list(zip(*[(f.campaign_id, f.member_id, f.occurrence_key, f.points, json.dumps(f.details), f.messaged,
                          f.held_out) for f in firings], strict=True))
    with connection.cursor() as cursor:
        cursor.execute(_INSERT.format(table=Firing._meta.db_table), [firings[0].fired_at, *map(list, columns)])
        ids = {(campaign_id, member_id, key): pk for pk, campaign_id, member_id, key in cursor.fetchall()}
    for f in firings:
        f.pk = ids.get((f.campaign_id, f.member_id, f.occurrence_key))
    return set(ids)


def firings_write_many(decided: list[Decided], *, now: datetime,
                       system_channel: int) -> tuple[list[Firing], list[Message]]:
    """A batch of firings and their effects, set-based (see the module's docstring); the caller holds the members'
    ledger locks and the budgeted campaigns' rows. Returns the new firings and the messages to record."""
    firings = [_unpaid_firing(d, now) for d in decided]
    new = _insert_new(firings)
    pairs = [(d, f) for d, f in zip(decided, firings, strict=True)
             if (f.campaign_id, f.member_id, f.occurrence_key) in new]
    paid = [(d, f) for d, f in pairs if not d.held_out]
    bonus = [(d, f) for d, f in paid if d.candidate.campaign.bonus_points]
    txns = _bonuses_many(bonus, channel_id=system_channel, now=now) if bonus else []
    spent: dict[int, int] = {}
    for (_, f), txn in zip(bonus, txns, strict=True):
        if txn is not None:
            f.transaction = txn
            spent[f.campaign_id] = spent.get(f.campaign_id, 0) + f.points
    vouchers = _vouchers_many(paid, now)
    with connection.cursor() as cursor:
        if spent or vouchers:
            ids = sorted(set(spent) | set(vouchers))
            cursor.execute(_SPENT.format(table=Campaign._meta.db_table),
                           [ids, [spent.get(i, 0) for i in ids], [vouchers.get(i, 0) for i in ids]])
        for d, _ in paid:
            _row_effects(d, now)
        linked = [f for _, f in paid if f.transaction_id or f.voucher_id or "voucher_skipped" in f.details
                  or "points_skipped" in f.details]
        if linked:
            cursor.execute(_LINK.format(table=Firing._meta.db_table),
                           [[f.pk for f in linked], [f.transaction_id for f in linked],
                            [f.voucher_id for f in linked], [json.dumps(f.details) for f in linked],
                            [f.points for f in linked], [f.messaged for f in linked]])
    messages = [m for d, f in paid if (m := _message(d, f)) is not None]
    return [f for _, f in pairs], messages
