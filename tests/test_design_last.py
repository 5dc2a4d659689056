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

from conftest import make_config
from mailbot import wiring
from mailbot.outbound import samples
from mailbot.outbound.render import LOCALES


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    """{(key, locale): Rendered} of every sample, on an app with a brand (the header's wordmark)."""
    app = wiring.build(make_config(tmp_path_factory.mktemp("design10"),
                                   bot={"brand": "Trustmark"}))
    try:
        return {(".".join(p for p in (s.name, s.label) if p), locale):
                app.renderer.render(s.name, locale, ctx)
                for locale in LOCALES for s, ctx in samples.contexts(app, app.db(), locale)}
    finally:
        app.close()


def soup_of(mail):
    return BeautifulSoup(mail.html, "html.parser")


def flat(text: str) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", text).strip()


TODO = {"nl": "Te doen: betaal de koper € 180,00 terug via de oorspronkelijke betaalmethode, "
              "uiterlijk maandag 7 december 2026.",
        "fr": "À faire : remboursez 180,00 € à l’acheteur par le moyen de paiement d’origine, "
              "au plus tard le lundi 7 décembre 2026.",
        "it": "Da fare: rimborsa 180,00 € all’acquirente con lo stesso metodo di pagamento usato "
              "per l’ordine, entro lunedì 7 dicembre 2026."}
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
    ("it", "visibili solo al nostro team", "credenziali di accesso", "controlla")])
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
    ("it", "esamina ogni giorno le pratiche aperte", "scriverà a te e al negozio")])
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


@pytest.mark.parametrize("locale", LOCALES)
def test_the_header_band_has_a_wordmark_without_an_image(mails, locale):
    """The header was only "Trustmark · Kopersbescherming" on a navy band: a badge with the
    brand's initial (a table cell, white on navy, no image: remote images are blocked by
    default) stands before the name, kept white in dark mode; operators' mails have none."""
    for (k, lc), mail in mails.items():
        if lc != locale:
            continue
        soup = soup_of(mail)
        mark = soup.select("td.mb-mark")
        if k.startswith("operator."):
            assert not mark, k
            continue
        assert len(mark) == 1 and mark[0].get_text() == "T", k  # the sample brand: Trustmark
        assert "background:#ffffff" in mark[0]["style"] and mark[0].get("aria-hidden") == "true"
        assert "Trustmark" in mark[0].find_next("td").get_text()
        assert not soup.find("img"), k
    css = soup_of(mails["buyer.reminder", locale]).style.get_text()
    dark = css[css.index("prefers-color-scheme: dark"):]
    assert ".mb-mark { background: #ffffff !important; color: #0b3d6b !important; }" in dark


def test_no_button_leaves_its_last_word_alone(mails):
    """"Het probleem is opgelost, ik trek mijn melding / in" at 360 px: every button label of three
    words or more has its last two joined by a no-break space (one filter in the button macro);
    the text part keeps plain spaces."""
    seen = 0
    for (k, locale), mail in mails.items():
        for a in soup_of(mail).select("a.mb-btn-text"):
            words = a.get_text().split(" ")
            if len(a.get_text().split()) > 2:  # two words may wrap one a line
                assert "\u00a0" in words[-1] and " " not in words[-1], (k, locale, a.get_text())
                seen += 1
        assert "\u00a0in" not in mail.text
    assert seen > 100
    nl = soup_of(mails["buyer.case_opened", "nl"])
    labels = [a.get_text() for a in nl.select("a.mb-btn-text")]
    assert "Het probleem is opgelost, ik trek mijn melding\u00a0in" in labels, labels


@pytest.mark.parametrize("locale, period", [("nl", "van 16 t/m 22 november 2026"),
                                            ("fr", "du 16 au 22 novembre 2026"),
                                            ("it", "dal 16 al 22 novembre 2026")])
