"""The cost of a claim as the tables grow: flat from 10,000 to 1,000,000 rows, on both stores.

    python bench/claims.py [--pg] [--sizes 10000,100000,1000000]

For each size the outbox holds that many finished (sent) rows, the inbox that many processed
mails and the timers table that many timers due next year, plus a handful of rows that are due
now. Timed, median of 200 runs each: the outbox's due query (``store/outbox_rows.due``, which ran
every 2 s and on every mail and read the whole table before), an inbox claim and a timer claim
(each rolled back, so every run claims the same rows). ``--pg`` runs the same on a PostgreSQL
server started for the run (pgserver). The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mailbot.store import db as dbmod
from mailbot.store import inbox_rows, outbox_rows, records

RUNS = 200
DUE_NOW = 20

# Rows made by the database itself (a recursive CTE works on both stores): fast at a million.
_FILL = {
    "outbox": "INSERT INTO outbox (message_id, role, template, recipients, raw, created_at, "
              "status, sent_at) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
              "WHERE i < ?) SELECT '<' || i || '@bench>', 'buyer', 't', '[]', ?, "
              "'2026-01-01T00:00:00+00:00', 'sent', '2026-01-01T00:00:01+00:00' FROM n",
    "inbox": "INSERT INTO inbox (received_at, mail_from, rcpt_tos, raw, processed_at, "
             "disposition) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
             "WHERE i < ?) SELECT '2026-01-01T00:00:00+00:00', 'a@x', '[]', ?, "
             "'2026-01-01T00:00:01+00:00', 'applied' FROM n",
    "timers": "INSERT INTO timers (order_id, kind, due_at) WITH RECURSIVE n(i) AS (SELECT 1 "
              "UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i, 'expiry', "
              "'2027-06-01T00:00:00+00:00' FROM n",
}


def fill(db, rows: int, start: int) -> None:
    with dbmod.transaction(db):
        for table, sql in _FILL.items():
            params = [rows] if table == "timers" else [rows, b""]
            if table == "timers":
                sql = sql.replace("SELECT i, 'expiry'", f"SELECT i + {start}, 'expiry'")
            if table == "outbox":
                sql = sql.replace("'<' || i || '@bench>'", f"'<' || (i + {start}) || '@bench>'")
            db.execute(sql, params)


def due_rows(db, now: datetime) -> None:
    with dbmod.transaction(db):
        for i in range(DUE_NOW):
            db.execute("INSERT INTO outbox (message_id, role, template, recipients, raw, "
                       "created_at, due_at) VALUES (?, 'buyer', 't', '[]', ?, ?, '')",
                       [f"<due{i}@bench>", b"", records.iso(now)])
            inbox_rows.store(db, b"Subject: x\r\n\r\nx\r\n", "a@x", ["b@x"], now)
            db.execute("INSERT INTO timers (order_id, kind, due_at) VALUES (?, 'reminder', ?)",
                       [-1 - i, records.iso(now - timedelta(minutes=1))])


def timed_ms(db, fn) -> float:
    runs = []
    for _ in range(RUNS):
        began = time.perf_counter()
        db.begin()
        try:
            fn()
        finally:
            db.execute("ROLLBACK")
        runs.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(runs), 3)


def measure(db, now: datetime) -> dict:
    later = now + timedelta(days=1)
    return {
        "outbox_due_ms": timed_ms(db, lambda: outbox_rows.due(db, later, 100)),
        "inbox_claim_ms": timed_ms(db, lambda: inbox_rows.claim(db, "bench", 60)),
        "timer_claim_ms": timed_ms(db, lambda: records.claim_timers(db, now, 60, 100)),
    }


def run(db, sizes: list[int]) -> dict:
    now = datetime.now(timezone.utc)
    due_rows(db, now)
    figures, done = {}, 0
    for size in sizes:
        fill(db, size - done, done)
        done = size
        if db.dialect == "postgresql":
            db.execute("ANALYZE")  # the planner's statistics, as autovacuum would keep them
        figures[size] = measure(db, now)
        print(f"{size:>9} rows: " + "  ".join(f"{k} {v}" for k, v in figures[size].items()),
              flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        print("sqlite")
        db = dbmod.connect(Path(folder) / "bench.db")
        result["sqlite"] = run(db, sizes)
        db.close()
        if args.pg:
            import pgserver
            server = pgserver.get_server(str(Path(folder) / "pg"), cleanup_mode="stop")
            try:
                print("postgresql")
                db = dbmod.connect_postgresql(
                    f"postgresql://postgres@/postgres?host={Path(folder) / 'pg'}")
                dbmod.migrations.apply(db)
                result["postgresql"] = run(db, sizes)
                db.close()
            finally:
                server.cleanup()
    for store, figures in result.items():
        first, last = figures[sizes[0]], figures[sizes[-1]]
        result[store]["ratio_last_to_first"] = {
            k: round(last[k] / first[k], 2) if first[k] else None for k in first}
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
