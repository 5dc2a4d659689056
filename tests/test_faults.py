"""SPEC §8 under faults: SIGKILL under load, concurrent delivery and ticking, simultaneous
answers, and random or mutated MIME through intake (hypothesis)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import ORDER_DATE, write_config
from mailbot import imports, jobs, service
from mailbot.core.events import BuyerAction, MerchantDecision
from mailbot.core.model import Action, RefundChoice
from mailbot.inbound import inbox, intake
from mailbot.store import records
from mailbot.tokens import Token

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
MAILBOT = Path(sys.executable).parent / "mailbot"


def now():
    return datetime.now(timezone.utc)


def test_sigkill_under_load_loses_nothing_and_applies_nothing_twice(tmp_path):
    from crash import crash_run
    result = crash_run(messages=60, kills=4, seed=7, folder=tmp_path)
    assert result["kills"] == 4
    assert result["cases_not_exactly_once"] == 0
    assert result["notices_not_exactly_once"] == 0
    assert result["not_delivered"] == 0
    # One acknowledgement and one shop notice per click, nothing else (the dict says which kind
    # of mail is off, if one is).
    assert result["outbox_by_template"] == {"buyer.case_opened": 60, "merchant.case_opened": 60}
    assert result["outbox_mails"] == 2 * 60


def test_two_deliver_processes_never_send_a_mail_twice(app, tmp_path):
    db = app.db()
    records.upsert_merchant(db, "bulk", "Bulk", ["m@bulk.example"], "nl")
    orders = tmp_path / "bulk.csv"
    orders.write_text("shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,"
                      "plan\n" + "".join(f"bulk,B{i},{ORDER_DATE},10,EUR,b{i}@x.example,nl,plus\n"
                                         for i in range(150)))
    imports.import_orders(db, str(orders), app.tz)
    jobs.tick(app, now())
    queued = db.execute("SELECT count(*) FROM outbox WHERE status = 'queued'").fetchone()[0]
    assert queued >= 150
    env = dict(os.environ, MAILBOT_CONFIG=str(write_config(tmp_path, app.config)))
    procs = [subprocess.Popen([str(MAILBOT), "deliver"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
    ids = Counter()
    for path in (Path(app.config.relay.maildir) / "new").iterdir():
        with path.open("rb") as fh:
            ids[BytesHeaderParser().parse(fh)["Message-ID"]] += 1
    assert len(ids) == queued and max(ids.values()) == 1
    assert db.execute("SELECT count(*) FROM outbox WHERE status = 'queued'").fetchone()[0] == 0


def test_two_ticks_at_once_apply_each_timer_once(app, tmp_path):
    env = dict(os.environ, MAILBOT_CONFIG=str(write_config(tmp_path, app.config)))
    stamp = now().isoformat()
    procs = [subprocess.Popen([str(MAILBOT), "tick", "--now", stamp], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    reminders = app.db().execute(
        "SELECT count(*) FROM outbox WHERE template = 'buyer.reminder'").fetchone()[0]
    assert reminders == 3


def test_buyer_and_merchant_in_the_same_second_leave_a_consistent_case(app):
    db = app.db()
    order_id = records.order_id(db, "shop-nl", "NL-1")
    service.handle(app, order_id, BuyerAction(Action.NOT_RECEIVED, "waar?"), now())
    stamp = now()
    barrier = threading.Barrier(2)
    results = {}

    def buyer():
        barrier.wait()
        results["buyer"] = service.handle(app, order_id, BuyerAction(Action.WITHDRAW), stamp)

    def merchant():
        barrier.wait()
        results["merchant"] = service.handle(
            app, order_id, MerchantDecision(RefundChoice.YES, "komt eraan"), stamp)

    threads = [threading.Thread(target=buyer), threading.Thread(target=merchant)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = records.load(db, order_id)
    applied = sorted(k for k, v in results.items() if str(v.result) == "applied")
    # Exactly one took effect; the other met the state the first one left.
    assert len(applied) == 1
    assert state.case.state == ("closed" if applied == ["buyer"] else "awaiting_buyer")
    kinds = [e["kind"] for e in records.timeline(db, order_id)]
    assert kinds.count("case.withdrawn") + kinds.count("merchant.decision") == 1


@functools.cache
def corpus_samples(corpus: Path) -> list[bytes]:
    files = []
    for source in ("zammad", "ruby_mail_gem", "request_tracker", "flufl_bounce"):
        files += sorted(p for p in (corpus / source).rglob("*.eml"))[:25]
    return [p.read_bytes()[:20000] for p in files]


@st.composite
def mutated_mail(draw, samples: list[bytes]):
    base = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(0, 8))):
        if not base:
            break
        pos = draw(st.integers(0, len(base) - 1))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            base[pos] = draw(st.integers(0, 255))
        elif choice == 1:
            del base[pos:pos + draw(st.integers(1, 200))]
        elif choice == 2:
            base[pos:pos] = draw(st.binary(max_size=100))
        else:
            base[pos:pos] = draw(st.sampled_from([
                b"\r\nContent-Type: multipart/mixed; boundary=x\r\n", b"=?utf-8?b?////?=",
                b"\r\n--x\r\n", b"charset=unknown-8bit", b"\r\nAuto-Submitted: auto-replied",
                b"\r\nFrom: <>\r\n", b"\x00\xff\xfe"]))
    return bytes(base)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_intake_never_raises_and_always_records_a_disposition(app, corpus, data):
    raw = data.draw(st.one_of(mutated_mail(corpus_samples(corpus)), st.binary(max_size=3000)))
    db = app.db()
    order_id = records.order_id(db, "shop-it", "IT-1")
    to = app.signer.address(Token("buyer", order_id))
    inbox_id = inbox.store(db, raw, "luca@buyer.example", [to], now())
    intake.process(app, inbox_id, now())
    row = inbox.load(db, inbox_id)
    assert row["processed_at"] is not None and row["disposition"]
