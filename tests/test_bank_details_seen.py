"""Tenth review (operators, items 3, 5, 9; nl 3, 5; fr/it 10, 11): a compensation waits for the
buyer's bank details, which come as the buyer's reply on the closed case. Every operators' mail
about such a payment says whether they came (from the stored timeline: a message with a valid
IBAN); the reply that carries them has its own subject and heading; the digest does not call a
compensation late while it waits on the buyer, never shows the IBAN, leads with an alarm, and
splits its payments' help into bullets; a recorded payment reads "paid to the buyer by … on …".
Real SMTP into the listener, real SQLite, real Jinja and the rendered samples."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import OPERATOR, html, only, rendered_samples, reply, text
from mailbot import digest
from mailbot.outbound.render import LOCALES
from mailbot.store.bank_details import has_iban
from test_case_by_mail import case
from test_operators_mail import command_links, escalated
from test_protection_by_mail import BUYER_NL

IBAN = "NL91 ABNA 0417 1643 00"


def flat(s: str) -> str:
    """Text with its no-break spaces and line breaks as plain spaces."""
    return " ".join(s.replace("\xa0", " ").replace("\u202f", " ").split())


@pytest.mark.unit
@pytest.mark.parametrize("said", [
    f"Mijn rekening: {IBAN}, J. Jansen", "NL91ABNA0417164300 graag", "iban nl91abna0417164300",
    "ref 12 NL91 ABNA 0417 1643 00", "Voici mon IBAN : FR14 2004 1010 0505 0001 3M02 606.",
    "IBAN IT60 X054 2811 1010 0000 0123 456 grazie"])
def test_an_iban_as_buyers_type_it_is_recognised(said):
    assert has_iban(said)


@pytest.mark.unit
@pytest.mark.parametrize("said", [
    "NL91 ABNA 0417 1643 01",  # one digit off: mod 97 fails
    "Bestelling NL-2026-10481 is nog niet betaald", "Ordine IT-2026-0081, importo 89,00 €",
    "Tracking 3SABCD1234567890 ligt in het sorteercentrum", ""])
def test_what_is_no_iban_is_not_taken_for_one(said):
    assert not has_iban(said)


def compensated(box):
    """NL-1 (€ 49,95) decided by mail as compensated: the mails of the closing."""
    mail = escalated(box)
    body = (command_links(mail)["decide compensated"]["body"]
            .replace("buyer (nl): ", "buyer (nl): We vergoeden.")
            .replace("merchant (nl):", "merchant (nl): Wij vergoeden."))
    reply(box, mail, OPERATOR, body, quote=False)
    return box.deliver()


def answer_link(mail) -> dict:
    """The mailto of the relayed message's "answer the sender" button (the case's ``message``
    command, ops12a): address, subject and body."""
    page = BeautifulSoup(html(mail), "html.parser")
    a = next(a for a in page.find_all("a", href=re.compile("^mailto:"))
             if a.get_text(strip=True).replace("\xa0", " ") in ("Koper antwoorden via de case",
                                           "Webshop antwoorden via de case"))
    parts = urlsplit(a["href"])
    query = parse_qs(parts.query)
    return {"to": unquote(parts.path), "subject": query["subject"][0], "body": query["body"][0]}


def test_the_team_sees_whether_the_bank_details_came_in_every_mail_and_the_digest(box):
    closing = compensated(box)
    case_id, later = case(box)["id"], datetime.now(timezone.utc) + timedelta(days=30)
    # The decision's confirmation: the compensation waits for the bank details.
    assert "Bankgegevens: nog niet ontvangen" in flat(text(only(closing, OPERATOR)))
    # Past its pay-by date without bank details: late, waiting for them (review 12: the buyer
    # was promised that date), under its own heading, not with the payments the team owes.
    data = digest.collect(box.app.db(), later, timedelta(days=1), box.app.tz)
    assert [p["case_id"] for p in data["payments"]] == [case_id]
    assert [p["case_id"] for p in data["late"]] == [case_id]
    out = flat(digest.text(box.app, later, timedelta(days=1)))
    assert "verstreken, wacht sinds " in out and " op bankgegevens" in out
    assert "TE LAAT – WACHT OP BANKGEGEVENS VAN DE KOPER" in out
    assert "TE LATE BETALINGEN" not in out

    # A buyer's message without them: a plain message, the details still awaited, and a button
    # that answers the buyer with the order and the case in its subject.
    to_buyer = only(closing, BUYER_NL)
    reply(box, to_buyer, BUYER_NL, "Wanneer krijg ik mijn geld?")
    relayed = only(box.deliver(), OPERATOR)
    assert flat(relayed["Subject"]).startswith("Nieuw bericht van de koper · ")
    assert flat(relayed["Subject"]).endswith(f" · € 49,95 · case {case_id}")
    assert "Bankgegevens: nog niet ontvangen" in flat(text(relayed))
    link = answer_link(relayed)
    assert link["to"] == relayed["Reply-To"] and link["to"].startswith("bot+")
    assert link["body"].startswith("message buyer") and str(case_id) in link["subject"]

    # The reply with the IBAN: its own subject and heading, and the date it came.
    reply(box, to_buyer, BUYER_NL, f"Mijn rekening: {IBAN}, J. de Vries")
    relayed = only(box.deliver(), OPERATOR)
    subject = flat(relayed["Subject"])
    assert subject.startswith("Bankgegevens van de koper · ") and subject.endswith(
        f" · € 49,95 · case {case_id}")
    said = flat(text(relayed))
    assert "De koper heeft bankgegevens gestuurd" in said and IBAN in said
    assert "Bankgegevens: ontvangen op " in said

    # The digest says where the details are and, to pay from, the IBAN (review 12); late now.
    data = digest.collect(box.app.db(), later, timedelta(days=1), box.app.tz)
    assert [p["case_id"] for p in data["late"]] == [case_id]
    out = flat(digest.text(box.app, later, timedelta(days=1)))
    assert "Bankgegevens: ontvangen, in de e-mail van de koper van " in out
    assert f"IBAN {IBAN}" in out

    # A command on the closed case is answered with the same row.
    reply(box, relayed, OPERATOR, "request-documents buyer", quote=False)
    assert "Bankgegevens: ontvangen op " in flat(text(only(box.deliver(), OPERATOR)))


@pytest.fixture(scope="module")
def ops(tmp_path_factory):
    """{(kind.label, locale): rendered} of the operators' samples this file reads."""
    kinds = ("operator.digest", "operator.command_done", "operator.command_help",
             "operator.message_relayed")
    return {(f"{s.name}.{s.label}", locale): out for s, _, locale, out in rendered_samples(
        tmp_path_factory.mktemp("ops"), lambda s: s.name in kinds)}


