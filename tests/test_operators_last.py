"""Issue 20, the operators' last review (review9c, and the fr/it reader's review9b items 2-7 and
9): a closed case that still owes its payment takes ``paid`` and says so; a disputed partial
refund gives the remainder beside the prefilled amount; states, dates and numbers in the
reader's words; the shop's deadline only where it ran out; the digest pays what the protection
owes; the fr/it operators' wording. The sample mails in nl, fr and it, rendered through
compose.context as sent, and one real ``paid`` answered twice through the intake."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from babel.dates import format_date
from babel.messages.pofile import read_po

from conftest import OPERATOR, only, rendered_samples, reply, text
from mailbot import resources
from mailbot.outbound.render import LOCALES
from test_payments_recorded import compensated_by_mail


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    """{(name, label, locale): Rendered} for the operators' samples."""
    return {(s.name, s.label, locale): out for s, _, locale, out in rendered_samples(
        tmp_path_factory.mktemp("last"), lambda s: s.name.startswith("operator."))}


def flat(mail) -> str:
    return " ".join(mail.text.split())


# The samples' compensation is past its date, and the buyer has not sent the bank details yet:
# it waits for them (not late for the team; tests/test_bank_details_seen.py).
# Past its date it is late, waiting for the bank details since the decision (review 12).
PAY_BY = {"nl": "Uiterste betaaldatum: 21 november 2026 · verstreken, wacht sinds 7 november op "
                "bankgegevens",
          "fr": "Date limite de paiement\u202f: 21 novembre 2026 · dépassée, en attente des "
                "coordonnées bancaires depuis le 7 novembre",
          "it": "Pagamento entro: 21 novembre 2026 · termine scaduto, in attesa dei dati bancari dal 7 "
                "novembre"}
ONLY_PAID = {"nl": "per e-mail leg je die vast met paid",
             "fr": "par e-mail, paid l’enregistre",
             "it": "via e-mail, paid lo registra"}
