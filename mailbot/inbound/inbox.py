"""The inbox table: raw messages stored before the SMTP 250, and the disposition each one ends in.

Storing is one INSERT in autocommit mode, on disk (synchronous=FULL) when it returns. A row whose
``processed_at`` is empty has not been processed yet; intake picks those up at start-up.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from ..store.records import iso


def store(db, raw: bytes, mail_from: str, rcpt_tos: list[str], now: datetime) -> int:
    cur = db.execute(
        "INSERT INTO inbox (received_at, mail_from, rcpt_tos, raw) VALUES (?, ?, ?, ?)",
        [iso(now), mail_from, json.dumps(rcpt_tos), raw])
    return cur.lastrowid


def load(db, inbox_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM inbox WHERE id = ?", [inbox_id]))
    if not rows:
        return None
    row = rows[0]
    row["rcpt_tos"] = json.loads(row["rcpt_tos"])
    return row


def pending(db) -> list[int]:
    return [r[0] for r in db.execute(
        "SELECT id FROM inbox WHERE processed_at IS NULL ORDER BY id").fetchall()]


def seen(db, dedupe_key: str, inbox_id: int) -> bool:
    return db.execute(
        "SELECT 1 FROM inbox WHERE dedupe_key = ? AND id != ? AND processed_at IS NOT NULL "
        "LIMIT 1", [dedupe_key, inbox_id]).fetchone() is not None


def recent_from(db, sender: str, now: datetime, hours: int = 1) -> int:
    """How many mails from ``sender`` were processed in the last ``hours`` (loop guard)."""
    return db.execute(
        "SELECT count(*) FROM inbox WHERE sender = ? AND received_at > ? "
        "AND processed_at IS NOT NULL", [sender, iso(now - timedelta(hours=hours))]).fetchone()[0]


def finish(db, inbox_id: int, disposition: str, now: datetime, *, order_id: int | None = None,
           dedupe_key: str | None = None, sender: str | None = None,
           detail: str | None = None) -> None:
    """Records the disposition; raises ``AlreadyProcessed`` (rolling back the caller's
    transaction) if another worker or process got there first, so no event applies twice."""
    cur = db.execute(
        "UPDATE inbox SET processed_at = ?, disposition = ?, order_id = ?, dedupe_key = ?, "
        "sender = ?, detail = ? WHERE id = ? AND processed_at IS NULL",
        [iso(now), disposition, order_id, dedupe_key, sender, detail, inbox_id])
    if not cur.rowcount:
        raise AlreadyProcessed(inbox_id)


class AlreadyProcessed(Exception):
    pass
