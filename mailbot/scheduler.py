"""``mailbot serve``: the SMTP listener, the intake worker and the scheduled jobs, until a signal.

APScheduler only says when jobs run (timers every minute, delivery every few seconds, the digest
daily at ``operators.digest_time``); what they do lives in ``jobs``. Timers are rows in the
database, so the scheduler needs no job store and a restart catches up on whatever fell due.
"""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from . import digest, jobs
from .inbound import intake
from .inbound.smtp import listener

log = logging.getLogger("mailbot")

DELIVERY_SECONDS = 2
TICK_SECONDS = 60
SWEEP_SECONDS = 30


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class IntakeWorker(threading.Thread):
    """Processes stored mail one at a time, in arrival order, after the 250 was given."""

    def __init__(self, app, after_each):
        super().__init__(name="intake", daemon=True)
        self.app, self.after_each = app, after_each
        self.queue: queue.Queue[int | None] = queue.Queue()

    def run(self):
        while (inbox_id := self.queue.get()) is not None:
            try:
                intake.process(self.app, inbox_id, utcnow())
            except Exception:
                log.exception("inbound.process_failed inbox_id=%s", inbox_id)
            if self.queue.empty():
                self.after_each()

    def stop(self):
        self.queue.put(None)
        self.join(timeout=10)


def serve(app) -> None:
    # The SMTP loop must get the GIL quickly while the intake worker renders mail: a shorter
    # switch interval than CPython's 5 ms keeps the accept path responsive under load.
    sys.setswitchinterval(0.0005)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    scheduler = BackgroundScheduler(timezone=app.tz)
    safe = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(lambda: jobs.deliver(app, utcnow()), "interval", seconds=DELIVERY_SECONDS,
                      id="deliver", **safe)
    scheduler.add_job(lambda: jobs.tick(app, utcnow()), "interval", seconds=TICK_SECONDS,
                      id="tick", next_run_time=utcnow(), **safe)
    scheduler.add_job(lambda: jobs.process_inbox(app, utcnow), "interval", seconds=SWEEP_SECONDS,
                      id="sweep", **safe)
    hour, minute = app.config.operators.digest_time.split(":")
    scheduler.add_job(lambda: digest.send(app, utcnow()), "cron", hour=int(hour),
                      minute=int(minute), id="digest", **safe)

    def wake_delivery():
        scheduler.modify_job("deliver", next_run_time=utcnow())

    worker = IntakeWorker(app, wake_delivery)
    # Mail stored but not processed before a crash is processed first (SPEC §8).
    jobs.process_inbox(app, utcnow)
    worker.start()
    smtp = listener(app, worker.queue.put)
    smtp.start()
    scheduler.start()
    log.info("serve.started smtp=%s:%s", app.config.smtp.host, app.config.smtp.port)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        smtp.stop()
        worker.stop()
        scheduler.shutdown(wait=True)
        log.info("serve.stopped")
