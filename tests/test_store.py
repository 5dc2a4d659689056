"""The shared store: both dialects, leases by the database's clock, claim queries on indexes, the
digest once per period, and an existing SQLite file upgraded in place. Runs on whichever store
``--store`` names (SQLite by default; CI runs it on PostgreSQL too)."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
import sqlite_utils

from conftest import make_config
from mailbot import jobs, wiring
from mailbot.core.model import Action, Role
from mailbot.inbound import intake
from mailbot.outbound import outbox
from mailbot.serve import schedule
from mailbot.store import db as dbmod
from mailbot.store import dialect, inbox_rows, outbox_rows, records
from mailbot.store.db import database_now, transaction
from mailbot.tokens import Token


def _plan(db, sql: str, params=()) -> str:
    if db.dialect == "postgresql":
        db.execute("SET enable_seqscan = off")  # on a near-empty table a scan is cheaper
        try:
            return "\n".join(r[0] for r in db.execute("EXPLAIN " + sql, params).fetchall())
        finally:
            db.execute("SET enable_seqscan = on")
    return "\n".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_the_app_runs_on_the_store_the_tests_name(app, store):
    assert app.db().dialect == store


def test_placeholders_become_psycopg_ones_outside_literals_only():
    sql = "SELECT '?', 'a%b' FROM t WHERE x = ? AND y LIKE 'z%' AND w = :name AND v::json = 1"
    assert dialect._for_postgresql(sql) == (
        "SELECT '?', 'a%%b' FROM t WHERE x = %s AND y LIKE 'z%%' AND w = %(name)s "
        "AND v::json = 1")
    assert dialect._for_postgresql("PRAGMA synchronous = FULL") == ""
    assert dialect._for_sqlite("SELECT id FROM t ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED") \
        == "SELECT id FROM t ORDER BY id LIMIT 1"


def test_a_literal_percent_reaches_the_database_as_one(app):
    db = app.db()
    assert db.execute("SELECT 7 % 3, 'a%b'").fetchone() == (1, "a%b")
    assert db.execute("SELECT 7 % ?, 'a%b'", [4]).fetchone() == (3, "a%b")


def test_every_claim_query_reads_an_index(app):
    db = app.db()
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    plans = {
        "outbox": _plan(db, "SELECT id FROM outbox WHERE due_at <= ? AND (claimed_until IS NULL "
                            f"OR claimed_until <= {db.clock()}) ORDER BY due_at LIMIT 100",
                        [now]),
        "inbox": _plan(db, inbox_rows._claimable(db, [], None), []),
        "inbox ": _plan(db, inbox_rows._claimable(db, [], "party"), ["party"]),
        "timers": _plan(db, "SELECT order_id, kind FROM timers WHERE due_at <= ? AND "
                            f"(claimed_until IS NULL OR claimed_until <= {db.clock()}) "
                            "ORDER BY due_at LIMIT 100", [now]),
    }
    for table, plan in plans.items():
        table = table.strip()
        assert not re.search(rf"^SCAN {table}$", plan, re.M), plan  # SQLite: a full scan
        assert "Seq Scan" not in plan, plan  # PostgreSQL: a full scan
        assert "INDEX" in plan.upper(), (table, plan)
    assert "outbox_due_at" in plans["outbox"]


def _queue(app, n: int, now: datetime) -> list[int]:
    from mailbot.outbound.compose import Outgoing
    db = app.db()
    names = [f"<{i}.{now.timestamp()}@bot.example>" for i in range(n)]
    with transaction(db):
        for name in names:
            outbox.enqueue(db, Outgoing(
                message_id=name, order_id=None, role=Role.OPERATOR, template="t",
                recipients=("a@x.example",), raw=b"Subject: x\r\n\r\nx\r\n"), now)
    return [db.execute("SELECT id FROM outbox WHERE message_id = ?", [name]).fetchone()[0]
            for name in names]


def test_an_outbox_lease_is_exclusive_until_it_expires_by_the_database_clock(app):
    db, now = app.db(), datetime.now(timezone.utc)
    [row_id] = _queue(app, 1, now)
    assert outbox_rows.claim(db, row_id, "node-a:1", 60)["id"] == row_id
    assert db.execute("SELECT status, claimed_by FROM outbox WHERE id = ?",
                      [row_id]).fetchone() == ("sending", "node-a:1")
    # Another node, even one whose clock runs an hour ahead, cannot take a live lease.
    assert outbox_rows.due(db, now + timedelta(hours=1), 10) == []
    assert outbox_rows.claim(db, row_id, "node-b:1", 60) is None
    # The holder died: its lease ran out (written as already expired by the database clock).
    db.execute(f"UPDATE outbox SET claimed_until = {db.clock(-1)} WHERE id = ?", [row_id])
    assert outbox_rows.due(db, now, 10) == [row_id]
    assert outbox_rows.claim(db, row_id, "node-b:1", 60)["id"] == row_id
    outbox_rows.mark_sent(db, row_id, now)
    assert outbox_rows.due(db, now + timedelta(days=1), 10) == []


def test_an_inbox_lease_passes_to_another_worker_only_when_it_expired(app):
    db, now = app.db(), datetime.now(timezone.utc)
    first = inbox_rows.store(db, b"Subject: a\r\n\r\na\r\n", "a@x.example", ["b@x.example"], now)
    second = inbox_rows.store(db, b"Subject: b\r\n\r\nb\r\n", "a@x.example", ["b@x.example"], now)
    assert inbox_rows.claim(db, "w1", 90) == first
    assert inbox_rows.claim(db, "w2", 90) == second  # passes the held row, takes the next
    assert inbox_rows.claim(db, "w3", 90) is None
    db.execute(f"UPDATE inbox SET claimed_until = {db.clock(-1)} WHERE id = ?", [first])
    assert inbox_rows.claim(db, "w3", 90) == first
    inbox_rows.release(db, second, "someone else")  # only the holder gives a lease back
    assert inbox_rows.claim(db, "w4", 90) is None
    inbox_rows.release(db, second, "w2")
    assert inbox_rows.claim(db, "w4", 90) == second


def test_the_raw_mail_lives_apart_from_the_inbox_row(app):
    db, now = app.db(), datetime.now(timezone.utc)
    raw = b"Subject: big\r\n\r\n" + b"x" * 100_000 + b"\r\n"
    inbox_id = inbox_rows.store(db, raw, "a@x.example", ["b@x.example"], now)
    assert inbox_rows.load(db, inbox_id)["raw"] == raw
    assert bytes(db.execute("SELECT raw FROM inbox WHERE id = ?", [inbox_id]).fetchone()[0]) \
        == b""


def test_a_node_whose_clock_runs_ten_minutes_ahead_fires_no_timer_early(app, monkeypatch):
    db = app.db()
    order_id = records.order_id(db, "shop-nl", "NL-1")
    soon = database_now(db) + timedelta(minutes=5)
    db.execute("DELETE FROM timers")
    db.execute("INSERT INTO timers (order_id, kind, due_at) VALUES (?, 'reminder', ?)",
               [order_id, records.iso(soon)])

    # This node's clock, ten minutes fast (the name serve's schedule read its time from before
    # it counted by the database's clock).
    ahead = lambda: datetime.now(timezone.utc) + timedelta(minutes=10)  # noqa: E731
    monkeypatch.setattr(schedule, "utcnow", ahead, raising=False)
    schedule.Schedule(app).tick(app)
    assert db.execute("SELECT count(*) FROM timers WHERE kind = 'reminder'").fetchone()[0] == 1
    assert not records.load(db, order_id).protection.reminder_sent


def test_two_nodes_claim_disjoint_timers(app):
    db = app.db()
    later = datetime.now(timezone.utc) + timedelta(days=400)
    first = records.claim_timers(db, later, 300, 2)
    second = records.claim_timers(db, later, 300, 100)
    assert first and second and not set(first) & set(second)
    assert records.claim_timers(db, later, 300, 100) == []


def test_the_digest_goes_out_once_a_day_however_many_nodes_run_it(app, tmp_path):
    other = wiring.build(app.config)  # a second node on the same database
    try:
        sent = [schedule.send_digest(app), schedule.send_digest(other),
                schedule.send_digest(app)]
    finally:
        other.close()
    assert sent == [True, False, False]
    assert app.db().execute("SELECT count(*) FROM outbox WHERE template LIKE '%digest%'"
                            ).fetchone()[0] == 1


@pytest.mark.sqlite_only
def test_a_database_made_by_the_previous_version_opens_and_migrates(tmp_path):
    """The previous version applied m001-m003 through sqlite-utils' Migrations: that history is
    read as it is and only the newer migrations run, the data kept."""
    path = tmp_path / "old.db"
    old = sqlite_utils.Migrations("mailbot")
    for fn in (dbmod.m001_initial, dbmod.m002_bounces, dbmod.m003_attempts_and_answers):
        old()(fn)
    legacy = sqlite_utils.Database(sqlite3.connect(path))
    old.apply(legacy)
    legacy.execute("INSERT INTO inbox (received_at, mail_from, rcpt_tos, raw) VALUES "
                   "('2026-01-01T00:00:00+00:00', 'a@x.example', '[]', ?)", [b"Subject: old"])
    legacy.execute("INSERT INTO outbox (message_id, role, template, recipients, raw, created_at)"
                   " VALUES ('<m@x>', 'operator', 't', '[]', x'00', '2026-01-01')")
    legacy.conn.commit()
    legacy.conn.close()
    db = dbmod.connect(path)
    assert [m.name for m in dbmod.migrations.pending(db)] == []
    assert inbox_rows.load(db, 1)["raw"] == b"Subject: old"
    assert outbox_rows.due(db, datetime(2026, 1, 2, tzinfo=timezone.utc), 10) == [1]
    names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names[:3] == ["m001_initial", "m002_bounces", "m003_attempts_and_answers"]
    db.close()
    # Opened again: nothing left to apply, nothing applied twice.
    again = dbmod.connect(path)
    assert again.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(names)
    again.close()


def test_storage_url_picks_the_store(tmp_path, store):
    config = make_config(tmp_path)
    assert dbmod.is_postgresql(config.storage.url) == (store == "postgresql")
    sqlite_config = make_config(tmp_path, storage={"url": "sqlite:"})
    db = dbmod.open_store(sqlite_config.storage)
    assert db.dialect == "sqlite" and (tmp_path / "mailbot.db").exists()
    db.close()



# --- round trips: each statement is one on PostgreSQL (a server process away) ------------------
# Counted through the seam (``Database.statements``; writes sent with a later statement are
# part of its round trip). Before this round, on PostgreSQL: a click 49 (listener 4, claim 4,
# intake 41), a timer 23.3 and a delivered mail 10.7 (3 of each); now 20 (2, 1, 17), 9, 2.7.
# On SQLite the same code runs; its counts also hold the PRAGMAs and BEGINs it sends itself
# (no round trips there) and the claim's read without the write lock.
ROUND_TRIPS = {"click": {"postgresql": 20, "sqlite": 37},
               "timer": {"postgresql": 9, "sqlite": 18},
               "mail": {"postgresql": 3, "sqlite": 7}}


def _counted(db, fn):
    before = db.statements
    result = fn()
    return db.statements - before, result


def test_a_timer_and_a_delivered_mail_take_few_round_trips(app):
    db, now = app.db(), datetime.now(timezone.utc)
    app.renderer  # noqa: B018  (built before counting, as in serve)
    n, written = _counted(db, lambda: jobs.tick(app, now))  # the three reminders of conftest
    assert written == 3
    assert n / written <= ROUND_TRIPS["timer"][db.dialect], n
    n, counts = _counted(db, lambda: jobs.deliver(app, now))
    assert counts["sent"] == 3
    assert n / 3 <= ROUND_TRIPS["mail"][db.dialect], n


def test_a_click_takes_few_round_trips_from_its_250_to_its_commit(app):
    db, now = app.db(), datetime.now(timezone.utc)
    app.renderer  # noqa: B018
    order_id = records.order_id(db, "shop-nl", "NL-1")
    address = app.signer.address(Token("buyer", order_id, Action.NOT_RECEIVED))
    raw = (f"From: jan@buyer.example\r\nTo: {address}\r\nSubject: niet ontvangen\r\n"
           "Message-ID: <click-1@client.example>\r\n\r\nNog steeds niets ontvangen.\r\n").encode()
    stored, inbox_id = _counted(db, lambda: inbox_rows.store(db, raw, "jan@buyer.example",
                                                             [address], now))
    claimed, taken = _counted(db, lambda: inbox_rows.claim_first(db, "w1", [("party", 90)]))
    assert taken == (inbox_id, "party")
    processed, disposition = _counted(db, lambda: intake.process(app, inbox_id, now))
    assert disposition == "applied" and records.load(db, order_id).case is not None
    assert stored + claimed + processed <= ROUND_TRIPS["click"][db.dialect], \
        (stored, claimed, processed)


def test_a_transaction_whose_first_statement_fails_leaves_the_connection_usable(app):
    # On PostgreSQL BEGIN goes out with the first statement (one round trip for both).
    db = app.db()
    with pytest.raises(dialect.database_errors()):
        with transaction(db):
            assert db.in_transaction
            db.execute("INSERT INTO settings (key, value) VALUES ('k', NULL)")  # NOT NULL
    assert not db.in_transaction
    with transaction(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
    assert db.execute("SELECT value FROM settings WHERE key = 'k'").fetchone() == ("v",)
    with transaction(db):
        pass  # nothing sent, nothing left open
    assert not db.in_transaction


def test_a_write_said_inside_a_transaction_is_done_in_its_order_or_undone_with_it(app, tmp_path):
    # On PostgreSQL ``write`` goes out with the transaction's next statement.
    db, other = app.db(), wiring.build(app.config)
    try:
        seen = lambda: other.db().execute(  # noqa: E731  (another connection: committed rows)
            "SELECT key FROM settings WHERE key LIKE 'w%' ORDER BY key").fetchall()
        db.write("INSERT INTO settings (key, value) VALUES ('w0', 'autocommit')")
        assert seen() == [("w0",)]  # outside a transaction: done when write returns
        with transaction(db):
            db.write("INSERT INTO settings (key, value) VALUES ('w1', 'a')")
            db.write("UPDATE settings SET value = 'b' WHERE key = 'w1'")
            assert db.execute("SELECT value FROM settings WHERE key = 'w1'").fetchone() == ("b",)
            db.write("INSERT INTO settings (key, value) VALUES ('w2', 'c')")
        assert seen() == [("w0",), ("w1",), ("w2",)]
        # One that fails fails its transaction, whatever was said before it.
        with pytest.raises(dialect.database_errors()):
            with transaction(db):
                db.write("INSERT INTO settings (key, value) VALUES ('w3', 'd')")
                db.write("INSERT INTO settings (key, value) VALUES ('w4', NULL)")  # NOT NULL
        assert not db.in_transaction and seen() == [("w0",), ("w1",), ("w2",)]
        # In a savepoint (a timer of ``jobs.tick``) it undoes that part only.
        with transaction(db):
            db.write("INSERT INTO settings (key, value) VALUES ('w5', 'e')")
            with pytest.raises(dialect.database_errors()):
                with transaction(db):
                    db.write("INSERT INTO settings (key, value) VALUES ('w6', NULL)")
            with pytest.raises(RuntimeError):
                with transaction(db):  # a failure of Python's undoes what was said before it
                    db.write("INSERT INTO settings (key, value) VALUES ('w7', 'g')")
                    raise RuntimeError("not the database's")
            db.write("INSERT INTO settings (key, value) VALUES ('w8', 'f')")
        assert seen() == [("w0",), ("w1",), ("w2",), ("w5",), ("w8",)]
    finally:
        other.close()
