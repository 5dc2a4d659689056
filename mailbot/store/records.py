"""The SQL of the domain's own tables: merchants, orders, cases, timers, timeline and settings.

Each other table has its module beside this one (``inbox_rows``, ``outbox_rows``,
``bounce_rows``, ``digest_rows``, ``mail_intake``, ``corrections``), ``imported`` is the orders
table as ``mailbot import`` sees it, and read-only views over several tables are in ``reports``
and ``admin``. Times are stored as UTC ISO-8601 strings (they sort as text, so ``due_at <= ?``
works on an index); amounts as decimal strings. ``load`` builds a core ``State``; ``save`` writes
a decision's state back, rewrites the order's timers from it and appends its timeline entries.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..core.decide import timers
from ..core.effects import Entry
from ..core.model import (
    Case, CaseState, Document, EndReason, Escalation, Order, Outcome, Plan, Protection,
    ProtectionState, Reason, RefundChoice, State, Variant,
)
from . import chain
from .db import lease_writes, transaction


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _enum(cls, value):
    return None if value is None else cls(value)


# --- merchants --------------------------------------------------------------------------------

def merchant(db, shop_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM merchants WHERE id = ?", [shop_id]))
    if not rows:
        return None
    row = rows[0]
    row["emails"] = json.loads(row["emails"])
    return row


def upsert_merchant(db, shop_id: str, name: str, emails: list[str], locale: str) -> None:
    db.execute(
        "INSERT INTO merchants (id, name, emails, locale) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, emails = excluded.emails, "
        "locale = excluded.locale",
        [shop_id, name, json.dumps(emails), locale],
    )


def set_insolvent(db, shop_id: str) -> None:
    db.execute("UPDATE merchants SET insolvent = 1 WHERE id = ?", [shop_id])


def open_case_orders(db, shop_id: str) -> list[int]:
    return [r[0] for r in db.execute(
        "SELECT o.id FROM orders o JOIN cases c ON c.order_id = o.id "
        "WHERE o.shop_id = ? AND c.state != 'closed'", [shop_id]).fetchall()]


# --- orders, protections, cases ----------------------------------------------------------------

def insert_order(db, order: Order, protection: Protection) -> int | None:
    """Inserts a new order; returns its id, or None if (shop_id, order_number) exists already."""
    row = db.execute(
        "INSERT INTO orders (shop_id, order_number, order_date, amount, currency, buyer_email, "
        "buyer_locale, plan, state, ends_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(shop_id, order_number) DO NOTHING RETURNING id",
        [order.shop_id, order.order_number, order.order_date.isoformat(), str(order.amount),
         order.currency, order.buyer_email, order.buyer_locale, order.plan,
         protection.state, iso(protection.ends_at)],
    ).fetchone()
    return row[0] if row else None


def open_orders_of_buyer(db, address: str, limit: int) -> list[int]:
    """Orders of this buyer address with an active protection or an open case, newest first."""
    return [r[0] for r in db.execute(
        "SELECT o.id FROM orders o LEFT JOIN cases c ON c.order_id = o.id "
        "WHERE lower(o.buyer_email) = ? AND (o.state = 'active' OR c.state != 'closed') "
        "ORDER BY o.id DESC LIMIT ?", [address.lower(), limit]).fetchall()]

def order_id(db, shop_id: str, order_number: str) -> int | None:
    row = db.execute("SELECT id FROM orders WHERE shop_id = ? AND order_number = ?",
                     [shop_id, order_number]).fetchone()
    return row[0] if row else None


def order_of_case(db, case_id: int) -> int | None:
    row = db.execute("SELECT order_id FROM cases WHERE id = ?", [case_id]).fetchone()
    return row[0] if row else None


# The case's columns beside the order's, named apart (both tables have an id and a state).
_CASE_COLUMNS = ("id", "reason", "opened_at", "state", "variant", "outcome", "escalation_reason",
                 "merchant_due", "nudged", "buyer_due", "refund_choice", "refund_amount",
                 "closed_at")
# A payment recorded (``operator.paid``) after the last amount decided: the case owes nothing.
PAYMENT_RECORDED = (
    "EXISTS (SELECT 1 FROM timeline p WHERE p.order_id = o.id AND p.kind = 'operator.paid' "
    "AND p.id > coalesce((SELECT max(a.id) FROM timeline a WHERE a.order_id = o.id "
    "AND a.kind = 'operator.amount'), 0))")
# The team's last message to a party (``operator.message``; ISO UTC text sorts as time).
TEAM_WROTE_AT = ("(SELECT max(w.at) FROM timeline w WHERE w.order_id = o.id "
                 "AND w.kind = 'operator.message')")
_LOAD = ("SELECT o.*, m.insolvent, " + ", ".join(f"c.{n} AS case_{n}" for n in _CASE_COLUMNS)
         + f", {PAYMENT_RECORDED} AS case_payment_recorded"
         + f", {TEAM_WROTE_AT} AS case_team_wrote_at"
         + " FROM orders o JOIN merchants m ON m.id = o.shop_id "
         "LEFT JOIN cases c ON c.order_id = o.id WHERE o.id = ?")


def load(db, order_id: int) -> State | None:
    # One statement for the order and its case (each is a round trip on PostgreSQL). Read inside
    # a write, the order stays locked until the commit (PostgreSQL; SQLite's write lock covers
    # it): ``service.apply`` compares it with the state it decided on.
    lock = " FOR UPDATE OF o" if db.in_transaction else ""
    rows = list(db.query(_LOAD + lock, [order_id]))
    if not rows:
        return None
    r = rows[0]
    order = Order(
        id=r["id"], shop_id=r["shop_id"], order_number=r["order_number"],
        order_date=date.fromisoformat(r["order_date"]), amount=Decimal(r["amount"]),
        currency=r["currency"], buyer_email=r["buyer_email"], buyer_locale=r["buyer_locale"],
        plan=Plan(r["plan"]),
    )
    protection = Protection(
        state=ProtectionState(r["state"]), ends_at=parse_dt(r["ends_at"]),
        extended=bool(r["extended"]), reminder_sent=bool(r["reminder_sent"]),
        ended_at=parse_dt(r["ended_at"]), end_reason=_enum(EndReason, r["end_reason"]),
    )
    return State(order, protection, _case(r), bool(r["insolvent"]))


def _case(r: dict) -> Case | None:
    if r["case_id"] is None:
        return None
    c = {n: r["case_" + n] for n in _CASE_COLUMNS}
    return Case(
        id=c["id"], reason=Reason(c["reason"]), opened_at=parse_dt(c["opened_at"]),
        state=CaseState(c["state"]), variant=_enum(Variant, c["variant"]),
        outcome=_enum(Outcome, c["outcome"]),
        escalation_reason=_enum(Escalation, c["escalation_reason"]),
        merchant_due=parse_dt(c["merchant_due"]), nudged=bool(c["nudged"]),
        buyer_due=parse_dt(c["buyer_due"]),
        refund_choice=_enum(RefundChoice, c["refund_choice"]),
        refund_amount=None if c["refund_amount"] is None else Decimal(c["refund_amount"]),
        closed_at=parse_dt(c["closed_at"]), payment_recorded=bool(r["case_payment_recorded"]),
        team_wrote_at=parse_dt(r["case_team_wrote_at"]),
    )


def save(db, state: State, tz: ZoneInfo) -> None:
    """Writes protection and case, and rewrites the order's timers from them."""
    p, order_id = state.protection, state.order.id
    db.write(
        "UPDATE orders SET state = ?, ends_at = ?, extended = ?, reminder_sent = ?, "
        "ended_at = ?, end_reason = ? WHERE id = ?",
        [p.state, iso(p.ends_at), int(p.extended), int(p.reminder_sent), iso(p.ended_at),
         p.end_reason, order_id],
    )
    case = state.case
    if case is not None:
        values = [case.reason, case.state, case.variant, case.outcome, case.escalation_reason,
                  iso(case.opened_at), iso(case.merchant_due), int(case.nudged),
                  iso(case.buyer_due), case.refund_choice,
                  None if case.refund_amount is None else str(case.refund_amount),
                  iso(case.closed_at)]
        # One case per order, and it takes the order's id (service.plan).
        db.write(
            "INSERT INTO cases (reason, state, variant, outcome, escalation_reason, "
            "opened_at, merchant_due, nudged, buyer_due, refund_choice, refund_amount, "
            "closed_at, order_id, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET reason = excluded.reason, state = excluded.state, "
            "variant = excluded.variant, outcome = excluded.outcome, "
            "escalation_reason = excluded.escalation_reason, opened_at = excluded.opened_at, "
            "merchant_due = excluded.merchant_due, nudged = excluded.nudged, "
            "buyer_due = excluded.buyer_due, refund_choice = excluded.refund_choice, "
            "refund_amount = excluded.refund_amount, closed_at = excluded.closed_at",
            values + [order_id, order_id])
    write_timers(db, state, tz)