NO_COMMAND = {"nl": "gesloten: per e-mail werkt alleen nog message buyer",
              "fr": "n’accepte plus que message buyer",
              "it": "via e-mail accetta solo message buyer"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("label", ["closed", "decided"])
def test_a_closed_case_that_owes_its_payment_offers_paid_and_shows_what_is_owed(
        mails, locale, label):
    mail = mails["operator.command_help", label, locale]
    out = flat(mail)
    assert PAY_BY[locale].split(":")[0].rstrip("\u202f") in out and "249,95" in out
    assert re.sub(r"\s+", " ", PAY_BY[locale]).split(" · ")[1] in out
    assert ONLY_PAID[locale] in out and NO_COMMAND[locale] not in out
    # ops12a: a message to a party works on a closed case too, and the help says so.
    assert "message buyer / message merchant" in out
    assert "body=paid" in mail.text and "mailbot case 1029 paid" in out
    # A reply is read as a command there: the footer no longer says it changes nothing.
    assert "changes nothing" not in out


def test_the_payment_rows_are_labelled_as_in_the_message_about_the_closed_case(mails):
    relayed = flat(mails["operator.message_relayed", "closed_payment_awaited", "nl"])
    helped = flat(mails["operator.command_help", "closed", "nl"])
    for row in ("Vergoeding: € 249,95", "Wie betaalt: de kopersbescherming", PAY_BY["nl"]):
        assert row in relayed.replace("\xa0", " ") and row in helped.replace("\xa0", " ")


REMAINDER = {"nl": "Is de € 120,00 al betaald, vul dan € 129,95 in.",
             "fr": "Si les 120,00 € ont déjà été payés, indiquez 129,95 €.",
             "it": "Se i 120,00 € sono già stati pagati, indica 129,95 €."}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_disputed_partial_refund_gives_the_remainder_beside_the_prefilled_amount(
        mails, locale):
    mail = mails["operator.case_escalated", "buyer_disputes", locale]
    assert REMAINDER[locale] in flat(mail).replace("\xa0", " ")
    # The links still prefill the order's amount (SPEC §9: the decide form is unchanged).
    assert "amount%3A%20" in mail.text
    plain = flat(mails["operator.case_escalated", "merchant_no_response", locale])
    assert "129,95" not in plain


CODES = (" applied", "(applied)", " sent ", "dead", "bounced")
RECEIVED = {"nl": "De e-mail met ontvangstnummer 5021", "fr": "L’e-mail reçu n° 5021",
            "it": "L’e-mail ricevuta n. 5021"}
NUMBER = {"nl": "nr. 311", "fr": "n° 311", "it": "n. 311"}


@pytest.mark.parametrize("locale", LOCALES)
def test_states_and_numbers_are_in_the_readers_words(mails, locale):
    release = flat(mails["operator.command_done", "release", locale])
    refused = flat(mails["operator.command_help", "mail_command", locale])
    for code in CODES:
        assert code not in release and code not in refused.replace("resend", ""), code
    assert RECEIVED[locale] in release
    digest = flat(mails["operator.digest", "", locale])
    assert "#311" not in digest and NUMBER[locale] in digest


DEADLINE = {"nl": "28 november 2026, 23:59", "fr": "28 novembre 2026 à 23\xa0h\xa059",
            "it": "28 novembre 2026 alle 23:59"}
PAID_DAY = {"nl": "paid JJJJ-MM-DD", "fr": "paid AAAA-MM-JJ", "it": "paid AAAA-MM-GG"}
PAID_ON = {"nl": "aan de koper betaald door de kopersbescherming op 22 november 2026",
           "fr": "versés à l’acheteur par la protection acheteur le 22 novembre 2026",
           "it": "pagati all’acquirente dalla Protezione Acquirenti il 22 novembre 2026"}


@pytest.mark.parametrize("locale", LOCALES)
def test_dates_carry_their_year_and_time_and_paid_takes_its_day(mails, locale):
    asked = mails["operator.command_done", "request_documents", locale]
    assert DEADLINE[locale] in asked.text
    assert PAID_ON[locale] in flat(mails["operator.command_done", "paid", locale])
    already = flat(mails["operator.command_help", "paid_already", locale])
    assert "249,95" in already and "22 novembre 2026" in already.replace("november", "novembre")
    for key in (("operator.command_done", ""), ("operator.command_help", "closed"),
                ("operator.message_relayed", "closed_payment_awaited"), ("operator.digest", "")):
        assert PAID_DAY[locale] in mails[(*key, locale)].text, key


SHOP_DEADLINE = {"nl": "Termijn van de webshop", "fr": "Délai de la boutique",
                 "it": "Scadenza del negozio"}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_shops_deadline_shows_only_where_it_ran_out(mails, locale):
    label = SHOP_DEADLINE[locale]
    assert label in mails["operator.case_escalated", "merchant_no_response", locale].text
    assert label not in mails["operator.case_escalated", "buyer_disputes", locale].text


PAY = {"nl": "Maak een vergoeding over zodra de bankgegevens van de koper binnen zijn",
       "fr": "Versez une indemnisation dès", "it": "Paga un indennizzo appena"}
# Review 12: each case once; the late payments have their own sections above this list.
LATE_ONES = {"nl": "de uiterste datum nog niet voorbij is",
             "fr": "dont la date limite n’est pas passée",
             "it": "la cui scadenza non è passata"}
# The subject counts the alarm first, and the alarm is the heading.
HEADING = {"nl": ("1 alarm", "Alarm: de planner draait misschien niet"),
           "fr": ("1 alerte", "Alerte\u202f: le planificateur ne tourne peut-être pas"),
           "it": ("1 avviso", "Avviso: il pianificatore potrebbe non essere in funzione")}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_digest_pays_what_the_protection_owes_and_its_heading_matches_its_subject(
        mails, locale):
    digest = mails["operator.digest", "", locale]
    out = flat(digest)
    assert PAY[locale] in out and LATE_ONES[locale] in out
    assert "Ga na of de koper het geld heeft ontvangen" not in out
    count, heading = HEADING[locale]
    assert count in digest.subject and heading in digest.text


WRONG = {
    "fr": ["récapitulatif", "équipe de service", "auprès du service", "ne dépasse pas",
           "telle qu’elle sera alors", "si vous vouliez moins", "Le bot", " le bot ",
           "n° de réception %(id)s", "y compris en retard"],
    "it": ["presso il team", "Non recapitata", "dell’acquirente è corretto", "è al massimo",
           "così come sarà in quel momento", "se intendevi meno", "Il bot", " il bot ",
           "anche se in ritardo", "allarme", "consegnare"],
}


@pytest.mark.parametrize("locale", ["fr", "it"])
def test_the_operators_words_in_french_and_italian(mails, locale):
    with (resources.locales() / locale / "LC_MESSAGES" / "mailbot.po").open("rb") as f:
        catalog = read_po(f, locale=locale)
    found = [(m.id, w) for m in catalog if m.id for w in WRONG[locale]
             if any(w in s for s in ([m.string] if isinstance(m.string, str) else m.string))]
    assert found == []
    if locale == "it":
        assert mails["operator.delivery_failed", "", "it"].subject.startswith(
            "E-mail non recapitata all’acquirente")
        assert "in carico al team" in mails["operator.message_relayed", "from_buyer", "it"].text
    else:
        assert "pris en charge par l’équipe" in mails["operator.message_relayed", "from_buyer",
                                                        "fr"].text


def test_paid_again_says_what_was_recorded_and_its_day(box):
    done = compensated_by_mail(box)
    # The day of the decision (today): an earlier day is refused (test_operators_eleventh.py).
    day = datetime.now(box.app.tz).date()
    reply(box, done, OPERATOR, f"paid {day.isoformat()}", quote=False)
    recorded = only(box.deliver(), OPERATOR)
    said = (f"betaald door de kopersbescherming op "
            f"{format_date(day, 'd MMMM y', locale='nl')}")
    assert said in text(recorded)
    reply(box, recorded, OPERATOR, "paid", quote=False)
    again = " ".join(text(only(box.deliver(), OPERATOR)).split())
    assert f"Vastgelegd: € 49,95 aan de koper {said}." in again.replace("\xa0", " ")
