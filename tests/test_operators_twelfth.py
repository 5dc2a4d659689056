"""The twelfth review of the operators' mails (/work/review12c, review12d items 7, 8, 10): a
compensation past its pay-by date is late even while the buyer's bank details are missing, with a
way to ask the buyer again. Real SMTP into the listener, the real intake, real SQLite and the
rendered samples (real Jinja)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import rendered_samples
from mailbot import digest
from mailbot.outbound.render import LOCALES
from mailbot.outbound.samples import EARLIER_CASE, NOW, TZ
from mailbot.store.bank_details import account
from test_bank_details_seen import compensated, flat
from test_case_by_mail import case


@pytest.fixture(scope="module")
def ops(tmp_path_factory):
    """{(kind.label, locale): rendered} of every operators' sample."""
    return {(f"{s.name}.{s.label}", locale): out for s, _, locale, out in rendered_samples(
        tmp_path_factory.mktemp("ops12"), lambda s: s.name.startswith("operator."))}


def links(html_part: str) -> dict:
    """{link text: mailto address and subject} of an HTML part."""
    page = BeautifulSoup(html_part, "html.parser")
    return {a.get_text(" ", strip=True): (unquote(urlsplit(a["href"]).path),
                                          unquote(urlsplit(a["href"]).query))
            for a in page.find_all("a", href=re.compile("^mailto:"))}


# --- 1. a compensation late for want of the buyer's bank details --------------------------------

LATE_WAITING = {"nl": "21 november 2026 · verstreken, wacht sinds 7 november op bankgegevens",
                "fr": "21 novembre 2026 · dépassée, en attente des coordonnées bancaires depuis "
                      "le 7 novembre",
                "it": "21 novembre 2026 · termine scaduto, in attesa dei dati bancari dal 7 "
                      "novembre"}
ASK = {"nl": "Vraag de koper opnieuw om bankgegevens",
       "fr": "Redemander les coordonnées bancaires à l’acheteur",
       "it": "Richiedi di nuovo i dati bancari all’acquirente"}
WAITING_HEADING = {"nl": "Te laat – wacht op bankgegevens van de koper",
                   "fr": "En retard – en attente des coordonnées bancaires de l’acheteur",
                   "it": "In ritardo – in attesa dei dati bancari dell’acquirente"}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_compensation_past_its_date_without_bank_details_is_late_with_a_way_to_ask(ops,
                                                                                    locale):
    for key in ("operator.command_help.closed", "operator.command_help.decided",
                "operator.message_relayed.closed_payment_awaited"):
        out = ops[key, locale]
        assert LATE_WAITING[locale] in flat(out.text), key
        to, query = links(out.html)[ASK[locale]]
        # The team's ``message buyer`` by the case's address (ops12a): on the case file.
        assert to.startswith("bot+") and "body=message buyer" in query, key
    # The buyer's message with the bank details: nothing to ask any more.
    assert ASK[locale] not in ops["operator.message_relayed.bank_details", locale].text
    # The digest: its own heading, counted as late in the subject, with the link.
    out = ops["operator.digest.", locale]
    assert WAITING_HEADING[locale].upper() in out.text
    assert {"nl": "2 betalingen te laat", "fr": "2 paiements en retard",
            "it": "2 pagamenti in ritardo"}[locale] in flat(out.subject)
    section = out.text.partition(WAITING_HEADING[locale].upper())[2]
    assert "1035" in section[:section.index(ASK[locale])]
    assert links(out.html)[ASK[locale]][0] == "bot+aiaaaaaaaaaaqpaix@bot.example"  # case 1035's


def test_the_digest_counts_a_compensation_waiting_for_bank_details_as_late(box):
    compensated(box)
    case_id, later = case(box)["id"], datetime.now(timezone.utc) + timedelta(days=30)
    data = digest.collect(box.app.db(), later, timedelta(days=1), box.app.tz)
    assert [(p["case_id"], p["waiting"]) for p in data["late"]] == [(case_id, True)]
    out = flat(digest.text(box.app, later, timedelta(days=1)))
    assert "TE LAAT – WACHT OP BANKGEGEVENS VAN DE KOPER" in out
    assert f"Case: {case_id} Bestelling: NL-1, Fietsen BV Vergoeding: € 49,95" in out
    assert "Bankgegevens: nog niet ontvangen · Vraag de koper opnieuw om bankgegevens" in out


