"""Read-only views for the command line: ``status``, ``cases`` and ``case`` as SPEC §9's JSON and
as short text for a terminal."""

from __future__ import annotations

from datetime import datetime

from .core.model import State
from .store import records, reports


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
             "attachments": [d.name for d in e["attachments"]], "by": e["done_by"] or None}
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
    return reports.cases(db, state_filter)


def case_text(c: dict) -> str:
    """``case CASE_ID`` for a terminal: what a party wrote is shown with control characters
    escaped, so a buyer's text cannot move the cursor or recolour an operator's terminal."""
    refund = c["refund"]
    lines = [f"case {c['id']}: {c['state']} reason={c['reason']} variant={c['variant']} "
             f"escalation={c['escalation_reason']} outcome={c['outcome']}",
             f"  refund: {refund['choice'] or '-'}"
             + (f" {refund['amount']}" if refund["choice"] not in (None, "no") else "")]
    for e in c["timeline"]:
        text = _printable(" ".join(e["text"].split())[:100])
        actor = f"{e['actor']} ({e['by']})" if e.get("by") else e["actor"]
        lines.append(f"  {e['at']}  {actor:<8} {e['kind']:<28} {text}")
    return "\n".join(lines) + "\n"


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)
