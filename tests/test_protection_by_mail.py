"""SPEC §2 driven end to end: real mail over SMTP on loopback, results read from the Maildir and
``status --json``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from conftest import OPERATOR, actions, click, only, reply, text, to
from mailbot import jobs, views
from mailbot.store import records

BUYER_NL, BUYER_FR, BUYER_IT = "jan@buyer.example", "marie@buyer.example", "luca@buyer.example"
MERCHANT_NL = "info@fietsen.example"


def now():
    return datetime.now(timezone.utc)


def status(app, shop, number):
    db = app.db()
    return json.loads(json.dumps(views.status_json(
        db, records.load(db, records.order_id(db, shop, number)), app.tz)))


def reminders(box):
    jobs.tick(box.app, now())
    return box.deliver()


def test_reminders_go_out_in_each_language_with_five_actions(box):
    mails = reminders(box)
    assert len(mails) == 3
    subjects = {m["To"]: m["Subject"] for m in mails}
    assert "bestelling NL-1" in subjects[BUYER_NL]
    assert "commande FR-1" in subjects[BUYER_FR]
    assert "ordine IT-1" in subjects[BUYER_IT]
    for m in mails:
        assert set(actions(m)) == {"all_fine", "not_received", "no_refund", "extend", "other"}
        assert m["Auto-Submitted"] == "auto-generated"
        assert m["Reply-To"].startswith("bot+") and m["Reply-To"].endswith("@bot.example")
        assert m["Content-Language"] in ("nl", "fr", "it")
        assert m["Return-Path"].startswith("<bot+")
        for href in actions(m).values():
            assert href in text(m)  # the text part lists the same links
    assert "€\xa049,95" in text(only(mails, BUYER_NL))
    assert "120,00\u202f€" in text(only(mails, BUYER_FR)) or "120,00\xa0€" in text(
        only(mails, BUYER_FR))
    assert status(box.app, "shop-nl", "NL-1")["protection"]["reminder_sent"] is True
    # Ticking again sends nothing twice.
    jobs.tick(box.app, now())
    assert box.deliver() == []


def test_all_fine_ends_the_protection(box):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "all_fine", BUYER_NL)
    assert box.last_disposition() == "applied"
    answer = only(box.deliver(), BUYER_NL)
    assert "beëindigd" in answer["Subject"]
    assert status(box.app, "shop-nl", "NL-1")["protection"]["state"] == "ended"
    # Any later action gets the polite "no longer active" answer and changes nothing.
    click(box, reminder, "not_received", BUYER_NL)
    later = only(box.deliver(), BUYER_NL)
    assert "niet meer actief" in later["Subject"]
    assert status(box.app, "shop-nl", "NL-1")["case"] is None


def test_extend_plus_once_then_refused(box):
    reminder = only(reminders(box), BUYER_NL)
    before = status(box.app, "shop-nl", "NL-1")["protection"]["ends_at"]
    click(box, reminder, "extend", BUYER_NL)
    confirmation = only(box.deliver(), BUYER_NL)
    after = status(box.app, "shop-nl", "NL-1")["protection"]
    assert after["extended"] is True and after["reminder_sent"] is False
    old_end, new_end = (datetime.fromisoformat(t).astimezone(box.app.tz)
                        for t in (before, after["ends_at"]))
    # 30 calendar days later, still the end (23:59:59) of the stated day.
    assert (new_end.date() - old_end.date(), new_end.time()) == (timedelta(days=30),
                                                                 old_end.time())
    assert "verlengd" in text(confirmation)
    assert "extend" not in actions(confirmation)  # it can be extended only once
    click(box, reminder, "extend", BUYER_NL)
    refusal = only(box.deliver(), BUYER_NL)
    assert "één keer" in text(refusal)
    assert status(box.app, "shop-nl", "NL-1")["protection"]["ends_at"] == after["ends_at"]


def test_extend_on_basic_plan_points_to_plus(box):
    reminder = only(reminders(box), BUYER_FR)
    click(box, reminder, "extend", BUYER_FR)
    answer = only(box.deliver(), BUYER_FR)
    assert "PLUS" in answer["Subject"]
    assert box.app.config.bot.upgrade_url in text(answer)
    assert status(box.app, "shop-fr", "FR-1")["protection"]["extended"] is False


def test_other_request_is_forwarded_to_operators(box):
    reminder = only(reminders(box), BUYER_IT)
    click(box, reminder, "other", BUYER_IT, body="Posso cambiare l'indirizzo di consegna?",
          attachments=[("foto.jpg", "image/jpeg", b"\xff\xd8 fake jpeg")])
    mails = box.deliver()
    forward = only(mails, OPERATOR)
    assert "cambiare l'indirizzo" in text(forward)
    assert "foto.jpg" in text(forward)
    assert any(p.get_filename() == "foto.jpg" for p in forward.iter_attachments())
    assert "ricevuto la tua richiesta" in only(mails, BUYER_IT)["Subject"]
    assert status(box.app, "shop-it", "IT-1")["protection"]["state"] == "active"


def test_not_received_opens_a_case_and_tells_every_merchant_address(box):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "not_received", BUYER_NL, body="Het pakket is nooit gekomen.",
          attachments=[("bevestiging.pdf", "application/pdf", b"%PDF-1.4 order")])
    mails = box.deliver()
    ack = only(mails, BUYER_NL)
    assert set(actions(ack)) == {"withdraw"}
    merchant = only(mails, MERCHANT_NL)
    assert "sales@fietsen.example" in merchant["To"]
    body = text(merchant)
    for fact in ("NL-1", "€\xa049,95", BUYER_NL, "Het pakket is nooit gekomen."):
        assert fact in body
    assert set(actions(merchant)) == {"refund_full", "refund_after_return", "refund_none"}
    assert [p.get_filename() for p in merchant.iter_attachments()] == ["bevestiging.pdf"]
    data = status(box.app, "shop-nl", "NL-1")
    assert data["protection"]["state"] == "in_case"
    case = data["case"]
    assert case["state"] == "awaiting_merchant" and case["reason"] == "not_received"
    assert case["merchant_due"] is not None
    opened = [e for e in case["timeline"] if e["kind"] == "case.opened"]
    assert opened[0]["attachments"] == ["bevestiging.pdf"]
    assert opened[0]["actor"] == "buyer" and "nooit gekomen" in opened[0]["text"]
    # A second click on the reminder is not open: one case per order.
    click(box, reminder, "no_refund", BUYER_NL)
    not_open = only(box.deliver(), BUYER_NL)
    assert set(actions(not_open)) == {"withdraw"}
    assert status(box.app, "shop-nl", "NL-1")["case"]["reason"] == "not_received"


def test_plain_reply_without_action_gets_the_open_actions(box):
    reminder = only(reminders(box), BUYER_FR)
    reply(box, reminder, BUYER_FR, "Bonjour, je ne sais pas trop.")
    answer = only(box.deliver(), BUYER_FR)
    assert set(actions(answer)) == {"all_fine", "not_received", "no_refund", "extend", "other"}
    assert status(box.app, "shop-fr", "FR-1")["protection"]["state"] == "active"


def test_reply_to_bare_address_matched_by_thread_headers(box):
    reminder = only(reminders(box), BUYER_FR)
    reply(box, reminder, BUYER_FR, "Bonjour", to_address="bot@bot.example")
    assert box.last_disposition() == "not_open"
    assert to(box.deliver(), BUYER_FR)


def test_wrong_sender_is_held_and_the_registered_address_asked(box):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "all_fine", "impostor@evil.example")
    assert box.last_disposition() == "sender_mismatch"
    mails = box.deliver()
    assert to(mails, "impostor@evil.example") == []
    confirm = only(mails, BUYER_NL)
    assert set(actions(confirm)) == {"all_fine"}
    assert status(box.app, "shop-nl", "NL-1")["protection"]["state"] == "active"


def test_same_message_id_is_applied_once(box):
    reminder = only(reminders(box), BUYER_NL)
    href = actions(reminder)["extend"]
    address = href[len("mailto:"):].split("?")[0]
    raw = (f"From: {BUYER_NL}\r\nTo: {address}\r\nSubject: x\r\n"
           f"Message-ID: <same-1@client.example>\r\n\r\nverleng\r\n").encode()
    box.send(raw, BUYER_NL, [address])
    box.send(raw, BUYER_NL, [address])
    assert box.last_disposition() == "duplicate"
    assert len(box.deliver()) == 1


def test_expiry_timer_expires_without_mail(box):
    jobs.tick(box.app, now() + timedelta(days=8))
    data = status(box.app, "shop-it", "IT-1")
    assert data["protection"]["state"] == "expired"
    assert box.deliver() == []  # past the end: no reminder, no expiry mail, for anyone