# --- 2. the digest: each case once, the period once, counts on top, the IBAN ------------------

HEADINGS = re.compile(r"^[^a-z\n]*[A-Z][^a-z\n]*$", re.M)


def sections(text_part: str) -> dict:
    """{heading: its text} of a digest's text part (headings are upper case), the numbered
    links at the end left out; what comes before the first heading under ""."""
    body = text_part.split("\n[1] ")[0]
    marks = [(m.start(), m.group(0)) for m in HEADINGS.finditer(body)]
    starts = [(0, "")] + marks
    return {head: body[at:(starts[i + 1][0] if i + 1 < len(starts) else len(body))]
            for i, (at, head) in enumerate(starts)}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_digest_lists_each_case_once_under_counts_and_its_period_once(ops, locale):
    out = ops["operator.digest.", locale]
    parts = sections(out.text)
    for case_id in ("1032", "1035", "1038", "1040", "1043"):
        found = [head for head, said in parts.items() if re.search(rf"\b{case_id}\b", said)]
        assert len(found) == 1, (case_id, found)
    # The shop past its deadline by an hour is in the alarm only (no deadlines' section).
    assert [head for head, said in parts.items() if "1041" in said and "311" not in said] == [""]
    # The period: in the bar only (its end, the digest's moment, is nowhere else).
    end = r"23 novemb\w+ 2026,? (à )?14"
    assert len(re.findall(end, flat(out.text))) == 1
    assert re.search(end, flat(out.text.split("\n")[0]))
    # Four count tiles at the top, before the first section.
    page = BeautifulSoup(out.html, "html.parser")
    tiles = [td.get_text(" ", strip=True) for td in page.find_all(class_="mb-count")]
    assert len(tiles) == 4 and tiles[1].startswith("2 ") and tiles[2].startswith("2 ")
    assert tiles[3].startswith("3 ")
    assert out.html.index("mb-count") < out.html.index("<h2")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_digest_shows_the_iban_of_a_late_payment_and_the_documents_date_once(ops, locale):
    out = ops["operator.digest.", locale]
    assert "IBAN NL91 ABNA 0417 1643 00, t.n.v. P. de Vries" in flat(out.text)
    waiting = [said for head, said in sections(out.text).items() if "1040" in said][0]
    assert len(re.findall(r"\b26 novemb", waiting)) == 1, waiting


@pytest.mark.unit
@pytest.mark.parametrize("said, iban, holder", [
    ("Hierbij mijn rekeningnummer: NL91 ABNA 0417 1643 00, t.n.v. S. Jansen.",
     "NL91 ABNA 0417 1643 00", "t.n.v. S. Jansen"),
    ("Voici mon IBAN\u202f: FR14 2004 1010 0505 0001 3M02 606, au nom de Claire Martin.",
     "FR14 2004 1010 0505 0001 3M02 606", "au nom de Claire Martin"),
    ("IBAN IT60X0542811101000000123456 intestato a Giulia Rossi\ngrazie",
     "IT60 X054 2811 1010 0000 0123 456", "intestato a Giulia Rossi"),
    ("NL91ABNA0417164300 graag", "NL91 ABNA 0417 1643 00", None),
])
def test_the_account_is_read_formatted_with_its_holder(said, iban, holder):
    assert account(said) == {"iban": iban, "holder": holder}
    assert account("Bestelling NL-2026-10481") is None


# --- 3. the decisions once in the escalation; help mails short; --amount only with an amount ---

