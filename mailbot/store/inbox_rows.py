"""The SQL of the ``inbox`` and ``inbox_raw`` tables: messages as stored before the SMTP 250 (the
raw bytes in a table of their own, never rewritten by a status update), the leases of the workers
that process them, their attempts, and the disposition each one ends in. The rules around it
live in ``inbound/inbox.py``.
"""

from __future__ import annotations

import json
from datetime import datetime

from .db import lease_writes, transaction
from .records import iso


def store(db, raw: bytes, mail_from: str, rcpt_tos: list[str], now: datetime,
          lane: str = "party") -> int:
    with transaction(db):  # the row and its raw mail together (a savepoint inside a batch)
        inbox_id = db.execute(
            "INSERT INTO inbox (received_at, mail_from, rcpt_tos, raw, lane) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            [iso(now), mail_from, json.dumps(rcpt_tos), b"", lane]).fetchone()[0]
        db.write("INSERT INTO inbox_raw (inbox_id, raw) VALUES (?, ?)", [inbox_id, raw])
    return inbox_id


def load(db, inbox_id: int) -> dict | None:
    """The row with its raw mail, in one statement."""
    rows = list(db.query("SELECT i.*, r.raw AS raw_mail FROM inbox i "
                         "LEFT JOIN inbox_raw r ON r.inbox_id = i.id WHERE i.id = ?", [inbox_id]))
    if not rows:
        return None
    row = rows[0]
    row["rcpt_tos"] = json.loads(row["rcpt_tos"])
    mail = row.pop("raw_mail")
    row["raw"] = b"" if mail is None else bytes(mail)
    return row


def raw(db, inbox_id: int) -> bytes:
    found = db.execute("SELECT raw FROM inbox_raw WHERE inbox_id = ?", [inbox_id]).fetchone()
    return bytes(found[0]) if found else b""


def pending(db) -> list[int]:
    return [r[0] for r in db.execute(
        "SELECT id FROM inbox WHERE processed_at IS NULL ORDER BY id").fetchall()]


# The oldest unprocessed mail that nobody holds; SKIP LOCKED lets PostgreSQL's workers pass one
# another's rows (on SQLite the write lock of BEGIN IMMEDIATE does the same).
# With lanes, one lane at a time: the lane's index reads its unprocessed rows in id order.
def _claimable(db, skip, lane: str | None) -> str:
    return ("SELECT id FROM inbox WHERE processed_at IS NULL "
            f"{'AND lane = ? ' if lane else ''}"
            f"AND (claimed_until IS NULL OR claimed_until <= {db.clock()}) "
            f"{'AND id NOT IN (%s) ' % ','.join('?' * len(skip)) if skip else ''}"
            "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED")


def _first(db, skip, lane: str | None):
    return db.execute(_claimable(db, skip, lane), ([lane] if lane else []) + list(skip)).fetchone()


def _take(db, owner: str, skip, lane: str | None, seconds: float) -> int | None:
    # The choice and the lease in one statement (one round trip, atomic without a transaction).
    rows = db.execute(
        f"UPDATE inbox SET claimed_by = ?, claimed_until = {db.clock(seconds)} "
        f"WHERE id = ({_claimable(db, skip, lane)}) RETURNING id",
        [owner] + ([lane] if lane else []) + list(skip)).fetchall()
    return rows[0][0] if rows else None


def claim(db, owner: str, seconds: float, skip=(), lane: str | None = None) -> int | None:
    """Leases the oldest unprocessed mail (of ``lane``, if given) nobody holds to ``owner``
    until ``seconds`` from now by the database's clock; its id, or None when there is none."""
    claimed = claim_first(db, owner, [(lane, seconds)], skip)
    return claimed and claimed[0]


def claim_first(db, owner: str, leases, skip=()) -> tuple[int, str | None] | None:
    """Leases to ``owner`` the oldest mail nobody holds of the first lane of ``leases`` that has
    one, for that lane's seconds (``leases``: (lane or None for any, seconds) in the worker's
    order of preference); (its id, its lane), or None. Each lane's lease is one statement; on
    SQLite they share one transaction (``lease_writes``), so that a worker whose own lanes are
    idle takes the next lane's mail without a write lock per lane; on PostgreSQL each is one
    round trip. On SQLite the lanes are first read without the lock (a WAL reader never waits):
    every worker looks each time a mail is stored, all but one find nothing, and SQLite has one
    write lock for all the processes of the database, whose waiters sleep up to 100 ms each
    time they find it taken."""
    if db.dialect == "sqlite" and not db.in_transaction and not any(
            _first(db, skip, lane) for lane, _ in leases):
        return None
    with lease_writes(db):
        for lane, seconds in leases:
            taken = _take(db, owner, skip, lane, seconds)
            if taken is not None:
                return taken, lane
    return None


def release(db, inbox_id: int, owner: str) -> None:
    """Gives back ``owner``'s lease of a mail whose try failed: the try is counted, and the
    next one is up to the worker's pause (or any other worker's)."""
    db.execute("UPDATE inbox SET claimed_by = NULL, claimed_until = NULL "
               "WHERE id = ? AND claimed_by = ?", [inbox_id, owner])


def seen(db, dedupe_key: str, inbox_id: int) -> bool:
    """Another copy of this mail was processed; a copy set aside as a duplicate does not count,
    so that the first copy, replayed (``inbox replay``), is processed again."""
    return db.execute(
        "SELECT 1 FROM inbox WHERE dedupe_key = ? AND id != ? AND processed_at IS NOT NULL "
        "AND disposition != 'duplicate' LIMIT 1", [dedupe_key, inbox_id]).fetchone() is not None


def count_attempt(db, inbox_id: int, now: datetime) -> int | None:
    """Adds one to the row's attempts (autocommit); the new count, None if already processed.
    The count must outlive a crashed or killed process, not a power cut (then the mail is tried
    once more): it is written without waiting for the disk (WAL, synchronous=NORMAL), which
    saves one sync per mail; the next FULL commit syncs it along."""
    # RETURNING: the new count in the same round trip; no row when it was processed already
    # (fetchall: the statement runs to its end, so SQLite's autocommit ends with it).
    count = ("UPDATE inbox SET attempts = attempts + 1, started_at = ? "
             "WHERE id = ? AND processed_at IS NULL RETURNING attempts", [iso(now), inbox_id])
    if db.in_transaction:  # an operator's replay: commits with the whole change
        rows = db.execute(*count).fetchall()
    else:
        db.execute("PRAGMA synchronous = NORMAL")
        try:
            rows = db.execute(*count).fetchall()
        finally:
            db.execute("PRAGMA synchronous = FULL")  # store.db.connect's setting (SPEC §8)
    return rows[0][0] if rows else None


def record_failure(db, inbox_id: int, error: str, counted: bool = True) -> None:
    db.execute("UPDATE inbox SET last_error = ?, started_at = NULL, "
               "attempts = attempts - ? WHERE id = ?", [error[:500], 0 if counted else 1, inbox_id])



def set_processed(db, inbox_id: int, disposition: str, now: datetime, order_id, dedupe_key,
                  sender, detail) -> bool:
    """False if the row was processed already (by another worker or process)."""
    cur = db.execute(
        "UPDATE inbox SET processed_at = ?, disposition = ?, order_id = ?, dedupe_key = ?, "
        "sender = ?, detail = ?, started_at = NULL, claimed_until = NULL WHERE id = ? "
        "AND processed_at IS NULL",
        [iso(now), str(disposition), order_id, dedupe_key, sender, detail, inbox_id])
    return bool(cur.rowcount)


def stored_bytes(db, order_id: int, dispositions: tuple[str, ...]) -> int:
    """The bytes of the mails with these dispositions kept for one order."""
    marks = ",".join("?" * len(dispositions))
    return db.execute(
        "SELECT coalesce(sum(length(r.raw)), 0) FROM inbox i JOIN inbox_raw r "
        f"ON r.inbox_id = i.id WHERE i.order_id = ? AND i.disposition IN ({marks})",
        [order_id, *dispositions]).fetchone()[0]


def replace_raw(db, inbox_id: int, raw: bytes) -> None:
    db.execute("UPDATE inbox_raw SET raw = ? WHERE inbox_id = ?", [raw, inbox_id])
