"""The SQL of the ``outbox`` table: composed mails, their leases and delivery attempts, and the
answers counted by the answer budget. The rules around it live in ``outbound/outbox.py``.

A row in flight has a ``due_at`` ('' = at once, else the time of its next attempt) and, while a
process sends it, the state ``sending`` with a lease (``claimed_by``, ``claimed_until`` by the
database's clock). Sent, dead and bounced rows have none, so the due query never reads them.
``outbox_recipients`` keeps what became of each recipient of a mail whose recipients fared
differently ('sent' or 'dead' by index); a row with none there fared as one.
"""

from __future__ import annotations

import json
from datetime import datetime

from .db import lease_writes
from .records import iso


def insert(db, mail, now: datetime, answer_to: str | None = None,
           inbox_id: int | None = None) -> None:
    # A write nobody reads back (its Message-ID names it): on PostgreSQL it goes out with the
    # transaction's next statement (``Database.write``).
    db.write(
        "INSERT INTO outbox (message_id, order_id, role, template, recipients, raw, created_at,"
        " answer_to, inbox_id, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
        [mail.message_id, mail.order_id, mail.role, mail.template,
         json.dumps(list(mail.recipients)), mail.raw, iso(now), answer_to, inbox_id])


def thread(db, order_id: int, role: str) -> list[str]:
    """Message-IDs of the mails already sent on this order to this party, oldest first."""
    return [r[0] for r in db.execute(
        "SELECT message_id FROM outbox WHERE order_id = ? AND role = ? ORDER BY id",
        [order_id, str(role)]).fetchall()]


def count_since(db, order_id: int, template: str, since: datetime) -> int:
    return db.execute(
        "SELECT count(*) FROM outbox WHERE order_id = ? AND template = ? AND created_at > ?",
        [order_id, template, iso(since)]).fetchone()[0]


def answers_since(db, answer_to: str, since: datetime) -> list[tuple[int, str, bytes]]:
    """The answers on this budget since ``since``: (inbox id, template, raw) of each."""
    rows = db.execute(
        "SELECT inbox_id, template, raw FROM outbox WHERE answer_to = ? AND created_at > ?",
        [answer_to, iso(since)]).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def find_message(db, message_ids: list[str]) -> tuple[int, str] | None:
    if not message_ids:
        return None
    marks = ",".join("?" * len(message_ids))
    row = db.execute(
        f"SELECT order_id, role FROM outbox WHERE message_id IN ({marks}) "
        "AND order_id IS NOT NULL ORDER BY id DESC LIMIT 1", message_ids).fetchone()
    return (row[0], row[1]) if row else None


# A row may be taken when its due time has come and no live lease holds it. The range on due_at
# reads the outbox_due_at index, which holds the rows in flight only (NULL once done).
def due(db, now: datetime, limit: int) -> list[int]:
    return [r[0] for r in db.execute(
        "SELECT id FROM outbox WHERE due_at <= ? "
        f"AND (claimed_until IS NULL OR claimed_until <= {db.clock()}) ORDER BY due_at LIMIT ?",
        [iso(now), limit]).fetchall()]


def claim(db, row_id: int, owner: str, seconds: float) -> dict | None:
    """Leases one due row to ``owner`` for ``seconds`` of the database's clock and marks it
    ``sending``; None if another process holds it. The row comes back with what the delivery
    needs: the recipients already done (``done``, by index) and the order as operators name
    it (``order_label``). One statement (a round trip on PostgreSQL), two when some recipients
    fared differently before."""
    with lease_writes(db):
        rows = list(db.query(
            f"UPDATE outbox SET status = 'sending', claimed_by = ?, "
            f"claimed_until = {db.clock(seconds)} WHERE id = (SELECT id FROM outbox WHERE id = ? "
            f"AND due_at IS NOT NULL AND (claimed_until IS NULL OR claimed_until <= {db.clock()}) "
            "FOR UPDATE SKIP LOCKED) RETURNING id, message_id, recipients, raw, attempts, "
            "template, created_at, order_id, "
            "(SELECT shop_id || '/' || order_number FROM orders "
            "WHERE orders.id = outbox.order_id) AS order_label, "
            "EXISTS (SELECT 1 FROM outbox_recipients WHERE outbox_id = outbox.id) AS partial",
            [owner, row_id]))
    if not rows:
        return None
    row = rows[0]
    row["done"] = {r[0]: r[1] for r in db.execute(
        "SELECT idx, status FROM outbox_recipients WHERE outbox_id = ?", [row_id])
    } if row.pop("partial") else {}
    return row


def record_recipients(db, row_id: int, statuses: dict[int, str], now: datetime) -> None:
    """What became of these recipients (by index): 'sent' or 'dead'."""
    db.executemany("INSERT INTO outbox_recipients (outbox_id, idx, status, at) "
                   "VALUES (?, ?, ?, ?)",
                   [(row_id, index, status, iso(now)) for index, status in statuses.items()])


def forget_recipients(db, row_id: int) -> None:
    """A mail queued again from the start (``mailbot outbox resend``) or deleted."""
    db.execute("DELETE FROM outbox_recipients WHERE outbox_id = ?", [row_id])


def mark_sent(db, row_id: int, now: datetime) -> None:
    db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, "
               "due_at = NULL, attempts = attempts + 1 WHERE id = ?", [iso(now), row_id])


def mark_retry(db, row_id: int, attempts: int, error: str, next_attempt: datetime) -> None:
    db.execute("UPDATE outbox SET status = 'queued', attempts = ?, last_error = ?, "
               "claimed_until = NULL, next_attempt_at = ?, due_at = ? WHERE id = ?",
               [attempts, error[:500], iso(next_attempt), iso(next_attempt), row_id])


def mark_dead(db, row_id: int, error: str) -> None:
    db.execute("UPDATE outbox SET status = 'dead', last_error = ?, claimed_until = NULL, "
               "due_at = NULL, attempts = attempts + 1 WHERE id = ?", [error[:500], row_id])


def mark_bounced(db, row_id: int, detail: str) -> bool:
    cur = db.execute("UPDATE outbox SET status = 'bounced', last_error = ?, due_at = NULL "
                     "WHERE id = ? AND status IN ('sent', 'queued', 'sending')", [detail[:500], row_id])
    return bool(cur.rowcount)
