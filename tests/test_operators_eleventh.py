"""The eleventh review of the operators' mails (/work/review11c, review11a, review11d): the day
of ``paid DAY`` (by mail and ``case ID paid --date``) is read as nl, fr and it write it and
refused, with its own answer, before the decision or after today. Real SMTP into the listener,
the real intake and CLI, real SQLite."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup

from conftest import OPERATOR, only, rendered_samples, reply, text
from mailbot.outbound.render import LOCALES
from test_case_by_mail import case
from test_corrections import run
from test_operators_mail import escalated
from test_payments_recorded import compensated_by_mail


def paid_entries(box) -> list[dict]:
    return [e for e in case(box)["timeline"] if e["kind"] == "operator.paid"]


def test_a_paid_day_before_the_decision_or_after_today_is_refused_with_the_range(box):
    done = compensated_by_mail(box)
    today = datetime.now(box.app.tz).date()
    for day in ("2019-01-01", (today + timedelta(days=1)).isoformat()):
        reply(box, done, OPERATOR, f"paid {day}", quote=False)
        answer = only(box.deliver(), OPERATOR)
        assert "Niet uitgevoerd: betaaldatum niet mogelijk" in answer["Subject"]
        body = " ".join(text(answer).split())
        assert f"“paid {day}”" in body and "er is niets veranderd" in body.lower()
        assert f"tot en met {today.day} " in body and "(de dag van het besluit)" in body
        assert f"“{day}” valt daarbuiten" in body
    assert paid_entries(box) == []


def test_a_paid_day_written_day_first_is_recorded(box):
    done = compensated_by_mail(box)
    today = datetime.now(box.app.tz).date()
    reply(box, done, OPERATOR, f"paid {today.day}-{today.month}-{today.year}", quote=False)
    assert box.last_disposition() == "applied"
    assert paid_entries(box)[0]["text"].endswith(" " + today.isoformat())


def test_an_unreadable_paid_day_is_answered_as_such_not_as_no_command(box):
    done = compensated_by_mail(box)
    today = datetime.now(box.app.tz).date()
    for day in ("gisteren", "31-02-2026"):
        reply(box, done, OPERATOR, f"paid {day}", quote=False)
        answer = only(box.deliver(), OPERATOR)
        body = " ".join(text(answer).split())
        assert "Niet uitgevoerd: datum niet herkend" in answer["Subject"]
        assert f"Datum niet herkend: schrijf paid {today.isoformat()}" in body
        assert "geen opdracht" not in body
    assert paid_entries(box) == []


def test_the_cli_refuses_a_paid_day_out_of_range_and_reads_day_first(box, tmp_path, capsys):
    escalated(box)
    case_id = str(case(box)["id"])
    assert run(box, tmp_path, capsys, "case", case_id, "decide", "compensated",
               "--message", "Wij vergoeden.")[0] == 0
    box.deliver()
    today = datetime.now(box.app.tz).date()
    code, _, err = run(box, tmp_path, capsys, "case", case_id, "paid", "--date", "2019-01-01",
                       "--yes")
    assert code == 2 and "before the decision" in err and "nothing changed" in err
    assert f"from {today.isoformat()} (the decision) to {today.isoformat()} (today)" in err
    code, _, err = run(box, tmp_path, capsys, "case", case_id, "paid", "--date", "gisteren",
                       "--yes")
    assert code == 2 and "date not recognised" in err and today.isoformat() in err
    code, out, _ = run(box, tmp_path, capsys, "case", case_id, "paid", "--date",
                       f"{today.day}/{today.month}/{today.year}", "--yes")
    assert code == 0 and f"paid {today.isoformat()}" in out
    assert paid_entries(box)[0]["text"].endswith(" " + today.isoformat())


# --- operator.message_relayed.bank_details ------------------------------------------------------

PREHEADER = {"nl": "Bankgegevens voor de betaling; het rekeningnummer staat alleen in het bericht "
                   "zelf.",
             "fr": "Coordonnées bancaires pour le paiement\u202f; le numéro de compte figure "
                   "seulement dans le message.",
             "it": "Dati bancari per il pagamento; il numero di conto è solo nel messaggio stesso."}
TO_DO = {"nl": "Te doen: maak €\xa0249,95 over naar de rekening in het bericht hieronder",
         "fr": "À faire\u202f: virer 249,95\xa0€ sur le compte indiqué dans le message",
         "it": "Da fare: fai un bonifico di 249,95\xa0€ sul conto indicato nel messaggio"}
PAY_BUTTON = {"nl": "Betaling per e-mail vastleggen", "fr": "Enregistrer le paiement par e-mail",
              "it": "Registra il pagamento via e-mail"}
ONE_SHOP_ADDRESS = {"nl": "Adres van de webshop", "fr": "Adresse de la boutique",
                    "it": "Indirizzo del negozio"}


@pytest.fixture(scope="module")
def relayed(tmp_path_factory):
    """{(label, locale): rendered} of the operators' message_relayed samples."""
    return {(s.label, locale): out for s, _, locale, out in rendered_samples(
        tmp_path_factory.mktemp("relayed"),
        lambda s: s.name == "operator.message_relayed")}


def preheader(html_part: str) -> str:
    soup = BeautifulSoup(html_part, "html.parser")
    return soup.find(style=re.compile("display:\\s*none")).get_text(" ", strip=True)


