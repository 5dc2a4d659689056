"""Intake as one door with one ending per mail (issue 9 §1, §3, §4; issue 10 §4; issue 11 §2):
poison mail is quarantined and the worker moves on, the answer budget never eats a verified
party's action, one bad timer or outbox row never stops the others, and every ending is one
``Disposition`` with one answer (or silence)."""

from __future__ import annotations

import email
import json
import email.policy
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from conftest import (
    ORDER_DATE, OPERATOR, Mailbox, actions, click, free_port, make_config, only, reply,
    text, to, write_config,
)
from mailbot import cli, digest, imports, jobs, service, wiring
from mailbot.core.events import BuyerAction
from mailbot.core.model import Action
from mailbot.inbound import disposition, inbox, intake
from mailbot.inbound.disposition import DISPOSITIONS, REPLIES, Ending
from mailbot.serve.worker import IntakeWorker
from mailbot.store import records
from mailbot.tokens import Token
from test_case_by_mail import case, open_case
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, now, reminders, status

BARE = "bot@bot.example"


def fresh_mail(sender: str, body: str, to_address: str = BARE, subject: str = "vraag",
               message_id: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to_address, subject
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="client.example")
    msg.set_content(body)
    return msg.as_bytes(policy=email.policy.SMTP)


def token_address(app, role, number="NL-1", shop="shop-nl", action=None):
    order_id = records.order_id(app.db(), shop, number)
    return app.signer.address(Token(role, order_id, action))


def dispositions(app) -> list[str]:
    return [r[0] for r in app.db().execute("SELECT disposition FROM inbox ORDER BY id")]


# --- issue 9 §1: a poison mail is quarantined, the worker moves on -------------------------------

@pytest.fixture
def poison(monkeypatch):
    """Reply trimming (a pure function) blows up on mail that says POISON, as the exponential
    regex of issue 9 once did; ``mode`` picks a plain failure or one that takes the worker down
    (BaseException: nothing in the worker gets to record it, like a kill or a hang ended by the
    supervisor)."""
    from mailbot.inbound import reply as reply_mod
    real, mode = reply_mod.new_text, {"raise": RuntimeError}

    class WorkerKilled(BaseException):
        pass

    def new_text(text):
        if "POISON" in text:
            raise mode["raise"]("catastrophic backtracking")
        return real(text)

    monkeypatch.setattr(intake, "new_text", new_text)
    mode["killed"] = WorkerKilled
    return mode


def send_poison_then_innocent(app):
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        smtp.sendmail(BUYER_NL, [token_address(app, "buyer")],
                      fresh_mail(BUYER_NL, "POISON", token_address(app, "buyer")))
        smtp.sendmail(BUYER_NL, [token_address(app, "buyer", action="extend")],
                      fresh_mail(BUYER_NL, "graag verlengen",
                                 token_address(app, "buyer", action="extend")))


