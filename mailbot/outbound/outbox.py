"""The outbox table: mails queued with the change that caused them, claimed and sent later.

A row is claimed atomically (an UPDATE that succeeds for one process only) right before it is
sent, so two delivery loops never send one mail twice; a claim expires, so a mail claimed by a
process that died is sent by the next one. Failed attempts back off exponentially until the retry period ends.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from ..store.records import iso

CLAIM_SECONDS = 60
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600


def enqueue(db, mail, now: datetime) -> int:
    """Queues a composed mail (``compose.Outgoing``)."""
    cur = db.execute(
        "INSERT INTO outbox (message_id, order_id, role, template, recipients, raw, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [mail.message_id, mail.order_id, mail.role, mail.template,
         json.dumps(list(mail.recipients)), mail.raw, iso(now)])
    return cur.lastrowid


def thread(db, order_id: int, role: str) -> list[str]:
    """Message-IDs of the mails already sent on this order to this party, oldest first."""
    return [r[0] for r in db.execute(
        "SELECT message_id FROM outbox WHERE order_id = ? AND role = ? ORDER BY id",
        [order_id, str(role)]).fetchall()]


def recent(db, order_id: int, template: str, now: datetime, hours: int = 1) -> int:
    """How many mails of ``template`` were queued for this order in the last ``hours``."""
    return db.execute(
        "SELECT count(*) FROM outbox WHERE order_id = ? AND template = ? AND created_at > ?",
        [order_id, template, iso(now - timedelta(hours=hours))]).fetchone()[0]


def find_message(db, message_ids: list[str]) -> tuple[int, str] | None:
    """(order_id, role) of the newest of our mails among ``message_ids``."""
    if not message_ids:
        return None
    marks = ",".join("?" * len(message_ids))
    row = db.execute(
        f"SELECT order_id, role FROM outbox WHERE message_id IN ({marks}) "
        "AND order_id IS NOT NULL ORDER BY id DESC LIMIT 1", message_ids).fetchone()
    return (row[0], row[1]) if row else None


def due(db, now: datetime, limit: int = 100) -> list[int]:
    """Ids of the rows due for a delivery attempt and not claimed by a live process."""
    return [r[0] for r in db.execute(
        "SELECT id FROM outbox WHERE status = 'queued' "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
        "AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY id LIMIT ?",
        [iso(now), iso(now), limit]).fetchall()]


def claim(db, row_id: int, now: datetime) -> dict | None:
    """Claims one row for this process right before sending it; None if another process has it.
    The claim outlives one SMTP exchange (smtplib's timeout is 30 s); a process that dies
    holding it only delays that mail until the claim expires."""
    cur = db.execute(
        "UPDATE outbox SET claimed_until = ? WHERE id = ? AND status = 'queued' "
        "AND (claimed_until IS NULL OR claimed_until <= ?)",
        [iso(now + timedelta(seconds=CLAIM_SECONDS)), row_id, iso(now)])
    if not cur.rowcount:
        return None
    return next(iter(db.query("SELECT id, message_id, recipients, raw, attempts, template, "
                              "created_at FROM outbox WHERE id = ?", [row_id])))


def mark_sent(db, row_id: int, now: datetime) -> None:
    db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, "
               "attempts = attempts + 1 WHERE id = ?", [iso(now), row_id])


def mark_retry(db, row_id: int, attempts: int, error: str, now: datetime) -> None:
    delay = min(FIRST_RETRY_SECONDS * 2 ** attempts, MAX_RETRY_SECONDS)
    db.execute("UPDATE outbox SET attempts = ?, last_error = ?, claimed_until = NULL, "
               "next_attempt_at = ? WHERE id = ?",
               [attempts + 1, error[:500], iso(now + timedelta(seconds=delay)), row_id])


def mark_dead(db, row_id: int, error: str) -> None:
    db.execute("UPDATE outbox SET status = 'dead', last_error = ?, claimed_until = NULL, "
               "attempts = attempts + 1 WHERE id = ?", [error[:500], row_id])


def mark_bounced(db, row_id: int, detail: str) -> bool:
    cur = db.execute("UPDATE outbox SET status = 'bounced', last_error = ? WHERE id = ? "
                     "AND status IN ('sent', 'queued')", [detail[:500], row_id])
    return bool(cur.rowcount)
