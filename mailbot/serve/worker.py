"""The intake worker: processes stored mail of its lanes, after the 250 was given.

``IntakeWorker`` is the loop, on a thread: it claims unprocessed rows with a lease
(``jobs.process_inbox``) rather than taking mail from the SMTP side, so mail left over by a
crash, or by a node that died, is found the same way as new mail. ``wake()`` (called when the
listener has stored a mail) cuts the idle wait short; idle, it looks once a second. A database
error never ends the thread: it is logged, the connection is reopened and the worker tries again
after a growing pause, since a listener that keeps answering 250 to mail nobody processes loses
it in all but name. ``main`` runs one in a worker process of ``serve`` (``pool``): it writes the
mail in hand to memory shared with the supervisor, which kills the process when that mail
overruns its lane's budget (a thread inside a regex or a C call cannot be stopped from within).
It never sends: after a batch it tells the supervisor, which wakes the jobs child's delivery at
once. One process of a node sends, one mail at a time, so a node killed between the relay's 250
and the outbox's commit doubles at most one mail (README, "More than one machine").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime

from ..inbound.lanes import LANES
from ..store.db import database_now
from . import child

log = logging.getLogger("mailbot.intake")

IDLE_SECONDS = 1.0  # a safety net only: new mail wakes the worker at once
RETRY_SECONDS = 60  # a mail whose processing failed waits this long before the next try
BACKOFF_SECONDS = (1, 60)  # after a database error: first pause, longest pause


class IntakeWorker(threading.Thread):
    def __init__(self, app, after_batch, idle_seconds: float = IDLE_SECONDS,
                 backoff: tuple[float, float] = BACKOFF_SECONDS, lanes=None, in_hand=None):
        super().__init__(name="intake", daemon=True)
        self.app, self.after_batch, self.idle_seconds = app, after_batch, idle_seconds
        self.backoff, self.lanes = backoff, lanes
        # (inbox id, lane number, monotonic start) of the mail in hand, 0 when none: shared
        # with the supervisor, which enforces the budget (CLOCK_MONOTONIC is one clock for
        # every process of the machine).
        self.in_hand = in_hand if in_hand is not None else [0.0, 0.0, 0.0]
        self._woken, self._stopping = threading.Event(), threading.Event()

    def _starting(self, inbox_id: int, lane: str | None) -> None:
        self.in_hand[0] = 0
        self.in_hand[1] = LANES.index(lane) if lane else 0
        self.in_hand[2] = time.monotonic()
        self.in_hand[0] = inbox_id

    def _now(self) -> datetime:
        # The database's clock, as every node of one database counts time (serve/schedule.py).
        return database_now(self.app.db())

    def wake(self, *_):
        self._woken.set()

    def run(self):
        # Imported here: the supervisor imports this module only to name main() to its
        # children, and intake (Jinja, the parsers) is the workers' alone.
        from .. import jobs

        failed: dict[int, float] = {}  # inbox id -> when to try again
        pause = 0.0
        while not self._stopping.is_set():
            self._woken.clear()
            try:
                now = time.monotonic()
                skip = {i for i, at in failed.items() if at > now}
                done, errors = jobs.process_inbox(self.app, self._now, skip, self._starting,
                                                  self.lanes)
                self.in_hand[0] = 0
                failed = {i: at for i, at in failed.items() if at > now}
                failed.update((i, now + RETRY_SECONDS) for i in errors)
                if done:
                    self.after_batch()
                pause = 0.0
            except Exception as exc:
                self.in_hand[0] = 0
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


def main(config, lanes, in_hand, wakes, stored) -> None:
    """A worker process of ``serve`` (``multiprocessing`` spawn target) for ``lanes``; ``wakes``
    is the read end of its wake pipe, closed when the supervisor is gone; ``stored`` the write
    end of the pipe on which it says that it stored answers (``Pool.wait``)."""
    app, stopping = child.begin(config)
    # Built before the first claim (the templates compile in about 2 s): that is no mail's
    # budget, and a worker replaced after a kill starts as fast as the first.
    app.renderer  # noqa: B018
    os.set_blocking(stored.fileno(), False)
    worker = IntakeWorker(app, lambda: _answers_stored(stored), lanes=lanes, in_hand=in_hand)
    child.listen(wakes, worker.wake, stopping, "wakes")
    worker.start()
    log.info("intake.started pid=%s lanes=%s", os.getpid(), ",".join(lanes or LANES))
    while not stopping.is_set() and worker.is_alive():
        stopping.wait(0.2)
    worker.stop(timeout=1)
    logging.shutdown()
    # Not a normal interpreter exit: a mail in hand is left to its lease (SPEC §8).
    os._exit(0 if stopping.is_set() else 3)


def _answers_stored(stored) -> None:
    try:
        os.write(stored.fileno(), b"\0")
    except BlockingIOError:
        pass  # the pipe is full: the supervisor has words enough to read, the jobs child runs
