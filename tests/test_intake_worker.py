"""The intake worker survives database errors: it logs, pauses, and processes mail afterwards."""

from __future__ import annotations

import logging
import sqlite3
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