@pytest.mark.parametrize("locale", LOCALES)
def test_bank_details_put_paying_first_and_keep_the_iban_in_the_quote(relayed, locale):
    mail = relayed["bank_details", locale]
    # No IBAN on lock screens: the preheader is fixed, the IBAN only in the quoted message.
    assert preheader(mail.html) == PREHEADER[locale]
    iban = re.compile(r"\b[A-Z]{2}\d{2} ?[A-Z0-9]{4} ?\d{4}")
    assert len(iban.findall(mail.html)) == 1 and len(iban.findall(mail.text)) == 1
    soup = BeautifulSoup(mail.html, "html.parser")
    todo = soup.find(class_="mb-todo")
    assert todo is not None and TO_DO[locale] in todo.get_text(" ", strip=True)
    # The "paid" reply is the one filled button; answering the buyer is the quiet one.
    buttons = [a for a in soup.find_all("a", href=re.compile("^mailto:"))
               if a.get_text(strip=True) in (PAY_BUTTON[locale],) or "body=paid" in a["href"]]
    assert len(buttons) == 1 and "body=paid" in buttons[0]["href"]
    answer = [a for a in soup.find_all("a", href=re.compile("^mailto:"))
              if "body=message%20buyer" in a["href"]]  # through the case (ops12a)
    assert _filled(buttons[0]) and len(answer) == 1 and not _filled(answer[0])


def _filled(a) -> bool:
    """A primary button: the filled kind of the layout's buttons (_html.j2: _button)."""
    return "mb-btn-primary" in a.find_parent("td").get("class", [])


@pytest.mark.parametrize("locale", LOCALES)
def test_one_shop_address_is_labelled_in_the_singular(relayed, locale):
    for label in ("bank_details", "closed_payment_awaited"):
        text_part = relayed[label, locale].text
        assert ONE_SHOP_ADDRESS[locale] + ":" in text_part.replace("\u202f", "").replace(" :", ":")


# --- labels ---------------------------------------------------------------------------------------

REJECT = {"nl": "Besluit: afwijzen – de koper krijgt niets",
          "fr": "Décider\u202f: rejeter la demande – l’acheteur ne reçoit rien",
          "it": "Decidi: respingi la richiesta – l’acquirente non riceve nulla"}
MAIL_FOR_BUYER = {"nl": "E-mail voor: koper (", "fr": "E-mail destiné à\u202f: acheteur (",
                  "it": "E-mail destinata a: acquirente ("}


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    return {(s.name, s.label, locale): out for s, _, locale, out in rendered_samples(
        tmp_path_factory.mktemp("labelled"),
        lambda s: s.name in ("operator.case_escalated", "operator.delivery_failed"))}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_reject_command_names_its_effect_not_case_or_claim(labelled, locale):
    text_part = labelled["operator.case_escalated", "buyer_disputes", locale].text
    assert REJECT[locale] + " (decide claim_rejected)" in text_part
    assert "case wordt afgewezen" not in text_part


@pytest.mark.parametrize("locale", LOCALES)
def test_a_failed_delivery_names_the_party_in_lower_case(labelled, locale):
    text_part = labelled["operator.delivery_failed", "", locale].text
    assert MAIL_FOR_BUYER[locale] in text_part, text_part


# --- digest ---------------------------------------------------------------------------------------

SOON = {"nl": "binnen enkele minuten", "fr": "dans les minutes qui suivent", "it": "entro pochi minuti"}
WAITING = {"nl": ("CASES DIE ACTIE VRAGEN", "WACHT OP DOCUMENTEN", "wacht op documenten tot 26 "),
           "fr": ("DOSSIERS QUI DEMANDENT", "EN ATTENTE DE DOCUMENTS", "en attente de documents jusqu’au 26 "),
           "it": ("PRATICHE CHE RICHIEDONO", "IN ATTESA DI DOCUMENTI", "in attesa di documenti fino al 26 ")}


@pytest.fixture(scope="module")
def digests(tmp_path_factory):
    return {locale: out for s, _, locale, out in rendered_samples(
        tmp_path_factory.mktemp("digests"), lambda s: s.name == "operator.digest")}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_digest_with_the_scheduler_alarm_promises_no_escalation_within_minutes(digests,
                                                                                  locale):
    out = digests[locale]
    assert "mailbot check" in out.text  # the sample's alarm is up
    assert SOON[locale] not in out.text and SOON[locale] not in out.html


@pytest.mark.parametrize("locale", LOCALES)
def test_a_case_waiting_for_documents_is_listed_apart_from_the_cases_that_need_action(
        digests, locale):
    text_part = digests[locale].text
    acting, waiting, why = WAITING[locale]
    start = text_part.index(waiting)
    assert text_part.index(acting) < start
    assert "mailbot case 1040" not in text_part[:start] and "mailbot case 1043" in text_part[:start]
    assert why in text_part[start:] and "mailbot case 1040" in text_part[start:]


# --- escalation on a phone ------------------------------------------------------------------------

TIMELINE = {"nl": "Verloop van de case, oudste eerst", "fr": "Historique du dossier, du plus ancien",
            "it": "Cronologia della pratica, dal primo"}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_escalation_offers_the_three_decisions_before_the_timeline(labelled, locale):
    for part in (labelled["operator.case_escalated", "buyer_disputes", locale].html,
                 labelled["operator.case_escalated", "buyer_disputes", locale].text):
        timeline = part.lower().index(TIMELINE[locale].lower())
        for outcome in ("refunded_by_merchant", "compensated", "claim_rejected"):
            assert part.index("decide " + outcome) < timeline, (outcome, locale)
        # The request for documents stays with the full command list, after the timeline.
        assert part.index("request-documents buyer") > timeline
