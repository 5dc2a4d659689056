"""Read-only views for the command line: ``status``, ``cases`` and ``case`` as SPEC §9's JSON and
as short text for a terminal."""

from __future__ import annotations

from datetime import datetime

from .core.model import ProtectionState, State
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


def status_text(state: State, tz) -> str:
    """``status`` for a terminal: words, not ``None``; times in the configured zone."""
    o, p = state.order, state.protection
    if p.state is ProtectionState.ACTIVE:
        said = f"active until {_shown(p.ends_at, tz)}" + (", extended" if p.extended else "")
    elif p.state is ProtectionState.IN_CASE:
        said = f"in a case (it would have ended {_shown(p.ends_at, tz)})"
    else:
        why = f" ({p.end_reason})" if p.end_reason else ""
        said = f"{p.state} on {_shown(p.ended_at or p.ends_at, tz)}{why}"
    return (f"order {o.shop_id}/{o.order_number}: protection {said}\n"
            f"  {_order_line(order_json(state))}\n")


def _order_line(o: dict) -> str:
    return (f"ordered {o['order_date']}, {o['amount']} {o['currency']}, plan {o['plan']}; "
            f"buyer {o['buyer_email']} ({o['buyer_locale']})")


def _shown(dt: datetime | None, tz) -> str:
    return "-" if dt is None else dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _moment(iso_text: str | None) -> str:
    """A time of the JSON views (ISO-8601 in the configured zone) as a terminal shows it."""
    return "-" if iso_text is None else iso_text[:16].replace("T", " ")


def operators_file(db, state: State, cover) -> dict:
    """The operators' file of ``state``'s case (``store.reports.operators_file``) for ``case``."""
    return reports.operators_file(db, state, records.merchant(db, state.order.shop_id), cover,
                                  records.timeline(db, state.order.id))


def case_text(c: dict, tz=None, file: dict | None = None) -> str:
    """``case CASE_ID`` for a terminal: the case's facts on labelled lines (with ``file``, the
    operators' file: languages, the shop's addresses, plan and cover, protection, dates, the
    shop's other open cases), then the timeline with every text whole (continued lines
    indented), the documents named and the mails a step sent on one line. What a party wrote
    is shown with control characters escaped, so a buyer's text cannot move the cursor or
    recolour an operator's terminal. Times are in the configured zone ``tz`` (a ZoneInfo)."""
    refund = c["refund"]
    why = c["outcome"] or c["escalation_reason"]  # once closed, how it ended
    lines = [f"case {c['id']}: {c['state']}" + (f" ({why})" if why else "")
             + f", reason {c['reason']}" + (f", variant {c['variant']}" if c["variant"] else "")]
    if c.get("order"):
        o = c["order"]
        lines.append(f"  order: {o['shop_id']}/{o['order_number']}, {_order_line(o)}")
    if file:
        lines += _file_lines(file, c["order"]["currency"] if c.get("order") else "", tz)
    lines.append("  " + (f"opened: {_shown(file['opened_at'], tz)}; " if file else "")
                 + f"merchant due: {_moment(c.get('merchant_due'))}; buyer due: "
                 + _moment(c.get("buyer_due"))
                 + (f"; escalated: {_shown(file['escalated_at'], tz)}" if file else "")
                 + (f" ({tz})" if tz else ""))
    if refund["choice"]:
        lines.append(f"  merchant's answer: refund {refund['choice']}"
                     + (f", {refund['amount']}" if refund["choice"] != "no" else ""))
    for entries in _runs(c["timeline"]):
        e = entries[0]
        actor = f"{e['actor']} ({e['by']})" if e.get("by") else e["actor"]
        if e["kind"] == "mail":  # what a step sent, on one line: kind of mail and to whom
            kind = "e-mail sent" if len(entries) == 1 else "e-mails sent"
            text = [", ".join(_sent(m["text"]) for m in entries)]
        else:
            kind = e["kind"]
            text = [_printable(line) for line in e["text"].splitlines()] or [""]
        lines.append(f"  {_moment(e['at'])}  {actor:<8} {kind:<28} {text[0]}".rstrip())
        lines += [f"{'':>58}{line}".rstrip() for line in text[1:]]
        lines += [f"{'':>58}document: {_printable(name)}" for name in e["attachments"]]
    return "\n".join(lines) + "\n"


def _file_lines(f: dict, currency: str, tz) -> list[str]:
    cover = f"{f['cover']} {currency}" if f["cover"] else "the order's amount"
    others = ", ".join(str(i) for i in f["other_cases"]) or "none"
    return [
        f"  languages: buyer {f['buyer_locale']}, merchant {f['merchant_locale']}; merchant's "
        f"addresses: {', '.join(f['merchant_emails'])}",
        f"  plan {f['plan']}, compensation up to {cover}; protection ends "
        f"{_shown(f['protection_ends'], tz)}, {'' if f['extended'] else 'not '}extended",
        f"  merchant's other open cases: {others}",
    ]


def _runs(timeline: list[dict]) -> list[list[dict]]:
    """The timeline's entries one by one, but the mails sent in a row as one run."""
    runs: list[list[dict]] = []
    for e in timeline:
        if e["kind"] == "mail" and runs and runs[-1][0]["kind"] == "mail":
            runs[-1].append(e)
        else:
            runs.append([e])
    return runs


def _sent(template: str) -> str:
    """``buyer.case_opened`` as "case opened to buyer"."""
    role, _, kind = template.partition(".")
    return f"{kind.replace('_', ' ')} to {role}"


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)
