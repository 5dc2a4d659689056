"""Read-only queries for the operators' views: the digest's figures and the list of cases.

Kept apart from ``records`` (which loads and saves one order's state) so that reports can grow
without touching the write path; every query here only reads.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..core.deadlines import MERCHANT_ANSWER_DAYS, OPERATOR_PAYMENT_DAYS, deadline
from ..core.model import RefundChoice
from . import bank_details
from .records import PAYMENT_RECORDED, iso, parse_dt

# The outcomes that promise the buyer a payment (core.case.PAID_OUTCOMES), and who pays it.
PAYERS = {"refunded_by_merchant": "merchant", "compensated": "protection"}

def _rows(db, sql, args=()):
    return list(db.query(sql, list(args)))


def opened_since(db, start: datetime) -> int:
    return _rows(db, "SELECT count(*) AS n FROM cases WHERE opened_at > ?", [iso(start)])[0]["n"]


def timeline_counts(db, kind: str, start: datetime) -> dict:
    """How many cases had each text (escalation reason, outcome) as their last entry of
    ``kind`` since start: a case closed and then corrected counts once, with its corrected
    outcome. Entries blanked by an earlier release's purge are left out."""
    return dict(Counter(r["text"] for r in _rows(
        db, "SELECT t.text FROM timeline t WHERE t.kind = ? AND t.at > ? AND t.text != '' "
            "AND NOT EXISTS (SELECT 1 FROM timeline later WHERE later.order_id = t.order_id "
            "AND later.kind = t.kind AND later.id > t.id)",
        [kind, iso(start)])))


def merchant_deadlines(db, until: datetime, now: datetime) -> list[dict]:
    rows = _rows(
        db,
        "SELECT c.id AS case_id, o.id AS order_id, o.shop_id, m.name AS shop, o.order_number, "
        "o.amount, o.currency, c.merchant_due "
        "FROM cases c JOIN orders o ON o.id = c.order_id JOIN merchants m ON m.id = o.shop_id "
        "WHERE c.state = 'awaiting_merchant' AND c.merchant_due <= ? ORDER BY c.merchant_due",
        [iso(until)])
    for row in rows:
        row["merchant_due"] = parse_dt(row["merchant_due"])
        row["overdue"] = row["merchant_due"] <= now
    return rows


def escalated_cases(db, now: datetime, tz: ZoneInfo) -> list[dict]:
    """Cases with the service team, oldest first, with the day they were handed over and, when
    the team asked a party for documents since, which party and by when (``asked``, None if
    not): such a case waits for that party, it is not ready to decide."""
    last = ("(SELECT t.{col} FROM timeline t WHERE t.order_id = c.order_id AND t.kind = '{kind}' "
            "ORDER BY t.id DESC LIMIT 1)")
    rows = _rows(
        db,
        "SELECT c.id AS case_id, o.id AS order_id, o.order_number, m.name AS shop, "
        "o.amount, o.currency, c.escalation_reason, "
        f"{last.format(col='at', kind='case.escalated')} AS since, "
        f"{last.format(col='at', kind='operator.request_documents')} AS asked_at, "
        f"{last.format(col='text', kind='operator.request_documents')} AS asked_text "
        "FROM cases c JOIN orders o ON o.id = c.order_id JOIN merchants m ON m.id = o.shop_id "
        "WHERE c.state = 'escalated' ORDER BY since, c.id")
    for row in rows:
        row["since"] = parse_dt(row["since"]) or now
        row["age_days"] = (now - row["since"]).days
        row["why"] = "escalated"
        asked_at, text = parse_dt(row.pop("asked_at")), row.pop("asked_text")
        # The party asked, as the entry starts ("buyer: ..."), and the date the request states
        # (compose: the time a shop has to answer a case).
        row["asked"] = None if asked_at is None or asked_at < row["since"] else {
            "party": text.partition(":")[0],
            "by": deadline(asked_at, MERCHANT_ANSWER_DAYS, tz)}
    return rows


def owed(outcome: str, order_amount: Decimal, amount_text: str | None,
         decided_at: datetime | None, closed_at: datetime, tz: ZoneInfo, now: datetime) -> dict:
    """What a case closed with a payment still owes (core.case: ``_operator_said``): the amount
    (the last ``operator.amount`` entry's, else the order's), who pays it (``PAYERS``), the
    pay-by date (``OPERATOR_PAYMENT_DAYS`` after the decision or correction that set the
    amount) and whether it has passed; ``since``: that decision's moment, from which a
    compensation waits for the buyer's bank details (the closing mail asks for them)."""
    since = decided_at or closed_at
    paid_by = deadline(since, OPERATOR_PAYMENT_DAYS, tz)
    return {"amount": Decimal(amount_text) if amount_text else order_amount,
            "payer": PAYERS[outcome], "paid_by": paid_by, "overdue": paid_by < now,
            "since": since}


def amount_owed(db, state) -> Decimal:
    """What a case closed with a payment owes: the last amount decided (``operator.amount``, a
    correction's included), else the order's."""
    rows = _rows(db, "SELECT text FROM timeline WHERE order_id = ? AND kind = 'operator.amount' "
                 "AND text != '' ORDER BY id DESC LIMIT 1", [state.order.id])
    return Decimal(rows[0]["text"]) if rows else state.order.amount