def test_the_weekly_intake_report_for_phones_and_for_what_to_do(mails, locale, period):
    """merchant.intake_report: the four counts stacked into eight lines on a phone: a 2×2 grid;
    "ask us for a new address" had no button: a mailto to the bot's address; the unreadable
    confirmation was only counted: it is listed by date, subject and sender; the period names
    the seven days, first and last included; its lists use spaced en dashes, not em dashes."""
    mail = mails["merchant.intake_report", locale]
    soup = soup_of(mail)
    assert flat(mail.subject).endswith(period)
    grid = soup.select_one("table.mb-grid")
    rows = grid.find_all("tr", recursive=False) or grid.select("tr")
    assert len(rows) == 2 and all(len(r.select("td.mb-count")) == 2 for r in rows)
    assert [flat(c.span.get_text()) for c in grid.select("td.mb-count")] == ["41", "2", "1", "3"]
    button = soup.select("a.mb-btn-text")
    label = {"nl": "Nieuw adres aanvragen", "fr": "Demander une nouvelle adresse",
             "it": "Richiedi un nuovo indirizzo"}[locale]
    assert [flat(a.get_text()) for a in button] == [label]
    assert button[0]["href"].startswith("mailto:bot@bot.example?subject=")
    items = [flat(li.get_text()) for li in soup.select("li")]
    unread = [i for i in items if "orders@shop.example" in i]
    assert len(unread) == 1 and "Thank you for your order!" in unread[0] and "2026" in unread[0]
    assert all(" – " in i and "—" not in i for i in items), items
    assert "—" not in mail.text and "orders@shop.example" in mail.text


def test_the_preheader_is_padded_so_no_body_text_follows_it(mails):
    """Some clients append the body's first words to a short preheader: zero-width non-joiners
    and no-break spaces fill the preview after it (SpamAssassin stays 0.0: test_mail_design)."""
    for (k, locale), mail in mails.items():
        preheader, spacer = soup_of(mail).body.find_all("div", limit=2)
        assert preheader.get_text().strip() and "\u200c" not in preheader.get_text(), k
        assert "display:none" in spacer["style"], k
        assert spacer.get_text().count("\u200c\u00a0") >= 80 and not spacer.get_text().strip("\u200c\u00a0"), k


def test_a_value_is_top_aligned_beside_its_label(mails):
    """Review 11D item 6: when a label wraps ("Aangeboden / terugbetaling"), a value cell without
    vertical-align:top floats between the label's two lines: every cell of every key/value row,
    buyers', shops' and operators' boxes alike, is top-aligned."""
    rows = 0
    for (k, locale), mail in mails.items():
        for tr in soup_of(mail).select("tr.mb-kv"):
            cells = tr.find_all(["td", "th"], recursive=False)
            assert len(cells) == 2, (k, locale)
            for cell in cells:
                assert "vertical-align:top" in cell.get("style", "").replace(" ", ""), (k, locale)
            rows += 1
    assert rows > 500


REPLY = {"nl": "Of antwoord gewoon op deze e-mail, in je eigen woorden.",
         "fr": "Ou répondez simplement à cet e-mail, avec vos propres mots.",
         "it": "Oppure rispondi semplicemente a questa e-mail, con parole tue."}


