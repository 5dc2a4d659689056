"""The SQL of the ``digests`` table: one row per digest period that was sent.

``serve`` sends the daily digest only when its row for the period goes in; the period's key is
the primary key, so however many nodes run the cron at once, one insert wins and the others find
the row (the database decides, not a lock in one process's memory).
"""

from __future__ import annotations

from datetime import datetime

from .records import iso


def claim(db, period: str, now: datetime) -> bool:
    """True for the one caller that records ``period`` first."""
    return db.execute("INSERT INTO digests (period, sent_at) VALUES (?, ?) "
                      "ON CONFLICT (period) DO NOTHING RETURNING period",
                      [period, iso(now)]).fetchone() is not None