def write_timers(db, state: State, tz: ZoneInfo) -> None:
    db.write("DELETE FROM timers WHERE order_id = ?", [state.order.id])
    rows = [(state.order.id, kind, iso(due)) for kind, due in timers(state, tz)]
    if rows:  # one INSERT of all of them: one round trip on PostgreSQL
        db.write("INSERT INTO timers (order_id, kind, due_at) VALUES "
                   + ", ".join(["(?, ?, ?)"] * len(rows)), [v for row in rows for v in row])


def due_timers(db, now: datetime, limit: int = 1000) -> list[tuple[int, str, str]]:
    return db.execute(
        "SELECT order_id, kind, due_at FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT ?",
        [iso(now), limit]).fetchall()


def claim_timers(db, now: datetime, seconds: float, limit: int) -> list[tuple[int, str]]:
    """Leases up to ``limit`` timers due at ``now`` that nobody holds, for ``seconds`` of the
    database's clock, so that two nodes never fire one timer together (a timer is rewritten,
    its lease gone, when its order changes)."""
    # The choice and the leases in one statement (one round trip on PostgreSQL); RETURNING
    # gives the rows in no particular order, so they are put back in the order they fell due.
    with lease_writes(db):
        due = db.execute(
            f"UPDATE timers SET claimed_until = {db.clock(seconds)} "
            "WHERE (order_id, kind) IN (SELECT order_id, kind FROM timers WHERE due_at <= ? "
            f"AND (claimed_until IS NULL OR claimed_until <= {db.clock()}) "
            "ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING order_id, kind, due_at",
            [iso(now), limit]).fetchall()
    return [(r[0], r[1]) for r in sorted(due, key=lambda r: (r[2], r[0], r[1]))]