ALARM = {"nl": "Alarm: de planner draait misschien niet",
         "fr": "Alerte\u202f: le planificateur ne tourne peut-être pas",
         "it": "Avviso: il pianificatore potrebbe non essere in funzione"}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_digest_leads_with_its_alarm_and_splits_the_payments_help(ops, locale):
    mail = ops["operator.digest.", locale]
    page = BeautifulSoup(mail.html, "html.parser")
    assert flat(page.find("h1").get_text(" ", strip=True)) == flat(ALARM[locale])
    # The alarm's box comes before anything else of the body, the counts included.
    box = page.find(class_="mb-todo")
    assert "mailbot check" in box.get_text() and "mb-due" not in str(box)
    assert mail.text.index("mailbot check") < mail.text.index(
        {"nl": "Alarm: 1", "fr": "Alerte\u202f: 1", "it": "Avviso: 1"}[locale])
    # The payments' help: an intro, then two short bullets.
    h2 = next(h for h in page.find_all("h2") if h.get_text(strip=True).upper() == {
        "nl": "TE CONTROLEREN BETALINGEN", "fr": "PAIEMENTS À VÉRIFIER",
        "it": "PAGAMENTI DA VERIFICARE"}[locale])
    intro, bullets = h2.find_next("p"), h2.find_next("ul")
    assert len(bullets.find_all("li")) == 2
    assert all(len(li.get_text().split()) <= 45 for li in bullets.find_all("li"))
    if locale == "nl":
        assert flat(intro.get_text()) == (
            "Hieronder staan gesloten cases met een terugbetaling of vergoeding waarvan de "
            "betaling nog niet is vastgelegd en de uiterste datum nog niet voorbij is.")
    # A compensation without bank details waits; one with them is late; neither shows an IBAN.
    said = flat(mail.text)
    assert {"nl": "wacht sinds 8 november op bankgegevens",
            "fr": "en attente des coordonnées bancaires depuis le 8 novembre",
            "it": "in attesa dei dati bancari dall’8 novembre"}[locale] in said
    assert {"nl": "Bankgegevens: ontvangen, in de e-mail van de koper van",
            "fr": "Coordonnées bancaires : reçues, dans l’e-mail de l’acheteur du",
            "it": "Dati bancari: ricevuti, nell’e-mail dell’acquirente del"}[locale] in said
    late = {"nl": ("TE LATE BETALINGEN", "CASES DIE ACTIE VRAGEN"),
            "fr": ("PAIEMENTS EN RETARD", "DOSSIERS QUI DEMANDENT UNE ACTION"),
            "it": ("PAGAMENTI IN RITARDO", "PRATICHE CHE RICHIEDONO UN INTERVENTO")}[locale]
    section = said.partition(late[0])[2].partition(late[1])[0]
    assert "1032" in section
    # The one waiting for the buyer's bank details is late under its own heading (review 12).
    assert "1035" in section.partition({"nl": "TE LAAT – WACHT", "fr": "EN RETARD – EN ATTENTE",
                                        "it": "IN RITARDO – IN ATTESA"}[locale])[2]
    assert "1035" not in section.partition({"nl": "TE LAAT – WACHT",
                                            "fr": "EN RETARD – EN ATTENTE",
                                            "it": "IN RITARDO – IN ATTESA"}[locale])[0]
    if locale == "fr":
        assert "indiquées à l’heure" not in mail.text


