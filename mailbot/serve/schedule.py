"""When the jobs run in ``serve``: delivery every few seconds (and at once after intake or a tick
made mail), timers every minute, the digest daily at ``operators.digest_time`` (and at that time
the shops' mails about orders by mail: unread confirmations daily, the report on Mondays).

What the jobs do lives in ``jobs`` and ``digest``. Delivery and timers run on threads of their
own that wait a fixed pause after each run ends, so a run never overlaps the next however long it
takes (a catch-up tick after downtime, a slow relay) and nothing is "skipped". APScheduler only
does what it is made for: the daily cron in the configured time zone, across DST changes. Timers
are rows in the database, so no job store is needed and a restart catches up on whatever fell due.
Time is the database's clock (``store.db.database_now``), never this node's: nodes that share a
database fire each timer once and none early, and the digest goes out once a day (``digests``).
"""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler

from .. import digest, jobs
from ..orders_by_mail import notices
from ..store import digest_rows
from ..store.db import database_now, transaction

log = logging.getLogger("mailbot.schedule")

DELIVERY_SECONDS = 2
TICK_SECONDS = 60


class Periodic(threading.Thread):
    """Runs ``job()`` now, then ``seconds`` after each run ended, or at once when woken."""

    def __init__(self, name: str, job, seconds: float):
        super().__init__(name=name, daemon=True)
        self.job, self.seconds = job, seconds
        self._woken, self._stopping = threading.Event(), threading.Event()

    def wake(self, *_):
        self._woken.set()

    def run(self):
        while not self._stopping.is_set():
            self._woken.clear()
            try:
                self.job()
            except Exception as exc:  # the next run tries again; the thread must not die
                log.error("job.failed job=%s error=%r", self.name, exc, exc_info=True)
            self._woken.wait(self.seconds)

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()


class Schedule:
    def __init__(self, app):
        self.delivery = Periodic("deliver", lambda: jobs.deliver(app, database_now(app.db())),
                                 DELIVERY_SECONDS)
        self.timers = Periodic("tick", lambda: self.tick(app), TICK_SECONDS)
        self.cron = BackgroundScheduler(timezone=app.tz)
        hour, minute = app.config.operators.digest_time.split(":")
        self.cron.add_job(lambda: send_digest(app), "cron", hour=int(hour),
                          minute=int(minute), id="digest", max_instances=1, coalesce=True,
                          misfire_grace_time=None)
        # Orders by mail: each shop's unread confirmations daily, its report on Mondays.
        for job, extra in ((notices.daily, {}), (notices.weekly, {"day_of_week": "mon"})):
            self.cron.add_job(lambda job=job: once_a_day(app, f"orders_by_mail.{job.__name__}",
                                                         job), "cron", hour=int(hour),
                              minute=int(minute), id=f"orders_by_mail.{job.__name__}",
                              max_instances=1, coalesce=True, misfire_grace_time=None, **extra)

    def tick(self, app):
        if jobs.tick(app, database_now(app.db())):
            self.delivery.wake()  # timers wrote reminders: send them now

    def wake_delivery(self) -> None:
        self.delivery.wake()

    def start(self) -> None:
        self.cron.start()
        self.delivery.start()
        self.timers.start()

    def alive(self) -> bool:
        return self.cron.running and self.delivery.is_alive() and self.timers.is_alive()

    def stop(self, timeout: float) -> None:
        """Asks every thread to stop and waits at most ``timeout`` for a run in progress."""
        self.delivery.stop()
        self.timers.stop()
        self.cron.shutdown(wait=False)
        for thread in (self.delivery, self.timers):
            thread.join(timeout=timeout / 2)


def send_digest(app) -> bool:
    return once_a_day(app, "digest", digest.send)


def once_a_day(app, name: str, job) -> bool:
    """``job(app, now)`` once per day in the operators' time zone however many nodes run the
    cron: the day's row in ``digests`` goes in with the mail it queues, or neither does."""
    db = app.db()
    now = database_now(db)
    with transaction(db):
        if not digest_rows.claim(db, f"{name}:{now.astimezone(app.tz).date()}", now):
            return False
        job(app, now)
    return True
