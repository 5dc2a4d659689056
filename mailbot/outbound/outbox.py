"""The outbox: mails queued with the change that caused them, claimed and sent later.

A row is claimed atomically (an UPDATE that succeeds for one process only) right before it is
sent, so two delivery loops never send one mail twice; a claim expires, so a mail claimed by a
process that died is sent by the next one. Failed attempts back off exponentially until the
retry period ends. Each recipient has its own fate (``Attempt``): one the relay refuses for now is
tried again later, alone, with the same Message-ID, and never resent to one who took the mail;
one refused for good is dead alone. The SQL is in ``store/outbox_rows.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..store import outbox_rows
from ..store.db import holder
from ..store.outbox_rows import (  # noqa: F401  (used as outbox.*)
    find_message, mark_bounced, mark_dead, mark_sent, record_recipients, thread,
)
from .transport import TemporaryError

CLAIM_SECONDS = 60
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
DUE_BATCH = 100


def enqueue(db, mail, now: datetime, answer_to: str | None = None,
            inbox_id: int | None = None) -> None:
    """Queues a composed mail (``compose.Outgoing``); ``answer_to`` and ``inbox_id`` mark it as
    the answer to an inbound mail, counted by ``outbound/budget.py``."""
    outbox_rows.insert(db, mail, now, answer_to, inbox_id)


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


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt of a claimed row came to, by recipient index: ``taken`` by the
    relay, refused for now and tried ``later``, or ``dead`` (refused for good, or for now once
    the retry period is over); ``before`` is what became of the others in earlier attempts."""

    taken: tuple[int, ...]
    later: dict[int, str]
    dead: dict[int, str]
    before: dict[int, str]

    @classmethod
    def of(cls, row: dict, results: dict[int, Exception | None], give_up: bool) -> "Attempt":
        """``results`` as ``Transport.send_verp`` gives them; ``give_up``: the retry period
        is over, so a refusal for now is final too."""
        taken = tuple(i for i, error in results.items() if error is None)
        later = {i: str(e) for i, e in results.items() if isinstance(e, TemporaryError)}
        dead = {i: str(e) for i, e in results.items() if e is not None and i not in later}
        if give_up:
            dead.update({i: f"gave up retrying: {e}" for i, e in later.items()})
            later = {}
        return cls(taken, later, dead, dict(row["done"]))

    @property
    def ever_taken(self) -> bool:
        return bool(self.taken) or "sent" in self.before.values()

    @property
    def alike(self) -> bool:
        """Every recipient fared alike, at once: the row's own state says it all."""
        return not self.before and not self.later and not (self.taken and self.dead)

    def statuses(self) -> dict[int, str]:
        return {**{i: "sent" for i in self.taken}, **{i: "dead" for i in self.dead}}


def reasons(errors: dict[int, str]) -> str:
    """The distinct errors of some recipients, in one line (an unreachable relay is one)."""
    return "; ".join(dict.fromkeys(errors.values()))
