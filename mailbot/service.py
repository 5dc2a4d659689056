"""The one door for state changes: ``plan`` a decision, ``settle`` it, ``queue`` its mails.

``plan`` loads the order's state, asks the pure core for a decision and renders the mails it
causes -- all reads, done before the write lock is taken, so the SMTP listener's inserts never
wait for template rendering. Then, inside the caller's transaction, ``settle`` checks that the
state is still the one it decided on and writes the new state (and the timers it implies) and the
timeline; if the state moved meanwhile, it decides again under the lock, where nothing can move.
``queue`` writes the mails the caller lets go out. Each caller owns its transaction and what else
it writes in it: ``handle`` (the command line) queues every mail, ``jobs.tick`` a batch of timers,
``intake.finish`` the inbound mail's disposition and the mails within the answer budget -- so a
crash either applies an event and marks its mail processed, or does neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from .core.decide import decide
from .core.effects import Decision, Entry, Result
from .core.events import Event, MerchantInsolvent
from .core.model import State
from .outbound import outbox
from .outbound.compose import Outgoing, prepare
from .store import records
from .store.db import transaction
from .logs import event_log


class UnknownOrder(LookupError):
    pass


@dataclass(frozen=True)
class Handled:
    """What ``handle`` did: the core's result and the case it concerns."""

    result: Result
    case_id: int | None


@dataclass(frozen=True)
class Planned:
    """A decision and its rendered mails, valid while the order's state is ``before``."""

    before: State
    decision: Decision
    mails: tuple[Outgoing, ...]
    event: Event
    notices: tuple = ()


def plan(app, order_id: int, event: Event, now: datetime, notices: tuple = ()) -> Planned:
    db = app.db()
    before = records.load(db, order_id)
    if before is None:
        raise UnknownOrder(order_id)
    decision = decide(before, event, now, app.tz)
    after = decision.state
    if after.case is not None and after.case.id is None:
        # One case per order: the case takes the order's id, known before it is saved.
        after = replace(after, case=replace(after.case, id=order_id))
        decision = replace(decision, state=after)
    mails = (prepare(app, db, after, mail, now, decision.timeline)
             for mail in decision.mails + tuple(notices))
    return Planned(before, decision, tuple(m for m in mails if m is not None), event, notices)


def apply(app, planned: Planned, now: datetime) -> bool:
    """Writes ``planned``'s state and timeline; inside a transaction. False if the state moved
    since it was planned."""
    db = app.db()
    order_id = planned.before.order.id
    if records.load(db, order_id) != planned.before:
        return False
    records.save(db, planned.decision.state, app.tz)
    records.add_timeline(db, order_id, now, *planned.decision.timeline)
    return True


def settle(app, planned: Planned, now: datetime) -> Planned:
    """Inside a transaction: writes ``planned``, or, if the state moved since, decides again
    under the lock (where nothing can move) and writes that. Returns what was written; its mails
    are not queued yet (``queue``)."""
    if not apply(app, planned, now):
        planned = plan(app, planned.before.order.id, planned.event, now, planned.notices)
        apply(app, planned, now)
    return planned


def queue(app, order_id: int, mails: Iterable[tuple[Outgoing, dict]], now: datetime) -> None:
    """Inside a transaction: queues each mail with its outbox marks (see ``outbox.enqueue``) and
    notes it on the order's timeline."""
    db = app.db()
    noted = []
    for mail, marks in mails:
        outbox.enqueue(db, mail, now, **marks)
        noted.append(Entry("bot", "mail", mail.template))
    records.add_timeline(db, order_id, now, *noted)  # one write for all


def write(app, planned: Planned, now: datetime) -> Planned:
    """Inside a transaction: ``settle`` and queue every mail of what was written."""
    planned = settle(app, planned, now)
    queue(app, planned.before.order.id, [(mail, {}) for mail in planned.mails], now)
    return planned


def handle(app, order_id: int, event: Event, now: datetime) -> Handled:
    """Plans outside the lock, writes inside it, every mail included."""
    planned = plan(app, order_id, event, now)
    with transaction(app.db()):
        planned = write(app, planned, now)
    log(planned)  # after the commit: the log never tells of a change that did not happen
    state = planned.decision.state
    return Handled(planned.decision.result, state.case.id if state.case else None)


def declare_insolvent(app, shop_id: str, now: datetime) -> int:
    """SPEC §3 "merchant insolvent": the merchant's flag and a ``MerchantInsolvent`` event for
    each of its open cases, in one transaction. Returns how many cases were escalated."""
    db = app.db()
    with transaction(db):
        records.set_insolvent(db, shop_id)
        written = [write(app, plan(app, order_id, MerchantInsolvent(), now), now)
                   for order_id in records.open_case_orders(db, shop_id)]
    for planned in written:
        log(planned)
    return sum(p.decision.result is Result.APPLIED for p in written)


def log(planned: Planned) -> None:
    """One structured line for an applied event."""
    before, after, result = planned.before, planned.decision.state, planned.decision.result
    case, o = after.case, after.order
    order = f"{o.shop_id}/{o.order_number}"  # as operators name it
    if case is not None and (before.case is None or before.case.state != case.state):
        event_log(f"case.{case.state}", case_id=case.id, order_id=o.id, order=order,
                  reason=case.escalation_reason if case.state == "escalated" else case.reason,
                  outcome=case.outcome)
    elif before.protection.state != after.protection.state:
        event_log(f"protection.{after.protection.state}", order_id=o.id, order=order)
    else:
        event_log(f"event.{result}", order_id=o.id, order=order,
                  case_id=case.id if case else None)
