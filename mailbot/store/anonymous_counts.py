"""The SQL of the listener's hourly counters for mail to the bare address (``inbound/smtp.py``).

Every listener of every node counts in the same rows, so a limit holds across worker processes and
nodes. A counter counts per 10-minute bucket of the database's clock (its ISO text cut after the
tens of minutes: no node's clock decides), and "the last hour" is the current bucket and the five
before it: a mail is forgotten 50 to 60 minutes after it came. Counting is one UPSERT on the
primary key for all of a mail's counters at once (one round trip) that returns the hour's sums;
the caller's transaction serialises two listeners that count on the same row (PostgreSQL's row
lock, SQLite's write lock), so the sum each one reads includes the other's mail. (Only as a
bucket turns, two listeners that count in the old and the new bucket at the same instant may each
miss the other's mail: one over the limit, at most.) A mail refused over a quota is taken back
(``uncount``), which may leave a row of 0 until it is pruned.
"""

from __future__ import annotations

BUCKET = 15  # "2026-12-07T06:3": the ISO text up to the tens of minutes
HOUR_AGO = -3000  # seconds: the start of the oldest of the six buckets of the hour


def count(db, counters: list[str]) -> dict[str, tuple[str, int, int]]:
    """Counts one mail on each of ``counters`` (locked in this order); returns for each its
    bucket, the mails in that bucket and the mails in the last hour, this one included."""
    return {r[0]: (r[1], r[2], r[3])
            for r in db.execute(count_sql(db, len(counters)), counters).fetchall()}


def count_sql(db, counters: int) -> str:
    """The UPSERT of ``count``: the row by its primary key, the hour's sum by a range of it."""
    now, hour_ago = db.clock(), db.clock(HOUR_AGO)
    rows = ", ".join(f"(?, substr({now}, 1, {BUCKET}), 1)" for _ in range(counters))
    return (f"INSERT INTO anonymous_counts (counter, bucket, mails) VALUES {rows} "
            "ON CONFLICT (counter, bucket) DO UPDATE SET mails = anonymous_counts.mails + 1 "
            "RETURNING counter, bucket, mails, mails + (SELECT coalesce(sum(c.mails), 0) "
            "FROM anonymous_counts c WHERE c.counter = anonymous_counts.counter "
            f"AND c.bucket >= substr({hour_ago}, 1, {BUCKET}) "
            "AND c.bucket < anonymous_counts.bucket)")


def uncount(db, bucket: str, counters: list[str]) -> None:
    """Takes back what ``count`` just counted (a mail refused after all)."""
    marks = ", ".join("?" * len(counters))
    db.execute("UPDATE anonymous_counts SET mails = mails - 1 "
               f"WHERE bucket = ? AND counter IN ({marks})", [bucket, *counters])


def prune(db) -> int:
    """Deletes the buckets that no longer count; returns how many."""
    return db.execute("DELETE FROM anonymous_counts "
                      f"WHERE bucket < substr({db.clock(HOUR_AGO)}, 1, {BUCKET})").rowcount
