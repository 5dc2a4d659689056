"""The operators' view of the outbox and the inbox: listing, reading one row, re-queueing.

``mailbot outbox`` and ``mailbot inbox`` read through here. A mail in the outbox is in one of the
states ``queued`` (not tried yet), ``retry`` (queued after failed attempts), ``held`` (kept back
by an operator), ``sent``, ``dead`` (given up) or ``bounced`` (a bounce named it); only dead and
bounced mail can be re-queued, and the retry period starts again from the re-queueing. Queue
control follows Postfix: ``flush`` makes every backed-off mail due now (``postqueue -f``),
``hold``/``release``/``delete`` act on one mail (``postsuper -h``/``-H``/``-d``). Listings
return one page and the number of rows in all.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from . import bounce_rows, inbox_rows, outbox_rows
from .records import iso

OUTBOX_STATES = ("queued", "retry", "sending", "held", "sent", "dead", "bounced")
# `held`: mail kept until the registered party confirms it (the sender did not match).
HELD = ("held", "sender_mismatch")
LIMIT = 200

_OUTBOX_STATE = ("CASE WHEN o.status = 'queued' AND o.attempts > 0 THEN 'retry' "
                 "ELSE o.status END")


def last_outbox_id(db) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]


def queued_after(db, outbox_id: int) -> list[dict]:
    """The mails queued after ``outbox_id``, oldest first: what a command just sent."""
    rows = list(db.query("SELECT id, role, template, recipients FROM outbox WHERE id > ? "
                         "ORDER BY id", [outbox_id]))
    for row in rows:
        row["recipients"] = json.loads(row["recipients"])
    return rows


def setting(db, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


# A recipient a delivery report failed (RFC 3464 ``Action: failed``) while the mail stays `sent`
# for the others; failures of addresses the row no longer holds (resent elsewhere) are over.
def _has_failed(db) -> str:
    return (f"EXISTS (SELECT 1 FROM bounces b, {db.items('o.recipients')} j WHERE b.outbox_id "
            "= o.id AND b.action = 'failed' AND lower(b.recipient) = lower(j.value))")


def _outbox_where(db, state: str | None) -> tuple[str, list]:
    if state is None:
        return f"(o.status != 'sent' OR {_has_failed(db)})", []
    if state == "bounced":
        return f"(o.status = 'bounced' OR {_has_failed(db)})", []
    return f"{_OUTBOX_STATE} = ?", [state]


def outbox_count(db, state: str | None = None) -> int:
    """How many mails ``outbox(db, state)`` lists without its limit."""
    where, params = _outbox_where(db, state)
    return db.execute(f"SELECT count(*) FROM outbox o WHERE {where}", params).fetchone()[0]


def outbox(db, state: str | None = None, limit: int = LIMIT) -> list[dict]:
    """Newest first; without ``state`` every mail that is not sent. A sent mail with a failed
    recipient is listed too, also under ``bounced``; each row's ``failed`` names its failed
    recipients (``{address, status, diagnostic}``)."""
    where, params = _outbox_where(db, state)
    rows = list(db.query(
        f"SELECT o.id, {_OUTBOX_STATE} AS state, o.recipients, r.shop_id, r.order_number, "
        "o.template, o.attempts, o.last_error, o.created_at, o.next_attempt_at, o.sent_at "
        f"FROM outbox o LEFT JOIN orders r ON r.id = o.order_id WHERE {where} "
        "ORDER BY o.id DESC LIMIT ?", params + [limit]))
    failed = bounce_rows.failures(db, [row["id"] for row in rows])
    for row in rows:
        row["recipients"] = json.loads(row["recipients"])
        current = {a.lower() for a in row["recipients"]}
        row["failed"] = [f for f in failed.get(row["id"], []) if f["address"] in current]
    return rows


def outbox_mail(db, outbox_id: int) -> dict | None:
    rows = list(db.query("SELECT id, status, order_id, role, recipients FROM outbox "
                         "WHERE id = ?", [outbox_id]))
    if not rows:
        return None
    rows[0]["recipients"] = json.loads(rows[0]["recipients"])
    return rows[0]


def resend(db, outbox_id: int, now: datetime, recipients: list[str] | None = None) -> bool:
    """Re-queues a dead or bounced mail, to ``recipients`` if given (the party's address was
    fixed since: envelope and ``To`` change, nothing else); False if it is in another state."""
    if recipients is not None:
        raw = db.execute("SELECT raw FROM outbox WHERE id = ?", [outbox_id]).fetchone()[0]
        db.execute("UPDATE outbox SET recipients = ?, raw = ? WHERE id = ? "
                   "AND status IN ('dead', 'bounced')",
                   [json.dumps(recipients), readdressed(raw, recipients), outbox_id])
    queued = bool(db.execute(
        "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = NULL, due_at = '', "
        "claimed_until = NULL, created_at = ? WHERE id = ? AND status IN ('dead', 'bounced')",
        [iso(now), outbox_id]).rowcount)
    if queued:  # to every recipient again
        outbox_rows.forget_recipients(db, outbox_id)
    return queued


_TO = re.compile(rb"^To:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", re.I | re.M)


def readdressed(raw: bytes, recipients: list[str]) -> bytes:
    """``raw`` with its ``To`` header naming ``recipients`` (ASCII addresses, ``addresses``)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    value = b"To: " + ", ".join(recipients).encode("ascii")
    return _TO.sub(lambda _: value, head, count=1) + sep + body


