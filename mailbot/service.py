"""The one door for state changes: ``handle(app, order_id, event, now)``.

In one transaction it loads the order's state, asks the pure core for a decision, saves the new
state (and the timers it implies), appends the timeline and queues the mails. When the event came
from an inbound mail, that mail's disposition is recorded in the same transaction, so a crash
either applies the event and marks the mail processed, or does neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .core.decide import decide
from .core.effects import Entry, Result
from .core.events import Event
from .inbound import inbox
from .outbound.compose import compose
from .store import records
from .store.db import transaction
from .wiring import event_log


class UnknownOrder(LookupError):
    pass


@dataclass(frozen=True)
class Outcome:
    result: Result
    case_id: int | None


def handle(app, order_id: int, event: Event, now: datetime, *, inbox_id: int | None = None,
           dedupe_key: str | None = None, sender: str | None = None,
           notices: tuple = ()) -> Outcome:
    """``notices``: mails about the inbound mail itself (refused attachments), queued with the
    decision's own."""
    db = app.db()
    with transaction(db):
        state = records.load(db, order_id)
        if state is None:
            raise UnknownOrder(order_id)
        decision = decide(state, event, now, app.tz)
        new = records.save(db, decision.state, app.tz)
        for entry in decision.timeline:
            records.add_timeline(db, order_id, now, entry)
        for mail in decision.mails + tuple(notices):
            compose(app, db, new, mail, now)
            records.add_timeline(db, order_id, now, Entry("bot", "mail", mail.template))
        if inbox_id is not None:
            inbox.finish(db, inbox_id, str(decision.result), now, order_id=order_id,
                         dedupe_key=dedupe_key, sender=sender)
    _log(state, new, event, decision.result)
    return Outcome(decision.result, new.case.id if new.case else None)


def _log(before, after, event, result) -> None:
    name = type(event).__name__
    case = after.case
    if case is not None and (before.case is None or before.case.state != case.state):
        event_log(f"case.{case.state}", case_id=case.id, order_id=after.order.id,
                  reason=case.escalation_reason if case.state == "escalated" else case.reason,
                  outcome=case.outcome)
    elif before.protection.state != after.protection.state:
        event_log(f"protection.{after.protection.state}", order_id=after.order.id)
    else:
        event_log(f"event.{result}", order_id=after.order.id, event=name,
                  case_id=case.id if case else None)