def test_under_every_group_of_buttons_the_hint_says_a_plain_reply_works(mails):
    """Review 11D item 1: a mailto: button opens nothing in a webmail with no mail program set
    up; "you can also simply reply" stood two paragraphs lower (decision A/B/C, reminder): the
    14 px hint right under every group of buttons says it, in the text part too, and the
    separate line is gone."""
    groups = 0
    for (k, locale), mail in mails.items():
        tables = soup_of(mail).find_all("table", style=lambda s: s and s.startswith("margin:4px 0 8px"))
        for table in tables:
            hint = table.find_next_sibling("p")
            assert "mb-muted" in hint["class"] and "font-size:14px" in hint["style"], (k, locale)
            assert flat(hint.get_text()).endswith(flat(REPLY[locale])), (k, locale, hint.get_text())
            groups += 1
        assert flat(mail.text).count(REPLY[locale]) == len(tables), (k, locale)
    assert groups >= 60
    for locale in LOCALES:
        for k in ("buyer.reminder", "buyer.decision.A", "buyer.decision.C"):
            text = flat(soup_of(mails[k, locale]).get_text())
            assert text.count(REPLY[locale]) == 1, (k, locale)
            assert {"nl": "Je kunt ook gewoon op deze e-mail antwoorden", "fr": "Vous pouvez aussi",
                    "it": "Puoi anche rispondere"}[locale] not in text, (k, locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_decision_says_what_silence_means_in_its_lead_and_one_size_under_the_buttons(
        mails, locale):
    """Review 11D item 3: "If we do not hear from you by then…" (17 px) sat between the 14 px
    hints under the buttons of decision A/B/C: it follows the lead, beside the deadline, and
    below the buttons every paragraph is the 14 px hint."""
    silence = {"nl": "Als we tot dan niets van je horen", "fr": "Sans réponse de votre part",
               "it": "Se non ci rispondi entro questa data"}[locale]
    for label in ("A", "A.after_return", "B", "C"):
        soup = soup_of(mails["buyer.decision." + label, locale])
        assert soup.select_one("p.mb-lead").find_next_sibling("p").get_text().startswith(silence), label
        buttons = soup.find("a", class_="mb-btn-text").find_parent(
            "table", style=lambda s: s and s.startswith("margin:4px 0 8px"))
        after = buttons.find_next_siblings("p")
        assert after and all("font-size:14px" in p["style"] for p in after), (label, after)


AGAIN = {"nl": "antwoord", "fr": "répond", "it": "rispond"}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_closed_case_says_each_thing_once(mails, locale):
    """Review 11D item 7: buyer.case_closed.refunded_by_merchant said to reply if the money had
    not arrived in the lead and again at the end: once, at the end, with the date; the
    compensated buyer read € 249,95 as the figure, the order amount and the compensation row:
    the box keeps the order amount and who pays, not the compensation again."""
    soup = soup_of(mails["buyer.case_closed.refunded_by_merchant", locale])
    said = [p.get_text() for p in soup.select("td.mb-body p")]
    assert sum(AGAIN[locale] in p.lower() for p in said) == 1, said
    assert AGAIN[locale] not in soup.select_one("p.mb-lead").get_text().lower()
    mail = mails["buyer.case_closed.compensated", locale]
    soup = soup_of(mail)
    amount = soup.select_one("p.mb-figure").get_text()
    card = [flat(td.get_text()) for td in soup.select("table.mb-card tr.mb-kv td:nth-of-type(2)")]
    assert card.count(flat(amount)) == 1 and len(card) == 5, card
    assert flat(soup.select_one("td.mb-body").get_text()).count(flat(amount)) == 2, locale


WHY = {"nl": ("Je ontvangt deze e-mail omdat je bij {shop} hebt besteld met de kopersbescherming "
              "van Trustmark.", "Je ontvangt deze e-mail omdat {shop} deelneemt aan de "
              "kopersbescherming van Trustmark.", "Je ontvangt deze e-mail omdat je webshop "
              "deelneemt aan de kopersbescherming van Trustmark."),
       "fr": ("Vous recevez cet e-mail parce que vous avez commandé chez {shop} avec la protection "
              "acheteur de Trustmark.", "Vous recevez cet e-mail parce que {shop} participe à la "
              "protection acheteur de Trustmark.", "Vous recevez cet e-mail parce que votre "
              "boutique participe à la protection acheteur de Trustmark."),
       "it": ("Ricevi questa e-mail perché hai effettuato un ordine presso {shop} con la "
              "Protezione Acquirenti di Trustmark.", "Ricevi questa e-mail perché {shop} aderisce alla Protezione "
              "Acquirenti di Trustmark.", "Ricevi questa e-mail perché il tuo negozio aderisce "
              "alla Protezione Acquirenti di Trustmark.")}


def test_the_footer_says_why_a_buyer_or_a_shop_gets_the_mail(mails):
    """Review 11D item 5: a first reminder from an unknown sender, or a request for bank
    details, did not say why it came: the footer's first line names the shop and the brand, in
    both parts, for buyers' and shops' mails about an order (a shop's intake mails: "your
    shop"); the operators' mails have no such line."""
    seen = {"buyer": 0, "merchant": 0, "intake": 0}
    for (k, locale), mail in mails.items():
        foot = soup_of(mail).select_one("td.mb-foot")
        why = foot.select_one("span.mb-why")
        if k.startswith("operator."):
            assert why is None, k
            continue
        buyer, shop, intake = WHY[locale]
        if why is None:
            continue
        said = flat(why.get_text()).replace("\u2011", "-")
        assert foot.get_text().startswith(why.get_text()), k
        assert said in flat(mail.text), (k, locale)
        if said == flat(intake):
            seen["intake"] += 1
            continue
        name = re.search(r"(?:bij|chez|presso) (.+?) (?:hebt besteld|avec|con) |omdat (.+?) deelneemt"
                         r"|parce que (.+?) participe|perché (.+?) aderisce", said)
        assert name, (k, said)
        role = "buyer" if k.startswith("buyer.") else "merchant"
        shop_name = next(g for g in name.groups() if g)
        assert said == flat((buyer if role == "buyer" else shop).format(shop=shop_name)), (k, said)
        seen[role] += 1
    assert seen["buyer"] > 60 and seen["merchant"] > 30 and seen["intake"] == 9, seen
    for locale in LOCALES:
        for k in ("buyer.reminder", "buyer.case_closed.compensated", "merchant.case_opened"):
            assert soup_of(mails[k, locale]).select_one("span.mb-why"), (k, locale)
