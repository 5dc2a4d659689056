"""An operator can act from the mail alone (issue 20, review C): a command not carried out comes
back quoted, with a link to send it again that keeps what was typed, only the missing or refused
field left to fix; ``resend N`` and ``release N`` by mail, from operators only; a held relay
quoted. Driven through the real flow (SMTP in, the intake worker, the relay's Maildir).
"""

from __future__ import annotations

import dataclasses
import email.utils
import re
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import OPERATOR, click, html, only, reply, text, to, write_config
from mailbot import cli
from mailbot.store import records
from mailbot.tokens import Token
from test_case_by_mail import case, open_case
from test_loops_and_answers import started  # noqa: F401 (a fixture)
from test_operators_mail import escalated, failed_decision, operator_samples
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, reminders

# What the answer says, per operators' language: quoted back, the retry's amount.
SAID = {
    "nl": {"wrote": "Wat je schreef:", "missing": "vul het ontbrekende bericht in",
           "bound": "dat staat op het hoogste bedrag waarover je kunt besluiten, €\xa049,95",
           "removed": "behalve het bedrag, dat leeg is gelaten", "amount": "€\xa049,95",
           "decision": "Je besluit “decide compensated” voor case"},
    "fr": {"wrote": "Ce que vous avez écrit\u202f:", "missing": "ajoutez le message manquant",
           "bound": "il est fixé au maximum possible, 49,95\xa0€",
           "removed": "sauf le montant, laissé vide", "amount": "49,95\xa0€",
           "decision": "Votre décision «\u202fdecide compensated\u202f» pour le dossier"},
    "it": {"wrote": "Che cosa hai scritto:", "missing": "aggiungi il messaggio mancante",
           "bound": "è fissato al massimo possibile, 49,95\xa0€",
           "removed": "tranne l’importo, lasciato vuoto", "amount": "49,95\xa0€",
           "decision": "La tua decisione «decide compensated» per la pratica"},
}


def in_locale(box, locale: str) -> None:
    config = box.app.config
    box.app.config = dataclasses.replace(config, operators=dataclasses.replace(
        config.operators, locale=locale))


def retry_body(mail, command: str, needle: str) -> str:
    """The body of the mail's link that sends ``command`` again with ``needle`` in it."""
    soup = BeautifulSoup(html(mail), "html.parser")
    bodies = [parse_qs(urlsplit(a["href"]).query).get("body", [""])[0].replace("\r\n", "\n")
              for a in soup.find_all("a", href=re.compile("^mailto:"))]
    found = [b for b in bodies if b.startswith(command + "\n") and needle in b]
    assert len(found) == 1, bodies
    return found[0]


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_a_missing_message_comes_back_quoted_and_the_retry_keeps_the_rest(box, locale):
    in_locale(box, locale)
    mail = escalated(box)
    sent = ("decide compensated\namount: 30,00\nbuyer (nl): Beste Jan,\nwe vergoeden € 30.\n"
            "merchant (nl):")
    reply(box, mail, OPERATOR, sent, quote=False)
    helped = only(box.deliver(), OPERATOR)
    out = text(helped)
    assert case(box)["state"] == "escalated"
    assert SAID[locale]["wrote"] in out and "    buyer (nl): Beste Jan,\n    we vergoeden € 30." \
        in out and SAID[locale]["missing"] in out
    body = retry_body(helped, "decide compensated", "Beste Jan")
    assert body == ("decide compensated\namount: " + SAID[locale]["amount"].replace("49,95", "30,00")
                    + "\nbuyer (nl): Beste Jan,\nwe vergoeden € 30.\nmerchant (nl):")
    # Only the missing field to fill: sent, it decides with what was typed first.
    reply(box, helped, OPERATOR, body + " De koper krijgt € 30 van ons.", quote=False)
    assert (case(box)["state"], case(box)["outcome"]) == ("closed", "compensated")
    mails = box.deliver()
    assert "we vergoeden € 30." in text(only(mails, BUYER_NL))
    assert "De koper krijgt € 30 van ons." in text(only(mails, MERCHANT_NL))
    assert [e["text"] for e in case(box)["timeline"] if e["kind"] == "operator.amount"] \
        == ["30.00"]


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_an_amount_above_the_order_comes_back_at_the_bound_and_says_so(box, locale):
    in_locale(box, locale)
    mail = escalated(box)
    reply(box, mail, OPERATOR, "decide compensated\namount: 80,00\nbuyer (nl): Ja.\n"
          "merchant (nl): Niets te doen.", quote=False)
    helped = only(box.deliver(), OPERATOR)
    out = text(helped)
    assert SAID[locale]["decision"] in out  # "Je besluit" names the command
    assert SAID[locale]["bound"] in out and "    amount: 80,00" in out
    assert retry_body(helped, "decide compensated", "Ja.") == (
        "decide compensated\namount: " + SAID[locale]["amount"]
        + "\nbuyer (nl): Ja.\nmerchant (nl): Niets te doen.")


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_an_unreadable_amount_is_left_out_of_the_retry_and_says_so(box, locale):
    in_locale(box, locale)
    mail = escalated(box)
    reply(box, mail, OPERATOR, "decide compensated\namount: veel\nWe vergoeden.", quote=False)
    helped = only(box.deliver(), OPERATOR)
    assert SAID[locale]["removed"] in text(helped)
    body = retry_body(helped, "decide compensated", "We vergoeden.")
    assert body == "decide compensated\namount: \nWe vergoeden."
    reply(box, helped, OPERATOR, body.replace("amount: ", "amount: 20"), quote=False)
    assert case(box)["outcome"] == "compensated"


