"""The tenth design review of the buyers' and shops' mails (review 10D, design10): the shop that
owes a refund gets a to-do box and a button to report it paid; every money outcome a buyer
reads shows its amount as the large figure; the request for bank details says who sees them and
which address to reply to; an escalated buyer reads what happens next; a wordmark in the header;
no widowed word in a button; the weekly intake report; the preheader's spacer; "e-mail" kept
whole without U+2011. Checked on the samples of ``outbound/samples.py`` in nl, fr and it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import rendered_samples
from mailbot.outbound.render import LOCALES


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    """{(key, locale): Rendered} of every sample."""
    out = rendered_samples(tmp_path_factory.mktemp("design10"))
    return {(".".join(p for p in (s.name, s.label) if p), locale): mail
            for s, ctx, locale, mail in out}


def soup_of(mail):
    return BeautifulSoup(mail.html, "html.parser")


def flat(text: str) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", text).strip()


TODO = {"nl": "Te doen: betaal de koper € 180,00 terug via de oorspronkelijke betaalmethode, "
              "uiterlijk op maandag 7 december 2026.",
        "fr": "À faire : remboursez 180,00 € à l’acheteur par le moyen de paiement d’origine, "
              "au plus tard le lundi 7 décembre 2026.",
        "it": "Da fare: rimborsa 180,00 € all’acquirente con il metodo di pagamento originale, "
              "entro lunedì 7 dicembre 2026."}
REPORT = {"nl": "Terugbetaling doorgeven", "fr": "Signaler le remboursement",
          "it": "Comunica il rimborso"}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_shop_that_owes_a_refund_gets_a_todo_box_and_a_button_to_report_it(mails, locale):
    """merchant.case_closed.refunded_by_merchant ended on "Betaal de koper € 180,00 terug,
    uiterlijk op …", which repeated the card, and gave no way to show the refund was paid: the
    orange to-do box says who, how much, by when and how, and one filled button opens a reply
    to us asking for the date, the amount and the proof of payment attached."""
    mail = mails["merchant.case_closed.refunded_by_merchant", locale]
    soup = soup_of(mail)
    todo = soup.select("td.mb-todo")
    assert len(todo) == 1 and flat(todo[0].get_text()) == TODO[locale]
    # Above the facts, as in command_done.
    assert todo[0].find_next("table", class_="mb-card") is not None
    button = soup.select("td.mb-btn-primary a")
    assert [flat(a.get_text()) for a in button] == [REPORT[locale]]
    href = urlsplit(button[0]["href"])
    assert href.scheme == "mailto" and href.path.startswith("bot+")
    body = parse_qs(href.query)["body"][0]
    assert re.search(r"betaalbewijs|preuve de paiement|prova del pagamento", body)
    assert "180,00" in body
    # The closing sentence that repeated the card is gone, in both parts.
    said = {"nl": "Betaal de koper € 180,00 terug, uiterlijk",
            "fr": "Veuillez rembourser", "it": "Rimborsa 180,00 € all’acquirente entro"}[locale]
    body_text = flat(soup.select_one("h1").parent.get_text())
    assert said not in body_text and said not in flat(mail.text.partition("\n\n")[2])
    assert flat(TODO[locale]) in flat(mail.text) and REPORT[locale] in mail.text


HEROES = {"buyer.decision.A": ("249,95", True), "buyer.decision.A.after_return": ("249,95", True),
          "buyer.decision.B": ("120,00", False),
          "buyer.case_closed.compensated": ("249,95", True),
          "buyer.case_closed.refunded_by_merchant": ("180,00", False),
          "buyer.case_closed.corrected": ("249,95", True)}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_money_outcome_a_buyer_reads_shows_its_amount_as_the_large_figure(mails, locale):
    """Only decision.B had the large "€ 120,00 van € 249,95": decision.A, A.after_return and the
    closings that pay the buyer showed the money as one card row among five. The same figure
    now stands under the heading of each, with "van € 249,95" when it is part of it (a
    decision's card no longer repeats it; a closing's card keeps the record: how much, who pays,
    by when); a closing without money (claim_rejected) has none."""
    for k, (amount, full) in HEROES.items():
        soup = soup_of(mails[k, locale])
        figure = soup.select_one("h1").find_next("p")
        assert "mb-figure" in figure["class"], (k, locale)
        text = flat(figure.get_text())
        assert text.startswith(amount) or text.startswith("€ " + amount), (k, locale, text)
        # Part of the order amount says of what; the whole amount stands alone.
        assert "249,95" in text and len(re.findall(r"\d+,\d\d", text)) == (1 if full else 2), text
        if k.startswith("buyer.decision"):
            rows = [flat(r.get_text()) for r in soup.select("tr.mb-kv")]
            assert not [r for r in rows if r.startswith(("Aangeboden", "Remboursement", "Rimborso"))], rows
    for k in ("buyer.case_closed.claim_rejected", "buyer.decision.C",
              "merchant.case_closed.refunded_by_merchant"):
        assert not soup_of(mails[k, locale]).select(".mb-figure"), k


@pytest.mark.parametrize("locale, who, never, check", [
    ("nl", "Alleen ons serviceteam ziet deze gegevens", "inloggegevens", "Controleer"),
    ("fr", "Seule notre équipe voit ces informations", "identifiants de connexion", "vérifiez"),
    ("it", "Solo il nostro team vede questi dati", "credenziali di accesso", "controlla")])
def test_the_request_for_bank_details_says_who_sees_them_and_where_to_reply(mails, locale, who,
                                                                            never, check):
    """case_closed.compensated asked for the IBAN by mail, which looks like phishing: it says who
    sees it and for what, that we never ask for card details or a login, and which address the
    reply must go to; "We betalen je € 249,95 uiterlijk op …" (lead and card already say so)
    is gone."""
    mail = mails["buyer.case_closed.compensated", locale]
    for text in (flat(soup_of(mail).get_text()), flat(mail.text)):
        assert who in text and never in text
        assert re.search(check + r"[^.]*@bot\.example", text), text
        assert not re.search(r"We betalen je|Nous vous versons|Ti paghiamo", text)


@pytest.mark.parametrize("locale, every_day, both", [
    ("nl", "bekijkt de openstaande meldingen elke dag", "krijgen jij en de webshop een e-mail"),
    ("fr", "examine les dossiers en cours chaque jour", "elle vous écrit, à vous et à la boutique"),
    ("it", "esamina ogni giorno le pratiche aperte", "scrive a te e al negozio")])
def test_an_escalated_buyer_reads_what_happens_next_and_when(mails, locale, every_day, both):
    """buyer.case_escalated.* said only "we will write as soon as there is a decision": nothing on
    what happens and when. No decision target is agreed (no setting in SPEC §9), so no number
    of days: the lead says the team goes through the open cases every day, and a "what happens
    next" list says it may ask for documents first, writes to both parties when it decides, and
    that a reply adds to the case."""
    keys = [k for k, lc in mails if lc == locale and k.startswith("buyer.case_escalated.")]
    assert len(keys) == 4
    for k in keys:
        mail = mails[k, locale]
        soup = soup_of(mail)
        lead = flat(soup.select_one("p.mb-lead").get_text())
        assert every_day in lead, (k, lead)
        items = [flat(li.get_text()) for li in soup.select("h2 + ul li")]
        assert len(items) == 3 and both in items[1], (k, items)
        assert re.search(r"documenten|documents|documenti", items[0])
        assert not re.search(r"\d+ (?:werkdagen|dagen|jours|giorni)", flat(mail.text)), k
        assert every_day in flat(mail.text) and both in flat(mail.text)


def test_e_mail_is_kept_whole_with_its_ascii_hyphen_not_u2011(mails):
    """The HTML part wrote "e‑mail" with U+2011 (non-breaking hyphen): old Outlook fonts may lack
    the glyph, and search and copy do not find "e-mail". It is an ASCII hyphen in a no-wrap span
    now (one filter, render.no_break_hyphens), and so is a French imperative's pronoun."""
    for (k, locale), mail in mails.items():
        assert "\u2011" not in mail.html, (k, locale)
    soup = soup_of(mails["buyer.reminder", "fr"])
    spans = [s.get_text() for s in soup.body.select('span[style="white-space:nowrap"]')]
    assert "e-mail" in spans and "Envoyez-le" in spans
