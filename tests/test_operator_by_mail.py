"""An operator acts from the mail alone (issue ops10b, review 10C items 4, 7-10): a refused
``resend N`` names the mail it was and when it was delivered, without the decisions; a released
mail says what it did; held mail says which order and party it claims to be from, with
``release N`` by a link; subjects carry shop and amount; moments inside fr/it sentences read
"à 14 h 02" / "alle 14:02". Driven through the real flow (SMTP in, the intake worker, the
relay's Maildir) and the rendered samples.
"""

from __future__ import annotations

import email
import re
from datetime import datetime, timezone
from email import policy
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import OPERATOR, click, html, make_config, only, rendered_samples, reply, text
from mailbot import digest, wiring
from mailbot.tokens import Token
from test_case_by_mail import case, open_case
from test_loops_and_answers import started  # noqa: F401 (a fixture)
from test_operator_mail_actions import command, in_locale, order_id
from test_operators_mail import escalated
from test_protection_by_mail import BUYER_NL, reminders

# --- 1. a resend refused names the mail; a release names what it did -----------------------------

DELIVERED = {
    "nl": r"E-mail (\d+) \(case geopend aan jan@buyer\.example\) is op "
          r"\d+ \w+ \d{4}, \d\d:\d\d afgeleverd; opnieuw versturen kan alleen bij een mislukte "
          r"bezorging\.",
    "fr": r"L’e-mail n°\xa0(\d+) \(dossier ouvert, à jan@buyer\.example\) a bien "
          r"été distribué le \d+(?:er)? \w+ \d{4} à \d+\xa0h\xa0\d\d\u202f: seul un e-mail non "
          r"distribué peut être renvoyé\.",
    "it": r"L’e-mail n\.\xa0(\d+) \(pratica aperta a jan@buyer\.example\) è già stata "
          r"recapitata (?:il |l’)\d+°? \w+ \d{4} alle \d\d:\d\d: si può inviare di nuovo solo un’e-mail "
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
            "it": ("Ecco che cosa ha comportato:", "- Acquirente: ha aperto la pratica")}


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
            "it": "Le risposte vengono lette come istruzioni:"}


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
    # Through the case (``message merchant``, ops12a): to the order's command address, the held
    # text filled in, for the bot to send it from the service address.
    passed = [(to_, q) for to_, q in mailtos(notice)
              if q.get("body", "").startswith("message merchant\n")]
    assert [to_ for to_, _ in passed] == [
        limited.app.signer.address(Token("operator", order_id(limited)))]
    assert passed[0][1]["body"] == "message merchant\nmerchant (nl): Bericht 1: waar blijft mijn fiets?"
    # A reply to it reaches the order's command address: the footer says how it is read.
    assert ANSWERED[locale] in out.split("\n-- \n")[1]


# --- 3. one subject pattern: news · shop · case ------------------------------------------

CASE = {"nl": "case 1041", "fr": "dossier 1041", "it": "pratica 1041"}


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """The operators' samples, rendered: (name, label, locale) -> (ctx, Rendered)."""
    return {(s.name, s.label, locale): (ctx, out) for s, ctx, locale, out in rendered_samples(
        tmp_path_factory.mktemp("operator_by_mail"), lambda s: s.name.startswith("operator."))}


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_held_relays_and_command_help_subjects_carry_the_shop(samples, locale):
    kinds = [(ctx, out) for (name, _, loc), (ctx, out) in samples.items() if loc == locale
             and name in ("operator.relays_held", "operator.command_help")]
    assert len(kinds) >= 9
    for ctx, out in kinds:
        parts = out.subject.split(" · ")
        # The closed samples are the earlier case 1029 (review 12: one story per case).
        assert parts[1:] == [ctx["order"]["shop"], CASE[locale].replace(
            "1041", str(ctx["case"].id))], out.subject
        assert len(out.subject) <= 80, out.subject


def flat(text: str) -> str:
    """The text on one line; no-break spaces (U+00A0, U+202F) kept, as the reader sees them."""
    return re.sub(r"[ \n]+", " ", text)


# --- 4. delivery_failed: the fix filled, the resend quiet, the command line at the bottom ---------

def button_kinds(rendered) -> dict[str, str]:
    """The first line of each button's prefilled reply -> its weight (mb-btn-primary, ...)."""
    soup = BeautifulSoup(rendered.html, "html.parser")
    kinds = {}
    for cell in soup.find_all("td", class_=re.compile(r"^mb-btn-")):
        body = parse_qs(urlsplit(cell.a["href"]).query).get("body", [""])[0]
        kinds[body.split("\r\n")[0].strip()] = cell["class"][0].removeprefix("mb-btn-")
    return kinds


