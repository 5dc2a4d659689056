"""Loops, floods and storage (issue 16 §2) and answers owed to every verified party (§4), by mail
through the real listener: relays are capped per order and the operators told once, the same
words relayed back and forth stop, a document goes to the other party once, an order's storage
has a quota with an answer in the sender's language, identical answers are identical mails, and
mail that failed the checks never uses what a registered party is owed."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from conftest import (
    MERCHANTS, OPERATOR, ORDERS, Mailbox, click, make_config, only, reply, text, to,
)
from mailbot import imports, wiring
from mailbot.inbound import inbox
from test_case_by_mail import open_case
from test_intake import BARE, dispositions, fresh_mail
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, reminders

PDF = b"%PDF-1.4\n" + b"0" * 4000 + b"\n%%EOF\n"


@pytest.fixture
def started(tmp_path):
    """Starts a box whose app has the given config sections; stops it after the test."""
    boxes = []

    def start(**sections) -> Mailbox:
        app = wiring.build(make_config(tmp_path, **sections))
        (tmp_path / "m.csv").write_text(MERCHANTS)
        (tmp_path / "o.csv").write_text(ORDERS)
        imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
        imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
        boxes.append(Mailbox(app))
        boxes[-1].start()
        return boxes[-1]

    yield start
    for box in boxes:
        box.stop()
        box.app.close()


def templates(box) -> list[str]:
    return [r[0] for r in box.app.db().execute("SELECT template FROM outbox ORDER BY id")]


# --- §2: relays are answers too -------------------------------------------------------------

def test_relays_are_capped_per_order_and_the_operators_told_once(started):
    limited = started(limits={"relays_per_order_per_hour": 3})
    buyer_ack, _ = open_case(limited)
    for i in range(6):
        reply(limited, buyer_ack, BUYER_NL, f"Bericht {i}: waar blijft mijn fiets?")
    assert dispositions(limited.app)[-6:] == ["applied"] * 6  # every message is on the case
    mails = limited.deliver()
    relayed = to(mails, MERCHANT_NL)
    assert len(relayed) == 3
    told = only(mails, OPERATOR)
    assert told["Subject"].startswith("Berichten tegengehouden · Fietsen BV · ") and "NL-1" in text(told)
    assert templates(limited).count("operator.relays_held") == 1  # once, not per held relay
    held = limited.app.db().execute("SELECT detail FROM inbox ORDER BY id DESC").fetchone()[0]
    assert "merchant.message_relayed (relay cap of the order)" in held
    texts = [e[0] for e in limited.app.db().execute(
        "SELECT text FROM timeline WHERE kind = 'message' ORDER BY id")]
    assert len(texts) == 6 and texts[-1].startswith("Bericht 5")  # kept in the case file


def test_other_requests_to_the_operators_are_capped(started):
    limited = started(limits={"relays_per_order_per_hour": 2})
    reminder = only(reminders(limited), BUYER_NL)
    for i in range(4):
        click(limited, reminder, "other", BUYER_NL, body=f"Vraag {i}: kan de bel anders?")
    assert dispositions(limited.app) == ["applied"] * 4
    assert templates(limited).count("operator.other_request") == 2
    assert templates(limited).count("operator.relays_held") == 1


def test_the_same_words_relayed_back_and_forth_stop(box):
    """Two vacation responders that ignore RFC 3834 and carry no robot header: each one's second
    identical note is not relayed again, so the loop ends after one round."""
    buyer_ack, merchant_mail = open_case(box)
    away_buyer = "Ik ben afwezig tot 3 juni en lees mijn mail niet."
    away_shop = "Bedankt voor uw bericht. Wij antwoorden binnen vijf werkdagen."
    for _ in range(3):
        reply(box, buyer_ack, BUYER_NL, away_buyer, quote=False)
        reply(box, merchant_mail, MERCHANT_NL, away_shop, quote=False)
    assert dispositions(box.app)[-6:] == ["applied", "applied"] + ["auto_reply"] * 4
    mails = box.deliver()
    assert len([m for m in to(mails, MERCHANT_NL) if away_buyer in text(m)]) == 1
    assert len([m for m in to(mails, BUYER_NL) if away_shop in text(m)]) == 1
    reply(box, buyer_ack, BUYER_NL, "Toch nog een vraag: is het pakket verzonden?", quote=False)
    assert box.last_disposition() == "applied"  # a person's new words still go through


@pytest.mark.parametrize("header, value", [
    ("X-Autorespond", "yes"), ("X-Autoreply", "yes"), ("Precedence", "auto_reply"),
    ("Precedence", "bulk"), ("Precedence", "junk"), ("Subject", "Automatisch antwoord: afwezig")])
def test_automatic_mail_without_auto_submitted_is_never_relayed(box, header, value):
    buyer_ack, _ = open_case(box)
    msg = EmailMessage()
    msg["From"], msg["To"] = BUYER_NL, buyer_ack["Reply-To"]
    msg["Subject"] = "Re: " + buyer_ack["Subject"]
    msg["Message-ID"] = email.utils.make_msgid(domain="client.example")
    del msg[header]
    msg[header] = value
    msg.set_content("Ik ben tot maandag niet bereikbaar.")
    box.send(msg, BUYER_NL, [buyer_ack["Reply-To"]])
    assert box.last_disposition() == "auto_reply"
    assert to(box.deliver(), MERCHANT_NL) == []


def test_a_document_is_attached_once_and_named_afterwards(box):
    buyer_ack, _ = open_case(box)
    for i in range(3):
        msg = EmailMessage()
        msg["From"], msg["To"] = BUYER_NL, buyer_ack["Reply-To"]
        msg["Subject"] = "Re: " + buyer_ack["Subject"]
        msg["Message-ID"] = email.utils.make_msgid(domain="client.example")
        msg.set_content(f"Bericht {i}: hierbij de bon nog eens.")
        msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="bon.pdf")
        box.send(msg, BUYER_NL, [buyer_ack["Reply-To"]])
    relayed = to(box.deliver(), MERCHANT_NL)
    assert len(relayed) == 3
    attached = [[p.get_filename() for p in m.iter_attachments()] for m in relayed]
    assert attached == [["bon.pdf"], [], []]
    assert "bon.pdf" in text(relayed[2]) and "niet opnieuw bijgevoegd" in text(relayed[2])


def test_an_orders_storage_quota_is_answered_in_the_senders_language(started):
    limited = started(limits={"storage_per_order_mb": 1}, smtp={"max_message_size": 2_000_000})
    buyer_ack, _ = open_case(limited)
    sizes = []
    for i in range(3):
        msg = EmailMessage()
        msg["From"], msg["To"] = BUYER_NL, buyer_ack["Reply-To"]
        msg["Subject"] = "Re: " + buyer_ack["Subject"]
        msg["Message-ID"] = email.utils.make_msgid(domain="client.example")
        msg.set_content(f"Foto {i} van het lege pakket.")
        msg.add_attachment(b"%PDF-1.4\n" + bytes([48 + i]) * 300_000, maintype="application",
                           subtype="pdf", filename=f"foto-{i}.pdf")
        limited.send(msg, BUYER_NL, [buyer_ack["Reply-To"]])
        sizes.append(len(msg.as_bytes()))
    assert dispositions(limited.app)[-3:] == ["applied", "applied", "over_quota"]
    answer = only([m for m in to(limited.deliver(), BUYER_NL) if "bewaard" in m["Subject"]],
                  BUYER_NL)
    assert answer["Subject"] == "Je e-mail is niet bewaard · bestelling NL-1"
    assert "1\u00a0MB" in text(answer)  # no-break: one line on a phone
    last = inbox.load(limited.app.db(), dispositions(limited.app).index("over_quota") + 1)
    assert len(last["raw"]) < 2_000 and b"Foto 2" not in last["raw"]  # the body is not kept


# --- §4: answers -------------------------------------------------------------------------------

def test_identical_answers_are_the_same_mail_not_the_same_template(box):
    """A merchant's second form with a *different* mistake is answered; the same mistake twice
    in an hour is not."""
    _, merchant = open_case(box)
    reply(box, merchant, MERCHANT_NL, "Terugbetaling: ja\nBedrag: 49,95\nToelichting:",
          quote=False)
    reply(box, merchant, MERCHANT_NL, "Terugbetaling: ja\nBedrag: 80,00\nToelichting: sorry",
          quote=False)
    reply(box, merchant, MERCHANT_NL, "Terugbetaling: ja\nBedrag: 80,00\nToelichting: sorry",
          quote=False)
    assert dispositions(box.app)[-3:] == ["bad_form", "bad_form", "rate_limited"]
    answers = to(box.deliver(), MERCHANT_NL)
    assert len(answers) == 2 and text(answers[0]) != text(answers[1])


def test_a_forgery_to_the_bare_address_never_uses_the_buyers_answer(started):
    limited = started(inbound={"authserv_id": "mx.bot.example"})
    def to_bare(result):
        msg = email.message_from_bytes(fresh_mail(BUYER_NL, "Wat kan ik doen?"),
                                       policy=email.policy.SMTP)
        msg["Authentication-Results"] = f"mx.bot.example; dmarc={result} header.from=buyer.example"
        limited.send(msg, BUYER_NL, [BARE])

    to_bare("fail")
    to_bare("pass")
    assert dispositions(limited.app) == ["unmatched", "orders_offered"]
    assert only(limited.deliver(), BUYER_NL)["Subject"].count("NL-1") == 1
