"""A party's words the bot answers instead of acting on (a question with no request, a shop's
form with a mistake, a mail to a protection that ended) are kept on the timeline with their documents' names, shown by ``mailbot case`` and in
the case file, and never applied as an event."""

from __future__ import annotations

import email.utils
import json
import zipfile
from email.message import EmailMessage

from conftest import actions, click, only, text, write_config
from mailbot import cli
from mailbot.inbound.disposition import WORDS_ANSWERED
from mailbot.store import records
from test_case_by_mail import case, open_case
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, reminders, status

PDF = b"%PDF-1.4 the shop's delivery note"


def write(box, msg, sender: str, body: str, attachments=(), to_address: str | None = None):
    """A reply to ``msg`` (or a new mail to ``to_address``) with documents."""
    answer = EmailMessage()
    answer["From"] = sender
    answer["To"] = to_address or msg["Reply-To"]
    answer["Subject"] = "Re: " + msg["Subject"] if msg is not None else "Vraag"
    if msg is not None:
        answer["In-Reply-To"] = msg["Message-ID"]
    answer["Message-ID"] = email.utils.make_msgid(domain="client.example")
    answer.set_content(body)
    for name, data in attachments:
        answer.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    box.send(answer, sender, [answer["To"]])


def words(app, shop="shop-nl", number="NL-1"):
    db = app.db()
    return [e for e in records.timeline(db, records.order_id(db, shop, number))
            if e["kind"] == WORDS_ANSWERED]


def test_a_question_with_no_request_is_kept_and_answered(box, tmp_path, capsys):
    reminder = only(reminders(box), BUYER_NL)
    before = status(box.app, "shop-nl", "NL-1")
    write(box, reminder, BUYER_NL, "Wanneer komt mijn fiets eigenlijk?",
          [("bestelling.pdf", b"%PDF-1.4 order")])
    answer = only(box.deliver(), BUYER_NL)
    assert box.last_disposition() == "not_open" and "not_received" in actions(answer)
    [kept] = words(box.app)
    assert (kept["actor"], kept["text"]) == ("buyer", "Wanneer komt mijn fiets eigenlijk?")
    assert [d.name for d in kept["attachments"]] == ["bestelling.pdf"]
    after = status(box.app, "shop-nl", "NL-1")
    assert after["protection"] == before["protection"] and after["case"] is None

    # The case opened later shows them, before its opening, in text and JSON.
    click(box, answer, "not_received", BUYER_NL, body="Nog steeds niets.")
    box.deliver()
    config = str(write_config(tmp_path, box.app.config))
    capsys.readouterr()
    assert cli.main(["--config", config, "case", str(case(box)["id"]), "--json"]) == 0
    timeline = json.loads(capsys.readouterr().out)["timeline"]
    kinds = [e["kind"] for e in timeline]
    assert kinds.index(WORDS_ANSWERED) < kinds.index("case.opened")
    assert timeline[kinds.index(WORDS_ANSWERED)]["attachments"] == ["bestelling.pdf"]
    assert cli.main(["--config", config, "case", str(case(box)["id"])]) == 0
    out = capsys.readouterr().out
    assert "Wanneer komt mijn fiets eigenlijk?" in out and "document: bestelling.pdf" in out
    # ... and the case file a party or a court gets.
    assert cli.main(["--config", config, "case", str(case(box)["id"]), "export",
                     str(tmp_path / "case.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "case.zip") as zf:
        exported = json.loads(zf.read("case.json"))
        page = zf.read("timeline.html").decode()
    assert any(m["kind"] == WORDS_ANSWERED and m["posted_by"] == "buyer"
               for m in exported["messages"])
    assert WORDS_ANSWERED in page and "Wanneer komt mijn fiets eigenlijk?" in page


def test_a_form_with_a_mistake_is_kept_and_its_document_still_reaches_the_buyer(box):
    _, merchant = open_case(box)
    before = case(box)
    write(box, merchant, MERCHANT_NL, "Terugbetaling: ja\nBedrag: 80,00\nToelichting: te veel",
          [("pakbon.pdf", PDF)])
    assert "hoger dan" in text(only(box.deliver(), MERCHANT_NL))
    [kept] = words(box.app)
    assert kept["actor"] == "merchant" and kept["text"].startswith("Terugbetaling: ja")
    assert [d.name for d in kept["attachments"]] == ["pakbon.pdf"]
    assert case(box)["state"] == before["state"] == "awaiting_merchant"
    assert case(box)["refund"] == before["refund"]
    # The document went to nobody with the bad form: sent again with a message, it is attached
    # to the buyer's mail, not named as one the buyer has already.
    write(box, merchant, MERCHANT_NL, "Hierbij de pakbon.", [("pakbon.pdf", PDF)])
    relayed = only(box.deliver(), BUYER_NL)
    assert [p.get_content() for p in relayed.iter_attachments()] == [PDF]


def test_a_mail_to_an_ended_protection_is_kept(box):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "all_fine", BUYER_NL)
    ended = only(box.deliver(), BUYER_NL)
    write(box, ended, BUYER_NL, "Toch nog een vraag over de bel.")
    only(box.deliver(), BUYER_NL)
    assert box.last_disposition() == "not_active"
    assert [(e["actor"], e["text"]) for e in words(box.app)] == [
        ("buyer", "Toch nog een vraag over de bel.")]
    assert status(box.app, "shop-nl", "NL-1")["protection"]["state"] == "ended"


def test_a_message_to_a_closed_case_is_kept(box):
    ack, merchant = open_case(box)
    click(box, ack, "withdraw", BUYER_NL)
    box.deliver()
    closed = dict(case(box), timeline=None)
    write(box, merchant, MERCHANT_NL, "Wij hebben het pakket opnieuw verstuurd.")
    only(box.deliver(), MERCHANT_NL)
    assert box.last_disposition() == "not_open"
    assert [(e["actor"], e["text"]) for e in words(box.app)] == [
        ("merchant", "Wij hebben het pakket opnieuw verstuurd.")]
    assert dict(case(box), timeline=None) == closed
