"""``mailbot serve``: the SMTP listener in one process, intake and the scheduled jobs in another.

The listener only stores mail and answers; a second process (spawned, lower CPU priority)
processes what was stored and runs the jobs, so rendering mail never slows the 250s down and
each side has a core and an interpreter lock of its own. APScheduler only says when jobs run
(timers every minute, delivery every few seconds, the digest daily at ``operators.digest_time``);
what they do lives in ``jobs``. Timers are rows in the database, so no job store is needed and a
restart catches up on whatever fell due.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from . import digest, jobs, wiring
from .inbound.smtp import listener

log = logging.getLogger("mailbot")

DELIVERY_SECONDS = 2
TICK_SECONDS = 60
STOP_SECONDS = 10
POLL_SECONDS = 0.02
RETRY_SECONDS = 60  # a mail whose processing failed waits this long before the next try


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class IntakeWorker(threading.Thread):
    """Processes stored mail in arrival order, after the 250 was given.

    It polls the inbox's index of unprocessed rows rather than listening to the SMTP side, so the
    listener spends nothing on hand-over and mail left over by a crash is found the same way as
    new mail. ``wake()`` cuts the wait short where both sides share a process.
    """

    def __init__(self, app, after_batch, poll_seconds: float = POLL_SECONDS):
        super().__init__(name="intake", daemon=True)
        self.app, self.after_batch, self.poll_seconds = app, after_batch, poll_seconds
        self._woken, self._stopping = threading.Event(), threading.Event()

    def wake(self, *_):
        self._woken.set()

    def run(self):
        failed: dict[int, float] = {}  # inbox id -> when to try again
        while not self._stopping.is_set():
            self._woken.clear()
            now = time.monotonic()
            skip = {i for i, at in failed.items() if at > now}
            done, errors = jobs.process_inbox(self.app, utcnow, skip)
            failed.update((i, now + RETRY_SECONDS) for i in errors)
            if done:
                self.after_batch()
            else:
                self._woken.wait(self.poll_seconds)

    def stop(self):
        self._stopping.set()
        self._woken.set()
        self.join(timeout=STOP_SECONDS)


def _process_main(config, stop) -> None:
    """The processing side: intake of stored mail, timers, delivery, digest."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the listener decides when to stop
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    os.nice(10)  # accepting mail goes first
    app = wiring.build(config)
    scheduler = BackgroundScheduler(timezone=app.tz)
    safe = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(lambda: jobs.deliver(app, utcnow()), "interval", seconds=DELIVERY_SECONDS,
                      id="deliver", **safe)
    scheduler.add_job(lambda: jobs.tick(app, utcnow()), "interval", seconds=TICK_SECONDS,
                      id="tick", next_run_time=utcnow(), **safe)
    hour, minute = app.config.operators.digest_time.split(":")
    scheduler.add_job(lambda: digest.send(app, utcnow()), "cron", hour=int(hour),
                      minute=int(minute), id="digest", **safe)
    # Mail stored but not processed before a crash is found like new mail (SPEC §8).
    worker = IntakeWorker(app, lambda: scheduler.modify_job("deliver", next_run_time=utcnow()))
    scheduler.start()
    worker.start()
    listener_pid = os.getppid()
    while not stop.wait(1):
        if os.getppid() != listener_pid:
            break  # the listener died without telling us: stop too, it will start a new one
    worker.stop()
    scheduler.shutdown(wait=True)


def serve(app) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    spawn = multiprocessing.get_context("spawn")
    stopping = spawn.Event()

    def start_processing():
        child = spawn.Process(target=_process_main, args=(app.config, stopping),
                              name="mailbot-process", daemon=True)
        child.start()
        return child

    processing = start_processing()
    smtp = listener(app)
    smtp.start()
    log.info("serve.started smtp=%s:%s", app.config.smtp.host, app.config.smtp.port)
    try:
        while not stop.wait(0.5):
            if not processing.is_alive():
                # Nothing is lost (the mail is stored); the new process picks up what is left.
                log.error("serve.processing_died exitcode=%s", processing.exitcode)
                processing = start_processing()
    finally:
        smtp.stop()
        stopping.set()
        processing.join(timeout=STOP_SECONDS)
        if processing.is_alive():
            processing.terminate()
        log.info("serve.stopped")
