"""Read-only views for the command line: ``status``, ``cases`` and ``case`` as SPEC §9's JSON and
as short text for a terminal."""

from __future__ import annotations

from datetime import datetime

from .core.model import State
from .store import records


def _time(dt: datetime | None, tz) -> str | None:
    return None if dt is None else dt.astimezone(tz).isoformat(timespec="seconds")


def order_json(state: State) -> dict:
    o = state.order
    return {"shop_id": o.shop_id, "order_number": o.order_number,
            "order_date": o.order_date.isoformat(), "amount": str(o.amount),
            "currency": o.currency, "buyer_email": o.buyer_email,
            "buyer_locale": o.buyer_locale, "plan": str(o.plan)}


def case_json(db, state: State, tz) -> dict | None:
    c = state.case
    if c is None:
        return None
    return {
        "id": c.id, "state": str(c.state), "variant": c.variant and str(c.variant),
        "reason": str(c.reason), "outcome": c.outcome and str(c.outcome),
        "escalation_reason": c.escalation_reason and str(c.escalation_reason),
        "merchant_due": _time(c.merchant_due, tz), "buyer_due": _time(c.buyer_due, tz),
        "refund": {"choice": c.refund_choice and str(c.refund_choice),
                   "amount": None if c.refund_amount is None else str(c.refund_amount)},
        "timeline": [
            {"at": _time(e["at"], tz), "actor": e["actor"], "kind": e["kind"], "text": e["text"],
             "attachments": [d.name for d in e["attachments"]]}
            for e in records.timeline(db, state.order.id)],
    }


def status_json(db, state: State, tz) -> dict:
    p = state.protection
    return {
        "order": order_json(state),
        "protection": {"state": str(p.state), "ends_at": _time(p.ends_at, tz),
                       "extended": p.extended, "reminder_sent": p.reminder_sent},
        "case": case_json(db, state, tz),
    }


def case_file_json(db, state: State, tz) -> dict:
    """``case CASE_ID --json``: the case object with the order inside it."""
    data = case_json(db, state, tz)
    data["order"] = order_json(state)
    return data


def cases(db, state_filter: str | None) -> list[dict]:
    sql = ("SELECT c.id, c.state, c.reason, c.variant, c.escalation_reason, c.outcome, "
           "c.opened_at, o.shop_id, o.order_number FROM cases c JOIN orders o ON o.id = c.order_id")
    args = []
    if state_filter:
        sql += " WHERE c.state = ?"
        args.append(state_filter)
    return list(db.query(sql + " ORDER BY c.id", args))
