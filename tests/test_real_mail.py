"""Our own ``.eml`` files (``tests/mail/``, named by situation) over real SMTP: robots stay
unanswered, HTML and odd charsets are understood, attachments are screened, hostile content is
neutralised, and every mail ends in one named disposition."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from conftest import click, html, only, text, to
from mailbot import digest
from mailbot.tokens import Token
from test_case_by_mail import case
from test_protection_by_mail import BUYER_FR, BUYER_IT, BUYER_NL, MERCHANT_NL, now, reminders, \
    status

MAIL = Path(__file__).parent / "mail"


def send_eml(box, name, to_address, sender, in_reply_to=""):
    raw = (MAIL / name).read_bytes().replace(b"%TO%", to_address.encode())
    raw = raw.replace(b"%INREPLYTO%", in_reply_to.encode())
    raw = re.sub(rb"\r?\n", b"\r\n", raw)
    box.send(raw, sender, [to_address])
    return box.last_disposition()


def address(box, role, order="NL-1", shop="shop-nl", action=None):
    from mailbot.store import records
    order_id = records.order_id(box.app.db(), shop, order)
    return box.app.signer.address(Token(role, order_id, action))


def test_out_of_office_is_never_answered_nor_an_answer(box):
    reminders(box)
    assert send_eml(box, "out_of_office_headers_nl.eml", address(box, "buyer"),
                    BUYER_NL) == "auto_reply"
    assert box.deliver() == []
    assert status(box.app, "shop-nl", "NL-1")["case"] is None


def test_out_of_office_by_subject_never_counts_as_merchant_answer(box):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "not_received", BUYER_NL)
    box.deliver()
    assert send_eml(box, "out_of_office_subject_only_fr.eml", address(box, "merchant"),
                    MERCHANT_NL) == "auto_reply"
    assert box.deliver() == []
    assert case(box)["state"] == "awaiting_merchant"


def test_bounce_to_verp_marks_the_delivery_failed_and_shows_in_digest(box):
    reminders(box)
    db = box.app.db()
    outbox_id = db.execute("SELECT id FROM outbox WHERE recipients LIKE '%jan@%'").fetchone()[0]
    verp = box.app.signer.address(Token("bounce", outbox_id))
    assert send_eml(box, "bounce_dsn_to_verp.eml", verp, "") == "bounce"
    assert db.execute("SELECT status FROM outbox WHERE id = ?", [outbox_id]).fetchone()[0] \
        == "bounced"
    assert box.deliver() == []  # never answered
    assert f"nr. {outbox_id} " in digest.text(box.app, now(), timedelta(days=1))


def test_outlook_html_reply_with_quoted_form_records_only_the_new_answer(box):
    reminder = only(reminders(box), BUYER_FR)
    click(box, reminder, "no_refund", BUYER_FR)
    merchant = only(box.deliver(), "contact@rive.example")
    assert send_eml(box, "outlook_html_reply_merchant_fr.eml",
                    merchant["Reply-To"], "contact@rive.example",
                    merchant["Message-ID"]) == "applied"
    data = status(box.app, "shop-fr", "FR-1")["case"]
    assert (data["variant"], data["refund"]) == ("B", {"choice": "yes", "amount": "30.00"})


def test_gmail_html_only_free_text_opens_a_case_when_unambiguous(box):
    reminders(box)
    assert send_eml(box, "gmail_html_only_buyer_it.eml", address(box, "buyer", "IT-1", "shop-it"),
                    BUYER_IT) == "applied"
    data = status(box.app, "shop-it", "IT-1")["case"]
    assert data["reason"] == "not_received"
    opened = [e for e in data["timeline"] if e["kind"] == "case.opened"][0]
    assert "il pacco non è mai arrivato" in opened["text"]
    assert all("Tutto a posto" not in e["text"] for e in data["timeline"])


def test_unknown_charset_is_decoded_best_effort(box):
    reminders(box)
    assert send_eml(box, "wrong_charset_buyer_nl.eml", address(box, "buyer"), BUYER_NL) \
        == "applied"
    opened = [e for e in case(box)["timeline"] if e["kind"] == "case.opened"][0]
    assert "nooit aangekomen" in opened["text"]


def test_attachments_screened_and_hostile_html_neutralised(box):
    reminders(box)
    disposition = send_eml(box, "attachments_exe_pdf_logo.eml",
                           address(box, "buyer", action="not_received"), BUYER_NL)
    assert disposition == "applied"
    mails = box.deliver()
    merchant = only(mails, MERCHANT_NL)
    names = [p.get_filename() for p in merchant.iter_attachments()]
    assert names == ["bevestiging.pdf"]  # no path, no logo, no executable
    body = html(merchant)
    assert "<script" not in body and "javascript:" not in body and "onclick" not in body
    refused = [m for m in to(mails, BUYER_NL) if "factuur.pdf.exe" in text(m)]
    assert refused and "veiligheid" in text(refused[0])


def test_impostor_on_merchant_token_changes_nothing(box):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "not_received", BUYER_NL)
    merchant = only(box.deliver(), MERCHANT_NL)
    click(box, merchant, "refund_none", "evil@attacker.example",
          body="Terugbetaling: nee\nToelichting: ha")
    assert box.last_disposition() == "sender_mismatch"
    mails = box.deliver()
    assert to(mails, "evil@attacker.example") == [] and to(mails, MERCHANT_NL)
    assert case(box)["state"] == "awaiting_merchant"


def test_unmatched_mail_to_bare_address_is_recorded(box):
    raw = (b"From: someone@else.example\r\nTo: bot@bot.example\r\nSubject: hallo\r\n"
           b"Message-ID: <u-1@else.example>\r\n\r\nWie ben jij?\r\n")
    box.send(raw, "someone@else.example", ["bot@bot.example"])
    assert box.last_disposition() == "unmatched"
    assert box.deliver() == []
    assert "niet te koppelen aan een bestelling: 1" in digest.text(box.app, now(),
                                                                 timedelta(days=1))


def test_internal_error_answers_transient_451(box):
    import smtplib
    import sqlite3
    conn = sqlite3.connect(box.app.config.storage.database)
    conn.execute("ALTER TABLE inbox RENAME TO inbox_away")  # storing now fails
    conn.commit()
    try:
        with smtplib.SMTP("127.0.0.1", box.app.config.smtp.port) as smtp:
            smtp.ehlo()
            smtp.mail("a@x.example")
            smtp.rcpt("bot@bot.example")
            code, _ = smtp.data(b"Subject: x\r\n\r\nhello\r\n")
        assert code == 451
    finally:
        conn.execute("ALTER TABLE inbox_away RENAME TO inbox")
        conn.commit()
        conn.close()


def test_huge_header_is_recorded_not_parsed(box):
    raw = b"Subject: x\r\nX-Big: " + b"=?utf-8?q?" + b"a" * 100_000 + b"?=\r\n\r\nbody\r\n"
    box.send(raw, "a@x.example", ["bot@bot.example"])
    assert box.last_disposition() == "unparseable"


def test_smtputf8_sender_is_accepted(box):
    import smtplib
    raw = ("From: jürgen@exämple.de\r\nTo: bot@bot.example\r\nSubject: grüße\r\n"
           "Message-ID: <utf8-1@exämple.de>\r\n\r\nHallo\r\n").encode()
    with smtplib.SMTP("127.0.0.1", box.app.config.smtp.port) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("smtputf8")
        smtp.sendmail("jürgen@exämple.de", ["bot@bot.example"], raw,
                      mail_options=["SMTPUTF8"])
    box.wait_processed(1)
    assert box.last_disposition() == "unmatched"


def test_a_thousand_attachments_keep_ten_and_count_the_rest(box):
    from email.message import EmailMessage
    reminders(box)
    msg = EmailMessage()
    msg["From"], msg["To"] = BUYER_NL, address(box, "buyer", action="not_received")
    msg["Subject"], msg["Message-ID"] = "bijlagen", "<thousand@buyer.example>"
    msg.set_content("Zie bijlagen.")
    for i in range(1000):
        msg.add_attachment(f"%PDF-{i}".encode(), maintype="application", subtype="pdf",
                           filename=f"doc{i}.pdf")
    box.send(msg, BUYER_NL, [msg["To"]])
    assert box.last_disposition() == "applied"
    opened = [e for e in case(box)["timeline"] if e["kind"] == "case.opened"][0]
    assert len(opened["attachments"]) == 10
    # Parts beyond the parser's cap are never read; the notice names 20 and counts the rest.
    refused = [text(m) for m in to(box.deliver(), BUYER_NL) if "doc10.pdf" in text(m)]
    assert len(refused) == 1
    assert "doc29.pdf" in refused[0] and "doc30.pdf" not in refused[0]
    assert "(+970)" in refused[0]


def test_forged_mail_cannot_flood_the_real_party_with_confirmations(box):
    reminder = only(reminders(box), BUYER_NL)
    for _ in range(6):
        click(box, reminder, "all_fine", "forger@evil.example")
    assert box.last_disposition() == "sender_mismatch"
    assert len(to(box.deliver(), BUYER_NL)) == 1  # identical requests: one an hour (issue 16 §4)
    assert status(box.app, "shop-nl", "NL-1")["protection"]["state"] == "active"


def test_a_mobile_mail_without_its_boundary_keeps_the_buyers_words(box):
    """multipart/alternative whose boundary never appears: the words are read and acted on."""
    reminders(box)
    raw = (MAIL / "mobile_alternative_without_boundary_nl.eml").read_bytes()
    raw = raw.replace(b"%FROM%", BUYER_NL.encode()).replace(b"%TO%", address(box, "buyer").encode())
    box.send(re.sub(rb"\r?\n", b"\r\n", raw), BUYER_NL, [address(box, "buyer")])
    assert box.last_disposition() == "applied"
    from mailbot.store import records
    order_id = records.order_id(box.app.db(), "shop-nl", "NL-1")
    opened = [e for e in records.timeline(box.app.db(), order_id) if e["kind"] == "case.opened"]
    assert "drie weken" in opened[0]["text"] and "Verstuurd" not in opened[0]["text"]
