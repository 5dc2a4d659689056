"""The SQL of delivery reports: the ``bounces`` table and the outbox rows a report is about.

The rules (which report counts, what a failure marks) live in ``inbound/bounces.py``; the
socketmap's existence checks (``mailbot postfix-map``) read through here too.
"""

from __future__ import annotations

import json
from datetime import datetime

from .records import iso


def outbox_by_message_id(db, message_id: str) -> tuple[int, list[str]] | None:
    row = db.execute("SELECT id, recipients FROM outbox WHERE message_id = ?",
                     [message_id]).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def outbox_recipients(db, outbox_id: int) -> list[str]:
    row = db.execute("SELECT recipients FROM outbox WHERE id = ?", [outbox_id]).fetchone()
    return json.loads(row[0]) if row else []


def outbox_order_and_template(db, outbox_id: int) -> tuple[int | None, str]:
    return tuple(db.execute("SELECT order_id, template FROM outbox WHERE id = ?",
                            [outbox_id]).fetchone())


def insert(db, report, inbox_id: int | None, now: datetime) -> None:
    db.execute(
        "INSERT INTO bounces (outbox_id, recipient, action, status, diagnostic, inbox_id, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [report.outbox_id, report.recipient, report.action, report.status, report.diagnostic,
         inbox_id, iso(now)])


def failed_recipients(db, outbox_id: int) -> set[str]:
    return {r[0].lower() for r in db.execute(
        "SELECT recipient FROM bounces WHERE outbox_id = ? AND action = 'failed'",
        [outbox_id]).fetchall()}


def failures(db, outbox_ids: list[int]) -> dict[int, list[dict]]:
    """Failed recipients per outbox row (rows without one are left out): ``{id: [{address,
    status, diagnostic}]}``, one entry per address with its latest report."""
    out: dict[int, dict[str, dict]] = {}
    if not outbox_ids:
        return {}  # and PostgreSQL refuses an empty IN ()
    for outbox_id, address, status, diagnostic in db.execute(
            "SELECT outbox_id, lower(recipient), status, diagnostic FROM bounces WHERE action = "
            f"'failed' AND outbox_id IN ({','.join('?' * len(outbox_ids))}) ORDER BY id",
            outbox_ids).fetchall():
        out.setdefault(outbox_id, {})[address] = {
            "address": address, "status": status, "diagnostic": diagnostic}
    return {k: list(v.values()) for k, v in out.items()}


def mark_bounced(db, outbox_id: int, error: str) -> None:
    db.execute("UPDATE outbox SET status = 'bounced', last_error = ?, due_at = NULL WHERE id = ? "
               "AND status IN ('sent', 'queued', 'sending')", [error[:500], outbox_id])


def readable(db) -> None:
    """Raises ``sqlite3.Error`` unless the database can be read at all."""
    db.execute("SELECT 1 FROM settings LIMIT 1").fetchone()


def exists(db, table: str, row_id: int) -> bool:
    if table not in ("orders", "outbox"):
        raise ValueError(table)
    return db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [row_id]).fetchone() is not None
