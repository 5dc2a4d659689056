"""An operator acts from the mail alone (issue ops10b, review 10C items 4, 7-10): a refused
``resend N`` names the mail it was and when it was delivered, without the decisions; a released
mail says what it did; held mail says which order and party it claims to be from, with
``release N`` by a link; subjects carry shop and amount; moments inside fr/it sentences read
"à 14 h 02" / "alle 14:02". Driven through the real flow (SMTP in, the intake worker, the
relay's Maildir) and the rendered samples.
"""

from __future__ import annotations

import re

import pytest

from conftest import OPERATOR, click, only, text
from test_case_by_mail import case
from test_operator_mail_actions import command, in_locale
from test_operators_mail import escalated
from test_protection_by_mail import BUYER_NL, reminders

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