PAID = {"nl": "€ 249,95 aan de koper betaald door de kopersbescherming op 22 november 2026",
        "fr": "249,95 € versés à l’acheteur par la protection acheteur le 22 novembre 2026",
        "it": "249,95 € pagati all’acquirente dalla Protezione Acquirenti il 22 novembre 2026"}
BANK = {"nl": ("Bankgegevens: nog niet ontvangen", "Bankgegevens: ontvangen op "),
        "fr": ("Coordonnées bancaires : pas encore reçues",
               "Coordonnées bancaires : reçues le "),
        "it": ("Dati bancari: non ancora ricevuti", "Dati bancari: ricevuti il ")}


@pytest.mark.parametrize("locale", LOCALES)
def test_payments_and_bank_details_read_once_in_each_language(ops, locale):
    # A payment recorded: "paid to the buyer by … on …", once; its subject names the amount.
    done = ops["operator.command_done.paid", locale]
    assert PAID[locale] in flat(done.text)
    assert flat(done.subject).endswith(
        {"nl": "· € 249,95 · case 1029", "fr": "· 249,95 € · dossier 1029",
         "it": "· 249,95 € · pratica 1029"}[locale])
    assert PAID[locale] in flat(ops["operator.command_help.paid_already", locale].text)
    # The compensation decided, the closed case's help and its messages: the bank details row.
    missing, received = BANK[locale]
    for key in ("operator.command_done.", "operator.command_help.closed",
                "operator.command_help.decided",
                "operator.message_relayed.closed_payment_awaited"):
        assert missing in flat(ops[key, locale].text), key
    iban = ops["operator.message_relayed.bank_details", locale]
    assert received in flat(iban.text)
    assert flat(iban.subject).startswith({
        "nl": "Bankgegevens van de koper · Fietsen de Wit · € 249,95 · case 1029",
        "fr": "IBAN de l’acheteur · Boutique Rive Gauche · 249,95 € · dossier 1029",
        "it": "Dati bancari dell’acquirente · Negozio del Sole · 249,95 € · pratica 1029",
    }[locale])
    # The closed case is said to be closed once.
    lead = next(p for p in ops["operator.message_relayed.closed_payment_awaited", locale].text
                .split("\n\n") if p.startswith(("Er is een", "Un nouveau", "È arrivato")))
    closed = {"nl": r"\bgesloten\b", "fr": r"\bclos\b", "it": r"\bchius[ao]\b"}[locale]
    assert len(re.findall(closed, lead)) == 1, lead
    # fr: "n’a pas été exécutée ; rien n’a donc changé : …" is two sentences.
    if locale == "fr":
        for label in ("not_owed", "paid_already", "missing"):
            said = flat(ops[f"operator.command_help.{label}", locale].text)
            assert "rien n’a donc changé." in said and "changé :" not in said, label


@pytest.mark.parametrize("locale", LOCALES)
def test_every_relayed_message_answers_its_sender(ops, locale):
    """Each relayed message has one button that answers its sender through the case (ops12a:
    ``message buyer|merchant`` to the case's address, on the case file), none to a party's own
    address; a late compensation's "ask again" link is the same command to the buyer."""
    for label, party in (("from_buyer", "buyer"), ("from_merchant", "merchant"),
                         ("closed_payment_awaited", "buyer"), ("bank_details", "buyer")):
        page = BeautifulSoup(ops[f"operator.message_relayed.{label}", locale].html, "html.parser")
        links = [urlsplit(a["href"]) for a in page.find_all("a", href=re.compile("^mailto:"))]
        assert [u for u in links if not unquote(u.path).startswith("bot+")] == [], label
        answers = [u for u in links if parse_qs(u.query).get("body", [""])[0]
                   .startswith(f"message {party}")]
        assert answers, label
        subject = parse_qs(answers[0].query)["subject"][0]
        assert re.search(r"\b10(41|29)\b", subject), (label, subject)