def payments_owed(db, now: datetime, tz: ZoneInfo, limit: int) -> tuple[list[dict], int]:
    """Cases closed with a payment that no operator has recorded as made (``case ID paid``,
    ``records.PAYMENT_RECORDED``), the earliest pay-by date first, at most ``limit`` of them, and
    how many there are in all. A late one stays listed until its payment is recorded."""
    rows = _rows(
        db,
        "SELECT c.id AS case_id, o.id AS order_id, o.order_number, m.name AS shop, o.amount, "
        "o.currency, o.buyer_locale, c.outcome, c.closed_at, t.text AS amount_text, "
        "t.at AS decided_at "
        "FROM cases c JOIN orders o ON o.id = c.order_id JOIN merchants m ON m.id = o.shop_id "
        "LEFT JOIN timeline t ON t.id = (SELECT max(a.id) FROM timeline a "
        " WHERE a.order_id = c.order_id AND a.kind = 'operator.amount') "
        f"WHERE c.state = 'closed' AND c.outcome IN (?, ?) AND NOT {PAYMENT_RECORDED} "
        "ORDER BY c.id", [*PAYERS])
    owing = [{"case_id": row["case_id"], "order_id": row["order_id"],
              "order_number": row["order_number"], "shop": row["shop"],
              "currency": row["currency"], "buyer_locale": row["buyer_locale"],
              **owed(row["outcome"], Decimal(str(row["amount"])), row["amount_text"],
                     parse_dt(row["decided_at"]), parse_dt(row["closed_at"]), tz, now)}
             for row in rows]
    owing.sort(key=lambda r: (r["paid_by"], r["case_id"]))
    shown = owing[:limit]
    # A compensation is paid once the buyer's bank details have come (bank_details.received):
    # when they did and into which account, from the buyer's messages on the case; a shop's
    # refund needs none.
    compensations = [r["order_id"] for r in shown if r["payer"] == "protection"]
    messages = _rows(
        db, "SELECT order_id, actor, kind, text, at FROM timeline WHERE actor = 'buyer' "
        f"AND kind = 'message' AND order_id IN ({','.join('?' * len(compensations))}) "
        "ORDER BY id", compensations) if compensations else []
    for row in shown:
        said = [dict(m, at=parse_dt(m["at"])) for m in messages
                if m["order_id"] == row["order_id"]]
        latest = bank_details.latest_message(said) if row["payer"] == "protection" else None
        row["bank_details"] = latest["at"] if latest else None
        # The account to pay into, for the team's own digest (store/bank_details.py).
        row["account"] = bank_details.account(latest["text"]) if latest else None
    return shown, len(owing)


def other_requests(db, start: datetime) -> list[dict]:
    rows = _rows(
        db,
        "SELECT t.at, t.text, o.order_number, o.buyer_email, o.buyer_locale, m.name AS shop "
        "FROM timeline t "
        "JOIN orders o ON o.id = t.order_id JOIN merchants m ON m.id = o.shop_id "
        "WHERE t.kind = 'request.other' AND t.at > ? ORDER BY t.id", [iso(start)])
    for row in rows:
        row["at"] = parse_dt(row["at"])
    return rows


def operator_commands(db, start: datetime, kinds) -> list[dict]:
    """The operators' commands (timeline entries of ``kinds``) since ``start``, oldest first,
    each with who gave it."""
    rows = _rows(
        db,
        "SELECT t.at, t.kind, t.done_by, c.id AS case_id, o.order_number FROM timeline t "
        "JOIN orders o ON o.id = t.order_id LEFT JOIN cases c ON c.order_id = t.order_id "
        f"WHERE t.kind IN ({','.join('?' * len(kinds))}) AND t.done_by != '' AND t.at > ? "
        "ORDER BY t.id", [*kinds, iso(start)])
    for row in rows:
        row["at"] = parse_dt(row["at"])
    return rows


def failed_deliveries(db, start: datetime) -> list[dict]:
    """Addresses our mail could not reach since ``start``: each with its order and case, for
    operators to fix. Bounced recipients one by one, and every recipient of a dead mail."""
    rows = list(db.query(
        "SELECT b.recipient AS address, x.template, b.status || ' ' || b.diagnostic AS detail, "
        "o.shop_id, m.name AS shop, o.order_number, c.id AS case_id, x.id AS outbox_id "
        "FROM bounces b JOIN outbox x ON x.id = b.outbox_id "
        "LEFT JOIN orders o ON o.id = x.order_id LEFT JOIN cases c ON c.order_id = x.order_id "
        "LEFT JOIN merchants m ON m.id = o.shop_id "
        "WHERE b.action = 'failed' AND b.received_at > ? ORDER BY b.id", [iso(start)]))
    for dead in db.query(
            "SELECT x.id AS outbox_id, x.template, x.recipients, x.last_error AS detail, "
            "o.shop_id, m.name AS shop, o.order_number, c.id AS case_id FROM outbox x "
            "LEFT JOIN orders o ON o.id = x.order_id LEFT JOIN cases c ON c.order_id = x.order_id "
            "LEFT JOIN merchants m ON m.id = o.shop_id "
            "WHERE x.status = 'dead' AND x.created_at > ? ORDER BY x.id", [iso(start)]):
        for address in json.loads(dead.pop("recipients")):
            rows.append({**dead, "address": address})
    return rows


