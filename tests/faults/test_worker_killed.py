"""A Celery worker SIGKILLed in the middle of the birthday run and of the expiry run, then the job run again on a
new worker: every member gets exactly one gift, every due lot expires exactly once, the books balance.

How the kill lands mid-run, every time: the test holds the row lock of one member's account in the middle of the
list, so the job commits the batches before it and then waits on that batch; the worker is killed while it
waits (its open transaction dies with it), and the lock is let go."""

import pytest

from .services import Process, wait_until

# The session's test database must exist: the stack copies its schema.
pytestmark = pytest.mark.django_db

MEMBERS, BATCH = 120, 20
BLOCKED = 70  # index of the member whose account the test holds: batches 0-2 commit, batch 3 waits


def _kill_mid_run(stack, *, task: str, members: list[int], done_sql: str, victim: Process) -> int:
    """Run `task` on the worker `victim` until it waits on the held lock, SIGKILL the worker; returns how many of
    the members `done_sql` counted as done when it died."""
    with stack.db() as holder:
        holder.autocommit = False
        holder.execute("SELECT 1 FROM loyalty_account WHERE member_id = %s FOR UPDATE", [members[BLOCKED]])
        stack.send_task(task, batch_size=BATCH)

        def waiting_on_the_lock() -> bool:
            return stack.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                "AND datname = current_database()") > 0

        wait_until(waiting_on_the_lock, timeout=90, what=f"{task} to reach the held lock ({victim.output()})")
        done = stack.scalar(done_sql, [members])
        victim.kill()
        holder.rollback()  # the killed worker's statement may now finish, but no COMMIT will ever come for it
    return done


def _rerun(stack, *, task: str, done_sql: str, members: list[int], worker: Process) -> None:
    stack.send_task(task, batch_size=BATCH)
    wait_until(lambda: stack.scalar(done_sql, [members]) == len(members), timeout=90,
               what=f"the rerun of {task} ({worker.output()})")
    worker.stop()  # so that the next test's job goes to the worker it kills


GIFTED = "SELECT count(*) FROM loyalty_birthdaygift WHERE member_id = ANY(%s)"


def test_a_worker_killed_mid_birthday_run_then_rerun_gives_each_member_exactly_one_gift(stack, new_id):
    victim = stack.worker("birthday-1")  # starting while the members are seeded
    members = stack.driver(("seed_birthdays", new_id("BD"), MEMBERS))["members"]
    task = "loyalty.tasks.give_birthday_gifts"
    done = _kill_mid_run(stack, task=task, members=members, done_sql=GIFTED, victim=victim)
    assert 0 < done < MEMBERS and done % BATCH == 0, done  # whole batches committed, the rest not yet
    assert stack.scalar(GIFTED, [members]) == done  # the batch that was running when the worker died left nothing

    _rerun(stack, task=task, done_sql=GIFTED, members=members, worker=stack.worker("birthday-2"))
    assert stack.scalar("SELECT count(DISTINCT member_id) FROM loyalty_birthdaygift WHERE member_id = ANY(%s)",
                        [members]) == MEMBERS
    gifts = stack.scalar("SELECT count(*) || ':' || sum(points) FROM loyalty_transaction "
                         "WHERE kind = 'gift' AND member_id = ANY(%s)", [members])
    assert gifts == f"{MEMBERS}:{50 * MEMBERS}"  # one gift of 50 points each, none twice
    assert stack.scalar("SELECT count(*) FROM members_notification WHERE kind = 'birthday_gift' "
                        "AND member_id = ANY(%s)", [members]) == MEMBERS  # one greeting each
    third, checked = stack.driver("birthdays", "ledger_check")
    assert third["gifts"] == 0  # a third run finds nothing left to give
    assert checked["drifted"] == 0


EXPIRED = ("SELECT count(DISTINCT l.member_id) FROM loyalty_lot l WHERE l.member_id = ANY(%s) AND l.remaining = 0")


def test_a_worker_killed_mid_expiry_run_then_rerun_expires_each_lot_exactly_once(stack, new_id):
    victim = stack.worker("expiry-1")
    members = stack.driver(("seed_due_lots", new_id("EX"), MEMBERS))["members"]
    task = "loyalty.tasks.settle_due_points"
    done = _kill_mid_run(stack, task=task, members=members, done_sql=EXPIRED, victim=victim)
    assert 0 < done < MEMBERS, done
    assert stack.scalar(EXPIRED, [members]) == done

    _rerun(stack, task=task, done_sql=EXPIRED, members=members, worker=stack.worker("expiry-2"))
    movements = stack.scalar("""SELECT count(*) || ':' || sum(m.points) FROM loyalty_lotmovement m
                                JOIN loyalty_transaction t ON t.id = m.transaction_id
                                WHERE t.kind = 'expire' AND t.member_id = ANY(%s)""", [members])
    assert movements == f"{MEMBERS}:-{10 * MEMBERS}"  # each lot's 10 points expired once
    assert stack.scalar("SELECT sum(available) FROM loyalty_account WHERE member_id = ANY(%s)", [members]) == 0
    assert stack.driver("ledger_check")["drifted"] == 0
