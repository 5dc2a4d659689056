"""The listener's hourly quotas for mail to the bare address are counted in the store, so they hold
across listeners, worker processes and nodes on one database (SQLite, or PostgreSQL with
``--store postgresql``), by the database's clock."""

from __future__ import annotations

import logging
import os
import re
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailbot import wiring
from mailbot.inbound.smtp import listener
from mailbot.tokens import Token

from conftest import free_port, make_config, write_config
from mailbot.store import anonymous_counts
from test_store import _plan

MAILBOT = Path(sys.executable).parent / "mailbot"
MAIL = b"From: a@x.example\r\nSubject: t\r\n\r\nhello\r\n"
BARE = "bot@bot.example"
QUOTAS = {"anonymous_per_hour": 2, "anonymous_total_per_hour": 3}


@pytest.fixture
def listeners(tmp_path):
    """Starts listeners, each with its own app (its own connections) on the one database."""
    running = []

    def start(**smtp):
        app = wiring.build(make_config(tmp_path, smtp={**QUOTAS, **smtp}))
        server = listener(app)
        server.start()
        running.append((app, server))
        return app

    yield start
    for app, server in running:
        server.stop()
        app.close()


def send(port: int, mail_from: str) -> int:
    """The SMTP code the listener on ``port`` answers a mail to the bare address with."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        try:
            smtp.sendmail(mail_from, [BARE], MAIL)
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code
    return 250


def stored(app) -> int:
    return app.db().execute("SELECT count(*) FROM inbox").fetchone()[0]


def test_two_listeners_share_the_quotas(listeners):
    one, two = listeners(), listeners()
    ports = one.config.smtp.port, two.config.smtp.port
    # Per sender: the second listener knows what the first took.
    assert send(ports[0], "a@x.example") == 250
    assert send(ports[1], "a@x.example") == 250
    assert send(ports[1], "a@x.example") == 452
    assert send(ports[0], "A@x.example") == 452  # the same sender, as the counter keys it
    # For all anonymous mail: the third mail of the hour in all, on either listener.
    assert send(ports[0], "b@y.example") == 250
    assert send(ports[1], "c@z.example") == 452
    assert stored(one) == 3


def test_a_second_process_shares_the_quotas(tmp_path, listeners):
    """A ``mailbot serve`` node beside this process's listener, on the same database."""
    app = listeners()
    port, node = free_port(), tmp_path / "node"
    node.mkdir()
    config = write_config(node, app.config, smtp={"port": port})
    env = dict(os.environ, MAILBOT_CONFIG=str(config))
    with open(node / "serve.log", "w") as log:
        proc = subprocess.Popen([str(MAILBOT), "serve"], cwd=node, stderr=log, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (node / "serve.log").read_text()
            try:
                smtplib.SMTP("127.0.0.1", port, timeout=5).quit()
                break
            except OSError:
                assert time.monotonic() < deadline, (node / "serve.log").read_text()
                time.sleep(0.1)
        assert [send(app.config.smtp.port, "a@x.example") for _ in range(2)] == [250, 250]
        assert send(port, "a@x.example") == 452  # the (limit+1)-th, in the other process
        assert send(port, "b@y.example") == 250
        assert send(app.config.smtp.port, "c@z.example") == 452
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0, (node / "serve.log").read_text()


def test_lmtp_drops_over_the_shared_quota(listeners, caplog):
    """Behind Postfix the mail is already queued: over the quota it is taken and dropped."""
    one, two = listeners(protocol="lmtp"), listeners(protocol="lmtp")
    caplog.set_level(logging.INFO, logger="mailbot")
    for app in (one, one, two):
        with smtplib.LMTP("127.0.0.1", app.config.smtp.port) as lmtp:
            assert lmtp.sendmail("a@x.example", [BARE], MAIL) == {}
    assert stored(one) == 2
    [dropped] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("smtp.drop")]
    assert "Too much mail" in dropped


def bucket(db, seconds: int) -> str:
    """The counters' bucket of the database's clock ``seconds`` from now."""
    return db.execute(f"SELECT substr({db.clock(seconds)}, 1, 15)").fetchone()[0]


def counts(db) -> dict[tuple[str, str], int]:
    """The mails counted, by counter and bucket (a refused mail taken back may leave a 0)."""
    return {(r["counter"], r["bucket"]): r["mails"] for r in db.query(
        "SELECT counter, bucket, mails FROM anonymous_counts WHERE mails > 0")}


def test_the_hour_is_the_databases_and_old_buckets_are_pruned(listeners):
    app = listeners()
    db, port = app.db(), app.config.smtp.port
    old, recent = bucket(db, -70 * 60), bucket(db, -40 * 60)
    db.execute("INSERT INTO anonymous_counts (counter, bucket, mails) VALUES "
               "('from:old@x.example', ?, 2), ('*', ?, 2), ('from:recent@x.example', ?, 2)",
               [old, old, recent])
    # 70 minutes ago no longer counts (and is deleted); 40 minutes ago still does.
    assert send(port, "old@x.example") == 250
    assert send(port, "recent@x.example") == 452
    now = bucket(db, 0)
    assert counts(db) == {("from:recent@x.example", recent): 2, ("*", now): 1,
                          ("from:old@x.example", now): 1}


def test_a_refused_mail_counts_nowhere(listeners):
    """A real sender told 452 tries again later: its refusals do not hold it back longer."""
    app = listeners(anonymous_per_hour=1)
    db, port = app.db(), app.config.smtp.port
    assert [send(port, "a@x.example") for _ in range(4)] == [250, 452, 452, 452]
    now = bucket(db, 0)
    assert counts(db) == {("*", now): 1, ("from:a@x.example", now): 1}


def test_mail_with_a_token_address_is_not_counted(listeners):
    app = listeners()
    token = app.signer.address(Token("buyer", 1))
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        for _ in range(5):
            smtp.sendmail("a@x.example", [token, BARE], MAIL)
    assert stored(app) == 5 and counts(app.db()) == {}



def test_counting_reads_the_primary_key_only(listeners):
    """One indexed UPSERT a mail, however many senders the hour had."""
    db = listeners().db()
    plan = _plan(db, anonymous_counts.count_sql(db, 2), ["*", "from:a@x.example"])
    assert "Seq Scan" not in plan and not re.search(r"^SCAN (c|anonymous_counts)$", plan, re.M)
    assert ("anonymous_counts_pkey" if db.dialect == "postgresql" else "PRIMARY KEY") in plan
