"""The SQL of the listener's hourly counters for mail to the bare address (``inbound/smtp.py``).

Every listener of every node counts in the same rows, so a limit holds across worker processes and
nodes. A counter counts per 10-minute bucket of the database's clock (its ISO text cut after the
tens of minutes: no node's clock decides), and "the last hour" is the current bucket and the five
before it: a mail is forgotten 50 to 60 minutes after it came. Counting is one UPSERT on the
primary key that returns the hour's sum; the caller's transaction serialises two listeners that
count on the same row (PostgreSQL's row lock, SQLite's write lock), so the sum each one reads
includes the other's mail. (Only as a bucket turns, two listeners that count in the old and
the new bucket at the same instant may each miss the other's mail: one over the limit, at most.)
"""

from __future__ import annotations

BUCKET = 15  # "2026-12-07T06:3": the ISO text up to the tens of minutes
HOUR_AGO = -3000  # seconds: the start of the oldest of the six buckets of the hour


def count(db, counter: str) -> tuple[int, int]:
    """Counts one mail on ``counter``; returns (mails in its bucket, mails in the last hour),
    this one included in both."""
    now, hour_ago = db.clock(), db.clock(HOUR_AGO)
    return tuple(db.execute(
        "INSERT INTO anonymous_counts (counter, bucket, mails) "
        f"VALUES (?, substr({now}, 1, {BUCKET}), 1) "
        "ON CONFLICT (counter, bucket) DO UPDATE SET mails = anonymous_counts.mails + 1 "
        "RETURNING mails, mails + (SELECT coalesce(sum(c.mails), 0) FROM anonymous_counts c "
        f"WHERE c.counter = ? AND c.bucket >= substr({hour_ago}, 1, {BUCKET}) "
        f"AND c.bucket < substr({now}, 1, {BUCKET}))",
        [counter, counter]).fetchone())


def prune(db) -> int:
    """Deletes the buckets that no longer count; returns how many."""
    return db.execute("DELETE FROM anonymous_counts "
                      f"WHERE bucket < substr({db.clock(HOUR_AGO)}, 1, {BUCKET})").rowcount
