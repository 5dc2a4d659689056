"""The outbox: mails queued with the change that caused them, claimed and sent later.

A row is claimed atomically (an UPDATE that succeeds for one process only) right before it is
sent, so two delivery loops never send one mail twice; a claim expires, so a mail claimed by a
process that died is sent by the next one. Failed attempts back off exponentially until the
retry period ends. The SQL is in ``store/outbox_rows.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..store import outbox_rows
from ..store.db import holder
from ..store.outbox_rows import (  # noqa: F401  (used as outbox.*)
    find_message, mark_bounced, mark_dead, mark_sent, thread,
)

CLAIM_SECONDS = 60
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
DUE_BATCH = 100


def enqueue(db, mail, now: datetime, answer_to: str | None = None,
            inbox_id: int | None = None) -> int:
    """Queues a composed mail (``compose.Outgoing``); ``answer_to`` and ``inbox_id`` mark it as
    the answer to an inbound mail, counted by ``outbound/budget.py``."""
    return outbox_rows.insert(db, mail, now, answer_to, inbox_id)


def recent(db, order_id: int, template: str, now: datetime, hours: int = 1) -> int:
    """How many mails of ``template`` were queued for this order in the last ``hours``."""
    return outbox_rows.count_since(db, order_id, template, now - timedelta(hours=hours))


def due(db, now: datetime) -> list[int]:
    """Ids of the rows due for a delivery attempt and not claimed by a live process."""
    return outbox_rows.due(db, now, DUE_BATCH)


def claim(db, row_id: int) -> dict | None:
    """Claims one row for this process right before sending it; None if another process has it.
    The claim outlives one SMTP exchange (smtplib's timeout is 30 s); a process that dies
    holding it only delays that mail until the claim expires (by the database's clock)."""
    return outbox_rows.claim(db, row_id, holder(), CLAIM_SECONDS)


def mark_retry(db, row_id: int, attempts: int, error: str, now: datetime) -> None:
    delay = min(FIRST_RETRY_SECONDS * 2 ** attempts, MAX_RETRY_SECONDS)
    outbox_rows.mark_retry(db, row_id, attempts + 1, error, now + timedelta(seconds=delay))
