"""Lanes and budgets enforced from outside: worker processes per lane under the real ``Pool`` of
``serve``, the real listener on loopback, and mail made slow on purpose inside the workers (a
parser that takes 30 s on a marked mail, as the slow parsers testers found did). A party's mail
goes through while both other lanes are stuck, and the supervisor kills an overrunning worker
with SIGKILL, counts the try, and the worker's replacement goes on with the next mail."""

from __future__ import annotations

import logging
import smtplib
import time
from pathlib import Path

import pytest

from datetime import datetime, timedelta, timezone

from conftest import make_config
from test_intake import BUYER_NL, fresh_mail, token_address
from mailbot.inbound import lanes
from mailbot.inbound.smtp import listener
from mailbot.serve import pool as pool_mod
from mailbot.serve import worker
from mailbot.store import inbox_rows
from mailbot.store.db import database_now

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)

def slow_worker(config, *args):
    """``worker.main`` with a parser that takes 30 s on a mail that says SLOW, and 2 s on one
    that says PAIR, noting the worker's pid and when it began and ended in ``pairs.log``."""
    import os
    from pathlib import Path
    from mailbot.inbound import intake
    real = intake.parse
    pairs = Path(config.storage.database).parent / "pairs.log"

    def parse(raw):
        if b"SLOW" in raw:
            time.sleep(30)
        if b"PAIR" in raw:
            began = time.monotonic()
            time.sleep(2)
            with pairs.open("a") as log:
                log.write(f"{os.getpid()} {began} {time.monotonic()}\n")
        return real(raw)
    intake.parse = parse
    worker.main(config, *args)


def test_lanes_are_assigned_so_that_parties_never_share_a_worker():
    assert pool_mod.assign(1) == [None]
    # One worker is the parties' alone; the others take their own lanes first, then parties.
    assert pool_mod.assign(2) == [("party",), ("stranger", "robot", "party")]
    assert pool_mod.assign(3) == [("party",), ("stranger", "party"), ("robot", "party")]
    assert pool_mod.assign(4) == [("party",), ("party",), ("stranger", "party"),
                                  ("robot", "party")]


def test_a_worker_takes_its_own_lanes_first_then_the_parties(app):
    from mailbot import jobs
    db = app.db()
    party = inbox_rows.store(db, b"x", BUYER_NL, ["a@bot.example"], NOW, "party")
    stranger = inbox_rows.store(db, b"x", BUYER_NL, ["bot@bot.example"], NOW, "stranger")
    order = ("stranger", "robot", "party")
    assert jobs._claim(app, "w1", order, set()) == (stranger, "stranger")
    assert jobs._claim(app, "w1", order, set()) == (party, "party")  # its own lanes are empty
    assert jobs._claim(app, "w1", order, set()) is None
    # The lease is the lane's: a party's mail taken by this worker gets the party's budget.
    until = db.execute("SELECT claimed_until FROM inbox WHERE id = ?", [party]).fetchone()[0]
    assert datetime.fromisoformat(until) > database_now(db) + timedelta(seconds=60)


def test_the_envelope_decides_the_lane(app):
    buyer = token_address(app, "buyer")
    bounce = app.signer.address(lanes_token("bounce"))
    assert lanes.lane_of(app.signer, BUYER_NL, [buyer]) == "party"
    assert lanes.lane_of(app.signer, BUYER_NL, ["bot@bot.example"]) == "stranger"
    assert lanes.lane_of(app.signer, "", [buyer]) == "robot"  # null sender: a report
    assert lanes.lane_of(app.signer, "mta@x.example", [bounce]) == "robot"


def lanes_token(kind):
    from mailbot.tokens import Token
    return Token(kind, 1)


@pytest.fixture
def served(tmp_path, app, capfd):
    # Budgets of 2 s for strangers and robots (a worker's first mail, imports and all, takes
    # under a second here); a mail's lease is 1.5 times its budget.
    config = make_config(tmp_path, processing={"workers": 2, "stranger_seconds": 2,
                                               "robot_seconds": 2},
                         storage={"url": app.config.storage.url,
                                  "database": app.config.storage.database})
    pool = pool_mod.Pool(config, target=slow_worker)
    smtp = listener(app, on_stored=lambda _id: pool.wake())
    smtp.start()
    pool.start()
    # Both workers up (a worker logs intake.started once its renderer is built): what is timed
    # below is the lanes, not a worker's start on a loaded machine.
    seen, deadline = "", time.monotonic() + 120
    while seen.count("intake.started") < 2:
        assert time.monotonic() < deadline, seen
        seen += capfd.readouterr().err
        time.sleep(0.05)
    yield app, pool
    pool.stop(wait=True)
    smtp.stop()