def held_inbound(db, start: datetime, dispositions) -> dict:
    """How many inbound mails of each of ``dispositions`` ended since ``start``."""
    held = [str(d) for d in dispositions]
    return dict(Counter(r["disposition"] for r in _rows(
        db, "SELECT disposition FROM inbox WHERE processed_at > ? AND disposition IN (%s)"
        % ",".join("?" * len(held)), [iso(start), *held])))


def held_mail(db, start: datetime, dispositions, limit: int) -> tuple[list[dict], int]:
    """The inbound mails of ``dispositions`` that ended since ``start``, oldest first, at most
    ``limit`` of them (each with its inbox id, for ``inbox release`` or ``replay``), and how
    many there are in all."""
    held = [str(d) for d in dispositions]
    where = ("FROM inbox WHERE processed_at > ? AND disposition IN (%s)"
             % ",".join("?" * len(held)))
    # The order a mail was matched to, with its shop and each party's language, and the
    # addresses it was sent to (a party's token names the party it claims to be).
    rows = _rows(db, "SELECT i.id, i.received_at, coalesce(i.sender, i.mail_from) AS sender, "
                 "i.disposition, i.order_id, i.rcpt_tos, o.order_number, m.name AS shop, "
                 "o.buyer_locale, m.locale AS merchant_locale "
                 f"FROM ({'SELECT * ' + where} ORDER BY id LIMIT ?) i "
                 "LEFT JOIN orders o ON o.id = i.order_id "
                 "LEFT JOIN merchants m ON m.id = o.shop_id ORDER BY i.id",
                 [iso(start), *held, limit])
    for row in rows:
        row["received_at"] = parse_dt(row["received_at"])
        row["rcpt_tos"] = json.loads(row["rcpt_tos"])
    return rows, _rows(db, f"SELECT count(*) AS n {where}", [iso(start), *held])[0]["n"]


def state_counts(db, table: str) -> dict:
    if table not in ("cases", "orders"):
        raise ValueError(table)
    return {r["state"]: r["n"] for r in _rows(
        db, f"SELECT state, count(*) AS n FROM {table} GROUP BY state")}


BUYER_DISPUTES = ("buyer.refund_not_received", "buyer.reject_partial", "buyer.disagree")


def operators_file(db, state, shop: dict, cover, timeline: list[dict]) -> dict:
    """The facts operators decide with, beyond the order and its ``timeline`` (escalation mail
    and ``case ID``): each party's language (the operators write to each in it), the contact
    addresses of the ``shop`` (its merchants row), the plan and its ``cover`` (None: no cap), the
    protection's end, the case's dates, the refund the shop promised (``promised``, None if
    none) and what the buyer said of it, the shop's other open cases and whether the shop is insolvent (its mails then offer no command the shop would have to carry out)."""
    order, case = state.order, state.case
    others = _rows(db, "SELECT c.id FROM cases c JOIN orders o ON o.id = c.order_id "
                   "WHERE o.shop_id = ? AND c.state != 'closed' AND c.order_id != ? ORDER BY c.id",
                   [order.shop_id, order.id])
    escalated = [e["at"] for e in timeline if e["kind"] == "case.escalated"]
    # What the buyer said of the shop's answer when disputing it (core.case: _buyer_disputes):
    # the refund promised did not arrive, the partial refund is refused, or the shop's answer
    # ("not received" denied) is disputed; None when the buyer disputed nothing.
    disputes = [e["kind"] for e in timeline if e["kind"] in BUYER_DISPUTES]
    promised = case is not None and case.refund_choice in (RefundChoice.YES,
                                                            RefundChoice.YES_AFTER_RETURN)
    return {"buyer_says": disputes[-1].partition(".")[2] if disputes else None,
            "promised": case.refund_amount if promised else None,
            "buyer_locale": order.buyer_locale, "merchant_locale": shop["locale"],
            "merchant_emails": shop["emails"], "plan": str(order.plan), "cover": cover,
            "protection_ends": state.protection.ends_at, "extended": state.protection.extended,
            "opened_at": case and case.opened_at, "merchant_due": case and case.merchant_due,
            "escalated_at": escalated[-1] if escalated else None,
            "other_cases": [r["id"] for r in others], "insolvent": state.merchant_insolvent}


def cases(db, state_filter: str | None) -> list[dict]:
    sql = ("SELECT c.id, c.state, c.reason, c.variant, c.escalation_reason, c.outcome, "
           "c.opened_at, o.shop_id, o.order_number FROM cases c JOIN orders o ON o.id = c.order_id")
    args = []
    if state_filter:
        sql += " WHERE c.state = ?"
        args.append(state_filter)
    return _rows(db, sql + " ORDER BY c.id", args)