def test_mail_that_fails_twice_is_quarantined_and_the_next_mail_is_processed(app, poison, tmp_path,
                                                                            capsys):
    """Two tries (the worker's retry after a pause is one more call of the same loop), then the
    mail is set aside with its own disposition and counted in the digest."""
    box = Mailbox(app)
    box.server.start()  # the real listener; the worker's loop body is driven by hand below
    try:
        jobs.tick(app, now())
        send_poison_then_innocent(app)
    finally:
        box.server.stop()
    done, failed = jobs.process_inbox(app, now)
    assert (done, len(failed)) == (1, 1)  # the innocent mail went through at the first pass
    assert dispositions(app) == [None, "applied"]
    poisoned = inbox.load(app.db(), failed[0])
    assert poisoned["attempts"] == 1 and "catastrophic" in poisoned["last_error"]
    done, failed = jobs.process_inbox(app, now)  # the retry
    assert (done, failed) == (1, [])
    assert dispositions(app) == ["quarantined", "applied"]
    assert "apart gezet na twee mislukte pogingen (zie mailbot inbox): 1" in \
        digest.text(app, now(), timedelta(hours=1))
    assert jobs.process_inbox(app, now) == (0, [])  # never tried again
    capsys.readouterr()
    assert cli.main(["--config", str(write_config(tmp_path, app.config)), "inbox", "--disposition",
                     "quarantined", "--json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)
    assert "failed 2 times" in shown["detail"] and "catastrophic" in shown["detail"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_worker_killed_by_a_mail_twice_quarantines_it_after_restart(app, poison):
    """A mail that takes the worker down (hang, crash) is counted before each try, so the third
    start sets it aside instead of dying on it again, and the innocent mail behind it is
    processed -- by a real listener and worker."""
    poison["raise"] = poison["killed"]
    jobs.tick(app, now())
    box = Mailbox(app)
    box.start()
    try:
        send_poison_then_innocent(app)
        for restart in range(3):
            box.worker.join(timeout=15)  # killed by the poison, or idle once all is done
            if dispositions(app) == ["quarantined", "applied"]:
                break
            assert not box.worker.is_alive()
            # The killed try's lease runs out (by the database's clock; expired here, not
            # waited for), then the supervisor's restart.
            db = app.db()
            db.execute(f"UPDATE inbox SET claimed_until = {db.clock(-1)} "
                       "WHERE processed_at IS NULL")
            box.worker = IntakeWorker(app, lambda: None)
            box.worker.start()
        box.wait_processed(2)
    finally:
        box.stop()
    assert dispositions(app) == ["quarantined", "applied"]
    row = inbox.load(app.db(), 1)
    assert row["attempts"] == 3 and "not finished in 2 tries" in row["detail"]
    assert status(app, "shop-nl", "NL-1")["protection"]["extended"] is True


def test_costly_reading_waits_until_the_cheap_checks_passed(box, monkeypatch):
    """HTML-to-text, trimming and attachments only for mail that passed the header checks: a
    stranger's, a forger's or an unverified HTML bomb is never converted."""
    from mailbot.inbound import parse as parse_mod

    def never(html):
        raise AssertionError("HTML converted before the checks")

    monkeypatch.setattr(parse_mod, "html_to_text", never)
    reminders(box)
    bomb = "<p>" + "<br>" * 10_000 + "</p>"

    def html_mail(sender, to_address):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, to_address, "html"
        msg["Message-ID"] = email.utils.make_msgid(domain="client.example")
        msg.set_content(bomb, subtype="html")
        box.send(msg, sender, [to_address])
        return box.last_disposition()

    assert html_mail("stranger@else.example", BARE) == "unmatched"
    assert html_mail("forger@evil.example", token_address(box.app, "buyer")) == "sender_mismatch"
    assert html_mail(BUYER_NL, BARE) == "orders_offered"


# --- issue 9 §3: the answer budget -------------------------------------------------------------

def test_forged_flood_never_eats_the_merchants_real_decision(box):
    _, merchant = open_case(box)
    for i in range(8):  # a stranger writes to the bare address in the merchant's name
        box.send(fresh_mail(MERCHANT_NL, f"spam {i}"), MERCHANT_NL, [BARE])
    assert set(dispositions(box.app)[-8:]) == {"unmatched"}
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: 49,95\nToelichting: komt eraan")
    assert box.last_disposition() == "applied"
    assert case(box)["state"] == "awaiting_buyer"
    mails = box.deliver()
    assert only(mails, BUYER_NL) and only(mails, MERCHANT_NL)  # decision told, and confirmed


def test_a_merchant_deciding_ten_cases_in_an_hour_has_every_decision_applied(box, tmp_path):
    app = box.app
    rows = "".join(f"shop-nl,M-{i},{ORDER_DATE},20.00,EUR,buyer{i}@buyer.example,nl,plus\n"
                   for i in range(10))
    (tmp_path / "more.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n" + rows)
    imports.import_orders(app.db(), str(tmp_path / "more.csv"), app.tz)
    for i in range(10):
        order_id = records.order_id(app.db(), "shop-nl", f"M-{i}")
        service.handle(app, order_id, BuyerAction(Action.NOT_RECEIVED, "niets"), now())
    for i in range(10):
        box.send(fresh_mail(MERCHANT_NL, "Terugbetaling: ja\nToelichting: sorry",
                            token_address(app, "merchant", f"M-{i}", action="refund_full")),
                 MERCHANT_NL, [token_address(app, "merchant", f"M-{i}", action="refund_full")])
    assert dispositions(app) == ["applied"] * 10
    states = {r[0] for r in app.db().execute("SELECT state FROM cases")}
    assert states == {"awaiting_buyer"}
    acks = to(box.deliver(), MERCHANT_NL)
    assert len([m for m in acks if "M-" in m["Subject"]]) >= 10  # each decision confirmed


def test_answers_that_change_nothing_are_capped_and_shown_to_operators(tmp_path):
    """At most one identical answer an hour, at most N answers an hour; the rest is recorded as
    rate_limited, counted in the digest, and the party's next real action still applies."""
    app = wiring.build(make_config(tmp_path, limits={"answers_per_address_per_hour": 2}))
    (tmp_path / "m.csv").write_text("id,name,emails,locale\nshop-nl,Fietsen BV,"
                                    "info@fietsen.example,nl\n")
    (tmp_path / "o.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
        f"shop-nl,NL-1,{ORDER_DATE},49.95,EUR,{BUYER_NL},nl,plus\n")
    imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
    imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
    box = Mailbox(app)
    box.start()
    try:
        reminder = only(reminders(box), BUYER_NL)
        for _ in range(3):  # free text with no clear request: "choose an action", once
            reply(box, reminder, BUYER_NL, "Hallo, hoe gaat het?")
        assert dispositions(app) == ["not_open", "rate_limited", "rate_limited"]
        assert len(to(box.deliver(), BUYER_NL)) == 1
        click(box, reminder, "extend", BUYER_NL)  # an action: applied and told
        click(box, reminder, "extend", BUYER_NL)  # "already extended": the second answer
        withdraw = token_address(app, "buyer", action="withdraw")  # no case: "not open"
        box.send(fresh_mail(BUYER_NL, "intrekken", withdraw), BUYER_NL, [withdraw])
        assert dispositions(app)[3:] == ["applied", "not_open", "rate_limited"]
        assert len(to(box.deliver(), BUYER_NL)) == 2
        assert "antwoord tegengehouden (limiet aan antwoorden per adres): 3" in \
            digest.text(app, now(), timedelta(hours=1))
        click(box, reminder, "not_received", BUYER_NL, body="Niets ontvangen.")
        assert box.last_disposition() == "applied"  # the budget never holds an action back
        assert status(app, "shop-nl", "NL-1")["case"]["state"] == "awaiting_merchant"
    finally:
        box.stop()
        app.close()


def test_mail_that_failed_the_checks_never_uses_the_partys_answers(box):
    """Forged mail on the buyer's token and unverified mail to the bare address are answered on
    budgets of their own: a forger's flood asks the buyer to confirm once, so the buyer's own
    mail from another address is still confirmed, and the buyer's unclear mail still answered."""
    reminder = only(reminders(box), BUYER_NL)
    for _ in range(4):
        click(box, reminder, "all_fine", "forger@evil.example")
    click(box, reminder, "extend", "jan@work.example")  # the buyer, from another address
    for _ in range(4):
        box.send(fresh_mail(BUYER_NL, "Wat kan ik doen?"), BUYER_NL, [BARE])
    assert dispositions(box.app) == ["sender_mismatch"] * 5 + ["orders_offered"] + [
        "rate_limited"] * 3
    answers = to(box.deliver(), BUYER_NL)
    assert len(answers) == 2 + 1  # a confirmation per sender, one list of actions
    assert box.app.db().execute("SELECT count(*) FROM outbox WHERE template = "
                                "'buyer.confirm_sender'").fetchone()[0] == 2
    assert ["extend"] in [list(actions(m)) for m in answers]  # the buyer's own, confirmed
    reply(box, reminder, BUYER_NL, "Hallo, hoe gaat het?")
    assert box.last_disposition() == "not_open"
    answer = only(box.deliver(), BUYER_NL)
    assert set(actions(answer)) == {"all_fine", "not_received", "no_refund", "extend", "other"}


def test_messages_on_a_case_are_always_relayed_but_receipts_go_once_an_hour(box):
    """A robot on the party's own address that answers our receipts would loop; its messages
    still reach the other party, the receipts stop."""
    buyer_ack, merchant = open_case(box)
    for i in range(3):
        reply(box, buyer_ack, BUYER_NL, f"Bericht {i}: nog steeds niets.")
    assert dispositions(box.app)[-3:] == ["applied"] * 3
    mails = box.deliver()
    assert len(to(mails, MERCHANT_NL)) == 3  # every message relayed
    assert len(to(mails, BUYER_NL)) == 1  # one receipt
    held = box.app.db().execute("SELECT detail FROM inbox ORDER BY id DESC LIMIT 1").fetchone()
    assert "answer buyer.message_received (answer budget of jan@buyer.example) held" in held[0]


# --- issue 10 §4: a registered buyer writing to the bare address -------------------------------

def test_registered_buyer_writing_to_the_bare_address_gets_the_actions_of_open_orders(box):
    box.send(fresh_mail(BUYER_NL.upper(), "Mijn pakket is er niet."), BUYER_NL, [BARE])
    assert box.last_disposition() == "orders_offered"
    answer = only(box.deliver(), BUYER_NL)
    assert "NL-1" in answer["Subject"]
    assert set(actions(answer)) == {"all_fine", "not_received", "no_refund", "extend", "other"}
    assert status(box.app, "shop-nl", "NL-1")["case"] is None  # unverified: nothing changed
    click(box, answer, "not_received", BUYER_NL, body="Niets ontvangen.")
    assert box.last_disposition() == "applied"
    # A stranger's mail to the bare address stays unanswered (no backscatter), shown to operators.
    box.send(fresh_mail("someone@else.example", "hallo"), "someone@else.example", [BARE])
    assert box.last_disposition() == "unmatched"
    assert to(box.deliver(), "someone@else.example") == []


# --- issue 9 §5 / item 6: an operator's invalid command gets the help ----------------------------

@pytest.mark.parametrize("command, closest", [("decide withdrawn", None),
                                              ("decid compensated", "decide compensated"),
                                              ("request-documents koper", None)])
def test_operator_invalid_command_gets_the_command_help(box, command, closest):
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL, body="Terugbetaling: nee\nToelichting: Nee.")
    escalation = only(box.deliver(), OPERATOR)
    reply(box, escalation, OPERATOR, f"{command}\nDe koper trekt in.")
    assert box.last_disposition() == "operator_help"
    help_text = text(only(box.deliver(), OPERATOR))
    assert "decide compensated" in help_text
    if closest:
        assert f"Bedoelde je: {closest}" in help_text
    if command.startswith("decide withdrawn"):
        assert "“decide withdrawn” is geen geldige opdracht" in help_text
    assert case(box)["state"] == "escalated"


# --- issue 9 §4: one bad row never stops the others --------------------------------------------

def insert_order(app, number, buyer, locale="nl"):
    db = app.db()
    db.execute(
        "INSERT INTO orders (shop_id, order_number, order_date, amount, currency, buyer_email, "
        "buyer_locale, plan, state, ends_at) SELECT shop_id, ?, order_date, amount, currency, "
        "?, ?, plan, state, ends_at FROM orders WHERE order_number = 'NL-1'",
        [number, buyer, locale])
    order_id = records.order_id(db, "shop-nl", number)
    records.write_timers(db, records.load(db, order_id), app.tz)
    return order_id


def test_non_ascii_buyer_gets_the_reminder_and_a_failing_timer_stops_nothing(app):
    jose = insert_order(app, "NL-JOSE", "josé@example.nl")
    broken = insert_order(app, "NL-BROKEN", "kees@buyer.example", locale="xx")
    assert jobs.tick(app, now()) == 4  # three fixtures and josé; the broken one waits
    failed = app.db().execute("SELECT order_id, kind, attempts, last_error FROM timers "
                              "WHERE last_error IS NOT NULL").fetchall()
    assert [(o, k, a) for o, k, a, _ in failed] == [(broken, "reminder", 1)]
    assert "xx" in failed[0][3]
    assert jobs.tick(app, now()) == 0  # it waits instead of failing every minute
    assert records.load(app.db(), jose).protection.reminder_sent
    counts = jobs.deliver(app, now())
    assert counts == {"sent": 4, "retry": 0, "dead": 0}
    stored = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
              for p in (Path(app.config.relay.maildir) / "new").iterdir()]
    assert any(m["To"] == "josé@example.nl" for m in stored)  # RFC 6532 header, stored as is


class Relay:
    """A capturing SMTP relay on loopback that does not offer SMTPUTF8."""

    def __init__(self):
        self.received = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port(),
                                     enable_SMTPUTF8=False)

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.rcpt_tos)
        return "250 OK"