def test_a_typo_in_the_command_keeps_the_message_in_the_did_you_mean_link(box):
    mail = escalated(box)
    reply(box, mail, OPERATOR, "decide compensted\nWe vergoeden het bedrag.", quote=False)
    helped = only(box.deliver(), OPERATOR)
    assert retry_body(helped, "decide compensated", "We vergoeden het bedrag.") == (
        "decide compensated\namount: €\xa049,95\nWe vergoeden het bedrag.")


# --- 2. resend N and release N by mail; a held relay quoted ---------------------------------------

def order_id(box) -> int:
    return records.order_id(box.app.db(), "shop-nl", "NL-1")


def command(box, sender: str, body: str, order: int | None = None) -> None:
    """A mail to the operators' address of an order (the Reply-To of every operators' mail
    about it, and the digest's per-case links), as a mail client sends it."""
    mail = EmailMessage()
    mail["From"], mail["Subject"] = sender, "Case"
    mail["To"] = box.app.signer.address(Token("operator", order or order_id(box)))
    mail["Message-ID"] = email.utils.make_msgid(domain="client.example")
    mail.set_content(body)
    box.send(mail, sender, [mail["To"]])


def outbox_status(box, outbox_id: int) -> str:
    return box.app.db().execute("SELECT status FROM outbox WHERE id = ?",
                                [outbox_id]).fetchone()[0]


@pytest.mark.parametrize("locale, done", [("nl", "Uitgevoerd: resend"),
                                          ("fr", "Exécuté\u202f: resend"),
                                          ("it", "Eseguito: resend")])
def test_delivery_failed_links_a_resend_by_mail_that_an_operator_carries_out(
        box, tmp_path, smtp_sink, locale, done):
    in_locale(box, locale)
    dead, notice = failed_decision(box, tmp_path, smtp_sink)
    soup = BeautifulSoup(html(notice), "html.parser")
    links = [a["href"] for a in soup.find_all("a", href=re.compile("^mailto:"))]
    resend = [h for h in links if parse_qs(urlsplit(h).query).get("body") == [f"resend {dead}"]]
    assert len(resend) == 1 and unquote(urlsplit(resend[0]).path) == notice["Reply-To"]
    assert f"mailbot outbox resend {dead}" in text(notice)  # the command line stays
    # Sent as the link opens it, from an operator: queued again, and said so.
    reply(box, notice, OPERATOR, f"resend {dead}", quote=False)
    assert outbox_status(box, dead) == "queued"
    answer = only(box.deliver(), OPERATOR)
    assert answer["Subject"].startswith(f"{done} {dead} · ")
    assert "jan@buyer.example" in text(answer)
    assert box.last_disposition() == "operator_done"
    # Once queued it is not resent again: the answer says why, nothing changes.
    reply(box, notice, OPERATOR, f"resend {dead}", quote=False)
    assert box.last_disposition() == "operator_help"


def test_only_an_operator_may_resend_by_mail(box, tmp_path, smtp_sink):
    dead, notice = failed_decision(box, tmp_path, smtp_sink)
    reply(box, notice, BUYER_NL, f"resend {dead}", quote=False)
    assert box.last_disposition() == "sender_mismatch"
    assert outbox_status(box, dead) == "dead"
    assert not to(box.deliver(), BUYER_NL)  # not answered: the operators' address is no party's


def test_a_mail_held_for_its_sender_is_released_by_mail_once_and_only_for_its_order(box):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "not_received", "jan.prive@other.example", body="Niets ontvangen.")
    assert box.last_disposition() == "sender_mismatch"
    box.deliver()
    held = box.app.db().execute("SELECT max(id) FROM inbox").fetchone()[0]
    other = records.order_id(box.app.db(), "shop-fr", "FR-1")
    # A reply about another order does not reach it; a stranger's is held, unanswered.
    command(box, OPERATOR, f"release {held}", order=other)
    assert box.last_disposition() == "operator_help"
    assert "Er is geen ontvangen e-mail met ontvangstnummer" in text(only(box.deliver(),
                                                                        OPERATOR))
    command(box, "jan.prive@other.example", f"release {held}")
    assert box.last_disposition() == "sender_mismatch"
    assert case(box) is None
    # The operator's release: the held mail opens the case, the answer says so.
    command(box, OPERATOR, f"release {held}")
    assert case(box)["state"] == "awaiting_merchant"
    mails = box.deliver()
    assert to(mails, MERCHANT_NL)
    done = only(mails, OPERATOR)
    assert done["Subject"].startswith(f"Uitgevoerd: release {held} · ")
    assert "jan.prive@other.example" in text(done) and "Koper: opende de case" in text(done)
    command(box, OPERATOR, f"release {held}")
    assert box.last_disposition() == "operator_help"
    assert case(box)["state"] == "awaiting_merchant"