DECIDES = ("decide refunded_by_merchant", "decide compensated", "decide claim_rejected")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_escalation_offers_each_decision_once_and_keeps_its_field_guide(ops, locale):
    for label in ("buyer_disputes", "merchant_no_response"):
        out = ops[f"operator.case_escalated.{label}", locale]
        # The text part's numbered links at its end name their commands again: left out.
        for part in (out.html, out.text.split("\n[1] ")[0]):
            for command in DECIDES:
                assert part.count(command + "\n") + part.count(command + "<") \
                    + part.count(command + ")") == 1, (label, command)
            assert "request-documents buyer" in part
        assert "amount:" in out.text  # the field guide stays here


@pytest.mark.parametrize("locale", LOCALES)
def test_a_refusal_is_the_error_the_fixed_link_and_the_commands_in_one_short_block(ops,
                                                                                 locale):
    out = ops["operator.command_help.amount", locale]
    escalated = ops["operator.case_escalated.merchant_no_response", locale]
    assert len(out.text.splitlines()) < len(escalated.text.splitlines())
    guide = {"nl": "Een besluit opent met deze velden",
             "fr": "Une décision s’ouvre avec ces champs",
             "it": "Una decisione si apre con questi campi"}[locale]
    assert guide not in flat(out.text) and guide in flat(escalated.text)
    # The list of commands is still there, each command once, after the one fixed link.
    page = BeautifulSoup(out.html, "html.parser")
    assert out.html.count("decide compensated") >= 1
    assert page.find("h2") is not None
    # The digest's link (no error) keeps how a command is written.
    assert guide in flat(ops["operator.command_help.empty", locale].text)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_correction_hint_gives_an_amount_only_to_an_outcome_that_takes_one(ops, locale):
    said = ops["operator.command_help.closed", locale].text
    assert "correct claim_rejected --message-buyer" in said
    assert "correct refunded_by_merchant --amount … --message-buyer" in said
    assert "OUTCOME" not in said


# --- 4. command_done: recording the payment is a button ------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_recording_the_payment_is_a_button_in_the_decision_done(ops, locale):
    out = ops["operator.command_done.", locale]
    label = {"nl": "Betaling per e-mail vastleggen", "fr": "Enregistrer le paiement par e-mail",
             "it": "Registra il pagamento via e-mail"}[locale]
    page = BeautifulSoup(out.html, "html.parser")
    a = next(a for a in page.find_all("a") if flat(a.get_text(" ", strip=True)) == label)
    assert "mb-btn-text" in a.get("class", []) and a["href"].endswith("body=paid")
    assert a.find_parent("p") is None


# --- 5. the samples: each case one story --------------------------------------------------------

RANKS = ("opened", "escalated", "decided", "closed", "paid")


def moments(sample, ctx) -> list[tuple[str, object]]:
    """(stage, day) of what an operators' sample says happened to its case."""
    case, data, day = ctx["case"], sample.mail.data, lambda t: t.astimezone(TZ).date()
    said = [("opened", day(case.opened_at))]
    if ctx.get("file") and ctx["file"].get("escalated_at"):
        said.append(("escalated", day(ctx["file"]["escalated_at"])))
    if case.closed_at:
        said.append(("closed", day(case.closed_at)))
    if data.get("decided"):
        said.append(("decided", day(data["decided"]["at"])))
    if data.get("outcome") and sample.name == "operator.command_done":
        said.append(("decided", day(NOW)))
    for paid in (data.get("paid"), data.get("recorded")):
        if paid:
            said.append(("paid", paid["on"]))
    return said


def test_each_case_in_the_operators_samples_tells_one_story(tmp_path):
    stories = {}
    for sample, ctx, locale, _ in rendered_samples(
            tmp_path, lambda s: s.name.startswith("operator.") and s.state is not None
            and s.state.case is not None):
        stories.setdefault((locale, ctx["case"].id), []).extend(
            (stage, at, sample.name + "." + sample.label) for stage, at in moments(sample, ctx))
    assert ("nl", 1041) in stories and ("nl", EARLIER_CASE) in stories
    for key, said in stories.items():
        for stage, at, where in said:
            for later, then, other in said:
                if RANKS.index(stage) < RANKS.index(later):
                    assert at <= then, (key, stage, at, where, later, then, other)