def test_relay_without_smtputf8_fails_only_that_row(tmp_path):
    relay = Relay()
    relay.controller.start()
    try:
        app = wiring.build(make_config(tmp_path, relay={
            "transport": "smtp", "host": "127.0.0.1", "port": relay.controller.port}))
        (tmp_path / "m.csv").write_text("id,name,emails,locale\nshop-nl,Fietsen BV,"
                                        "info@fietsen.example,nl\n")
        (tmp_path / "o.csv").write_text(
            "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
            f"shop-nl,NL-1,{ORDER_DATE},49.95,EUR,{BUYER_NL},nl,plus\n"
            f"shop-nl,NL-2,{ORDER_DATE},9.95,EUR,piet@buyer.example,nl,plus\n")
        imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
        imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
        jose = insert_order(app, "NL-JOSE", "josé@example.nl")
        # The non-ASCII row comes first in the queue: the rows after it must still go out.
        app.db().execute("UPDATE orders SET id = 0 WHERE id = ?", [jose])
        app.db().execute("UPDATE timers SET order_id = 0 WHERE order_id = ?", [jose])
        jobs.tick(app, now())
        counts = jobs.deliver(app, now())
        assert counts["sent"] == 3 and counts["dead"] == 1  # two reminders, operators told
        dead = app.db().execute(
            "SELECT recipients, last_error, attempts FROM outbox WHERE status = 'dead'"
        ).fetchone()
        assert json.loads(dead[0]) == ["josé@example.nl"] and dead[2] == 1
        assert "SMTPUTF8" in dead[1] and "josé@example.nl" in dead[1]
        assert sorted(r[0] for r in relay.received) == sorted([
            BUYER_NL, OPERATOR, "piet@buyer.example"])
        app.close()
    finally:
        relay.controller.stop()


