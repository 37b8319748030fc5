"""The nightly proof of the books (DESIGN, invariant 4), set-based, for every member at once.

For each member: available + pending == the sum of their transactions (by part: available and pending), and
== the balances their last transaction recorded; available == what remains in their released lots, pending ==
what remains in the others. For each lot: what
remains == the sum of its movements. Globally: the sum of all transactions == the sum of all balances.
A run is recorded (LedgerCheck), logged, and a drift is an error staff see in the admin.
"""

import logging

from django.db import connection, transaction
from django.utils import timezone

from ..models import Account, LedgerCheck, Lot, LotMovement, Transaction

log = logging.getLogger(__name__)
SAMPLE = 100

_MEMBER_DRIFT_SQL = """
WITH t AS (
    SELECT member_id, SUM(available_delta) AS available, SUM(pending_delta) AS pending
    FROM {transaction} GROUP BY member_id
), l AS (
    SELECT member_id, SUM(remaining) FILTER (WHERE released) AS available,
           SUM(remaining) FILTER (WHERE NOT released) AS pending
    FROM {lot} GROUP BY member_id
), last AS (
    SELECT DISTINCT ON (member_id) member_id, balance_after, pending_after FROM {transaction}
    ORDER BY member_id, id DESC
), m AS (
    SELECT COALESCE(a.member_id, t.member_id, l.member_id) AS member_id,
           COALESCE(a.available, 0) AS account_available, COALESCE(a.pending, 0) AS account_pending,
           COALESCE(t.available, 0) AS entries_available, COALESCE(t.pending, 0) AS entries_pending,
           COALESCE(l.available, 0) AS lots_available, COALESCE(l.pending, 0) AS lots_pending,
           COALESCE(last.balance_after, 0) AS last_available, COALESCE(last.pending_after, 0) AS last_pending
    FROM {account} a FULL JOIN t ON t.member_id = a.member_id FULL JOIN l ON l.member_id = COALESCE(a.member_id, t.member_id)
    LEFT JOIN last ON last.member_id = COALESCE(a.member_id, t.member_id, l.member_id)
)
SELECT (SELECT COUNT(*) FROM m), COUNT(*), COALESCE(json_agg(row_to_json(d)) FILTER (WHERE d.rn <= %(sample)s), '[]')
FROM (SELECT m.*, row_number() OVER (ORDER BY member_id) AS rn FROM m
      WHERE account_available <> entries_available OR account_pending <> entries_pending
         OR account_available <> lots_available OR account_pending <> lots_pending
         OR account_available <> last_available OR account_pending <> last_pending) d
"""

_LOT_DRIFT_SQL = """
WITH moved AS (SELECT lot_id, SUM(points) AS points FROM {movement} GROUP BY lot_id)
SELECT (SELECT COUNT(*) FROM {lot}), COUNT(*),
       COALESCE(json_agg(json_build_object('lot', d.id, 'member_id', d.member_id, 'remaining', d.remaining,
                                           'moved', d.moved)) FILTER (WHERE d.rn <= %(sample)s), '[]')
FROM (SELECT l.id, l.member_id, l.remaining, COALESCE(m.points, 0) AS moved, row_number() OVER (ORDER BY l.id) AS rn
      FROM {lot} l LEFT JOIN moved m ON m.lot_id = l.id WHERE l.remaining <> COALESCE(m.points, 0)) d
"""

_TOTALS_SQL = """
SELECT (SELECT COALESCE(SUM(points), 0) FROM {transaction}),
       (SELECT COALESCE(SUM(available + pending), 0) FROM {account})
"""


def _tables() -> dict[str, str]:
    return {"transaction": Transaction._meta.db_table, "lot": Lot._meta.db_table,
            "account": Account._meta.db_table, "movement": LotMovement._meta.db_table}


def ledger_drift() -> dict:
    """What the books say: members and lots checked, and those that drift (reads only). Run it inside a
    REPEATABLE READ transaction (`ledger_check_record` does) so that the three reads see one snapshot."""
    tables = _tables()
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_DRIFT_SQL.format(**tables), {"sample": SAMPLE})
        members, members_drifted, member_rows = cursor.fetchone()
        cursor.execute(_LOT_DRIFT_SQL.format(**tables), {"sample": SAMPLE})
        lots, lots_drifted, lot_rows = cursor.fetchone()
        cursor.execute(_TOTALS_SQL.format(**tables))
        entries_total, balances_total = cursor.fetchone()
    return {"members": members, "lots": lots, "members_drifted": members_drifted, "lots_drifted": lots_drifted,
            "member_rows": member_rows, "lot_rows": lot_rows,
            "entries_total": int(entries_total), "balances_total": int(balances_total)}


def ledger_check_record() -> LedgerCheck:
    """Run the check (in one snapshot) and record it; a drift is logged as an error for staff."""
    started = timezone.now()
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        found = ledger_drift()
    drifted = found["members_drifted"] + found["lots_drifted"] + (found["entries_total"] != found["balances_total"])
    check = LedgerCheck.objects.create(
        started_at=started, finished_at=timezone.now(), members_checked=found["members"],
        lots_checked=found["lots"], drifted=drifted,
        details={"members": found["member_rows"], "lots": found["lot_rows"],
                 "entries_total": found["entries_total"], "balances_total": found["balances_total"]},
    )
    if drifted:
        log.error("Ledger check #%s: %s drifted (members %s, lots %s, entries %s vs balances %s)", check.pk, drifted,
                  found["members_drifted"], found["lots_drifted"], found["entries_total"], found["balances_total"])
    else:
        log.info("Ledger check #%s: %s members and %s lots balance.", check.pk, found["members"], found["lots"])
    return check
