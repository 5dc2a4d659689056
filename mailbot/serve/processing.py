"""The processing child of ``serve``: intake of stored mail, timers, delivery and the digest.

It runs at a lower CPU priority in a process of its own, so rendering mail never slows the
listener's 250s down. It stops on SIGTERM (from the supervisor, or from systemd signalling the
whole group), when the supervisor's wake pipe closes (the supervisor is gone), or with exit code
3 when one of its threads died and 4 when a mail overran its processing budget, so that the
supervisor starts a fresh one. It never waits for a
job without a limit: whatever a killed run left undone is in the database and is done again
(outbox rows are claimed, intake skips processed mail, SPEC §8).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from .. import logs, wiring
from . import pidfile
from .worker import BUDGET_SECONDS, IntakeWorker
from .schedule import Schedule

log = logging.getLogger("mailbot.processing")

STOP_SECONDS = 3  # for a run in progress to finish before the process exits anyway
THREAD_DIED = 3
MAIL_OVERRAN = 4


def main(config, wakes) -> None:
    """The child's entry point (``multiprocessing`` spawn target); ``wakes`` is the read end of
    the supervisor's wake pipe."""
    stopping = threading.Event()
    # Only a flag is set in the handler: no lock is taken that the interrupted code may hold.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides, and sends SIGTERM
    logs.setup(config)
    os.nice(10)  # accepting mail goes first
    app = wiring.build(config)
    schedule = Schedule(app)
    worker = IntakeWorker(app, schedule.wake_delivery)
    threading.Thread(target=_relay_wakes, args=(wakes.fileno(), worker, stopping), name="wakes",
                     daemon=True).start()
    schedule.start()
    worker.start()
    log.info("processing.started pid=%s", os.getpid())
    code, beat_at = 0, 0.0
    while not stopping.is_set():
        if not (worker.is_alive() and schedule.alive()):
            log.error("processing.thread_died intake=%s jobs=%s", worker.is_alive(),
                      schedule.alive())
            code = THREAD_DIED
            break
        if (overrun := worker.overrun()) is not None:
            # The try was counted before it began: the restarted child quarantines the mail
            # once it has overrun twice, and goes on with the rest.
            log.error("processing.mail_overran inbox_id=%s seconds=%.0f", overrun[0],
                      overrun[1] + BUDGET_SECONDS)
            code = MAIL_OVERRAN
            break
        if time.monotonic() >= beat_at:
            pidfile.beat(config)
            beat_at = time.monotonic() + pidfile.HEARTBEAT_SECONDS
        time.sleep(0.2)
    worker.stop(timeout=STOP_SECONDS / 2)
    schedule.stop(timeout=STOP_SECONDS / 2)
    logging.shutdown()
    # Not a normal interpreter exit: that would wait without limit for a job still running
    # (a relay that does not answer, SQLite's busy wait); its work is redone after a restart.
    os._exit(code)


def _relay_wakes(fd: int, worker: IntakeWorker, stopping: threading.Event) -> None:
    """Each byte the listener writes after storing a mail wakes the worker; end of file means
    the supervisor is gone, so this process stops too."""
    while True:
        try:
            data = os.read(fd, 4096)
        except InterruptedError:
            continue
        if not data:
            stopping.set()
            return
        worker.wake()