# --- issue 11 §2: one enum, one table ------------------------------------------------------------

def test_one_enum_per_concept_and_one_reply_rule_per_ending():
    """The core's results are recorded as they are; intake's own endings are another enum with
    no value in common, each with one reply rule."""
    from mailbot.core.effects import Result
    assert not {str(r) for r in Result} & {str(e) for e in Ending}
    assert set(DISPOSITIONS) == {str(r) for r in Result if r is not Result.IGNORED} | set(Ending)
    assert set(REPLIES) == set(Ending)
    assert all(REPLIES[e] is None for e in (Ending.BOUNCE, Ending.AUTO_REPLY, Ending.UNMATCHED,
                                            Ending.QUARANTINED))
    assert set(disposition.SHOWN_TO_OPERATORS) <= set(DISPOSITIONS)
    assert Ending.QUARANTINED in disposition.SHOWN_TO_OPERATORS
    assert not hasattr(disposition, "CORE") and not hasattr(intake, "DISPOSITIONS")


def test_intake_is_one_pipeline_that_owns_its_transaction_and_leaves_case_rules_to_the_core():
    """Named steps in order, one ``finish``; the service takes no callback into its transaction;
    intake names no case state (only an escalated case takes commands: a core rule)."""
    import inspect
    assert [s.__name__ for s in intake.STEPS] == [
        "parsed", "deduplicated", "bounce", "order_confirmation", "automatic", "author",
        "matched", "verified", "within_quota", "read", "not_a_loop", "decided"]
    assert "inbound" not in inspect.signature(service.handle).parameters
    assert "inbound" not in inspect.signature(service.settle).parameters
    source = inspect.getsource(intake)
    assert "CaseState" not in source and "ESCALATED" not in source
    assert source.count("inbox.finish(") == 1 and source.count("transaction(") == 1


