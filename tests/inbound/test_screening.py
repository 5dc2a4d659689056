"""Robots are told from people on real ``.eml`` files through the real intake path: complaint
reports and read receipts are never answered and never acted on, and bounce words in a buyer's
subject stay the buyer's words (issue 9 §5)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailbot import jobs
from mailbot.core.model import Action
from mailbot.inbound import inbox, intake, screening
from mailbot.inbound.parse import parse
from mailbot.store import records
from mailbot.tokens import Token

MAIL = Path(__file__).resolve().parents[1] / "mail"
BUYER = "jan@buyer.example"


def eml(name: str, **fields: str) -> bytes:
    raw = (MAIL / name).read_bytes()
    for key, value in fields.items():
        raw = raw.replace(f"%{key}%".encode(), value.encode())
    return re.sub(rb"\r?\n", b"\r\n", raw)


def process(app, raw: bytes, mail_from: str, to: str) -> str:
    now = datetime.now(timezone.utc)
    return intake.process(app, inbox.store(app.db(), raw, mail_from, [to], now), now)


def order_id(app) -> int:
    return records.order_id(app.db(), "shop-nl", "NL-1")


def outbox(app) -> list[tuple]:
    return app.db().execute("SELECT id, template, status FROM outbox ORDER BY id").fetchall()


def verp(app) -> tuple[int, str]:
    """A mail we queued (the reminders) and the return path it went out with."""
    jobs.tick(app, datetime.now(timezone.utc))
    row_id = outbox(app)[0][0]
    return row_id, app.signer.address(Token("bounce", row_id))


COMPLAINTS = [
    ("complaint_arf_feedback_report.eml", ""),  # ARF, null sender as many loops send it
    ("complaint_arf_feedback_report.eml", "fbl@isp.example"),
    ("complaint_ses_notification.eml", "complaints@email-abuse.amazonses.com"),
    ("complaint_hotmail_jmrp.eml", "staff@hotmail.com"),
    # Amazon SES's complaint notification by Amazon SNS mail (issue 16 §4).
    ("complaint_ses_sns_notification.eml", "0100018c-bounce@amazonses.com"),
]


@pytest.mark.parametrize("name, mail_from", COMPLAINTS)
def test_a_complaint_to_our_return_path_marks_nothing_and_sends_nothing(app, name, mail_from):
    row_id, address = verp(app)
    before = outbox(app)
    assert process(app, eml(name, TO=address), mail_from, address) == "auto_reply"
    assert outbox(app) == before  # still queued, not "bounced"; no mail added


@pytest.mark.parametrize("name, mail_from", COMPLAINTS)
def test_a_complaint_to_a_party_address_is_no_action_and_asks_nobody(app, name, mail_from):
    address = app.signer.address(Token("buyer", order_id(app), Action.WITHDRAW))
    assert process(app, eml(name, TO=address), mail_from, address) == "auto_reply"
    assert outbox(app) == []  # no confirmation request to the buyer either
    assert records.load(app.db(), order_id(app)).case is None


def test_a_read_receipt_is_automatic_mail_not_a_failed_delivery(app):
    _, address = verp(app)
    before = outbox(app)
    assert process(app, eml("read_receipt_mdn.eml", TO=address), "", address) == "auto_reply"
    assert outbox(app) == before


def test_a_delivery_report_to_our_return_path_still_marks_the_mail_bounced(app):
    row_id, address = verp(app)
    assert process(app, eml("bounce_dsn_to_verp.eml", TO=address), "", address) == "bounce"
    assert dict((r[0], r[2]) for r in outbox(app))[row_id] == "bounced"


@pytest.mark.parametrize("subject", [
    "Niet afgeleverd", "Non remis", "Undelivered parcel", "Unzustellbar: Paket",
    "Returned mail: the shop sent it back", "Delivery failure of my order",
    # Out-of-office words inside a subject are anyone's words (issue 16 §4).
    "Niet ontvangen (Surf Shop On Vacation)", "Re: pakket kwam toen ik on vacation was",
])
def test_bounce_words_in_a_buyers_subject_are_the_buyers_words(app, subject):
    address = app.signer.address(Token("buyer", order_id(app), Action.NOT_RECEIVED))
    raw = eml("buyer_subject_undelivered.eml", TO=address, FROM=BUYER, SUBJECT=subject,
              MSGID=str(abs(hash(subject))))
    assert process(app, raw, BUYER, address) == "applied"
    opened = [e for e in records.timeline(app.db(), order_id(app)) if e["kind"] == "case.opened"]
    assert "niets gekregen" in opened[0]["text"]


@pytest.mark.parametrize("mail_from, sender", [
    ("", BUYER),  # the null sender: what MTAs send bounces from (RFC 5321 §4.5.5)
    ("MAILER-DAEMON@mx.buyer.example", "Mail Delivery System <MAILER-DAEMON@mx.buyer.example>"),
    ("bounces@mx.buyer.example", "Mail Delivery System <postmaster@mx.buyer.example>"),
])
def test_the_same_subject_from_a_mail_system_is_a_bounce(app, mail_from, sender):
    address = app.signer.address(Token("buyer", order_id(app), Action.NOT_RECEIVED))
    raw = eml("buyer_subject_undelivered.eml", TO=address, FROM=sender,
              SUBJECT="Niet afgeleverd", MSGID="daemon")
    assert process(app, raw, mail_from, address) == "bounce"
    assert records.load(app.db(), order_id(app)).case is None


def test_a_party_registered_as_postmaster_is_read_as_a_person(app):
    """RFC 5321 §4.5.1: postmaster@ is a mailbox people write from (issue 16 §4)."""
    db = app.db()
    db.execute("UPDATE orders SET buyer_email = 'postmaster@buyer.example' WHERE id = ?",
               [order_id(app)])
    db.conn.commit()
    address = app.signer.address(Token("buyer", order_id(app), Action.NOT_RECEIVED))
    raw = eml("buyer_subject_undelivered.eml", TO=address, FROM="postmaster@buyer.example",
              SUBJECT="Bestelling NL-1", MSGID="postmaster")
    assert process(app, raw, "postmaster@buyer.example", address) == "applied"
    assert records.load(app.db(), order_id(app)).case is not None


@pytest.mark.parametrize("sender, subject, bounce", [
    ('"Postmaster" <postmaster@mx.example>', "Undeliverable Mail", True),
    ("postmaster@mx.example", "Delivery Status Notification (Failure)", True),
    ("postmaster@shop.example", "Re: Undeliverable parcel", False),
    ("postmaster@shop.example", "Bestelling NL-1", False),
])
def test_postmaster_is_a_mail_system_only_with_a_failure_subject(sender, subject, bounce):
    mail = parse(f"From: {sender}\r\nSubject: {subject}\r\n\r\nx\r\n".encode())
    assert screening.is_bounce(sender, mail.headers, mail.subject) is bounce


@pytest.mark.parametrize("content_type, bounce, automatic", [
    ("multipart/report; report-type=delivery-status; boundary=x", True, False),
    ("multipart/report; boundary=x", True, False),  # no report type: still a report
    ("multipart/report; report-type=feedback-report; boundary=x", False, True),
    ("multipart/report; report-type=\"Feedback-Report\"; boundary=x", False, True),
    ("multipart/report; report-type=disposition-notification; boundary=x", False, True),
    ("multipart/mixed; boundary=x", False, False),
])
def test_report_types(content_type, bounce, automatic):
    mail = parse(f"From: a@b.example\r\nContent-Type: {content_type}\r\n\r\n--x--\r\n".encode())
    assert screening.is_bounce("a@b.example", mail.headers, mail.subject) is bounce
    assert screening.is_auto_reply(mail.headers, mail.subject) is automatic


@pytest.mark.parametrize("header", [
    "X-HmXmrOriginalRecipient: <jan@buyer.example>", "X-Loop: scomp",
    "From: complaints@us-west-2.email-abuse.amazonses.com",
    "From: AWS Notifications <no-reply@sns.amazonaws.com>", "Feedback-Type: abuse",
])
def test_complaint_markers_in_the_headers(header):
    mail = parse(f"{header}\r\nSubject: hallo\r\n\r\nx\r\n".encode())
    assert screening.is_complaint(mail.headers)
    assert not screening.is_bounce("x@y.example", mail.headers, mail.subject)


def test_a_buyer_from_hotmail_is_no_complaint():
    mail = parse(b"From: jan@hotmail.com\r\nSubject: complaint about my parcel\r\n\r\nx\r\n")
    assert not screening.is_complaint(mail.headers)
    assert not screening.is_auto_reply(mail.headers, mail.subject)