COMMAND_LINE = {"nl": "OP DE OPDRACHTREGEL", "fr": "EN LIGNE DE COMMANDE",
                "it": "DALLA RIGA DI COMANDO"}


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_delivery_failed_fills_the_fix_and_gathers_the_command_line_at_the_bottom(samples,
                                                                                  locale):
    _, out = samples["operator.delivery_failed", "", locale]
    assert button_kinds(out) == {"buyer-email": "primary", "resend 311": "quiet"}
    body = out.text.split("\n-- \n")[0].split("\n\n[1]")[0]
    above, _, block = body.partition(COMMAND_LINE[locale])
    assert re.findall(r"mailbot \S+", above) == []
    lines = [line.strip() for line in block.strip().splitlines()]
    assert re.fullmatch(r"mailbot order correct shop-\w+ \S+ --buyer-email " + PLACEHOLDER[locale],
                        lines[0]), lines
    assert lines[1:] == ["mailbot outbox resend 311", "mailbot inbox release ID"]


PLACEHOLDER = {"nl": "NIEUW_ADRES", "fr": "NOUVELLE_ADRESSE", "it": "NUOVO_INDIRIZZO"}


BEFORE_CASE = {"nl": "Door het adres te verbeteren wordt de e-mail niet vanzelf opnieuw "
                     "verstuurd: doe dat daarna met resend 207.",
               "fr": "La correction ne renvoie pas l’e-mail\u202f: renvoyez-le ensuite avec "
                     "resend 207.",
               "it": "La correzione non reinvia l’e-mail: reinviala poi con "
                     "resend 207."}


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_before_a_case_the_mail_says_the_correction_does_not_resend(samples, locale):
    _, out = samples["operator.delivery_failed", "before_case", locale]
    assert BEFORE_CASE[locale] in flat(out.text)
    assert button_kinds(out) == {"resend 207": "primary"}


# --- 5. fr/it: a moment inside a sentence is "à 14 h 02" / "alle 14:02" -------------------------

AT = {"fr": re.compile(r"\d{4} à \d+\xa0h\xa0\d\d"), "it": re.compile(r"\d{4} alle \d\d:\d\d")}
COMMA = {"fr": re.compile(r"\d{4}, \d+\xa0h\xa0\d\d"), "it": re.compile(r"\d{4}, \d\d:\d\d")}


@pytest.mark.parametrize("locale", ["fr", "it"])
@pytest.mark.parametrize("name, label", [("operator.command_done", "request_documents"),
                                         ("operator.command_help", "decided"),
                                         ("operator.command_help", "mail_command"),
                                         ("operator.message_relayed", "from_buyer")])
def test_fr_it_sentences_join_date_and_time_with_a_or_alle(samples, name, label, locale):
    _, out = samples[name, label, locale]
    lead = flat(out.text.split("\n-- \n")[0])
    assert AT[locale].search(lead), lead
    # Rows ("Label: value") keep the comma; no sentence does.
    sentences = [p for p in out.text.split("\n\n") if not re.match(r"^[^\n:]+\u202f?: ", p)]
    assert not any(COMMA[locale].search(p) for p in sentences), sentences


# --- 6. small: one address in the singular, "case" in nl labels, one real sample case ------------

def test_one_shop_address_is_named_in_the_singular(samples):
    _, out = samples["operator.case_escalated", "merchant_no_response", "nl"]
    assert "Adres van de webshop: service@shop.example" in out.text
    assert "Adressen van de webshop" not in out.text


def test_dutch_decision_labels_say_case_to_operators(samples):
    _, out = samples["operator.case_escalated", "buyer_disputes", "nl"]
    assert "Besluit: afwijzen – de koper krijgt niets (decide claim_rejected)" in out.text
    assert "Besluit: de melding" not in out.text


def test_the_samples_are_one_case(tmp_path):
    from mailbot.outbound import samples as made
    cases = [s.state.case for locale in ("nl", "fr", "it") for s in made.samples(locale)
             if s.state is not None and s.state.case is not None]
    assert cases and all(c.closed_at is None or c.opened_at < c.closed_at for c in cases)
    held = [h["sender"] for h in made.digest_sample()["held_mail"] if h["id"] == 5021]
    released = [s.mail.data["sender"] for s in made.samples("nl")
                if s.name == "operator.command_done" and s.label == "release"]
    assert held == released


def test_an_operators_sample_mail_is_addressed_to_the_team(tmp_path):
    from mailbot.outbound import samples as made
    app = wiring.build(make_config(tmp_path))
    try:
        sample, ctx = next((s, ctx) for s, ctx in made.contexts(app, app.db(), "nl")
                           if s.name == "operator.delivery_failed")
        raw = made.message(app, sample, app.renderer.render(sample.name, "nl", ctx), "nl")
        to = email.message_from_bytes(raw, policy=policy.default)["To"]
        assert to.addresses[0].addr_spec == app.config.operators.addresses[0]
    finally:
        app.close()
