"""The one door for state changes: ``handle(app, order_id, event, now)``.

It loads the order's state, asks the pure core for a decision and renders the mails it causes --
all reads, done before the write lock is taken, so the SMTP listener's inserts never wait for
template rendering. Then, in one transaction, it checks that the state is still the one it
decided on, saves the new state (and the timers it implies), appends the timeline and queues the
mails. If the state moved meanwhile, it decides again. When the event came from an inbound mail,
that mail's disposition is recorded in the same transaction, so a crash either applies the event
and marks the mail processed, or does neither.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .core.decide import decide
from .core.effects import Decision, Entry, Result
from .core.events import Event
from .core.model import State
from .inbound import inbox
from .outbound import outbox
from .outbound.compose import Outgoing, prepare
from .store import records
from .store.db import transaction
from .wiring import event_log

OPTIMISTIC_TRIES = 3


class UnknownOrder(LookupError):
    pass


@dataclass(frozen=True)
class Outcome:
    result: Result
    case_id: int | None


@dataclass(frozen=True)
class Planned:
    """A decision and its rendered mails, valid while the order's state is ``before``."""

    before: State
    decision: Decision
    mails: tuple[Outgoing, ...]


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
    return Planned(before, decision, tuple(m for m in mails if m is not None))


def apply(app, planned: Planned, now: datetime, inbox_id: int | None = None,
          dedupe_key: str | None = None, sender: str | None = None) -> bool:
    """Writes ``planned``; inside a transaction. False if the state moved since it was planned."""
    db = app.db()
    order_id = planned.before.order.id
    if records.load(db, order_id) != planned.before:
        return False
    decision = planned.decision
    records.save(db, decision.state, app.tz)
    for entry in decision.timeline:
        records.add_timeline(db, order_id, now, entry)
    for mail in planned.mails:
        outbox.enqueue(db, mail, now)
        records.add_timeline(db, order_id, now, Entry("bot", "mail", mail.template))
    if inbox_id is not None:
        inbox.finish(db, inbox_id, str(decision.result), now, order_id=order_id,
                     dedupe_key=dedupe_key, sender=sender)
    return True


def handle(app, order_id: int, event: Event, now: datetime, *, notices: tuple = (),
           **inbound) -> Outcome:
    """Plans outside the lock and applies inside it; ``inbound`` names the mail the event came
    from (inbox_id, dedupe_key, sender). ``notices``: mails about that mail itself (refused
    attachments), queued with the decision's own."""
    db = app.db()
    for _ in range(OPTIMISTIC_TRIES):
        planned = plan(app, order_id, event, now, notices)
        with transaction(db):
            if apply(app, planned, now, **inbound):
                break
    else:
        with transaction(db):  # contended: plan under the lock, where nothing can move
            planned = plan(app, order_id, event, now, notices)
            apply(app, planned, now, **inbound)
    log(planned)  # after the commit: the log never tells of a change that did not happen
    state = planned.decision.state
    return Outcome(planned.decision.result, state.case.id if state.case else None)


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
