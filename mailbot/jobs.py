"""The periodic work, shared by the CLI (``tick``, ``deliver``, ``digest``) and the scheduler.

Each job is safe to run twice and from several processes and nodes at once: timers, outbox rows
and inbox rows are claimed with a lease (by the database's clock) before they are worked on,
timers go through the one door (a timer that no longer applies is ignored and rewritten away),
and intake skips a mail that is already processed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from datetime import datetime, timedelta

from .core.effects import Mail
from .core.events import TimerFired, TimerKind
from .core.model import Role
from .inbound import bounces
from .inbound import lanes as lanes_mod
from .outbound import failures, outbox
from .outbound.compose import compose
from .outbound.return_path import return_path as verp_address
from .store import inbox_rows, records
from .store.db import holder, transaction
from .logs import event_log
from . import service

log = logging.getLogger("mailbot.jobs")


TICK_BATCH = 100  # timers applied per commit: one disk sync for many events
TIMER_LEASE_SECONDS = 300  # a batch of timers is held this long by the node that fires it
TIMER_RETRY_SECONDS = 60  # a failing timer waits this long, doubled per failure, up to an hour


def tick(app, now: datetime) -> int:
    """Applies every timer due at ``now``; returns how many were written. A timer that fails
    (its mail cannot be composed, say) records why on its own row and waits; the rest go on."""
    db = app.db()
    seen, written = set(), 0
    while claimed := records.claim_timers(db, now, TIMER_LEASE_SECONDS, TICK_BATCH):
        # A timer rewritten as it was (still due) is fired once per run, not in a loop.
        chunk = [timer for timer in claimed if timer not in seen]
        seen.update(chunk)
        done, failed = [], []
        # Decided and rendered before the write lock; written together, one disk sync.
        plans = []
        for order_id, kind in chunk:
            try:
                plans.append(service.plan(app, order_id, TimerFired(TimerKind(kind)), now))
            except Exception as exc:
                failed.append((order_id, kind, exc))
        with transaction(db):
            for planned in plans:
                try:
                    with transaction(db):  # a savepoint: a failure undoes this timer only
                        done.append(service.write(app, planned, now))
                except Exception as exc:
                    failed.append((planned.before.order.id, planned.event.kind, exc))
            for order_id, kind, exc in failed:
                _timer_failed(db, order_id, kind, exc, now)
        for planned in done:
            service.log(planned)
        written += len(done)
    return written


def _timer_failed(db, order_id: int, kind: str, exc: Exception, now: datetime) -> None:
    attempts = records.timer_failed(db, order_id, kind, f"{type(exc).__name__}: {exc}", now,
                                    _timer_backoff)
    # One line (the error is on the timer's row too); the traceback only when debugging.
    log.error("timer.failed order_id=%s kind=%s attempts=%s error=%r", order_id, kind, attempts,
              str(exc)[:200], exc_info=exc if log.isEnabledFor(logging.DEBUG) else None)


def _timer_backoff(failures: int) -> timedelta:
    return timedelta(seconds=min(TIMER_RETRY_SECONDS * 2 ** failures, 3600))


def process_inbox(app, now_fn, skip=frozenset(), starting=None,
                  lanes=None) -> tuple[int, list[int]]:
    """Processes every stored mail not processed yet and not held by another worker, but those
    in ``skip``; returns how many were processed and the ids that failed (left unprocessed:
    never dropped, tried again). ``lanes`` (by default every lane, in arrival order) are taken
    in their order, the first lane's mail first. ``starting(inbox_id, lane)`` hears of each mail
    before its try (the budget's watchdog)."""
    from .inbound import intake  # the workers' alone: the jobs child never reads mail

    db, owner, done, failed = app.db(), holder(), 0, []
    while (claimed := _claim(app, owner, lanes, {*skip, *failed})) is not None:
        inbox_id, lane = claimed
        if starting is not None:
            starting(inbox_id, lane)
        try:
            intake.process(app, inbox_id, now_fn())
            done += 1
        except Exception:
            log.exception("inbound.process_failed inbox_id=%s", inbox_id)
            inbox_rows.release(db, inbox_id, owner)
            failed.append(inbox_id)
    return done, failed


def _claim(app, owner: str, lanes, skip) -> tuple[int, str | None] | None:
    # A mail in hand is held a little past its lane's budget: only a worker that died, or was
    # killed over budget, lets the lease run out; then another worker or node takes it.
    leases = [(lane, lanes_mod.budget(app.config, lane) * 1.5) for lane in lanes or (None,)]
    return inbox_rows.claim_first(app.db(), owner, leases, skip)


def deliver(app, now: datetime, report=None) -> dict:
    """Sends what is due in the outbox; returns counts by result. ``report(row, result,
    detail)`` hears of each mail (the CLI prints why a mail waits for a retry)."""
    db = app.db()
    counts = {"sent": 0, "retry": 0, "dead": 0}
    with app.transport() as transport:
        while ids := outbox.due(db, now):
            for row_id in ids:
                row = outbox.claim(db, row_id)
                if row is not None:
                    result, detail = _send(app, db, transport, row, now)
                    counts[result] += 1
                    if report:
                        report(row, result, detail)
    return counts


_QUEUE_ID = re.compile(r"(?:queued|stored) as (\S+)", re.I)  # Postfix; our Maildir


def _send(app, db, transport, row, now) -> tuple[str, str]:
    def return_path(index):  # VERP per recipient, SPEC §6
        return verp_address(app.signer, row["id"], index)
    recipients = json.loads(row["recipients"])
    pending = [(i, a) for i, a in enumerate(recipients) if i not in row["done"]]
    try:
        results = transport.send_verp(return_path, pending, row["raw"])
    except Exception as exc:  # a fault of this one mail (e.g. an address the relay cannot take)
        log.exception("delivery.failed outbox_id=%s", row["id"])
        return _dead(app, db, row, f"{type(exc).__name__}: {exc}", now)
    attempt = outbox.Attempt.of(row, results, _retry_period_over(app, row, now))
    if not attempt.ever_taken and not attempt.later:  # nobody took it and nobody will
        return _dead(app, db, row, outbox.reasons(attempt.dead), now,
                     [recipients[i] for i in attempt.dead], attempt.statuses())
    dead = {recipients[i]: error for i, error in attempt.dead.items()}
    # A transaction only around several writes: the common end, one row marked sent (or due
    # again), is one statement, atomic by itself (a COMMIT less, a round trip on PostgreSQL).
    with transaction(db) if dead or not attempt.alike else contextlib.nullcontext():
        if not attempt.alike:
            outbox.record_recipients(db, row["id"], attempt.statuses(), now)
        if attempt.later:  # only those are tried again, with the same Message-ID
            outbox.mark_retry(db, row["id"], row["attempts"], outbox.reasons(attempt.later), now)
        else:
            outbox.mark_sent(db, row["id"], now)
        if dead:  # after the row's state: the last failure marks it bounced (bounces.record)
            bounces.record(db, bounces.refusals(row["id"], dead), None, now)
            _tell_operators(app, db, row, outbox.reasons(attempt.dead), list(dead), now)
    reply = getattr(transport, "last_reply", "")
    if attempt.taken:
        queue_id = _QUEUE_ID.search(reply)
        event_log("delivery.sent", **_whom(row), template=row["template"],
                  queue_id=queue_id and queue_id.group(1), reply=repr(reply[:200]))
    if dead:
        event_log("delivery.dead", logging.WARNING, **_whom(row),
                  recipients=",".join(dead), error=repr(outbox.reasons(attempt.dead)[:120]))
    if attempt.later:
        event_log("delivery.retry", **_whom(row), attempts=row["attempts"] + 1,
                  recipients=",".join(recipients[i] for i in attempt.later),
                  error=repr(outbox.reasons(attempt.later)[:200]))
        return "retry", outbox.reasons(attempt.later)
    return "sent", reply


def _whom(row) -> dict:
    """A delivery line's subject: the outbox row, the order as operators name it, the recipients."""
    return {"outbox_id": row["id"], "order": row["order_label"],
            "to": ",".join(json.loads(row["recipients"]))}


def _retry_period_over(app, row, now) -> bool:
    created = records.parse_dt(row["created_at"])
    return (now - created).total_seconds() > app.config.relay.retry_hours * 3600


def _dead(app, db, row, error, now, recipients=None, statuses=None) -> tuple[str, str]:
    """The mail is dead as a whole: no recipient took it and none will. Operators are told of
    ``recipients`` (by default all; those dead before were told then)."""
    with transaction(db):
        if statuses and row["done"]:  # the per-recipient record, completed
            outbox.record_recipients(db, row["id"], statuses, now)
        outbox.mark_dead(db, row["id"], error)
        _tell_operators(app, db, row, error, recipients or json.loads(row["recipients"]), now)
    event_log("delivery.dead", logging.WARNING, **_whom(row), error=repr(error[:120]))
    return "dead", error


def _tell_operators(app, db, row, error, recipients, now) -> None:
    # Unless the dead mail was itself such a notice (no loop). With the order's state, the
    # notice names the order and case and joins their thread.
    if row["template"] != "operator.delivery_failed":
        state = records.load(db, row["order_id"]) if row["order_id"] else None
        compose(app, db, state, Mail(Role.OPERATOR, "delivery_failed",
                                     {"outbox_id": row["id"], "attempts": row["attempts"] + 1,
                                      "error": failures.plain(error),
                                      "why": failures.kind(error), "recipients": recipients,
                                      "template": row["template"]}), now)
