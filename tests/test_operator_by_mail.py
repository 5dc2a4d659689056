"""An operator acts from the mail alone (issue ops10b, review 10C items 4, 7-10): a refused
``resend N`` names the mail it was and when it was delivered, without the decisions; a released
mail says what it did; held mail says which order and party it claims to be from, with
``release N`` by a link; subjects carry shop and amount; moments inside fr/it sentences read
"à 14 h 02" / "alle 14:02". Driven through the real flow (SMTP in, the intake worker, the
relay's Maildir) and the rendered samples.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import OPERATOR, click, html, only, reply, text
from mailbot import digest
from mailbot.tokens import Token
from test_case_by_mail import case, open_case
from test_loops_and_answers import started  # noqa: F401 (a fixture)
from test_operator_mail_actions import command, in_locale, order_id
from test_operators_mail import escalated
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, reminders

# --- 1. a resend refused names the mail; a release names what it did -----------------------------

DELIVERED = {
    "nl": r"E-mail (\d+) \(case geopend aan jan@buyer\.example\) is op "
          r"\d+ \w+ 2026, \d\d:\d\d afgeleverd; opnieuw versturen kan alleen bij een mislukte "
          r"bezorging\.",
    "fr": r"L’e-mail n°\xa0(\d+) \(dossier ouvert, à jan@buyer\.example\) a bien "
          r"été distribué le \d+ \w+ 2026 à \d+\xa0h\xa0\d\d\u202f: seul un e-mail non "
          r"distribué peut être renvoyé\.",
    "it": r"L’e-mail n\.\xa0(\d+) \(pratica aperta a jan@buyer\.example\) è già stata "
          r"recapitata il \d+ \w+ 2026 alle \d\d:\d\d: si può inviare di nuovo solo un’e-mail "
          r"non recapitata\.",
}


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_a_resend_of_a_delivered_mail_names_it_and_offers_no_decisions(box, locale):
    in_locale(box, locale)
    escalated(box)
    sent = box.app.db().execute("SELECT id FROM outbox WHERE template = 'buyer.case_opened' "
                                "AND status = 'sent'").fetchone()[0]
    command(box, OPERATOR, f"resend {sent}")
    assert box.last_disposition() == "operator_help"
    out = text(only(box.deliver(), OPERATOR))
    found = re.search(DELIVERED[locale], out)
    assert found and found[1] == str(sent), out
    # The decisions have nothing to do with a resend: none is offered.
    assert "decide " not in out and "request-documents" not in out


RELEASED = {"nl": ("met dit gevolg:", "- Koper: opende de case"),
            "fr": ("Voici ce qu’il a déclenché\u202f:", "- Acheteur\u202f: a ouvert le dossier"),
            "it": ("Ecco che cosa ha prodotto:", "- Acquirente: ha aperto la pratica")}


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_a_released_mail_says_what_it_did(box, locale):
    in_locale(box, locale)
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "not_received", "jan.prive@other.example", body="Niets ontvangen.")
    box.deliver()
    held = box.app.db().execute("SELECT max(id) FROM inbox").fetchone()[0]
    command(box, OPERATOR, f"release {held}")
    assert case(box)["state"] == "awaiting_merchant"
    out = text(only(box.deliver(), OPERATOR))
    lead, did = RELEASED[locale]
    assert lead in out and did in out, out
    assert not re.search(r"\((uitgevoerd|exécuté|eseguita)\)", out)


# --- 2. held mail: which order and party, its language, and how to act from the mail ------------

def mailtos(mail) -> list[tuple[str, dict]]:
    """Every mailto link of the mail's HTML part: (address, its query's fields)."""
    soup = BeautifulSoup(html(mail), "html.parser")
    return [(unquote(urlsplit(a["href"]).path),
             {k: v[0].replace("\r\n", "\n") for k, v in parse_qs(urlsplit(a["href"]).query).items()})
            for a in soup.find_all("a", href=re.compile("^mailto:"))]


CLAIMS = {"nl": "als koper (Nederlands)", "fr": "en tant qu’acheteur (néerlandais)",
          "it": "come acquirente (olandese)"}


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_the_digest_names_a_held_mails_order_and_party_and_releases_it_by_mail(box, locale):
    in_locale(box, locale)
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "not_received", "jan.prive@other.example", body="Niets ontvangen.")
    assert box.last_disposition() == "sender_mismatch"
    box.deliver()
    held = box.app.db().execute("SELECT max(id) FROM inbox").fetchone()[0]
    digest.send(box.app, datetime.now(timezone.utc))
    sent = only(box.deliver(), OPERATOR)
    row = next(line for line in text(sent).splitlines() if "NL-1," in line)
    assert row.endswith(" · " + CLAIMS[locale]), row
    links = [(to_, q) for to_, q in mailtos(sent) if q.get("body") == f"release {held}"]
    assert [to_ for to_, _ in links] == [box.app.signer.address(Token("operator", order_id(box)))]
    # Sent as the link opens it: the held mail opens the case.
    command(box, OPERATOR, f"release {held}")
    assert case(box)["state"] == "awaiting_merchant"


HELD_FROM = {"nl": "jan@buyer.example (koper, Nederlands)",
             "fr": "jan@buyer.example (acheteur, néerlandais)",
             "it": "jan@buyer.example (acquirente, olandese)"}
ANSWERED = {"nl": "Een antwoord erop lezen we als opdracht.",
            "fr": "Une réponse est lue comme une instruction\u202f:",
            "it": "Una risposta viene letta come istruzione:"}


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_held_relays_name_the_party_and_open_the_mail_that_passes_them_on(started, locale):
    limited = started(limits={"relays_per_order_per_hour": 1})
    in_locale(limited, locale)
    buyer_ack, _ = open_case(limited)
    for i in range(2):
        reply(limited, buyer_ack, BUYER_NL, f"Bericht {i}: waar blijft mijn fiets?")
    notice = only(limited.deliver(), OPERATOR)
    out = text(notice)
    assert HELD_FROM[locale] in out
    # To every address of the shop (RFC 6068: a mailto's addresses, comma-separated).
    passed = [q for to_, q in mailtos(notice) if MERCHANT_NL in to_.split(",")]
    assert len(passed) == 1 and passed[0]["body"].startswith("Bericht 1: waar blijft mijn fiets?")
    # A reply to it reaches the order's command address: the footer says how it is read.
    assert ANSWERED[locale] in out.split("\n-- \n")[1]
