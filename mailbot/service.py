"""The one door for state changes: ``handle(app, order_id, event, now)``.

It loads the order's state, asks the pure core for a decision and renders the mails it causes --
all reads, done before the write lock is taken, so the SMTP listener's inserts never wait for
template rendering. Then, in one transaction, ``settle`` checks that the state is still the one
it decided on and writes the new state (and the timers it implies), the timeline and the mails;
if the state moved meanwhile, it decides again under the lock, where nothing can move. When the
event came from an inbound mail, ``inbound`` records that mail's disposition in the same
transaction (and holds back answers over the budget), so a crash either applies the event and
marks the mail processed, or does neither. ``jobs.tick`` writes its timers through ``settle`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


# Called inside the write transaction with the planned change; records the inbound mail's
# disposition and returns the mails to queue, each with its outbox marks (see outbox.enqueue).
Inbound = Callable[[object, Planned], Iterable[tuple[Outgoing, dict]]]


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


def apply(app, planned: Planned, now: datetime, inbound: Inbound | None = None) -> bool:
    """Writes ``planned``; inside a transaction. False if the state moved since it was planned."""
    db = app.db()
    order_id = planned.before.order.id
    if records.load(db, order_id) != planned.before:
        return False
    decision = planned.decision
    records.save(db, decision.state, app.tz)
    for entry in decision.timeline:
        records.add_timeline(db, order_id, now, entry)
    queued = [(mail, {}) for mail in planned.mails] if inbound is None else inbound(db, planned)
    for mail, marks in queued:
        outbox.enqueue(db, mail, now, **marks)
        records.add_timeline(db, order_id, now, Entry("bot", "mail", mail.template))
    return True


def settle(app, planned: Planned, now: datetime, inbound: Inbound | None = None) -> Planned:
    """Inside a transaction: writes ``planned``, or, if the state moved since, decides again
    under the lock (where nothing can move) and writes that. Returns what was written."""
    if not apply(app, planned, now, inbound):
        planned = plan(app, planned.before.order.id, planned.event, now, planned.notices)
        apply(app, planned, now, inbound)
    return planned


def handle(app, order_id: int, event: Event, now: datetime, *, notices: tuple = (),
           inbound: Inbound | None = None) -> Handled:
    """Plans outside the lock and settles inside it. ``notices``: mails about the inbound mail
    itself (refused attachments), queued with the decision's own; ``inbound``: see ``Inbound``."""
    planned = plan(app, order_id, event, now, notices)
    with transaction(app.db()):
        planned = settle(app, planned, now, inbound)
    log(planned)  # after the commit: the log never tells of a change that did not happen
    state = planned.decision.state
    return Handled(planned.decision.result, state.case.id if state.case else None)


def declare_insolvent(app, shop_id: str, now: datetime) -> int:
    """SPEC §3 "merchant insolvent": the merchant's flag and a ``MerchantInsolvent`` event for
    each of its open cases, in one transaction. Returns how many cases were escalated."""
    db = app.db()
    with transaction(db):
        records.set_insolvent(db, shop_id)
        written = [settle(app, plan(app, order_id, MerchantInsolvent(), now), now)
                   for order_id in records.open_case_orders(db, shop_id)]
    for planned in written:
        log(planned)
    return sum(p.decision.result is Result.APPLIED for p in written)


def log(planned: Planned) -> None:
    """One structured line for an applied event."""
    before, after, result = planned.before, planned.decision.state, planned.decision.result
    case = after.case
    if case is not None and (before.case is None or before.case.state != case.state):
        event_log(f"case.{case.state}", case_id=case.id, order_id=after.order.id,
                  reason=case.escalation_reason if case.state == "escalated" else case.reason,
                  outcome=case.outcome)
    elif before.protection.state != after.protection.state:
        event_log(f"protection.{after.protection.state}", order_id=after.order.id)
    else:
        event_log(f"event.{result}", order_id=after.order.id,
                  case_id=case.id if case else None)
