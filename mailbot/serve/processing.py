"""The jobs child of ``serve``: timers, delivery and the digest (intake has worker processes of
its own, ``pool``). Its delivery thread is the one sender of the node: a byte on the
supervisor's pipe (a worker has stored answers) wakes it at once.

It runs at a lower CPU priority in a process of its own, so rendering mail never slows the
listener's 250s down. It stops on SIGTERM (from the supervisor, or from systemd signalling the
whole group), when the supervisor's pipe closes (the supervisor is gone), or with exit code 3
when one of its threads died, so that the supervisor starts a fresh one. It never waits for a
job without a limit: whatever a killed run left undone is in the database and is done again
(outbox rows and timers are claimed with a lease, SPEC §8).
"""

from __future__ import annotations

import logging
import os
import time

from . import child, pidfile

log = logging.getLogger("mailbot.processing")

STOP_SECONDS = 3  # for a run in progress to finish before the process exits anyway
THREAD_DIED = 3


def main(config, pipe) -> None:
    """The child's entry point (``multiprocessing`` spawn target); ``pipe`` is the read end of
    a pipe the supervisor holds open while it lives."""
    from .schedule import Schedule  # here: apscheduler is this child's alone, not the supervisor's

    app, stopping = child.begin(config)
    schedule = Schedule(app)
    child.listen(pipe, schedule.wake_delivery, stopping, "supervisor")
    schedule.start()
    log.info("processing.started pid=%s", os.getpid())
    code, beat_at = 0, 0.0
    while not stopping.wait(0.2):
        if not schedule.alive():
            log.error("processing.thread_died")
            code = THREAD_DIED
            break
        if time.monotonic() >= beat_at:
            pidfile.beat(config)
            beat_at = time.monotonic() + pidfile.HEARTBEAT_SECONDS
    schedule.stop(timeout=STOP_SECONDS)
    logging.shutdown()
    # Not a normal interpreter exit: that would wait without limit for a job still running
    # (a relay that does not answer, SQLite's busy wait); its work is redone after a restart.
    os._exit(code)
