"""The case as one JSON object, shaped like PayPal's dispute object (``dispute_id``,
``disputed_transactions``, ``dispute_amount``, ``messages``, ``dispute_outcome``, due dates), so
that someone used to a payment provider's export finds the same fields here. ``timeline`` holds
the entries exactly as stored, with their hashes, so ``casefile/verify`` can recompute the chain.
"""

from __future__ import annotations

from ..core.model import OPERATOR_OUTCOMES, Outcome, State
from ..store import chain, records

# Entry kinds where a party or an operator decides something.
_DECISIONS = ("merchant.decision", "operator.decision", "case.escalated", "case.closed",
              "merchant.insolvent", "protection.ended")


def _time(dt, tz) -> str | None:
    return None if dt is None else dt.astimezone(tz).isoformat(timespec="seconds")


def _money(amount, currency: str) -> dict | None:
    return None if amount is None else {"currency_code": currency, "value": str(amount)}


def dispute_outcome(state: State, entries: list[dict]) -> dict:
    """The outcome and what was paid back: the operators' amount when the operators decided
    (the last ``operator.amount``, a correction's included; none for a rejected claim, or once
    purged), else the shop's answer. ``refund_choice`` is the shop's answer either way."""
    o, c = state.order, state.case
    amount = c.refund_amount
    if c.outcome in OPERATOR_OUTCOMES:
        paid = [e["text"] for e in entries if e["kind"] == "operator.amount" and e["text"]]
        amount = paid[-1] if paid and c.outcome is not Outcome.CLAIM_REJECTED else None
    return {"outcome_code": c.outcome and str(c.outcome),
            "refund_choice": c.refund_choice and str(c.refund_choice),
            "amount_refunded": _money(amount, o.currency)}


def case_object(db, state: State, tz, documents: dict[str, str]) -> dict:
    """``documents``: sha256 -> path of the file in the export."""
    o, p, c = state.order, state.protection, state.case
    shop = records.merchant(db, o.shop_id) or {"name": "", "emails": []}
    entries = chain.entries(db, o.id)
    return {
        "dispute_id": str(c.id),
        "create_time": _time(c.opened_at, tz),
        "reason": str(c.reason),
        "status": str(c.state),
        "dispute_life_cycle_stage": c.variant and str(c.variant),
        "dispute_outcome": dispute_outcome(state, entries),
        "escalation_reason": c.escalation_reason and str(c.escalation_reason),
        "closed_time": _time(c.closed_at, tz),
        "seller_response_due_date": _time(c.merchant_due, tz),
        "buyer_response_due_date": _time(c.buyer_due, tz),
        "dispute_amount": _money(o.amount, o.currency),
        "disputed_transactions": [{
            "seller_transaction_id": o.order_number,
            "create_time": o.order_date.isoformat(),
            "gross_amount": _money(o.amount, o.currency),
            "buyer": {"email": o.buyer_email, "locale": o.buyer_locale},
            "seller": {"merchant_id": o.shop_id, "name": shop["name"], "emails": shop["emails"]},
            "protection": {"plan": str(o.plan), "state": str(p.state),
                           "ends_at": _time(p.ends_at, tz), "extended": p.extended,
                           "end_reason": p.end_reason and str(p.end_reason)},
        }],
        "messages": [
            {"posted_by": e["actor"], "kind": e["kind"],
             "time_posted": _time(records.parse_dt(e["at"]), tz),
             "content": e["text"], "documents": e["attachments"]}
            for e in entries if e["actor"] in ("buyer", "merchant") and e["text"]],
        "decisions": [{"by": e["actor"], "done_by": e["done_by"], "kind": e["kind"],
                       "time": _time(records.parse_dt(e["at"]), tz), "text": e["text"]}
                      for e in entries if e["kind"] in _DECISIONS],
        "documents": [{**d, "file": documents.get(d["sha256"])}
                      for e in entries for d in e["attachments"]],
        "timeline": entries,
    }