def _inbox_where(dispositions: tuple[str, ...] | None) -> tuple[str, list]:
    if dispositions:
        return (f"coalesce(i.disposition, 'pending') IN ({','.join('?' * len(dispositions))})",
                list(dispositions))
    return ("coalesce(i.disposition, 'pending') NOT IN ('applied', 'duplicate', "
            "'order_taken')"), []


def inbox_count(db, dispositions: tuple[str, ...] | None = None) -> int:
    """How many mails ``inbox(db, dispositions)`` lists without its limit."""
    where, params = _inbox_where(dispositions)
    return db.execute(f"SELECT count(*) FROM inbox i WHERE {where}", params).fetchone()[0]


def inbox(db, dispositions: tuple[str, ...] | None = None, limit: int = LIMIT) -> list[dict]:
    """Newest first; without ``dispositions`` every mail not applied (nor a duplicate of one, nor
    a shop's confirmation taken by orders by mail), unprocessed mail included (``pending``)."""
    where, params = _inbox_where(dispositions)
    rows = list(db.query(
        "SELECT i.id, i.received_at, i.mail_from, i.rcpt_tos, coalesce(i.disposition, "
        "'pending') AS disposition, i.sender, i.detail, r.shop_id, r.order_number, "
        "(SELECT length(x.raw) FROM inbox_raw x WHERE x.inbox_id = i.id) AS size "
        "FROM inbox i LEFT JOIN orders r ON r.id = i.order_id "
        f"WHERE {where} ORDER BY i.id DESC LIMIT ?", params + [limit]))
    for row in rows:
        row["rcpt_tos"] = json.loads(row["rcpt_tos"])
    return rows


def inbox_mail(db, inbox_id: int) -> dict | None:
    """One stored mail with its raw bytes."""
    rows = list(db.query(
        "SELECT i.id, i.received_at, i.mail_from, i.rcpt_tos, coalesce(i.disposition, "
        "'pending') AS disposition, i.sender, i.detail, r.shop_id, r.order_number "
        "FROM inbox i LEFT JOIN orders r ON r.id = i.order_id WHERE i.id = ?", [inbox_id]))
    if not rows:
        return None
    rows[0]["rcpt_tos"] = json.loads(rows[0]["rcpt_tos"])
    rows[0]["raw"] = inbox_rows.raw(db, inbox_id)
    return rows[0]


# --- queue control (postqueue -f / postsuper -h, -H, -d) ----------------------------------------

def flush(db) -> int:
    """Every queued mail waiting out a back-off is due now; returns how many were waiting."""
    return db.execute("UPDATE outbox SET next_attempt_at = NULL, due_at = '' "
                      "WHERE status = 'queued' AND next_attempt_at IS NOT NULL").rowcount


def hold(db, outbox_id: int, now: datetime) -> bool:
    """A queued mail (not being sent right now) is kept back until ``release``."""
    return bool(db.execute(
        "UPDATE outbox SET status = 'held', due_at = NULL WHERE id = ? AND status = 'queued' "
        f"AND (claimed_until IS NULL OR claimed_until <= {db.clock()})", [outbox_id]).rowcount)


def release(db, outbox_id: int) -> bool:
    """A held mail is queued again and due at once."""
    return bool(db.execute(
        "UPDATE outbox SET status = 'queued', next_attempt_at = NULL, due_at = '' WHERE id = ? "
        "AND status = 'held'", [outbox_id]).rowcount)


def delete(db, outbox_id: int, now: datetime) -> bool:
    """A mail that was not sent (queued, held, dead or bounced) and is not being sent is
    deleted, with its delivery reports."""
    deleted = db.execute(
        "DELETE FROM outbox WHERE id = ? AND status IN ('queued', 'held', 'dead', 'bounced') "
        f"AND (claimed_until IS NULL OR claimed_until <= {db.clock()})", [outbox_id]).rowcount
    if deleted:
        db.execute("DELETE FROM bounces WHERE outbox_id = ?", [outbox_id])
        outbox_rows.forget_recipients(db, outbox_id)
    return bool(deleted)