@pytest.mark.parametrize("locale, heading", [("nl", "HET TEGENGEHOUDEN BERICHT"),
                                             ("fr", "LE MESSAGE RETENU"),
                                             ("it", "IL MESSAGGIO TRATTENUTO")])
def test_held_relays_quote_the_held_message(started, locale, heading):
    limited = started(limits={"relays_per_order_per_hour": 1})
    in_locale(limited, locale)
    buyer_ack, _ = open_case(limited)
    for i in range(2):
        reply(limited, buyer_ack, BUYER_NL, f"Bericht {i}: waar blijft mijn fiets?")
    out = text(only(limited.deliver(), OPERATOR))
    assert heading in out
    assert "    Bericht 1: waar blijft mijn fiets?" in out  # the held one, quoted


# --- 3. a bounced buyer address on an open case -------------------------------------------------

NEW = "jan.new@buyer.example"


def buyer_due(box):
    return box.app.db().execute("SELECT buyer_due FROM cases").fetchone()[0]


@pytest.mark.parametrize("locale, said", [
    ("nl", "beantwoord deze e-mail met buyer-email NIEUW_ADRES"),
    ("fr", "répondez à cet e-mail avec buyer-email NOUVELLE_ADRESSE"),
    ("it", "rispondi a questa e-mail con buyer-email NUOVO_INDIRIZZO"),
])
def test_delivery_failed_on_an_open_case_names_the_correction_and_the_unmoved_deadline(
        app, locale, said):
    out = " ".join(operator_samples(app)[("operator.delivery_failed", "", locale)].text.split())
    assert said in out
    assert re.search(r"mailbot order correct shop-\w+ \S+ --buyer-email", out)
    assert re.search(r"13 \w+ 2026", out)  # the buyer's date, unchanged


def test_a_bounced_buyer_on_an_open_case_is_corrected_by_mail_and_missed_mail_resent(
        box, tmp_path, smtp_sink):
    dead, notice = failed_decision(box, tmp_path, smtp_sink)
    out = " ".join(text(notice).split())
    assert "beantwoord deze e-mail met buyer-email NIEUW_ADRES" in out
    assert "De termijn verschuift niet" in out
    due = buyer_due(box)
    reply(box, notice, OPERATOR, f"buyer-email {NEW}", quote=False)
    assert box.last_disposition() == "operator_done"
    db = box.app.db()
    assert db.execute("SELECT buyer_email FROM orders WHERE order_number = 'NL-1'"
                      ).fetchone()[0] == NEW
    assert outbox_status(box, dead) == "queued"
    assert [e["kind"] for e in case(box)["timeline"]].count("operator.buyer_email") == 1
    assert buyer_due(box) == due  # the deadline does not move, and the team is told so
    mails = box.deliver()
    assert to(mails, NEW) and not to(mails, "jan@buyer.example")
    done = text(only(mails, OPERATOR))
    assert NEW in done and "jan@buyer.example" in done and str(dead) in done


def test_only_an_operator_corrects_the_buyers_address_by_mail(box, tmp_path, smtp_sink):
    dead, notice = failed_decision(box, tmp_path, smtp_sink)
    reply(box, notice, BUYER_NL, f"buyer-email {NEW}", quote=False)
    assert box.last_disposition() == "sender_mismatch"
    assert box.app.db().execute("SELECT buyer_email FROM orders WHERE order_number = 'NL-1'"
                                ).fetchone()[0] == "jan@buyer.example"
    reply(box, notice, OPERATOR, "buyer-email geen-adres", quote=False)
    assert box.last_disposition() == "operator_help"
    assert outbox_status(box, dead) == "dead"


def test_order_correct_buyer_email_works_on_an_open_case(box, tmp_path, smtp_sink, capsys):
    dead, _ = failed_decision(box, tmp_path, smtp_sink)
    code = cli.main(["--config", str(write_config(tmp_path, box.app.config)), "order",
                     "correct", "shop-nl", "NL-1", "--buyer-email", NEW, "--yes"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"jan@buyer.example -> {NEW}" in out and "deadlines do not move" in out
    assert outbox_status(box, dead) == "queued"
