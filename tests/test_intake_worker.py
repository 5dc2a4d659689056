"""The intake worker survives database errors: it logs, pauses, and processes mail afterwards."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import datetime, timezone

from mailbot.inbound import inbox
from mailbot.serve.worker import IntakeWorker
from mailbot.store.db import transaction


def test_worker_survives_a_database_error_and_goes_on(app, caplog):
    path = app.config.storage.database
    worker = IntakeWorker(app, lambda: None, idle_seconds=0.05, backoff=(0.05, 0.1))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("ALTER TABLE inbox RENAME TO inbox_away")  # every query of intake fails
    with caplog.at_level(logging.ERROR, logger="mailbot.intake"):
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while not any("intake.error" in r.message for r in caplog.records):
                assert time.monotonic() < deadline, "no error logged"
                time.sleep(0.02)
            assert worker.is_alive()
            other.execute("ALTER TABLE inbox_away RENAME TO inbox")
            db = app.db()
            with transaction(db):
                inbox_id = inbox.store(db, b"Subject: x\r\n\r\nhello\r\n", "a@x.example",
                                       ["bot@bot.example"], datetime.now(timezone.utc))
            worker.wake()
            deadline = time.monotonic() + 10
            while inbox.load(db, inbox_id)["processed_at"] is None:
                assert time.monotonic() < deadline, "the worker did not recover"
                time.sleep(0.02)
        finally:
            worker.stop(timeout=5)
            other.close()
    assert not worker.is_alive()


def test_a_mail_that_hangs_is_reported_as_over_budget_then_quarantined(app, monkeypatch):
    """A thread cannot be stopped: the worker names the mail that overran its budget (the
    processing child then exits and is restarted), and the try already counted makes a mail that
    overran twice end ``quarantined`` at its next start, without being processed again."""
    from mailbot.inbound import intake

    released = threading.Event()
    real_process = intake.process

    def hangs_on_the_poison(app_, inbox_id, now):
        if inbox.load(app_.db(), inbox_id)["raw"].startswith(b"Subject: poison"):
            inbox.begin(app_.db(), inbox_id, now)  # counted before the try, as intake does
            released.wait(10)
            raise RuntimeError("stuck")
        return real_process(app_, inbox_id, now)

    monkeypatch.setattr(intake, "process", hangs_on_the_poison)
    db = app.db()
    with transaction(db):
        poison = inbox.store(db, b"Subject: poison\r\n\r\nx\r\n", "a@x.example",
                             ["bot@bot.example"], datetime.now(timezone.utc))
    worker = IntakeWorker(app, lambda: None, idle_seconds=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while worker.overrun(budget=0.1) is None:
            assert time.monotonic() < deadline, "the hanging mail was never reported"
            time.sleep(0.02)
        assert worker.overrun(budget=0.1)[0] == poison
        assert worker.overrun(budget=3600) is None  # within a real budget: not yet
    finally:
        released.set()
        worker.stop(timeout=5)
    monkeypatch.setattr(intake, "process", real_process)
    inbox.begin(db, poison, datetime.now(timezone.utc))  # the second hang, after a restart
    assert intake.process(app, poison, datetime.now(timezone.utc)) == "quarantined"