def _disposition(app, inbox_id):
    row = app.db().execute("SELECT disposition, attempts FROM inbox WHERE id = ?",
                           [inbox_id]).fetchone()
    return row


def test_a_party_is_answered_while_strangers_and_robots_are_stuck(served, caplog):
    app, pool = served
    bare, buyer = "bot@bot.example", token_address(app, "buyer", action="extend")
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        for i in range(3):
            smtp.sendmail(BUYER_NL, [bare], fresh_mail(BUYER_NL, f"SLOW {i}", bare))
            smtp.sendmail("", [bare], fresh_mail("mailer-daemon@x.example", f"SLOW r{i}", bare))
        smtp.sendmail(BUYER_NL, [buyer], fresh_mail(BUYER_NL, "graag verlengen", buyer))
        accepted = time.monotonic()
    count = app.db().execute("SELECT count(*) FROM inbox").fetchone()[0]
    click = count  # the last mail stored
    with caplog.at_level(logging.ERROR, logger="mailbot.serve"):
        deadline = accepted + 30
        while _disposition(app, click)[0] is None:
            assert time.monotonic() < deadline, "the party's mail waited behind the others"
            pool.check()
            time.sleep(0.05)
        answered = time.monotonic() - accepted
        # The click went through at once (worker start-up included), not after the slow ones.
        assert answered < 10, answered
        assert _disposition(app, click)[0] == "applied"
        # Meanwhile the supervisor kills the worker that overran in the other lanes.
        deadline = time.monotonic() + 30
        while "serve.mail_overran" not in caplog.text:
            assert time.monotonic() < deadline, "no overrun was enforced"
            pool.check()
            time.sleep(0.05)
    first_slow = app.db().execute("SELECT min(id) FROM inbox WHERE lane != 'party'"
                                  ).fetchone()[0]
    assert _disposition(app, first_slow)[1] >= 1  # the killed try was counted
    assert app.db().execute("SELECT lane FROM inbox WHERE id = ?", [click]).fetchone()[0] \
        == "party"


def test_a_mail_that_overruns_twice_is_quarantined_and_the_lane_goes_on(served, caplog):
    app, pool = served
    bare = "bot@bot.example"
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        smtp.sendmail(BUYER_NL, [bare], fresh_mail(BUYER_NL, "SLOW", bare))
        smtp.sendmail(BUYER_NL, [bare], fresh_mail(BUYER_NL, "een gewone vraag", bare))
    slow, plain = [r[0] for r in app.db().execute("SELECT id FROM inbox ORDER BY id")]
    deadline = time.monotonic() + 60
    while _disposition(app, slow)[0] is None or _disposition(app, plain)[0] is None:
        assert time.monotonic() < deadline, (_disposition(app, slow), caplog.text)
        pool.check()
        time.sleep(0.05)
    assert _disposition(app, slow) == ("quarantined", 3)
    assert _disposition(app, plain)[0] != "quarantined"


def test_two_workers_serve_two_parties_at_once_while_strangers_are_idle(served):
    app, pool = served
    buyer = token_address(app, "buyer", action="extend")
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        for i in range(2):
            smtp.sendmail(BUYER_NL, [buyer], fresh_mail(BUYER_NL, f"PAIR {i}", buyer))
    pairs = Path(app.config.storage.database).parent / "pairs.log"
    deadline = time.monotonic() + 60
    while len(pairs.read_text().splitlines() if pairs.exists() else ()) < 2:
        assert time.monotonic() < deadline, "the two mails were not both parsed"
        pool.check()
        time.sleep(0.05)
    (pid1, began1, ended1), (pid2, began2, ended2) = (
        line.split() for line in pairs.read_text().splitlines())
    assert pid1 != pid2  # two processes
    assert max(float(began1), float(began2)) < min(float(ended1), float(ended2))  # at once


@pytest.mark.sqlite_only
def test_a_worker_with_nothing_to_take_never_asks_for_sqlite_s_write_lock(app):
    from mailbot import jobs
    from mailbot.store.db import connect
    db = app.db()
    held = inbox_rows.store(db, b"x", BUYER_NL, ["a@bot.example"], NOW, "party")
    assert inbox_rows.claim(db, "w1", 90) == held
    other = connect(app.config.storage.database)  # another process's connection, writing
    other.execute("BEGIN IMMEDIATE")
    db.execute("PRAGMA busy_timeout = 200")
    try:
        # Every worker looks when a mail is stored; all but one find nothing, and they do not
        # queue for the one write lock to find it.
        assert jobs._claim(app, "w2", ("stranger", "robot", "party"), set()) is None
    finally:
        other.execute("ROLLBACK")
        other.close()
        db.execute("PRAGMA busy_timeout = 30000")
