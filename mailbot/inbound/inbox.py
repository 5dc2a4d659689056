"""The inbox: raw messages stored before the SMTP 250, and the rule that each one is processed
once, ends in one recorded disposition, and is given up on after ``MAX_ATTEMPTS`` tries.

Storing is one INSERT in autocommit mode, on disk (synchronous=FULL) when it returns. A row whose
``processed_at`` is empty has not been processed yet; intake picks those up at start-up. Each try
is counted *before* it starts, so a mail that kills or hangs the worker is counted as well and a
restart does not loop on it (Mailman's runner gives up on a message the same way). The SQL is in
``store/inbox_rows.py``.
"""

from __future__ import annotations

import re
from datetime import datetime

from ..core.effects import Result
from ..store import inbox_rows
from ..store.inbox_rows import load, pending, seen, store  # noqa: F401  (used as inbox.*)

MAX_ATTEMPTS = 2  # a mail that failed (or never finished) twice is quarantined


class AlreadyProcessed(Exception):
    pass


def begin(db, inbox_id: int, now: datetime) -> int:
    """Counts one more try of this mail (committed at once); returns the tries so far.
    Raises ``AlreadyProcessed`` when there is nothing left to do."""
    attempts = inbox_rows.count_attempt(db, inbox_id, now)
    if attempts is None:
        raise AlreadyProcessed(inbox_id)
    return attempts


def failed(db, inbox_id: int, error: str, counted: bool = True) -> None:
    """Records why a try failed; ``counted=False`` gives the try back (the fault was ours, e.g.
    the database was locked, not the mail's)."""
    inbox_rows.record_failure(db, inbox_id, error, counted)


def finish(db, inbox_id: int, disposition: str, now: datetime, *, order_id: int | None = None,
           dedupe_key: str | None = None, sender: str | None = None,
           detail: str | None = None) -> None:
    """Records the disposition; raises ``AlreadyProcessed`` (rolling back the caller's
    transaction) if another worker or process got there first, so no event applies twice."""
    if not inbox_rows.set_processed(db, inbox_id, disposition, now, order_id, dedupe_key,
                                    sender, detail):
        raise AlreadyProcessed(inbox_id)


def stored_bytes(db, order_id: int) -> int:
    """What a party's mail on one order takes: the mails that passed the checks and became an
    event (a forger's mail never uses up the party's quota)."""
    return inbox_rows.stored_bytes(db, order_id, tuple(r.value for r in Result))


_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


def drop_body(db, inbox_id: int) -> None:
    """Keeps a mail's headers only (who wrote what, when: shown to operators), not its body."""
    raw = inbox_rows.load(db, inbox_id)["raw"]
    found = _END_OF_HEADERS.search(raw)
    head = raw[:found.start() if found else len(raw)][:64 * 1024]
    inbox_rows.replace_raw(db, inbox_id, head + b"\r\n\r\n")
