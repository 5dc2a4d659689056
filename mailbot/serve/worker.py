"""The intake worker: a thread that processes stored mail in arrival order, after the 250 was given.

It claims unprocessed rows with a lease (``jobs.process_inbox``) rather than taking mail from the
SMTP side, so mail left over by a crash, or by a node that died, is found the same way as new
mail. ``wake()`` (called when the listener has
stored a mail) cuts the idle wait short; idle, it looks once a second. A database error never
ends the thread: it is logged, the connection is reopened and the worker tries again after a
growing pause, since a listener that keeps answering 250 to mail nobody processes loses it in
all but name. ``overrun()`` tells how long the mail in hand has taken beyond the processing
budget; the processing child ends itself when it is over (a Python thread cannot be stopped),
and since every try is counted before it starts, a mail that overran twice is quarantined at
its third start (``intake.process``).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from .. import jobs
from ..store.db import database_now

log = logging.getLogger("mailbot.intake")

IDLE_SECONDS = 1.0  # a safety net only: new mail wakes the worker at once
RETRY_SECONDS = 60  # a mail whose processing failed waits this long before the next try
BACKOFF_SECONDS = (1, 60)  # after a database error: first pause, longest pause
# One mail's processing budget. Every mail up to max_message_size takes about a second here
# (bench/poison.py); a mail still in hand after this long hangs, it is not slow.
BUDGET_SECONDS = 60


class IntakeWorker(threading.Thread):
    def __init__(self, app, after_batch, idle_seconds: float = IDLE_SECONDS,
                 backoff: tuple[float, float] = BACKOFF_SECONDS):
        super().__init__(name="intake", daemon=True)
        self.app, self.after_batch, self.idle_seconds = app, after_batch, idle_seconds
        self.backoff = backoff
        self._woken, self._stopping = threading.Event(), threading.Event()
        self._in_hand: tuple[int, float] | None = None  # (inbox id, monotonic start)

    def _starting(self, inbox_id: int) -> None:
        self._in_hand = (inbox_id, time.monotonic())

    def overrun(self, budget: float = BUDGET_SECONDS) -> tuple[int, float] | None:
        """(inbox id, seconds past the budget) of the mail in hand, or None."""
        in_hand = self._in_hand
        if in_hand is None:
            return None
        over = time.monotonic() - in_hand[1] - budget
        return (in_hand[0], over) if over > 0 else None

    def _now(self) -> datetime:
        # The database's clock, as every node of one database counts time (serve/schedule.py).
        return database_now(self.app.db())

    def wake(self, *_):
        self._woken.set()

    def run(self):
        failed: dict[int, float] = {}  # inbox id -> when to try again
        pause = 0.0
        while not self._stopping.is_set():
            self._woken.clear()
            try:
                now = time.monotonic()
                skip = {i for i, at in failed.items() if at > now}
                done, errors = jobs.process_inbox(self.app, self._now, skip, self._starting)
                self._in_hand = None
                failed = {i: at for i, at in failed.items() if at > now}
                failed.update((i, now + RETRY_SECONDS) for i in errors)
                if done:
                    self.after_batch()
                pause = 0.0
            except Exception as exc:
                self._in_hand = None
                pause = min(max(pause * 2, self.backoff[0]), self.backoff[1])
                log.error("intake.error retry_in=%ss error=%r", pause, exc, exc_info=True)
                self.app.close()  # the next round opens a fresh connection
                self._woken.wait(pause)
                continue
            if not done:
                self._woken.wait(self.idle_seconds)

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        self._woken.set()
        self.join(timeout=timeout)
