"""An operator can act from the mail alone (issue 20, review C): a command not carried out comes
back quoted, with a link to send it again that keeps what was typed, only the missing or refused
field left to fix; driven through the real flow (SMTP in, the intake worker, the relay's Maildir).
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import OPERATOR, html, only, reply, text
from test_case_by_mail import case
from test_operators_mail import escalated
from test_protection_by_mail import BUYER_NL, MERCHANT_NL

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
    "it": {"wrote": "Cosa hai scritto:", "missing": "aggiungi il messaggio mancante",
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
