"""Per-recipient send state in the outbox: a relay that takes a mail for one recipient and refuses
another for now (4xx at RCPT) gets a later attempt for that one only, with the same Message-ID,
and the one who took it never gets it twice; a recipient refused for good (5xx) is dead alone."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller

from conftest import MERCHANTS, ORDERS, OPERATOR, free_port, make_config
from mailbot import imports, jobs, service, wiring
from mailbot.core.events import BuyerAction
from mailbot.core.model import Action
from mailbot.outbound.transport import RelayUnavailable, SmtpTransport
from mailbot.store import admin, records

INFO, SALES = "info@fietsen.example", "sales@fietsen.example"  # the Dutch shop's two addresses


class MoodyRelay:
    """A capturing relay on loopback: answers each RCPT of an address with the next of its
    ``refusals`` while there are any, then takes it; keeps every mail it took, per address."""

    def __init__(self, refusals: dict[str, list[str]]):
        self.refusals = {address: list(answers) for address, answers in refusals.items()}
        self.received: list[tuple[str, str]] = []  # (recipient, Message-ID)

    async def handle_RCPT(self, server, session, envelope, address, options):
        answers = self.refusals.get(address)
        if answers:
            return answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        message_id = email.message_from_bytes(envelope.content)["Message-ID"]
        self.received += [(address, message_id) for address in envelope.rcpt_tos]
        return "250 2.0.0 Ok: queued as 4F3A2B"

    def got(self, address: str) -> list[str]:
        """The Message-IDs ``address`` was given, in order."""
        return [m for a, m in self.received if a == address]


@pytest.fixture
def shop_mail(tmp_path):
    """Starts a relay with these refusals and an app that sends through it; queues one mail to
    both of the shop's addresses (a case opened) and returns (app, relay, outbox id, now)."""
    controllers, apps = [], []

    def start(refusals: dict[str, list[str]]):
        relay, port = MoodyRelay(refusals), free_port()
        controller = Controller(relay, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        app = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": port}))
        apps.append(app)
        (tmp_path / "m.csv").write_text(MERCHANTS)
        (tmp_path / "o.csv").write_text(ORDERS)
        imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
        imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
        now = datetime.now(timezone.utc)
        order_id = records.order_id(app.db(), "shop-nl", "NL-1")
        service.handle(app, order_id, BuyerAction(Action.NOT_RECEIVED, "Nooit gekregen.", ()),
                       now)
        outbox_id, recipients = app.db().execute(
            "SELECT id, recipients FROM outbox WHERE template = 'merchant.case_opened'"
        ).fetchone()
        assert recipients == f'["{INFO}", "{SALES}"]'
        return app, relay, outbox_id, now

    yield start
    for controller in controllers:
        controller.stop()
    for app in apps:
        app.close()


def row(app, outbox_id: int) -> tuple[str, bool]:
    """The row's status, and whether it is still in flight (due again)."""
    status, due_at = app.db().execute("SELECT status, due_at FROM outbox WHERE id = ?",
                                      [outbox_id]).fetchone()
    return status, due_at is not None


def per_recipient(app, outbox_id: int) -> dict[int, str]:
    return {r[0]: r[1] for r in app.db().execute(
        "SELECT idx, status FROM outbox_recipients WHERE outbox_id = ?", [outbox_id])}


def bounces(app) -> list[tuple[str, str]]:
    return [tuple(r) for r in app.db().execute("SELECT recipient, status FROM bounces")]


def operator_notices(app) -> list[str]:
    """The recipients named by each 'delivery failed' notice to the operators."""
    return [r[0] for r in app.db().execute(
        "SELECT raw FROM outbox WHERE template = 'operator.delivery_failed' ORDER BY id")]


@pytest.mark.parametrize("refused, taken", [(SALES, INFO), (INFO, SALES)])
def test_a_recipient_refused_for_now_is_retried_alone(shop_mail, refused, taken):
    app, relay, outbox_id, now = shop_mail({refused: ["451 4.2.0 Greylisted, try later"]})
    assert jobs.deliver(app, now)["retry"] == 1
    [message_id] = relay.got(taken)  # the other one took it at the first attempt
    assert relay.got(refused) == []
    assert row(app, outbox_id) == ("queued", True)
    taken_index = [INFO, SALES].index(taken)
    assert per_recipient(app, outbox_id) == {taken_index: "sent"}
    assert bounces(app) == [] and operator_notices(app) == []  # a refusal for now fails no one
    # Not again before its back-off...
    assert jobs.deliver(app, now)["retry"] == 0
    # ...then to the refused one only, the same mail.
    assert jobs.deliver(app, now + timedelta(minutes=5))["sent"] == 1
    assert relay.got(refused) == [message_id]
    assert relay.got(taken) == [message_id]
    assert row(app, outbox_id) == ("sent", False)
    assert per_recipient(app, outbox_id) == {taken_index: "sent", 1 - taken_index: "sent"}
    assert jobs.deliver(app, now + timedelta(hours=2)) == {"sent": 0, "retry": 0, "dead": 0}


def test_a_recipient_refused_for_good_is_dead_alone(shop_mail):
    app, relay, outbox_id, now = shop_mail({
        INFO: ["451 4.3.0 Try again later"],
        SALES: ["550 5.1.1 <sales@fietsen.example>: mailbox unavailable"]})
    jobs.deliver(app, now)
    assert relay.got(INFO) == relay.got(SALES) == []
    assert row(app, outbox_id) == ("queued", True)  # info@ may yet take it
    assert per_recipient(app, outbox_id) == {1: "dead"}
    assert bounces(app) == [(SALES, "5.1.1")]
    # The usual handling of a dead mail, for that recipient only: the operators are told.
    [notice] = operator_notices(app)
    assert SALES.encode() in notice and INFO.encode() not in notice
    # The relay's words as it wrote them: no Python dict or bytes repr reaches the operators.
    said = email.message_from_bytes(notice, policy=email.policy.default).get_body(("plain",))
    assert "550 5.1.1 <sales@fietsen.example>: mailbox unavailable" in said.get_content()
    assert "{" not in said.get_content() and "b'" not in said.get_content()
    assert [m[1] for m in relay.received if m[0] == OPERATOR]  # and the notice went out
    jobs.deliver(app, now + timedelta(minutes=5))
    assert len(relay.got(INFO)) == 1 and relay.got(SALES) == []  # never tried again
    assert row(app, outbox_id) == ("sent", False)
    assert per_recipient(app, outbox_id) == {0: "sent", 1: "dead"}
    assert len(operator_notices(app)) == 1


def test_past_the_retry_period_a_recipient_refused_for_now_is_given_up(shop_mail):
    app, relay, outbox_id, now = shop_mail({SALES: ["451 4.2.0 try later"] * 100})
    jobs.deliver(app, now)
    later = now + timedelta(hours=app.config.relay.retry_hours, minutes=1)
    jobs.deliver(app, later)
    assert row(app, outbox_id) == ("sent", False)  # info@ has it: not dead as a whole
    assert per_recipient(app, outbox_id) == {0: "sent", 1: "dead"}
    assert [b[0] for b in bounces(app)] == [SALES]
    [notice] = operator_notices(app)
    assert b"gave up retrying" in notice and SALES.encode() in notice
    assert len(relay.got(INFO)) == 1


def test_a_mail_dead_for_each_recipient_in_turn_is_resent_to_all(shop_mail):
    """Dead as a whole once the last recipient is refused for good; ``outbox resend`` then
    sends it to every recipient again."""
    app, relay, outbox_id, now = shop_mail({
        INFO: ["550 5.1.1 no such user"],
        SALES: ["451 4.3.0 later", "554 5.7.1 refused"]})
    jobs.deliver(app, now)
    assert row(app, outbox_id) == ("queued", True)
    jobs.deliver(app, now + timedelta(minutes=5))
    assert row(app, outbox_id) == ("dead", False)
    assert per_recipient(app, outbox_id) == {0: "dead", 1: "dead"}
    notices = operator_notices(app)
    assert len(notices) == 2  # each recipient named once, when it died
    assert INFO.encode() in notices[0] and SALES.encode() not in notices[0]
    assert SALES.encode() in notices[1] and INFO.encode() not in notices[1]
    assert admin.resend(app.db(), outbox_id, now)
    assert per_recipient(app, outbox_id) == {}
    jobs.deliver(app, now + timedelta(minutes=10))
    assert len(relay.got(INFO)) == len(relay.got(SALES)) == 1
    assert row(app, outbox_id) == ("sent", False)


@pytest.mark.e2e
def test_a_relay_that_hangs_up_is_not_asked_again_for_each_recipient():
    """Once the relay is unavailable the recipients not tried yet wait too: one connection, not
    one per recipient (a mail to many would knock on a dead relay many times per run)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def hang_up():  # takes each connection and closes it before any greeting
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()
    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        with SmtpTransport("127.0.0.1", server.getsockname()[1], "bot.example") as transport:
            results = transport.send_verp(lambda i: f"bot+{i}@bot.example",
                                          [(0, INFO), (1, SALES), (2, OPERATOR)], b"x\r\n")
    finally:
        server.close()
        thread.join(timeout=5)
    assert set(results) == {0, 1, 2}
    assert all(isinstance(error, RelayUnavailable) for error in results.values())
    assert len(accepted) == 1