def timer_failed(db, order_id: int, kind: str, error: str, now: datetime, backoff) -> int:
    """Records a failure on the timer's row and moves it to ``now + backoff(attempts)``; returns
    the failures so far. The row is rewritten (attempts reset) with the order's next change."""
    row = db.execute("SELECT attempts FROM timers WHERE order_id = ? AND kind = ?",
                     [order_id, str(kind)]).fetchone()
    attempts = (row[0] if row else 0) + 1
    db.execute("UPDATE timers SET attempts = ?, last_error = ?, due_at = ?, claimed_until = NULL "
               "WHERE order_id = ? AND kind = ?",
               [attempts, error[:500], iso(now + backoff(attempts - 1)), order_id, str(kind)])
    return attempts


def add_timeline(db, order_id: int, at: datetime, *entries: Entry) -> None:
    """Appends ``entries`` in their order, each linked into the order's hash chain
    (store/chain.py), in one transaction with the read of the previous link: one read and one
    INSERT however many entries (each a round trip on PostgreSQL). Inside the caller's
    transaction no savepoint of its own: that transaction already holds the read and the
    insert together."""
    if not entries:
        return
    if not db.in_transaction:
        with transaction(db):
            add_timeline(db, order_id, at, *entries)
        return
    previous, when, rows = chain.last_link(db, order_id), iso(at), []
    for entry in entries:
        documents = [asdict(d) for d in entry.attachments]
        content = chain.content_hash(entry.text, documents)
        previous = chain.link(previous, order_id, when, entry.actor, entry.kind, content,
                              entry.by, chain.VERSION)
        rows += [order_id, when, entry.actor, entry.kind, entry.text, json.dumps(documents),
                 content, previous, entry.by, chain.VERSION]
    db.write(
        "INSERT INTO timeline (order_id, at, actor, kind, text, attachments, content_sha256, "
        "chain_sha256, done_by, chain_version) VALUES "
        + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(entries)), rows)


def timeline(db, order_id: int) -> list[dict]:
    rows = list(db.query("SELECT at, actor, kind, text, attachments, done_by FROM timeline "
                         "WHERE order_id = ? ORDER BY id", [order_id]))
    for row in rows:
        row["attachments"] = [Document(**d) for d in json.loads(row["attachments"])]
        row["at"] = parse_dt(row["at"])
    return rows


# --- settings --------------------------------------------------------------------------------

def setting(db, key: str, make) -> str:
    """The stored value of ``key``; on first use ``make()`` is stored and returned."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    if row:
        return row[0]
    db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", [key, make()])
    return db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()[0]