def test_the_digest_names_every_ending_shown_to_operators(app):
    db = app.db()
    for d in disposition.SHOWN_TO_OPERATORS:
        inbox_id = inbox.store(db, b"Subject: x\r\n\r\nx", "a@x.example", [BARE], now())
        inbox.finish(db, inbox_id, d, now())
    out = digest.text(app, now(), timedelta(hours=1))
    assert "apart gezet" in out and "antwoord tegengehouden" in out
    assert not any(str(d) in out for d in disposition.SHOWN_TO_OPERATORS)  # words, not names


def test_merchant_insolvent_goes_through_the_one_door(box, caplog):
    import logging
    caplog.set_level(logging.INFO, logger="mailbot")
    open_case(box)
    assert service.declare_insolvent(box.app, "shop-nl", now()) == 1
    assert case(box)["escalation_reason"] == "merchant_insolvent"
    assert records.load(box.app.db(), records.order_id(box.app.db(), "shop-nl", "NL-1")
                        ).merchant_insolvent
    assert any(r.getMessage().startswith("case.escalated") for r in caplog.records)
    assert service.declare_insolvent(box.app, "shop-nl", now()) == 0  # idempotent


# --- issue 18: two workers, two copies of one mail ----------------------------------------------

def test_two_copies_of_one_click_in_two_workers_hands_act_once(box):
    """An MTA's retry after a lost reply stores a second copy; with two workers both copies may
    pass the dedupe step before either ends. Only the first to end acts: one case, one
    acknowledgement and one shop notice, and the second copy is recorded as a duplicate (it
    used to answer the buyer a second time: 121 mails for 60 clicks in the kill test)."""
    reminder = only(reminders(box), BUYER_NL)
    address = actions(reminder)["not_received"].split("?")[0].removeprefix("mailto:")
    raw = fresh_mail(BUYER_NL, "Nog steeds niets ontvangen.", address,
                     message_id="<retried@client.example>")
    box.worker.stop()  # the test plays both workers, step by step
    db = box.app.db()
    copies = [inbox.store(db, raw, BUYER_NL, [address], now()) for _ in range(2)]
    started = []
    for inbox_id in copies:  # both copies through every step before either ends
        inbox.begin(db, inbox_id, now())
        m = intake.Inbound(box.app, inbox.load(db, inbox_id), now())
        started.append((m, intake.run(m)))
    for m, end in started:
        intake.finish(m, end)
    assert dispositions(box.app)[-2:] == ["applied", "duplicate"]
    assert case(box)["state"] == "awaiting_merchant"
    mails = box.deliver()
    assert len(mails) == 2
    only(mails, BUYER_NL), only(mails, MERCHANT_NL)


# --- issue 16 §6: one delivery to two token addresses -------------------------------------------

def test_one_mail_to_two_token_addresses_is_applied_to_both(box):
    """An LMTP (or SMTP) transaction with two of our token addresses is a delivery to each
    (RFC 2033 §4.2): both orders are extended, and a retry of the same delivery is a duplicate."""
    second = insert_order(box.app, "NL-2", BUYER_NL)
    first_token = token_address(box.app, "buyer", action="extend")
    second_token = box.app.signer.address(Token("buyer", second, Action.EXTEND))
    raw = fresh_mail(BUYER_NL, "graag verlengen", first_token, message_id="<both@client.example>")
    box.send(raw, BUYER_NL, [first_token, second_token])
    box.wait_processed(2)
    assert dispositions(box.app) == ["applied", "applied"]
    assert status(box.app, "shop-nl", "NL-1")["protection"]["extended"] is True
    assert status(box.app, "shop-nl", "NL-2")["protection"]["extended"] is True
    box.send(raw, BUYER_NL, [first_token, second_token])
    assert box.last_disposition() == "duplicate"
