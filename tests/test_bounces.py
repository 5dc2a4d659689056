"""Delivery reports: only ``Action: failed`` fails a recipient (RFC 3464), one VERP address per
recipient, forwarded reports without VERP only when they quote our Message-ID."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from aiosmtpd.controller import Controller

from conftest import MERCHANTS, ORDERS, click, free_port, make_config, only
from mailbot import digest, imports, jobs, service, wiring
from mailbot.core.events import BuyerAction
from mailbot.core.model import Action
from mailbot.inbound.bounces import REPORT_BYTES, read
from mailbot.outbound.return_path import return_path
from mailbot.store import records
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, now, reminders


def dsn(to: str, recipient: str, action: str, status: str, quoted_id: str = "") -> bytes:
    quoted = (f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {quoted_id}\r\n"
              "Subject: x\r\n\r\n") if quoted_id else ""
    return (f"From: Mail Delivery System <MAILER-DAEMON@mx.fietsen.example>\r\nTo: {to}\r\n"
            "Subject: Delivery Status Notification\r\nMessage-ID: <dsn-" + uuid.uuid4().hex +
            "@mx.fietsen.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
            "report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: "
            "text/plain\r\n\r\nReport.\r\n\r\n--b1\r\nContent-Type: message/delivery-status\r\n"
            "\r\nReporting-MTA: dns; mx.fietsen.example\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; {status} mailbox says no\r\n\r\n{quoted}--b1--\r\n").encode()


def merchant_mail(box):
    click(box, only(reminders(box), BUYER_NL), "not_received", BUYER_NL)
    box.deliver()
    row = box.app.db().execute("SELECT id, recipients, message_id FROM outbox "
                               "WHERE template = 'merchant.case_opened'").fetchone()
    return row[0], json.loads(row[1]), row[2]


def state(box, outbox_id):
    db = box.app.db()
    return (db.execute("SELECT status FROM outbox WHERE id = ?", [outbox_id]).fetchone()[0],
            [tuple(r) for r in db.execute("SELECT recipient, action FROM bounces ORDER BY id")])


def test_delay_reports_change_nothing_and_a_failure_fails_only_its_recipient(box):
    outbox_id, recipients, _ = merchant_mail(box)
    assert recipients == [MERCHANT_NL, "sales@fietsen.example"]
    second = return_path(box.app.signer, outbox_id, 1)
    box.send(dsn(second, "sales@fietsen.example", "delayed", "4.2.2"), "", [second])
    assert box.last_disposition() == "bounce"
    assert state(box, outbox_id) == ("sent", [("sales@fietsen.example", "delayed")])
    box.send(dsn(second, "whoever@else.example", "failed", "5.1.1"), "", [second])
    # The VERP address names the recipient, whatever the report claims.
    assert state(box, outbox_id) == ("sent", [("sales@fietsen.example", "delayed"),
                                              ("sales@fietsen.example", "failed")])
    first = return_path(box.app.signer, outbox_id, 0)
    box.send(dsn(first, MERCHANT_NL, "relayed", "2.0.0"), "", [first])
    assert state(box, outbox_id)[0] == "sent"
    box.send(dsn(first, MERCHANT_NL, "failed", "5.2.1"), "", [first])
    assert state(box, outbox_id)[0] == "bounced"  # every recipient failed now
    assert box.deliver() == []  # reports are never answered

    text = digest.text(box.app, now(), timedelta(days=1))
    # The digest's block for the address (one line per field).
    line = [b for b in text.split("\n\n") if "- Adres: sales@fietsen.example" in b][0]
    assert "NL-1" in line and "5.1.1" in line  # address, order, case, cause: no raw codes
    timeline = box.app.db().execute("SELECT text FROM timeline WHERE kind = 'delivery.failed'"
                                    ).fetchall()
    assert [t[0].split(" ")[0] for t in timeline] == ["sales@fietsen.example", MERCHANT_NL]


def test_a_report_without_verp_counts_only_with_our_message_id(box):
    outbox_id, _, message_id = merchant_mail(box)
    box.send(dsn("bot@bot.example", "sales@fietsen.example", "failed", "5.1.1",
                 "<guessed@bot.example>"), "", ["bot@bot.example"])
    box.send(dsn("bot@bot.example", "someone@else.example", "failed", "5.1.1", message_id),
             "", ["bot@bot.example"])
    assert state(box, outbox_id) == ("sent", [])
    box.send(dsn("bot@bot.example", "sales@fietsen.example", "failed", "5.1.1", message_id),
             "", ["bot@bot.example"])
    assert state(box, outbox_id) == ("sent", [("sales@fietsen.example", "failed")])


class PickyRelay:
    """Takes the mail for everyone but one address, refused for good at RCPT."""

    def __init__(self):
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address == "sales@fietsen.example":
            return "550 5.1.1 <sales@fietsen.example>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, envelope.rcpt_tos))
        return "250 OK"


def test_a_recipient_the_relay_refuses_is_failed_like_a_bounce(tmp_path):
    relay, port = PickyRelay(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    app = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": port}))
    (tmp_path / "m.csv").write_text(MERCHANTS)
    (tmp_path / "o.csv").write_text(ORDERS)
    imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
    imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
    db = app.db()
    try:
        order_id = records.order_id(db, "shop-nl", "NL-1")
        # A case opened: the merchant is told at both addresses.
        service.handle(app, order_id, BuyerAction(Action.NOT_RECEIVED, "Nooit gekregen.", ()),
                       now())
        jobs.deliver(app, now())
    finally:
        controller.stop()
    outbox_id, status = db.execute("SELECT id, status FROM outbox "
                                   "WHERE template = 'merchant.case_opened'").fetchone()
    assert status == "sent"
    assert (return_path(app.signer, outbox_id, 0), [MERCHANT_NL]) in relay.received
    assert [tuple(r) for r in db.execute("SELECT recipient, action, status FROM bounces")] \
        == [("sales@fietsen.example", "failed", "5.1.1")]
    assert "sales@fietsen.example" in digest.text(app, now(), timedelta(days=1))
    app.close()


def test_a_report_is_read_from_its_start_only(box):
    """A stranger's null-sender mail costs bounded work: the report and the returned headers come
    first (RFC 3464), and nothing past ``REPORT_BYTES`` is parsed."""
    outbox_id, recipients, _ = merchant_mail(box)
    first = return_path(box.app.signer, outbox_id, 0)
    parts = b"".join(b"--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(4_000))
    report = dsn(first, recipients[0], "failed", "5.1.1")
    box.send(report.replace(b"--b1--\r\n", parts + b"--b1--\r\n"), "", [first])
    assert box.last_disposition() == "bounce"
    assert state(box, outbox_id)[1] == [(recipients[0].lower(), "failed")]
    # The same report behind filler that reaches past REPORT_BYTES is not read: no failure.
    intro = b"--b1\r\nContent-Type: text/plain\r\n\r\nReport."
    filler = b"--b1\r\nContent-Type: text/plain\r\n\r\n" + b"y" * REPORT_BYTES + b"\r\n"
    late = dsn(first, recipients[0], "failed", "5.1.2").replace(intro, filler + intro)
    assert [r.action for r in read(box.app.db(), box.app.signer, [first], late)] == ["unknown"]
    assert read(box.app.db(), box.app.signer, [first], report)[0].action == "failed"
