"""What the mails say and how they are built, point by point of the copy review (issue 20): one
word per language, local typography, the outcome in closing subjects, amounts and the "if you do
nothing" sentence in decisions, equal-weight choices in the seeds' order, the PLUS button only
when configured, a preheader that is not hidden text, RFC 3834 headers by kind, folded headers,
samples that are real cases, and templates that word what the core passes instead of deciding."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timezone
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from markupsafe import escape

from conftest import make_config
from mailbot import config as config_mod
from mailbot import resources, wiring
from mailbot.core.model import BUYER_ACTIONS, OPERATOR_COMMAND_LINES, Outcome, Plan, Role
from mailbot.inbound import forms
from mailbot.money import parse_amount
from mailbot.outbound import compose, samples
from mailbot.outbound.render import LOCALES
from mailbot.store import records


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    """{(name, label, locale): Rendered} for every sample, on an app with brand settings."""
    app = wiring.build(make_config(tmp_path_factory.mktemp("copy"), bot={
        "upgrade_url": "https://plus.example/upgrade", "brand": "Example Trust",
        "help_url": "https://help.example/", "legal_footer": "Example Trust B.V., Damrak 1"}))
    out = {}
    for locale in LOCALES:
        for s, ctx in samples.contexts(app, app.db(), locale):
            out[s.name, s.label, locale] = (s, ctx, app.renderer.render(s.name, locale, ctx))
    yield out
    app.close()


# The msgids of every button label (_labels.j2 LABELS, the partial refund, PLUS).
LABEL_IDS = {
    "All is well: end my protection", "I have not received my order",
    "I have not received a refund from the shop", "Extend my protection",
    "I have another request", "The problem is solved: withdraw my case",
    "Refund the full amount", "Refund part of the amount", "Refund after the return",
    "Do not refund", "Yes, I have received the refund", "No, I have not received a refund",
    "I do not accept a partial refund", "OK, end my buyer protection",
    "I do not agree with the shop's solution", "Switch to PLUS",
}


def catalog(locale):
    return read_po((resources.locales() / locale / "LC_MESSAGES" / "mailbot.po").open("rb"))


def strings(locale):
    for m in catalog(locale):
        if m.id:
            yield from (m.string if isinstance(m.string, tuple) else (m.string,))


# --- language -----------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["fr", "it"])
def test_french_and_italian_use_the_typographic_apostrophe(locale):
    assert [s for s in strings(locale) if "'" in s] == []


@pytest.mark.parametrize("locale, word, others", [
    ("nl", "melding", ("claim", "dossier", " zaak ")),
    ("fr", "dossier", ("réclamation", "votre cas ", "un cas ", "le cas de la")),
    ("it", "pratica", ("reclamo", "fascicolo")),
])
def test_one_word_for_the_buyers_case(locale, word, others):
    text = " ".join(strings(locale)).lower()
    assert word in text
    assert [o for o in others if o in text] == []


@pytest.mark.parametrize("locale", LOCALES)
def test_no_double_full_stop_and_no_capital_after_a_label(mails, locale):
    for (name, label, loc), (_, _, out) in mails.items():
        if loc != locale:
            continue
        assert ".." not in out.text.replace("...", ""), (name, label)
        for line in out.text.splitlines():
            # "Reden: bestelling niet ontvangen", not "Reden: De bestelling ..."
            m = re.match(r"^(Reden|Motif|Motivo)\s?\u202f?: (\S)", line)
            assert m is None or m[2].islower(), line


def test_a_shop_name_ending_in_a_full_stop_gets_no_second_one(tmp_path):
    app = wiring.build(make_config(tmp_path))
    s, ctx = next((s, c) for s, c in samples.contexts(app, app.db(), "nl")
                  if s.name == "buyer.not_active")
    ctx = {**ctx, "order": {**ctx["order"], "shop": "Fietsen B.V."}}
    out = app.renderer.render(s.name, "nl", ctx)
    assert "contact op met Fietsen B.V." in out.text and "B.V.." not in out.text + out.html
    app.close()


def test_french_times_are_written_the_french_way(mails):
    _, _, out = mails["operator.case_escalated", "buyer_disputes", "fr"]
    assert re.search(r"\d{4}, \d{1,2}\u00a0h\u00a0\d\d", out.text)  # no-break: one line on a phone
    assert not re.search(r"\d{1,2}:\d\d", out.text)


def test_digest_counts_agree_with_their_words(mails):
    fr = mails["operator.digest", "", "fr"][2].text
    it = mails["operator.digest", "", "it"][2].text
    assert "120 actives" in fr and "88 expirées" in fr
    assert "17 chiuse" in it and "120 attive" in it


@pytest.mark.parametrize("locale, word", [("nl", "knop"), ("fr", "bouton"), ("it", "pulsant")])
def test_text_parts_do_not_speak_of_buttons(mails, locale, word):
    for (name, label, loc), (_, _, out) in mails.items():
        if loc == locale:
            assert word not in out.text.lower(), (name, label)


def test_form_values_are_words_where_no_form_is_filled_in(mails):
    nl = mails["merchant.decision_recorded", "A.after_return", "nl"][2].text
    assert "terugbetaling van €\xa0249,95 na retour" in nl
    assert "ja na retour" not in nl


# --- what each mail says ------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("role", ["buyer", "merchant"])
def test_every_closing_outcome_has_its_own_subject_and_heading(mails, locale, role):
    subjects, headings = set(), set()
    for outcome in Outcome:
        _, _, out = mails[f"{role}.case_closed", str(outcome), locale]
        subjects.add(out.subject)
        headings.add(BeautifulSoup(out.html, "html.parser").h1.get_text())
    assert len(subjects) == len(headings) == len(Outcome)


def test_escalations_name_what_happened_in_the_subject(mails):
    subjects = {mails["buyer.case_escalated", str(r), "nl"][2].subject
                for r in ("merchant_refused_refund", "merchant_no_response", "buyer_disputes",
                          "merchant_insolvent")}
    assert len(subjects) == 4


@pytest.mark.parametrize("locale, offered, nothing, settled, returned", [
    ("nl", "Aangeboden terugbetaling", "geen terugbetaling via de kopersbescherming",
     "eindigt de kopersbescherming voor deze bestelling", "na retour"),
    ("fr", "Remboursement proposé", "aucun remboursement ne vous sera alors versé",
     "la protection acheteur ne pourra ensuite plus intervenir", "après retour"),
    ("it", "Rimborso offerto", "non riceverai alcun rimborso tramite la Protezione Acquirenti",
     "la Protezione Acquirenti non potrà più aiutarti", "dopo il reso"),
])
def test_decisions_show_the_offer_and_what_silence_means(mails, locale, offered, nothing,
                                                         settled, returned):
    """Silence after a refund the shop promised is not "no refund" (a blind review found the
    warning contradicting the offer): it means the refund is taken as settled; and a refund
    after a return says so in the subject and heading, not in the box alone. A partial offer
    stands as a large figure under the heading instead of a row of the box (review 9D item 2), and
    so does a full one (design10 point 2)."""
    for label in ("A", "A.after_return", "B", "C"):
        sample, _, out = mails["buyer.decision", label, locale]
        soup = BeautifulSoup(out.html, "html.parser")
        card = soup.find(class_="mb-card").get_text(" ")
        # A refund offered (A, B) is the large figure, not a row (design10 point 2).
        assert (offered in card) == (label == "C"), label
        if label != "C":
            card = soup.find(class_="mb-figure").get_text(" ")
        if label != "C":
            amount = f"{sample.state.case.refund_amount:.2f}".replace(".", ",")
            assert amount in card and amount in out.subject, label
        if label == "C":
            assert nothing in out.text, label
        else:
            assert settled in out.text and nothing not in out.text, label
        after_return = label.endswith("after_return")
        assert (returned in out.subject and returned in out.text.splitlines()[0]) == \
            after_return, label


def test_a_shop_past_its_deadline_is_told_what_it_can_still_do(mails):
    out = mails["merchant.case_escalated", "merchant_no_response", "nl"][2]
    assert "Wat je nog kunt doen" in out.html and "betaalbewijs" in out.text
    assert "hoeft nu niets te doen" not in out.text


@pytest.mark.parametrize("role", ["buyer", "merchant"])
def test_documents_requested_states_a_date_and_the_consequence(mails, role):
    out = mails[f"{role}.documents_requested", "", "nl"][2]
    assert "28 november" in out.subject  # NOW + five days, end of day
    assert "zaterdag 28 november 2026" in out.text
    assert "op basis van de documenten die het team al heeft" in out.text


# --- design -------------------------------------------------------------------------------------

def test_choices_keep_the_seeds_order_and_all_is_well_comes_last_and_quiet(mails):
    sample, ctx, out = mails["buyer.reminder", "", "nl"]
    soup = BeautifulSoup(out.html, "html.parser")
    links = soup.find_all("a", attrs={"data-action": True})
    order = [a["data-action"] for a in links]
    assert order == [str(a) for a in BUYER_ACTIONS[1:]] + ["all_fine"]
    cells = [a.find_parent("td")["class"] for a in links]
    assert cells[:-1] == [["mb-btn-choice"]] * 4 and cells[-1] == ["mb-btn-quiet"]
    assert "font-weight:normal" in links[-1]["style"]
    text = out.text
    assert text.index("Ik heb een ander verzoek") < text.index("Alles is in orde")


@pytest.mark.parametrize("locale", LOCALES)
def test_a_single_action_is_not_pushed(mails, locale):
    """Withdrawing is quiet and never the filled button; the PLUS upgrade, the one thing
    extend_needs_plus asks, is (tests/test_mail_design.py has the rule for every mail)."""
    soup = BeautifulSoup(mails["buyer.case_opened", "", locale][2].html, "html.parser")
    withdraw = soup.find("a", attrs={"data-action": "withdraw"})
    assert withdraw.find_parent("td")["class"] == ["mb-btn-quiet"]
    assert "mb-btn-primary" not in str(soup)
    soup = BeautifulSoup(mails["buyer.extend_needs_plus", "", locale][2].html, "html.parser")
    primary = soup.select("td.mb-btn-primary a")
    assert [a["href"] for a in primary] == ["https://plus.example/upgrade"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("label", ["A", "A.after_return", "B", "C"])
def test_the_shops_explanation_sits_above_the_buttons(mails, locale, label):
    sample, _, out = mails["buyer.decision", label, locale]
    said = samples.SHOP_TEXTS[{"A": "full", "A.after_return": "after_return", "B": "partial",
                               "C": "refused"}[label]][locale].split("\n")[0]
    html = out.html.replace("&#39;", "'")
    assert html.index(str(escape(said))) < html.index("data-action=")
    assert out.text.index(said) < out.text.index("mailto:")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["merchant.case_opened", "merchant.nudge"])
def test_shops_get_a_partial_refund_button(mails, locale, name):
    """The refund_full address with an amount to fill in: left as it is, the amount is no
    amount, so the shop is asked again rather than refunding the whole order."""
    soup = BeautifulSoup(mails[name, "", locale][2].html, "html.parser")
    full = soup.find("a", attrs={"data-action": "refund_full"})
    rows = [a for a in soup.find_all("a", href=True) if a["href"].startswith("mailto:")]
    partial = rows[rows.index(full) + 1]
    assert "data-action" not in partial.attrs  # SPEC §9: one link per action name
    assert partial["href"].split("?")[0] == full["href"].split("?")[0]
    assert partial.find_parent("td")["class"] == full.find_parent("td")["class"]
    body = parse_qs(urlsplit(partial["href"]).query)["body"][0].replace("\r\n", "\n")
    form = forms.read_decision(body)
    assert form.choice == "yes" and form.amount_text and parse_amount(form.amount_text) is None


@pytest.mark.parametrize("locale", LOCALES)
def test_only_the_readers_own_deadline_is_red(mails, locale):
    def red(name, label=""):
        card = BeautifulSoup(mails[name, label, locale][2].html, "html.parser").find(
            class_="mb-card")
        return card.find(class_="mb-due") is not None or "#9a3412" in str(card)
    for neutral in ("buyer.reminder", "buyer.extended", "buyer.case_opened"):
        assert not red(neutral), neutral
    assert not red("merchant.decision_recorded", "A")
    assert not red("buyer.case_closed", "compensated")
    for own in ("merchant.case_opened", "merchant.nudge", "buyer.documents_requested"):
        assert red(own), own
    assert red("buyer.decision", "B") and red("merchant.case_closed", "refunded_by_merchant")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("role", ["buyer", "merchant"])
def test_closing_mails_say_what_is_paid_by_whom_and_by_when(mails, locale, role):
    for outcome, amount in (("compensated", "249,95"), ("refunded_by_merchant", "180,00"),
                            ("refund_received", "249,95"), ("no_reaction", "120,00")):
        sample, _, out = mails[f"{role}.case_closed", outcome, locale]
        card = BeautifulSoup(out.html, "html.parser").find(class_="mb-card")
        # After the order's rows (a shop is not shown its own name since design8).
        rows = [tr.get_text(" ", strip=True) for tr in card.find_all("tr")[1:]]
        rows = rows[3 if role == "buyer" else 2:]
        if role == "buyer" and outcome == "compensated":
            # The figure above the card says it; the card's order amount is the same sum, a
            # third time was one too many (review 11D item 7).
            figure = BeautifulSoup(out.html, "html.parser").find(class_="mb-figure").get_text()
            assert amount in figure and not any(amount in r for r in rows), (outcome, rows)
            assert any("7" in r and "2026" in r for r in rows), rows
            continue
        assert sum(amount in r for r in rows) == 1, (outcome, rows)
        if outcome in ("compensated", "refunded_by_merchant"):
            assert any("7" in r and "2026" in r for r in rows), rows  # paid by 7 December
    shop = samples.SHOPS[locale][0]
    card = BeautifulSoup(mails["buyer.case_closed", "refunded_by_merchant", locale][2].html,
                         "html.parser").find(class_="mb-card").get_text(" ")
    assert card.count(shop) == 2  # the shop, and who pays


@pytest.mark.parametrize("locale", LOCALES)
def test_intake_markup_is_shown_as_code(mails, locale):
    out = mails["merchant.intake_unread", "", locale][2]
    cell = BeautifulSoup(out.html, "html.parser").find(
        "td", style=re.compile("monospace"))
    assert '"orderNumber": "1001"' in cell.get_text() and cell.find("br")
    assert '      "orderNumber": "1001",' in out.text.splitlines()  # one field a line
    assert max(len(line) for line in cell.get_text("\n").splitlines()) <= 38  # 375 px
    # The markup gives number and total; the buyer's address comes from To (extract.py).
    nl = mails["merchant.intake_unread", "", "nl"][2].text
    assert "uit het veld Aan" in nl and "Bcc" in nl


def test_button_labels_fit_two_lines_on_a_phone():
    """At 375 px a button holds about 34 characters a line (16 px bold Arial in 315 px)."""
    for locale in LOCALES:
        for m in catalog(locale):
            if m.id in LABEL_IDS:
                assert len(m.string) <= 60, (locale, m.string)


# --- language rules of the second review --------------------------------------------------------

def reader_mails(mails, locale):
    return [(k, out) for k, (_, _, out) in mails.items()
            if k[2] == locale and not k[0].startswith("operator.")]


@pytest.mark.parametrize("locale", LOCALES)
def test_subjects_are_short(mails, locale):
    long = [(k, len(out.subject)) for k, out in reader_mails(mails, locale)
            if len(out.subject) > 80]
    assert long == []


def test_dutch_subjects_do_not_join_sentences_with_commas(mails):
    joined = [out.subject for _, out in reader_mails(mails, "nl") if ", " in out.subject]
    assert joined == []


def test_dutch_says_e_mail(mails):
    for key, out in reader_mails(mails, "nl"):
        for part in (out.subject, out.text):
            assert not re.search(r"(?<![-\w])(mail|mailen|mailt)(?![-\w])", part, re.I), key


def test_french_card_labels_do_not_end_in_a_preposition(mails):
    for key, out in reader_mails(mails, "fr"):
        card = BeautifulSoup(out.html, "html.parser").find(class_="mb-card")
        for cell in card.find_all(class_="mb-muted") if card else ():
            label = cell.get_text().strip()
            assert not re.search(r"(\ble|\bau|jusqu’au|d’ici)$", label), (key, label)


def test_french_says_the_claim_is_not_retained(mails):
    for key, out in reader_mails(mails, "fr"):
        assert "rejet" not in out.subject + out.text, key
    subject = mails["buyer.case_closed", "claim_rejected", "fr"][2].subject
    assert "votre demande n\u2019a pas été retenue" in subject


def test_italian_has_one_word_for_the_shops_explanation():
    """"Motivazione" justifies a refusal; the shop's words that come with any answer are its
    "messaggio" (the form field, the prompt, the heading the buyer reads above them)."""
    text = " ".join(strings("it")).lower()
    assert "spiegazion" not in text and "messaggio del negozio" in text
    assert "la tua motivazione per" not in text


def test_italian_speaks_to_every_reader_as_tu():
    formal = re.compile(r"\b(vostr[oaie]|potete|dovete|avete|siete|contattate|Lei|"
                        r"La preghiamo|Suo|Sua)\b")
    assert [s for s in strings("it") if formal.search(s)] == []


def test_plus_upgrade_is_a_button_and_extend_is_not_offered_again(mails):
    sample, ctx, out = mails["buyer.extend_needs_plus", "", "fr"]
    assert sample.state.order.plan is Plan.BASIC
    soup = BeautifulSoup(out.html, "html.parser")
    upgrade = soup.find("a", href="https://plus.example/upgrade")
    assert upgrade is not None and upgrade.find_parent("td")["height"] == "44"
    offered = [a["data-action"] for a in soup.find_all("a", attrs={"data-action": True})]
    assert "extend" not in offered


def test_without_an_upgrade_url_the_link_is_left_out(tmp_path):
    assert config_mod.Config().bot.upgrade_url == ""
    app = wiring.build(make_config(tmp_path))
    s, ctx = next((s, c) for s, c in samples.contexts(app, app.db(), "nl")
                  if s.name == "buyer.extend_needs_plus")
    out = app.renderer.render(s.name, "nl", ctx)
    assert "https://" not in out.text and "localhost" not in out.html
    app.close()
    with pytest.raises(config_mod.ConfigError, match="upgrade_url"):
        make_config(tmp_path, bot={"upgrade_url": "http://plus.example"})


def test_brand_help_link_and_legal_footer_come_from_config(mails):
    out = mails["buyer.reminder", "", "it"][2]
    for part in (out.text, out.html):
        assert "Example Trust" in part and "https://help.example/" in part
        assert "Damrak 1" in part


def test_preheader_is_hidden_without_white_or_tiny_text(mails):
    out = mails["buyer.reminder", "", "nl"][2]
    div = BeautifulSoup(out.html, "html.parser").body.find("div")
    assert "display:none" in div["style"]
    assert "color" not in div["style"] and "font-size" not in div["style"]


def test_e_mail_does_not_break_at_its_hyphen(mails):
    out = mails["buyer.reminder", "", "fr"][2]
    soup = BeautifulSoup(out.html, "html.parser")
    # Kept whole in a no-wrap span, its ASCII hyphen and all (design10 point 8: no U+2011).
    spans = [s.get_text() for s in soup.body.select('span[style="white-space:nowrap"]')]
    assert "e-mail" in spans and "\u2011" not in out.html
    assert all("white-space" not in a["href"] for a in soup.find_all("a"))
    assert "\u2011" not in out.text and soup.title.get_text() == out.subject


def prepared(app, name, locale="nl"):
    db = app.db()
    sample = next(s for s in samples.samples(locale) if s.name == name)
    state = records.load(db, records.order_id(db, f"shop-{locale}", f"{locale.upper()}-1"))
    state = type(state)(state.order, sample.state.protection, sample.state.case)
    out = compose.prepare(app, db, state, sample.mail, samples.NOW)
    return out.raw


@pytest.mark.parametrize("name, value", [
    ("buyer.not_open", "auto-replied"), ("buyer.confirm_sender", "auto-replied"),
    ("merchant.decision_recorded", "auto-replied"), ("operator.command_help", "auto-replied"),
    ("buyer.reminder", "auto-generated"), ("buyer.decision", "auto-generated"),
    ("merchant.nudge", "auto-generated"), ("buyer.case_closed", "auto-generated"),
])
def test_auto_submitted_tells_answers_from_notices(app, name, value):
    msg = message_from_bytes(prepared(app, name), policy=policy.default)
    assert msg["Auto-Submitted"] == value  # RFC 3834 §5


def test_header_lines_stay_under_78_characters(app, mails):
    _, _, rendered = mails["buyer.case_escalated", "merchant_refused_refund", "fr"]
    # A shop with a long name makes a subject longer than one header line.
    rendered = replace(rendered, subject=rendered.subject.replace(
        "Boutique Rive Gauche", "La Grande Boutique de la Rive Gauche et de l’Île Saint-Louis"))
    assert len(rendered.subject) > 78
    thread = [f"<{c * 32}@bot.example>" for c in "ab"]  # root and parent of the thread
    raw = compose.build(app, rendered, compose.Recipients(("sam@example.org",), "fr"),
                        "bot+x@bot.example", f"<{'c' * 32}@bot.example>", thread, samples.NOW,
                        (), "buyer.case_escalated")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nReferences: <" + b"a" * 32 + b"@bot.example>\r\n <" in head  # RFC 5322 §2.2.3
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == rendered.subject


# --- samples, and the core deciding ---------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_samples_are_real_cases(locale):
    by = {(s.name, s.label): s for s in samples.samples(locale)}
    refusal = by["operator.case_escalated", "merchant_refused_refund"]
    said = [e.text for e in refusal.timeline if e.kind == "merchant.decision"]
    assert said == [samples.SHOP_TEXTS["refused_return"][locale]]
    insolvent = [s for s in by.values() if s.label == "merchant_insolvent"]
    assert Role.MERCHANT not in {s.role for s in insolvent}
    assert not any(e.kind == "merchant.decision" for s in insolvent for e in s.timeline)
    assert by["buyer.extend_needs_plus", ""].state.order.plan is Plan.BASIC
    assert by["buyer.extend_used", ""].state.protection.extended


def test_commands_are_the_cores():
    # ``message PARTY`` is offered beside the party's words, not in the list (ops12a).
    assert [f"{verb} {arg}" for verb, arg in compose.COMMANDS] == [
        line for line in OPERATOR_COMMAND_LINES if not line.startswith("message ")]


def test_templates_word_what_they_are_given_and_do_not_read_the_case_state():
    for path in resources.templates().glob("*.j2"):
        assert "case.state" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="spamassassin not installed")
def test_spamassassin_finds_nothing(app):
    for name in ("buyer.reminder", "buyer.decision", "merchant.case_opened"):
        run = subprocess.run(["spamassassin", "-L", "-t"], input=prepared(app, name),
                             capture_output=True, timeout=120)
        status = re.search(rb"X-Spam-Status: \w+, score=(-?[\d.]+)", run.stdout)
        assert float(status[1]) <= 0.0, (name, run.stdout[-1500:])


@pytest.mark.parametrize("locale", LOCALES)
def test_prefilled_subjects_go_on_in_lower_case_after_the_colon(mails, locale):
    soup = BeautifulSoup(mails["buyer.reminder", "", locale][2].html, "html.parser")
    for a in soup.find_all("a", attrs={"data-action": True}):
        subject = parse_qs(urlsplit(a["href"]).query)["subject"][0]
        after = subject.split(":", 1)[1].strip()
        assert after[0].islower(), subject


@pytest.mark.parametrize("locale, first", [("nl", "1 december"), ("fr", "1er décembre"),
                                           ("it", "1° dicembre")])
def test_the_first_of_the_month_is_written_the_local_way(app, locale, first):
    env = app.renderer._envs[locale, "text"]
    day = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert first in env.filters["date"](day) and first in env.filters["date"](day, "d MMMM")


def test_a_request_to_resend_is_one_filled_button(mails):
    soup = BeautifulSoup(mails["merchant.confirm_sender", "", "nl"][2].html, "html.parser")
    buttons = soup.find_all("a", href=re.compile("^mailto:"))
    assert len(buttons) == 1 and buttons[0].find_parent("td")["class"] == ["mb-btn-primary"]


def test_italian_never_guesses_the_readers_gender():
    """The reader is a person or a shop of either gender: "ti faremo sapere", not "ti terremo
    aggiornato"; "compilando direttamente", not "tu stesso"."""
    gendered = re.compile(r"\b(tu stess[oa]|aggiornat[oa]|sicur[oa]|soddisfatt[oa])\b")
    assert [s for s in strings("it") if gendered.search(s)] == []


# --- blind review 2 (items 6-13) ----------------------------------------------------------------

@pytest.mark.parametrize("locale, label, none", [
    ("fr", "Autres dossiers ouverts de cette boutique", "aucun"),
    ("fr", "Réponse de la boutique", "aucune"),
    ("it", "Altre pratiche aperte di questo negozio", "nessuna"),
    ("it", "Risposta del negozio", "nessuna"),
    ("fr", "Remboursement proposé", "aucun"),
    ("it", "Rimborso offerto", "nessuno"),
])
def test_none_agrees_with_the_noun_it_stands_for(mails, locale, label, none):
    """One msgid "none" per context (pgettext): "aucun dossier" but "aucune réponse"."""
    values = {line.partition(label)[2].strip(" :\u202f") for (_, _, loc), (_, _, r) in mails.items()
              if loc == locale for line in r.text.splitlines() if line.startswith(label)}
    assert none in values, (label, values)
    assert not values & {"aucun", "aucune", "nessuno", "nessuna"} - {none}


@pytest.mark.parametrize("role, word, others", [
    ("buyer", "melding", r"\b(case|cases|kopersbeschermingscase|zaak|zaken|claim|claims|dossier)\b"),
    ("merchant", "melding", r"\b(case|cases|kopersbeschermingscase|zaak|zaken|claim|claims|dossier)\b"),
])
def test_dutch_calls_the_claim_a_melding_for_buyers_and_shops(mails, role, word, others):
    """One word for the claim: a consumer reads "melding" (two blind reviewers docked "je case"
    as an anglicism), and so does the shop (review A: "je melding is afgewezen" beside the shop's
    "de case van de koper is afgewezen", one claim in two words; "kopersbeschermingscase" is a
    hybrid). Operators keep "case", their working word (mailbot case ID)."""
    words, used = re.compile(others, re.I), 0
    found = {}
    for (name, label, loc), (_, _, r) in mails.items():
        if loc != "nl" or not name.startswith(role + "."):
            continue
        html = BeautifulSoup(r.html, "html.parser").get_text(" ")
        seen = words.findall(" ".join((r.subject, r.text, html)))
        if seen:
            found[name, label] = seen
        used += bool(re.search(rf"\b{word}\b", r.subject + r.text))
    assert found == {}
    assert used >= 10, used


@pytest.mark.parametrize("wrong", [
    "vóór die tijd", "het meeste dat", "Schrijf ons opnieuw", "niet aannemen",
    "alleen aan de koper", "Opnieuw meegestuurd", "doorgezet", "Doorgezet", "overgedragen",
    "Overzicht %(since)s", "Misschien vraagt", "nog niet compleet",
    # Review A: no legal status we cannot know, the claim named, plainer operator lines.
    "failliet", "neemt het over", "Gegeven door", "krijgt de lijst met opdrachten terug",
    "beschermingen gestart", "formulier van de e-mail", "uiterlijk %(date)s %(amount)s",
    "van elk hoogstens", "We hebben er nog niets mee gedaan.",
    # words6: one limit for attachments, "beslist" after "neemt … over", "daarop antwoorden".
    "hoogstens", "over en neemt een besluit", "gegevens en neemt een besluit",
    "gereageerd; je kunt tot en met", "Zolang het geld niet betaald is",
    "rechtstreeks contact met de koper op"])
def test_dutch_wording_of_the_review(wrong):
    """Review item 8: inclusive "tot en met" goes with "uiterlijk op die dag", "het maximum per
    bestelling", "accepteren", "naar de koper", and one verb (overnemen) for the hand-over, as
    buyers and shops read it ("ons serviceteam neemt je melding over")."""
    assert [s for s in strings("nl") if wrong in s] == []


@pytest.mark.parametrize("wrong, right", [
    ("prorog", "estes"),                       # one verb for extending, as the buyer reads it
    ("pagamento del rimborso", "pagamento dell’indennizzo"),  # compensation is an indennizzo
    ("doppioni", "duplicati"),
    ("non sono state lette", "Non è stato possibile leggere"),
    ("sua Protezione", "Protezione Acquirenti dell’ordine"),  # reads as the formal "Sua"
    ("respinto la tua pratica", "non ha accolto la tua richiesta"),
    ("fallim", "insolvente"),                  # the shop's state, not a court's ruling
    ("chiudi la mia protezione", "termino la mia protezione"),  # as "la protezione termina"
    ("Numero inbox", "N. di ricezione"),
    ("Cosa non ha funzionato", "Causa"),
    # Second review.
    ("Non accetto un rimborso", "Rifiuto il rimborso parziale"),  # the button
    ("non accetti un rimborso", "se rifiuti l’offerta"),  # and the sentence alike
    ("Finché il pagamento", "Fino al pagamento puoi rispondere"),
    ("superato la fase", "la pratica non richiede un tuo intervento"),
    ("%(shop)s è insolvente", "non può più rimborsarti"),  # a buyer reads no legal status
    ("pratica dell’ordine", "pratica per l’ordine"),
    ("programmi, script e", "né programmi, né script, né pagine web"),
    ("il tuo rifiuto passa", "il tuo rifiuto è stato inoltrato"),
    ("Passa a PLUS", "Passa al piano PLUS"),  # "piano" as everywhere else
    # words6: a plain request beside a relayed message, not "è attesa".
    ("è attesa entro", "Termine di risposta"), ("proposta del negozio è", "La tua risposta"),
])
def test_italian_wording_of_the_review(wrong, right):
    texts = list(strings("it"))
    # A subject opens with its news, capitalised: the right words may start it.
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right.lower() in t.lower()]


def test_italian_full_refund_comes_with_the_shops_message(mails):
    _, _, r = mails["buyer.decision", "A", "it"]
    assert "il messaggio del negozio" in r.text.lower() and "motivazione" not in r.text.lower()


@pytest.mark.parametrize("name, label", [("buyer.decision", "C"),
                                         ("buyer.case_escalated", "merchant_refused_refund")])
def test_italian_refusal_comes_with_the_shops_motivazione(mails, name, label):
    _, _, r = mails[name, label, "it"]
    assert "la motivazione del negozio" in r.text.lower()


@pytest.mark.parametrize("wrong, right", [
    ("équipe d’assistance", "notre équipe"),  # not "assistance": the team decides
    ("ne l’a pas signé", "n’a pas signé l’e-mail"),     # "l’" had no antecedent in the list
    ("Je refuse un remboursement partiel", "Je refuse ce remboursement partiel"),
    ("Numéro inbox", "N° de réception"),
    ("Ce qui n’a pas marché", "Cause"),
    ("seules ces commandes", "seules ces instructions"),  # a "commande" is the order here
    ("l’issue ci-dessus", "Cette décision remplace notre décision précédente"),
    # Second review: no legal status we cannot know, plain verbs, one word for the plan.
    ("faillite", "ne peut plus vous rembourser"),
    ("Tant que le paiement", "Jusqu’au versement, vous pouvez répondre"),
    ("a dépassé l’étape", "n’attend plus de réponse de votre part"),
    ("passe à notre service client", "votre refus est transmis"),
    ("client tranche", "va trancher"),
    ("offre PLUS", "formule PLUS"),
    ("offre de base", "formule de base"),
    ("la boutique %(shop)s", "envers %(shop)s"),  # "la boutique Boutique Rive Gauche"
    ("le remboursement est réglé", "vous avez bien reçu le remboursement"),
    ("décidera sur la base", "statuera sur la base"),
    # words6: a plain request beside a relayed message (a refusal is no "proposition").
    ("est attendue d’ici", "Date limite de réponse"),
])
def test_french_wording_of_the_review(wrong, right):
    texts = list(strings("fr"))
    # A subject opens with its news, capitalised: the right words may start it.
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right.lower() in t.lower()]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_delivery_failure_preheader_is_a_sentence(mails, locale):
    """Review A: the preheader, the cause alone, started lower case."""
    html = mails["operator.delivery_failed", "", locale][2].html
    preheader = BeautifulSoup(html, "html.parser").find(style=re.compile(r"display:\s*none"))
    said = preheader.get_text(" ", strip=True)
    assert said[0].isupper() and said.endswith("."), said


@pytest.mark.parametrize("label, said", [
    ("A", "Is het geld niet binnengekomen? Antwoord met “Nee, ik heb geen terugbetaling"
          " ontvangen”: dan beoordeelt ons serviceteam je melding."),
    ("B", "of ga je niet akkoord met het aanbod? Antwoord met “Nee, ik heb geen terugbetaling"
          " ontvangen” of “Ik ga niet akkoord met deze gedeeltelijke terugbetaling”: dan"
          " beoordeelt ons serviceteam je melding."),
    ("C", "Antwoord met “Ik ben het niet eens met het antwoord van de webshop”: dan beoordeelt"
          " ons serviceteam je melding."),
])
def test_a_decision_says_which_answer_hands_the_claim_to_the_team(mails, label, said):
    """Review A: "no" and "I disagree" hand the claim to the service team, which no decision
    mail said; and a reply in one's own words is read too, for a webmail where a prefilled
    mailto opens nothing."""
    text = mails["buyer.decision", label, "nl"][2].text
    assert said in text and "in je eigen woorden" in text


@pytest.mark.parametrize("since, now, said", [
    (datetime(2026, 11, 16, 12), datetime(2026, 11, 23, 12),
     {"nl": "van 16 t/m 22 november 2026", "fr": "du 16 au 22 novembre 2026",
      "it": "dal 16 al 22 novembre 2026"}),
    (datetime(2026, 12, 1, 12), datetime(2026, 12, 7, 12),
     {"nl": "van 1 t/m 6 december 2026", "fr": "du 1er au 6 décembre 2026",
      "it": "dal 1° al 6 dicembre 2026"}),
    (datetime(2026, 11, 26, 12), datetime(2026, 12, 3, 12),
     {"nl": "van 26 november t/m 2 december 2026",
      "fr": "du 26 novembre au 2 décembre 2026", "it": "dal 26 novembre al 2 dicembre 2026"}),
    # 23:30 UTC on 30 November is already 1 December in Amsterdam: one month there.
    (datetime(2026, 11, 30, 23, 30), datetime(2026, 12, 7, 12),
     {"nl": "van 1 t/m 6 december 2026", "fr": "du 1er au 6 décembre 2026",
      "it": "dal 1° al 6 dicembre 2026"}),
])
def test_a_week_within_one_month_names_the_month_once(mails, tmp_path, since, now, said):
    """Second review: "du 16 novembre au 23 novembre 2026" said the month twice. Since design10
    the period names its first and last day, both included ("16 t/m 22 november")."""
    app = wiring.build(make_config(tmp_path, bot={"timezone": "Europe/Amsterdam"}))
    try:
        for locale in LOCALES:
            _, ctx, _ = mails["merchant.intake_report", "", locale]
            dates = {"since": since.replace(tzinfo=timezone.utc),
                     "now": now.replace(tzinfo=timezone.utc)}
            ctx = {**ctx, "data": {**ctx["data"], **dates}}
            subject = app.renderer.render("merchant.intake_report", locale, ctx).subject
            assert subject.endswith(said[locale]), subject
    finally:
        app.close()


@pytest.mark.parametrize("locale, person", [
    ("fr", r"\b(je|j’)"), ("nl", r"\bik\b"),
    ("it", r"\b(ho|accetto|voglio|vorrei|contesto|termino|ritiro|rifiuto)\b"),
])
@pytest.mark.parametrize("name, label", [("buyer.reminder", ""), ("buyer.decision", "B"),
                                         ("buyer.decision", "C"), ("buyer.case_opened", "")])
def test_buyers_choices_speak_in_the_first_person(mails, locale, person, name, label):
    """One mood for the buyer's choices: "Je conteste…" beside "J’accepte…", not beside an
    infinitive ("D’accord, mettre fin à ma protection") or an order to us ("Verleng…")."""
    soup = BeautifulSoup(mails[name, label, locale][2].html, "html.parser")
    labels = [a.get_text(" ", strip=True) for a in soup.find_all("a", attrs={"data-action": True})]
    assert labels and [t for t in labels if not re.search(person, t, re.I)] == []


def test_french_timeline_says_what_the_shop_answered(mails):
    text = "\n".join(r.text for (name, _, loc), (_, _, r) in mails.items() if loc == "fr")
    assert "Boutique\u202f: a répondu au dossier\u202f:" in text
    assert "a répondu\u202f: «" not in text


def _buyer_reply_reaches_the_team(sample) -> bool:
    from zoneinfo import ZoneInfo

    from mailbot.core.decide import decide
    from mailbot.core.events import PartyMessage
    d = decide(sample.state, PartyMessage(Role.BUYER, "Nog een foto."), samples.NOW,
               ZoneInfo("Europe/Amsterdam"))
    return any(mail.to is Role.OPERATOR for mail in d.mails)


@pytest.mark.parametrize("locale, disagree, rights", [
    ("nl", "Ben je het niet eens met dit besluit?", "je rechten als consument"),
    ("fr", "Vous n’êtes pas d’accord avec cette décision", "vos droits de consommateur"),
    ("it", "Non sei d’accordo con questa decisione?", "i tuoi diritti di consumatore"),
])
def test_a_rejected_claim_says_where_to_turn_and_that_consumer_rights_stay(
        mails, locale, disagree, rights):
    """A reply to a rejected claim reaches nobody (the case is closed), so the mail points to the
    help centre, not to a reply; and the buyer's rights against the shop are untouched."""
    sample, _, r = mails["buyer.case_closed", "claim_rejected", locale]
    assert not _buyer_reply_reaches_the_team(sample)
    assert disagree in r.text and rights in r.text
    assert "https://help.example/" in r.text.split(disagree)[1].split("\n-- \n")[0]
    assert 'href="https://help.example/"' in r.html.split(disagree)[1]


def test_without_a_help_centre_a_rejected_claim_promises_no_path(tmp_path):
    app = wiring.build(make_config(tmp_path))
    try:
        sample, ctx = next((s, c) for s, c in samples.contexts(app, app.db(), "nl")
                           if (s.name, s.label) == ("buyer.case_closed", "claim_rejected"))
        text = app.renderer.render(sample.name, "nl", ctx).text
    finally:
        app.close()
    assert "niet eens met dit besluit" not in text and "je rechten als consument" in text


@pytest.mark.parametrize("locale, add", [
    ("nl", "Wil je nog iets toevoegen? Antwoord dan gewoon op deze e-mail"),
    ("fr", "Répondez simplement à cet e-mail\u202f: votre message sera transmis"),
    ("it", "Vuoi aggiungere qualcosa? Rispondi semplicemente a questa e-mail"),
])
@pytest.mark.parametrize("reason", ["buyer_disputes", "merchant_no_response",
                                    "merchant_refused_refund", "merchant_insolvent"])
def test_the_buyers_escalation_mail_invites_a_reply_that_reaches_the_team(
        mails, locale, add, reason):
    sample, _, r = mails["buyer.case_escalated", reason, locale]
    assert _buyer_reply_reaches_the_team(sample)
    assert add in r.text


@pytest.mark.parametrize("locale, name", [("nl", "Example Trust Kopersbescherming"),
                                          ("fr", "Example Trust Protection acheteur")])
def test_the_from_name_carries_the_brand(app, mails, locale, name):
    """An inbox shows the From name first: the configured brand makes the mail recognisable."""
    _, _, r = mails["buyer.reminder", "", locale]
    assert r.sender_name == name
    assert compose.sender_name(app, r) == name


@pytest.mark.parametrize("locale", LOCALES)
def test_headings_fit_two_lines_on_a_phone(mails, locale):
    """A 375 px phone shows about 36 characters a line of the 20 px heading: three-line headings
    (the French and Italian escalations) push the facts below the fold."""
    long = {(name, label): len(r.html.split("</h1>")[0].rsplit(">", 1)[1])
            for (name, label, loc), (_, _, r) in mails.items()
            if loc == locale and not name.startswith("operator.")}
    assert {k: n for k, n in long.items() if n > 72} == {}


def _luminance(hex_colour):
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_cards_rule_stays_visible_in_dark_mode(mails):
    """WCAG 2.1 §1.4.11: a graphical mark needs a 3:1 contrast with what is next to it."""
    html = mails["buyer.reminder", "", "nl"][2].html
    dark = html.split("prefers-color-scheme: dark")[1].split("</style>")[0]
    rule = re.search(r"\.mb-card \{([^}]*)\}", dark).group(1)
    background = re.search(r"background: (#[0-9a-f]{6})", rule).group(1)
    border = re.search(r"border-left-color: (#[0-9a-f]{6})", rule).group(1)
    lighter, darker = sorted((_luminance(background), _luminance(border)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 3


@pytest.mark.parametrize("locale", LOCALES)
def test_text_part_numbers_its_long_links_and_lists_them_at_the_end(mails, locale):
    """The choices read as a list ("* label [1]"); the prefilled mailto addresses (200 characters
    and more) follow the last paragraph, each once, and they are the HTML part's links."""
    for (name, label, loc), (_, _, r) in mails.items():
        if loc != locale or name.startswith("operator.") or "mailto:" not in r.text:
            continue
        body, _, _ = r.text.partition("\n-- \n")
        # "[1] label: mailto:…" since design12 (review 12D item 10).
        listed = re.findall(r"^\[(\d+)\] (?:.*: )?(mailto:\S+)$", body, re.M)
        assert listed, (name, label)
        assert [int(n) for n, _ in listed] == list(range(1, len(listed) + 1))
        last = body.rstrip().splitlines()[-len(listed):]
        assert [line.partition(" ")[0] + line.rpartition(" ")[2] for line in last] == [
            f"[{n}]{url}" for n, url in listed], (name, label)
        assert body.count("mailto:") == len(listed)
        for n, _ in listed:
            assert re.search(rf"^\* .+ \[{n}\]$", body, re.M), (name, label, n)
        hrefs = {a["href"] for a in BeautifulSoup(r.html, "html.parser").select("a[data-action]")}
        assert hrefs <= {url for _, url in listed}, (name, label)


# --- words6: the bodies of the buyers' and shops' mails ------------------------------------------

@pytest.mark.parametrize("locale, reason, wrote", [
    ("nl", "Reden", "Wat de koper schreef"), ("fr", "Motif", "Ce que l’acheteur a écrit"),
    ("it", "Motivo", "Che cosa ha scritto l’acquirente")])
def test_the_shops_reminder_repeats_the_case(mails, locale, reason, wrote):
    """The shop need not look for the first mail: the reason and the buyer's words are here."""
    text = mails["merchant.nudge", "", locale][2].text
    colon = "\u202f:" if locale == "fr" else ":"
    assert reason + colon in text
    assert wrote.upper() in text and samples.BUYER_TEXT[locale].splitlines()[0] in text
    # The choices have their heading, as in the first mail: they are not part of the quote.
    answer = {"nl": "JE ANTWOORD", "fr": "VOTRE RÉPONSE", "it": "LA TUA RISPOSTA"}[locale]
    assert f"{answer}\n\n* " in text


@pytest.mark.parametrize("locale, said, repeated", [
    ("nl", "We betalen je €\u00a0249,95 uiterlijk maandag 7 december 2026.\n",
     "volledige bedrag van de bestelling"),
    ("fr", "Nous vous verserons 249,95\u00a0€ au plus tard le lundi 7 décembre 2026.\n",
     "montant total de la commande"),
    ("it", "Ti verseremo 249,95\u00a0€ entro lunedì 7 dicembre 2026.\n", "intero importo dell’ordine")])
def test_a_compensation_is_paid_by_its_date_if_the_bank_details_are_in(mails, locale, said,
                                                                        repeated):
    """paid_by is the decision's day plus OPERATOR_PAYMENT_DAYS, whenever the IBAN comes: the
    mail names that date and asks for the bank details at once (a Dutch review found "if your
    bank details are in by then" a promise that cannot hold when they come on the day; since
    design8 the bank details are asked for once, in their own section). The card
    shows the order amount beside the compensation: no sentence of its own repeats it. Since
    design10 point 3 the date and amount stand in the figure, lead and card only: the sentence
    that repeated them is gone."""
    text = mails["buyer.case_closed", "compensated", locale][2].text
    assert said not in text and repeated not in text
    assert said.split()[-1].rstrip(".\n") in text  # the year, in the card


@pytest.mark.parametrize("locale, replaces", [
    ("nl", "Dit besluit vervangt ons eerdere besluit."),
    ("fr", "Cette décision remplace notre décision précédente."),
    ("it", "Questa decisione sostituisce quella precedente.")])
@pytest.mark.parametrize("role", ["buyer", "merchant"])
def test_a_correction_says_this_decision_replaces_the_earlier_one(mails, locale, replaces, role):
    assert replaces in mails[f"{role}.case_closed", "corrected", locale][2].text


@pytest.mark.parametrize("day, due, runs, since", [
    (1, "entro il 1° dicembre", "fino al 1° dicembre", "dal 1° al 4 dicembre"),
    (8, "entro l’8 dicembre", "fino all’8 dicembre", "dall’8 all’11 dicembre"),
    (11, "entro l’11 dicembre", "fino all’11 dicembre", "dall’11 al 14 dicembre"),
    (20, "entro il 20 dicembre", "fino al 20 dicembre", "dal 20 al 23 dicembre")])
def test_italian_elides_the_article_before_the_8th_and_the_11th(app, mails, day, due, runs,
                                                                 since):
    """"l’8 dicembre", "dall’8", "il 1° dicembre" (read "il primo"): the article the catalog
    writes before a date fits the day it is given."""
    env = app.renderer._envs["it", "text"]
    start, end = (datetime(2026, 12, d, 12, 0, tzinfo=timezone.utc) for d in (day, day + 3))
    said = env.from_string(
        '{{ _("%(shop)s: your orders by mail from %(since)s to %(now)s", shop="X",'
        ' since=a|date("d"), now=b|date("d MMMM y")) }}'
        ' {{ _("Your protection now runs until %(end)s",'
        ' end=a|date("d MMMM")) }}').render(a=start, b=end)
    assert since in said and runs in said
    # A whole mail: the shop's deadline in the subject of the reminder.
    s, ctx, _ = mails["merchant.nudge", "", "it"]
    ctx = dict(ctx, case=replace(ctx["case"], merchant_due=start.replace(hour=22, minute=59)))
    assert due in app.renderer.render(s.name, "it", ctx).subject


@pytest.mark.parametrize("locale, buyers_words", [
    ("nl", ("op je adres", "de webshop kon niet", "die betaalt de webshop")),
    ("fr", ("votre adresse", "la boutique n’a pas pu", "la boutique rembourse")),
    ("it", ("tuo indirizzo", "il negozio non ha potuto", "il negozio rimborsa"))])
def test_the_team_writes_each_party_its_own_message(mails, locale, buyers_words):
    """The operators' composer words the decision for each party: the shop's closing mail does
    not quote what the team wrote to the buyer ("…delivered to your address")."""
    for (name, label, loc), (_, _, r) in mails.items():
        if loc == locale and name == "merchant.case_closed":
            assert [w for w in buyers_words if w in r.text] == [], label


@pytest.mark.parametrize("locale, limit, refused", [
    ("nl", "maximaal 10 bestanden van hooguit 5\u00a0MB per stuk", "maximaal 10 bestanden"),
    ("fr", "jusqu’à 10 fichiers de 5\u00a0Mo chacun", "au plus 10 fichiers"),
    ("it", "al massimo 10 file da 5\u00a0MB ciascuno", "al massimo 10 file")])
def test_one_wording_for_the_attachment_limit(mails, locale, limit, refused):
    for name in ("merchant.case_opened", "buyer.documents_requested",
                 "merchant.documents_requested"):
        assert limit in mails[name, "", locale][2].text, name
    assert refused in mails["buyer.documents_refused", "", locale][2].text


@pytest.mark.parametrize("locale, lead_in", [
    ("nl", "Dan kun je je melding intrekken:"),
    ("fr", "Vous pouvez alors retirer votre demande\u202f:"),
    ("it", "Allora puoi ritirare la tua richiesta:")])
def test_a_mail_not_kept_introduces_its_choices(mails, locale, lead_in):
    """The choices follow a line that says what they are, not the request to write again (the
    reply comes first since design8: withdrawing follows its own line)."""
    text = mails["buyer.storage_full", "", locale][2].text
    assert f"{lead_in}\n\n* " in text


@pytest.mark.parametrize("locale, next_step", [
    ("nl", "We sturen je een e-mail zodra er een besluit is."),
    ("fr", "Nous vous écrirons dès qu’une décision sera prise."),
    ("it", "Ti scriveremo appena sarà presa una decisione.")])
def test_a_shop_handed_to_the_team_is_told_when_it_hears_again(mails, locale, next_step):
    told = [label for (name, label, loc), (_, _, r) in mails.items()
            if loc == locale and name == "merchant.case_escalated" and next_step in r.text]
    assert sorted(told) == ["buyer_disputes", "merchant_no_response", "merchant_refused_refund"]


# --- words7nl: a blind Dutch review at 8 ----------------------------------------------------------

@pytest.mark.parametrize("wrong", [
    "Uiterlijk betaald op", "Betaald door",  # a payment to come, not one made
    "Horen we", "Laat het ons uiterlijk op die dag weten en kies",  # stiff; two actions for one
    "terug na retour",  # "na retour" before what is paid back
    "melding van je klant", "Bescherming loopt tot", "Nummer in de outbox", "vragen actie",
    "vraagt actie", "antwoord op de case", "wijs de case af", "hun mailserver"])
def test_dutch_wording_of_the_review_at_8(wrong):
    """One word for each thing (de koper, beschermd tot en met, wacht op actie, ontvangst- and
    verzendnummer), statements where the operators read statements, and no tense that says a
    payment to come is made."""
    assert [s for s in strings("nl") if wrong in s] == []


@pytest.mark.parametrize("name, label, said", [
    ("merchant.intake_unread", "", "niet gevonden: bestelnummer, e-mailadres van de koper\n"),
    ("buyer.reminder", "", "Is er iets mis? Kies dan uiterlijk op die dag hieronder een optie."),
    ("buyer.decision", "C", "Als we tot dan niets van je horen, "),  # the date: lead and card
    ("buyer.decision", "A.after_return", "betaalt je na retour het volledige bedrag terug\n"),
    # Since design12 the heading carries the decision, the lead sentence what follows from it.
    ("merchant.case_closed", "claim_rejected", "Besluit: de melding van de koper is afgewezen\n"),
    ("buyer.case_closed", "compensated", "Wie betaalt: de kopersbescherming\n"),
    ("merchant.case_closed", "refunded_by_merchant", "Uiterste betaaldatum: maandag 7 december"),
    ("operator.case_escalated", "buyer_disputes", "Besluit: afwijzen – de koper krijgt niets ("),
    ("operator.case_escalated", "buyer_disputes", "Beschermd tot en met: "),
    ("operator.delivery_failed", "", "Had de mailserver van de koper alleen even een storing,"),
    ("operator.delivery_failed", "", "Verzendnummer: "),
    # The sample's digest has an alarm, which is its heading (the subject keeps the count).
    ("operator.digest", "", "Alarm: de planner draait misschien niet\n"),
])
def test_dutch_review_at_8_reads_so_in_the_mail(mails, name, label, said):
    assert said in mails[name, label, "nl"][2].text


def test_a_shop_reads_no_operators_case(mails):
    """"Je koos: een antwoord op de melding": the shop's words, never the operators' "case"."""
    nl = {m.id: m.string for m in catalog("nl") if m.id}
    assert nl["an answer to the case"] == "een antwoord op de melding"
    for (name, label, loc), (_, _, out) in mails.items():
        if loc == "nl" and not name.startswith("operator."):
            assert not re.search(r"\bcases?\b", out.subject + out.text, re.I), (name, label)


def test_dutch_keeps_every_placeholder_of_its_msgid():
    """msgfmt -c: a msgstr without the msgid's %(shop)s is a fatal error (and a lost name)."""
    lost = []
    for m in catalog("nl"):
        if m.id:
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            wanted = set(re.findall(r"%\((\w+)\)s", " ".join(ids)))
            for s in m.string if isinstance(m.string, tuple) else (m.string,):
                if set(re.findall(r"%\((\w+)\)s", s)) != wanted:
                    lost.append(ids[0])
    assert lost == []


def test_the_shops_new_case_says_so_in_the_subject(mails):
    assert mails["merchant.case_opened", "", "nl"][2].subject.startswith(
        "Nieuwe melding: reageer uiterlijk 26 november · bestelling ")


@pytest.mark.parametrize("role, said", [
    ("buyer", "Je hoeft niets te doen: Fietsen de Wit betaalt je €\u00a0180,00 terug, uiterlijk 7\u00a0"
              "december."),  # the HTML part's dates keep day and month together (design8)
    ("merchant", "Ons serviceteam heeft besloten: je betaalt de koper €\u00a0180,00 terug.")])
def test_a_refund_decided_says_how_much_in_the_preheader(mails, role, said):
    html = mails[f"{role}.case_closed", "refunded_by_merchant", "nl"][2].html
    hidden = BeautifulSoup(html, "html.parser").find(style=re.compile(r"display:\s*none"))
    assert hidden.get_text(" ", strip=True).replace("\u2011", "-").startswith(said)


def test_the_weekly_report_is_not_read_as_orders_placed_by_mail(mails):
    assert mails["merchant.intake_report", "", "nl"][2].subject == \
        "Fietsen de Wit: weekoverzicht orderbevestigingen van 16 t/m 22 november 2026"


# --- words7: a blind review scored fr 8, it 7.5 -------------------------------------------------

@pytest.mark.parametrize("wrong, right", [
    # An e-mail is feminine in Italian: "Prima di lasciarla passare" in the same digest.
    ("lascialo passare", "lasciala passare"),
    ("elaboralo di nuovo", "elaborala di nuovo"),
    ("elaborarlo di nuovo", "elaborarla di nuovo"),
    # No colon before "quindi".
    (": quindi", ", quindi non è cambiato nulla"),
    ("Hai terminato tu", "Hai terminato la Protezione Acquirenti"),
    # Subjects: the shop as the subject of its own silence; the order, not "tutto".
    ("Nessuna risposta in tempo da", "%(shop)s non ha risposto in tempo"),
    ("È arrivato tutto da", "Il tuo ordine presso %(shop)s è arrivato?"),
    ("trattenuta al tuo indirizzo di ricezione", "Conferma d’ordine bloccata: nessuna protezione avviata"),
    ("conferma d’ordine trattenuta", "Una conferma d’ordine è stata bloccata"),
    # One term each: the shop's "messaggio", the buyer's "dati bancari", the case file's order.
    ("la tua motivazione ed eventuali", "il tuo messaggio ed eventuali"),
    ("coordinate bancarie", "i suoi dati bancari (glieli abbiamo chiesti)"),
    ("dalla più vecchia", "Cronologia della pratica, dal primo evento all’ultimo"),
    ("non si può decidere", "questo importo non è valido"),
    ("L’e-mail parte allora", "L’e-mail verrà allora inviata"),
    ("non trovato:", "dati mancanti:"),
])
def test_italian_wording_of_the_third_review(wrong, right):
    texts = list(strings("it"))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


@pytest.mark.parametrize("wrong, right", [
    ("Tout est-il bien arrivé", "Votre commande chez %(shop)s est-elle arrivée\u202f?"),
    ("Documents demandés d’ici", "Envoyez les documents demandés au plus tard le %(due)s"),
    ("Votre contestation est bien reçue", "Votre contestation a bien été reçue"),
    ("retenue à votre adresse de réception",
     "Confirmation de commande bloquée\u202f: aucune protection ouverte"),
    # One wording for a binding deadline ("d’ici là" stays: no date of its own); what silence
    # leads to reads "sans réponse de votre part d’ici le" (fourth review).
    ("répondre d’ici le", "au plus tard le %(due)s"),
    ("Sans réponse de votre part au plus tard", "Sans réponse de votre part d’ici là"),
    ("Un dossier rejeté ne prend pas", "Un rejet ne comporte pas de montant"),
    ("ne peut pas être décidé", "ce montant n’est pas valable"),
    ("L’e-mail part alors", "L’e-mail sera alors envoyé à l’adresse corrigée"),
    # The digest is a "Synthèse" in its subject as in its header.
    ("Point du", "Synthèse du %(day)s"),
    ("Point sur la protection", "Synthèse du %(day)s"),
    # A held order confirmation is "bloquée" in its subject, its heading and the weekly report.
    ("confirmation de commande retenue", "Une confirmation de commande a été bloquée"),
    ("Décider\u202f: la protection indemnise", "Décider\u202f: la protection acheteur indemnise"),
    ("introuvable", "informations manquantes\u202f:"),
    ("système de boutique", "votre logiciel e-commerce"),
    # The seeds' word for the team that decides: "l’équipe de service" (a "service client"
    # is the shop's own customer service).
    ("service client", "Notre équipe a décidé"),
    # Fourth review: "équipe de service" calques the Dutch "serviceteam" where a buyer or a shop
    # reads it; operators keep "l’équipe de service" as the name of their team.
    ("notre équipe de service", "Délai dépassé\u202f: notre équipe va trancher"),
    ("faites partir", "envoyez vos confirmations depuis une adresse"),
    ("Non distribué à", "E-mail non remis à l’acheteur"),
    ("dont il dispose", "dont elle dispose"),
])
def test_french_wording_of_the_third_review(wrong, right):
    texts = list(strings("fr"))
    assert [t for t in texts if wrong.lower() in t.lower()] == []
    assert [t for t in texts if right in t]


@pytest.mark.parametrize("locale, label", [("nl", "Reageer uiterlijk"),
                                           ("fr", "Date limite de réponse"),
                                           ("it", "Termine di risposta")])
def test_a_relayed_message_states_the_deadline_once(mails, locale, label):
    """The card gives the shop's deadline; the line above the choices no longer repeats it."""
    text = mails["merchant.message_relayed", "from_buyer", locale][2].text
    due = re.search(rf"{label}\s*:?\s*(.+)", text)
    assert due, text
    assert text.count(due.group(1).strip()) == 1


@pytest.mark.parametrize("locale, day, month", [("nl", "13", "december"),
                                                ("fr", "13", "décembre"),
                                                ("it", "13", "dicembre")])
def test_a_phone_does_not_split_a_day_from_its_month(mails, locale, day, month):
    """At 375 px "dimanche 13 / décembre 2026" broke inside the date: in the HTML part a date
    with a weekday joins its day and month with a no-break space; the text part keeps a space."""
    _, _, r = mails["buyer.decision", "A", locale]
    assert f"{day}\u00a0{month}" in r.html and f"{day} {month}" not in r.html
    assert f"{day} {month}" in r.text and "\u00a0" + month not in r.text


# --- words8: the fifth review (nl 8.5, fr 8, it 9) ------------------------------------------------

def test_a_refusal_asks_whether_the_buyer_disagrees(mails):
    """Review 8A item 2: silence already accepts the shop's refusal, so decision C asks the
    opposite question ("Ben je het niet eens?"), in the lead and in the preheader, which said
    "Laat het ons … weten" with nothing for "het" to point to."""
    out = mails["buyer.decision", "C", "nl"][2]
    preheader = BeautifulSoup(out.html, "html.parser").find(style=re.compile(r"display:\s*none"))
    assert preheader.get_text(strip=True).startswith("Ben je het niet eens? Laat het ons uiterlijk")
    # The lead is one sentence since review 9D item 1.
    assert ("Laat het ons uiterlijk zondag 13 december 2026 weten als je het niet eens bent"
            in out.text)
    assert "Ga je akkoord met dit antwoord" not in out.text
    for label in ("A", "B", "A.after_return"):  # a refund: whether the money has arrived
        html = mails["buyer.decision", label, "nl"][2].html
        said = BeautifulSoup(html, "html.parser").find(style=re.compile(r"display:\s*none"))
        assert said.get_text(strip=True).startswith("Laat ons uiterlijk"), label
        assert "weten of het geld binnen is" in said.get_text(), label


def test_dutch_says_melding_over_bestelling(mails):
    """Review 8A item 3: one form, "melding over bestelling", never "voor" or "bij"."""
    texts = list(strings("nl"))
    assert [t for t in texts if re.search(r"melding (voor|bij)( de kopersbescherming voor)? "
                                          r"bestelling", t)] == []
    said = [out.text for (name, _, loc), (_, _, out) in mails.items()
            if loc == "nl" and not name.startswith("operator.")]
    assert sum("melding over bestelling" in t for t in said) >= 5
    assert not [t for t in said if re.search(r"melding (voor|bij) bestelling", t)]


def test_a_partial_offer_says_terug_and_hebt_betaald(mails):
    """Review 8A item 4 (the offer after a return has the same words: test_mail_copy's strings)."""
    assert [s for s in strings("nl") if "die je betaalde" in s] == []
    text = mails["buyer.decision", "B", "nl"][2].text
    # Ninth review: "terugbieden" is no verb; the offer is a figure under the heading since
    # review 9D item 2.
    assert not [s for s in strings("nl") if "terugbied" in s]
    assert "€ 120,00 van € 249,95" in text.replace("\u00a0", " ")


@pytest.mark.parametrize("wrong, right", [
    ("de koper leest die als eerste", "dat is het eerste wat de koper leest"),   # 8A item 6
    ("loopt dus af op", "loopt dus tot en met %(end)s"),                            # 8A item 11
    ("wij nemen je melding over", "%(shop)s kan niet betalen: ons serviceteam neemt je melding"),
    ("Jouw reactie", "Je reactie"),
    ("met kopersbescherming hebt besteld", "je vertrouwen in de kopersbescherming van %(brand)s"),
    # The copy edit after it: the shop's answer is "over" an order like the claim; the buyer
    # "reageert" (the shop "antwoordt").
    ("antwoord voor bestelling", "We hebben je antwoord over bestelling %(number)s ontvangen"),
    ("de tijd om daarop te antwoorden", "de tijd om daarop te reageren"),
])
def test_dutch_wording_of_the_fifth_review(wrong, right):
    texts = list(strings("nl"))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


def test_a_partys_answer_has_one_heading_word_in_dutch(mails):
    """Review 8A item 11: "Je antwoord" (the shop) beside "Jouw reactie" (the buyer): the same
    "je" for both, and each role keeps its own word."""
    headings = {(name, label): re.findall(r"^([A-Z][A-Z ]+)$", out.text, re.M)
                for (name, label, loc), (_, _, out) in mails.items()
                if loc == "nl" and not name.startswith("operator.")}
    words = {h for hs in headings.values() for h in hs if h.startswith(("JE ", "JOUW "))}
    assert "JOUW REACTIE" not in words and {"JE REACTIE", "JE ANTWOORD"} <= words, words
    assert "JE REACTIE" in headings["buyer.decision", "C"]
    assert "JE ANTWOORD" in headings["merchant.case_opened", ""]


def test_the_end_of_a_protection_thanks_with_the_brand(mails):
    """Review 8A item 11: "met kopersbescherming" lacked its article; with a brand configured
    the mail names it. Tenth review: nobody orders "with" a protection; they trust it."""
    said = {loc: mails["buyer.protection_ended", "", loc][2].text for loc in LOCALES}
    assert "Bedankt voor je vertrouwen in de kopersbescherming van Example Trust." in said["nl"]
    # French elides "de" before the brand's vowel.
    assert "fait confiance à la protection acheteur d’Example Trust." in said["fr"]
    assert "scelto la Protezione Acquirenti di Example Trust." in said["it"]


@pytest.mark.parametrize("locale, label, html_said, text_said", [
    ("fr", "A", "Cliquez sur «\u202fNon, je n’ai pas reçu de remboursement\u202f»\u202f: notre "
                "équipe examinera alors votre dossier.",
     "Répondez «\u202fNon, je n’ai pas reçu de remboursement\u202f»\u202f: notre équipe"),
    ("fr", "B", "Cliquez sur «\u202fNon, je n’ai pas reçu de remboursement\u202f» ou "
                "«\u202fJe refuse ce remboursement partiel\u202f»",
     "Répondez «\u202fNon, je n’ai pas reçu de remboursement\u202f» ou «\u202fJe refuse"),
    ("fr", "C", "Cliquez sur «\u202fJe conteste la réponse de la boutique\u202f»\u202f:",
     "Pour la contester, répondez «\u202fJe conteste la réponse de la boutique\u202f»\u202f:"),
    ("it", "A", "Il rimborso non è arrivato? Clicca su «No, non ho ricevuto alcun rimborso»: la "
                "tua pratica passerà al nostro team.",
     "Il rimborso non è arrivato? Rispondi «No, non ho ricevuto alcun rimborso»:"),
    ("it", "B", "Clicca su «No, non ho ricevuto alcun rimborso» o su «Rifiuto il rimborso "
                "parziale»", "Rispondi «No, non ho ricevuto alcun rimborso» o «Rifiuto il"),
    ("it", "C", "Clicca su «", "Non sei d’accordo con la risposta del negozio? Rispondi «"),
    ("nl", "A", "Is het geld niet binnengekomen? Klik op “Nee, ik heb geen terugbetaling "
                "ontvangen”: dan beoordeelt ons serviceteam je melding.",
     "Is het geld niet binnengekomen? Antwoord met “Nee, ik heb geen terugbetaling ontvangen”"),
])
def test_a_decision_says_what_to_click_to_hand_it_to_the_team(mails, locale, label, html_said,
                                                              text_said):
    """Review 8B item 7: "L’argent n’est pas arrivé ? Notre équipe examinera…" did not say what
    to do: the answer's own label, answered with in the text part (whose links are no buttons).
    The HTML part's buttons name themselves: no "Click …" under them (review 9D item 1)."""
    out = mails["buyer.decision", label, locale][2]
    html = BeautifulSoup(out.html, "html.parser").get_text()
    assert html_said not in html and text_said in out.text
    assert "Cliquez" not in out.text and "Clicca" not in out.text and "Klik" not in out.text


def test_italian_closings_say_the_protection_has_ended(mails):
    """Review 8B item 9: "…è chiusa e con essa termina anche la Protezione Acquirenti
    dell’ordine" was heavy and repeated itself, in every closing mail that says it."""
    said = [out.text for (name, _, loc), (_, _, out) in mails.items()
            if loc == "it" and name.endswith("case_closed")]
    assert not [t for t in said if "con essa" in t]
    ended = [t for t in said if "è chiusa e la Protezione Acquirenti per questo acquisto è terminata."
             in t]
    assert len(ended) >= 8, len(ended)


@pytest.mark.parametrize("shop, said", [
    ("Amazon", "la réponse d’Amazon"), ("Ikea", "la réponse d’Ikea"),
    ("Yves Rocher", "la réponse d’Yves Rocher"), ("Yoox", "la réponse de Yoox"),
    ("Hema", "la réponse de Hema"), ("Boutique Rive Gauche", "la réponse de Boutique Rive")])
def test_french_elides_de_before_a_shop_name_with_a_vowel(app, mails, shop, said):
    """The French catalog had dropped %(shop)s ("la réponse de la boutique") to avoid "de
    Amazon" (two msgfmt -c errors): it names the shop again, and "de" becomes "d’" before a
    vowel (not before an h, which the name decides, nor a y sounded as a consonant)."""
    for name, label in (("buyer.case_closed", "buyer_accepted"),
                        ("buyer.case_escalated", "buyer_disputes")):
        s, ctx, _ = mails[name, label, "fr"]
        ctx = {**ctx, "order": {**ctx["order"], "shop": shop}}
        out = app.renderer.render(s.name, "fr", ctx)
        assert said in out.text + out.subject, (name, shop)
        assert said in BeautifulSoup(out.html, "html.parser").get_text(), (name, shop)
        if said.startswith("la réponse d’"):
            assert f"de {shop}" not in out.text + out.subject + out.html, (name, shop)


@pytest.mark.e2e
def test_french_keeps_the_shop_in_every_message_that_names_it():
    """msgfmt -c: a msgstr without the msgid's %(shop)s is a fatal error; French has none now."""
    lost = [m.id for m in catalog("fr") if m.id and isinstance(m.id, str)
            and "%(shop)s" in m.id and "%(shop)s" not in m.string]
    assert lost == []
    if shutil.which("msgfmt"):
        po = resources.locales() / "fr" / "LC_MESSAGES" / "mailbot.po"
        done = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(po)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_french_sends_confirmations_depuis_an_address_in_the_weekly_report_too():
    """Review 8B item 4 ("faites partir vos confirmations d’une adresse"), fixed in the held
    confirmation's mail, was left in the weekly report's "faites-les partir d’une adresse"."""
    texts = list(strings("fr"))
    assert [t for t in texts if "partir d’une adresse" in t] == []
    assert [t for t in texts if "envoyez désormais vos confirmations depuis une adresse" in t]


@pytest.mark.parametrize("name, label, locale, said", [
    # A date without its weekday takes the article in Italian ("entro il 7 dicembre").
    ("buyer.case_closed", "refunded_by_merchant", "it", "deve rimborsarti 180,00\u00a0€ entro il "
                                                        "7\u00a0dicembre."),
    # "paga la Protezione Acquirenti" read as an order to pay it.
    ("merchant.case_closed", "compensated", "it", "a pagare l’acquirente è la Protezione "
                                                  "Acquirenti."),
    ("buyer.case_escalated", "buyer_disputes", "nl", "je hoeft niets te doen tot je van ons hoort."),
])
def test_preheaders_of_the_copy_edit(mails, name, label, locale, said):
    html = mails[name, label, locale][2].html
    preheader = BeautifulSoup(html, "html.parser").find(style=re.compile(r"display:\s*none"))
    assert said in preheader.get_text(), preheader.get_text()


def test_no_lead_opens_by_repeating_its_heading(mails):
    """The copy edit: "L’acheteur a accepté votre réponse" as the heading and again as the lead's
    first sentence (and so in Dutch and Italian): the lead says it in other words."""
    same = []
    for (name, label, loc), (_, _, out) in mails.items():
        if name.startswith("operator."):
            continue
        lines = out.text.split("\n\n")
        heading, lead = lines[0].strip(), lines[1].strip()
        first = re.split(r"(?<=[.?!])\s", lead, maxsplit=1)[0].rstrip(".")
        if first.casefold() == heading.casefold():
            same.append((name, label, loc))
    assert same == []


@pytest.mark.parametrize("locale, wrong, right", [
    # One form for the claim of an order, as the shop reads it ("le dossier de la commande").
    ("fr", "dossier pour la commande", "Le dossier de votre commande %(number)s est désormais clos"),
    # "Che cosa", as in "Che cosa puoi fare ora", where buyers and shops read it.
    ("it", "trovi cosa", "qui sotto trovi che cosa correggere"),
    ("it", "Qui sotto: cosa", "Qui sotto: che cosa fare con le conferme"),
])
def test_one_form_in_french_and_italian(locale, wrong, right):
    texts = list(strings(locale))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


# --- the ninth review (fr 9, it 8): what "ci hai detto di" meant, and the shop's own name --------

@pytest.mark.parametrize("locale, wrong, right", [
    # "Ci hai detto di accettare" reads "you told us to accept".
    ("it", "detto di accettare", "Ci hai comunicato che accetti la risposta del negozio."),
    ("it", "inclusa nel piano PLUS", "L’estensione è disponibile solo con il piano PLUS"),
    ("it", "fallo direttamente", "Per qualsiasi domanda, contatta direttamente l’acquirente."),
    ("it", "Il tuo ordine di %(shop)s", "Il tuo ordine presso %(shop)s"),
    ("fr", "contactez-le directement", "Pour toute question, contactez directement l’acheteur."),
    ("fr", "Mo maximum chacun", "jusqu’à %(count)s fichiers de %(mb)s\u00a0Mo chacun"),
    # Tenth review: a payment still due is not "paid by"; the team decides, it is no helpdesk.
    ("fr", "Payé par", "À la charge de"),
    ("it", "Pagato da", "A carico di"),
    ("it", "team di assistenza", "Il nostro team ha deciso"),
    ("it", "Consegne non riuscite", "E-mail non recapitate"),
    ("fr", "commandé avec la protection", "Merci d’avoir fait confiance à la protection acheteur"),
    ("it", "aver ordinato con", "Grazie per aver scelto la Protezione Acquirenti"),
])
def test_wording_of_the_ninth_review(locale, wrong, right):
    texts = list(strings(locale))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


@pytest.mark.parametrize("locale, said", [
    ("nl", "of de kwestie voorleggen aan een geschillencommissie of de rechter."),
    ("fr", "ou la soumettre à un médiateur de la consommation ou à un tribunal."),
    ("it", "oppure rivolgerti a un organismo di risoluzione alternativa delle controversie (ADR) o a un giudice."),
])
def test_a_rejected_claim_names_the_routes_that_remain(mails, locale, said):
    """Ninth review (design): a rejection pointed only at the help centre; it names the routes a
    consumer keeps: the shop itself, a dispute resolution body, a court."""
    text = " ".join(mails["buyer.case_closed", "claim_rejected", locale][2].text.split())
    assert said in text


@pytest.mark.parametrize("wrong, right", [
    # Review 10A items 2, 4, 7, 9: a label in Dutch idiom, "uiterlijk" without "op" before a
    # date, the intake's "we start the protection", a protection "beëindigd" (the case
    # "gesloten"), and the shop "beantwoordt" where the buyer "reageert".
    ("Betaling uiterlijk op", "Uiterste betaaldatum"),  # invoices say so
    ("uiterlijk op %(date)s", "uiterlijk %(date)s"),
    ("geen bescherming mee gestart", "Voor deze bestelling is geen kopersbescherming gestart."),
    ("dan starten ze een bescherming", "dan starten we de kopersbescherming wel"),
    ("kopersbescherming van deze bestelling zijn gesloten",
     "de melding is gesloten en de bescherming beëindigd"),
    ("op je melding gereageerd; je hebt", "%(shop)s heeft je melding beantwoord; je hebt"),
])
def test_dutch_wording_of_the_tenth_review(wrong, right):
    texts = list(strings("nl"))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


def test_case_file_lines_take_the_spaced_en_dash(mails):
    """Review 10A item 8: Dutch (and French and Italian) set a spaced en dash between the parts
    of a line; the case file and the intake lists had em dashes."""
    assert [key for key, (_, _, out) in mails.items() if "\u2014" in out.text] == []
    assert any(" \u2013 " in out.text for key, (_, _, out) in mails.items()
               if key[0] == "operator.case_escalated")


@pytest.mark.parametrize("locale, each", [("nl", "Elke link"), ("fr", "Chaque lien"),
                                          ("it", "Ogni link")])
def test_storage_full_speaks_of_each_link_when_it_has_two(mails, locale, each):
    """Review 10B item 2: the buyer's storage_full has the shorter-message button and the quiet
    withdraw one; the note under them spoke of "the link"."""
    text = mails["buyer.storage_full", "", locale][2].text
    assert text.count("mailto:") >= 2 and each in text


@pytest.mark.parametrize("wrong, right", [
    # A Dutch copy edit before the eleventh review (/work/pre11a): money is paid back, not an
    # order; one word for the shop's offer; the usual "vooraf ingevulde e-mail"; a protection
    # "voor" an order; no "misschien" in a promise.
    ("betaalt je bestelling niet terug", "%(shop)s betaalt je niets terug"),
    ("Voorstel: ", "Aanbod: je krijgt %(amount)s terug"),
    ("al ingevulde", "vooraf ingevulde e-mail"),
    ("kopersbescherming van deze", "de kopersbescherming voor deze bestelling"),
    ("kopersbescherming van bestelling", "de kopersbescherming voor bestelling"),
    ("redenen van de webshop", "het niet eens bent met de toelichting van de webshop"),
    ("vraagt je misschien", "vraagt je zo nodig per e-mail om documenten"),
    ("je bericht komt dan bij ons serviceteam", "je bericht gaat dan naar ons serviceteam"),
    ("Laat het de koper zelf weten", "Laat het de koper in je toelichting weten"),
    ("beoordeelt je weigering", "Ons serviceteam neemt de melding over"),
])
def test_dutch_wording_before_the_eleventh_review(wrong, right):
    texts = list(strings("nl"))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


@pytest.mark.parametrize("locale, wrong, right", [
    # A French and Italian copy edit before the eleventh review (/work/pre11b): a corrected
    # decision is "rettificata" (not "the correct one"); a shop's answer reads as its own act,
    # not an order to us; one withdraws a request, not a file; payments to come in the future.
    ("it", "Decisione corretta", "Decisione rettificata: rimborsa %(amount)s all’acquirente"),
    ("it", "ritiro la mia pratica", "Problema risolto, ritiro la mia richiesta"),
    # (design10 point 3 cut "We pay you %(amount)s by %(date)s": the figure, lead and card say it.)
    ("it", "Paghiamo con bonifico", "Il pagamento avviene tramite bonifico bancario"),
    ("it", "mancante:", "dati mancanti:"),
    ("fr", "je retire mon dossier", "je retire ma demande"),
    ("fr", "Nous payons par", "Le versement se fait par virement bancaire"),
    ("fr", "L’argent n’est pas arrivé", "Vous n’avez pas reçu le remboursement"),
    ("fr", "preuve du paiement", "la preuve de paiement"),
    ("fr", "à partir de celle-ci", "Aucune protection n’a été ouverte pour cette commande."),
])
def test_french_and_italian_wording_before_the_eleventh_review(locale, wrong, right):
    texts = list(strings(locale))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


@pytest.mark.parametrize("name, label, locale, said", [
    # Review 11A item 1: one file is "dit document", several "deze documenten".
    ("buyer.decision", "B", "nl", "De webshop heeft dit document meegestuurd; je vindt het in de"
                                  " bijlage:"),
    ("merchant.case_opened", "", "fr", "L’acheteur a envoyé ce document\u202f; vous le trouverez"),
    ("merchant.case_opened", "", "it", "L’acquirente ha inviato questo documento, che trovi"),
])
def test_one_document_is_named_in_the_singular(mails, name, label, locale, said):
    out = mails[name, label, locale][2]
    assert said in out.text


@pytest.mark.parametrize("locale, wrong, right", [
    # The eleventh review (11A, 11B): no "en" comma and no double "alleen"; a team that
    # decides is "Team" in the Italian case file; French and Italian footers speak to the
    # operator, not about "a reply" receiving a list.
    ("nl", "ziet deze gegevens, en gebruikt", "ziet deze gegevens en gebruikt ze uitsluitend"),
    ("nl", "moet het besluit anders, corrigeer", "Moet het besluit worden gewijzigd? Corrigeer"),
    ("nl", "zonder reactie sluit de case", "zonder reactie wordt de case dan gesloten"),
    ("it", "Team di assistenza", "la pratica non richiede un tuo intervento"),
    ("it", "e quindi non l’abbiamo elaborata", "né darle seguito"),
    # (design12: the buyer's lead no longer repeats the refusal; the heading says it.)
    ("it", "si rifiuta di rimborsarti", "%(shop)s rifiuta il rimborso:"),
    ("it", "riceve in cambio", "ricevi l’elenco delle istruzioni"),
    ("fr", "reçoit en retour", "vous recevez la liste des instructions"),
    ("fr", "vous demander, à vous ou à la boutique", "demander des documents complémentaires"),
])
def test_wording_of_the_eleventh_review(locale, wrong, right):
    texts = list(strings(locale))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


def test_an_escalation_with_documents_says_they_are_attached(mails):
    """The other side of test_operators_mail's escalation without documents: the samples carry
    the parties' files, and the lead says they are attached."""
    out = mails["operator.case_escalated", "buyer_disputes", "nl"][2]
    assert "alle documenten zitten als bijlage bij deze e-mail" in out.text


@pytest.mark.parametrize("locale, wrong, right", [
    # Review 12: a protection is not "closed" (it ends); the reader's gender is not assumed; the
    # shop "deve rimborsarti" in the body as in the heading; one bracket in a command label.
    ("fr", "vous serez payé", "nous vous verserons l’indemnisation au plus tard le"),
    ("fr", "protection acheteur sont clos", "la protection acheteur a pris fin"),
    ("fr", "reçu l’argent", "si vous avez reçu le remboursement"),
    ("it", "Protezione Acquirenti sono chiuse", "la Protezione Acquirenti è terminata"),
    ("it", "ti rimborsa %(amount)s", "%(shop)s deve rimborsarti %(amount)s entro"),
    ("it", "un rifiuto non ha importo", "una richiesta respinta non ha importo"),
    ("nl", "Het kan jou of de webshop", "Zo nodig vraagt het team eerst per e-mail om extra documenten"),
])
def test_wording_of_the_twelfth_review(locale, wrong, right):
    texts = list(strings(locale))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


@pytest.mark.parametrize("locale, wrong, right", [
    # Review 12, after it: Italian shop buttons speak as every other Italian button does, in the
    # imperative (review 11 had asked for the infinitive; the other buttons decided it); a
    # decision already taken, not a "pratica" then "deciso"; one word for a late payment; the
    # protection's full name; who receives the answer; nl "akkoord" as everywhere, who pays, a
    # lead-in that fits the options under it, one offer named once.
    ("it", "Rimborsare", "Rimborsa l’intero importo"),
    ("it", "Già deciso da", "Decisione già presa da %(operator)s"),
    ("it", "a quel punto", "poi decidi in base agli elementi disponibili"),
    ("it", "ha prodotto", "Ecco che cosa ha comportato"),
    ("it", "pagamenti scaduti", "%(num)s pagamenti in ritardo"),
    ("fr", "lui parvient", "votre réponse parvient directement à notre équipe"),
    ("nl", "aanvaard", "Akkoord met het antwoord van %(shop)s"),
    ("nl", "Betaling door", "Wie betaalt"),
    ("nl", "Is er iets mis met de bestelling zelf", "Wil je nog iets anders regelen"),
    ("nl", "waarom de gedeeltelijke terugbetaling", "[Vertel hier waarom dit bedrag niet genoeg is]"),
    ("nl", "jouw antwoord", "wacht niet meer op je antwoord"),
])
def test_wording_after_the_twelfth_review(locale, wrong, right):
    texts = list(strings(locale))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


def test_french_names_the_protection_in_full():
    """Review 12B item 11: "indemnisation par la protection" cut the product's name short."""
    assert [t for t in strings("fr") if t.endswith("par la protection")] == []
    assert "décision\u202f: indemnisation par la protection acheteur" in list(strings("fr"))


def test_the_shop_reads_its_own_closing_line_when_the_protection_pays(mails):
    """Review 12A item 6: "Zolang het geld niet is betaald" is the buyer's sentence; the shop of a
    compensated case pays nothing and is told where its questions go."""
    shop = mails["merchant.case_closed", "compensated", "nl"][2].text
    assert "Zolang het geld" not in shop
    assert "Heb je nog een vraag over dit besluit? Antwoord dan op deze e-mail" in shop
    assert "Zolang het geld nog niet op je rekening staat" in mails["buyer.case_closed", "compensated", "nl"][2].text


def test_a_shortened_quote_ends_in_one_ellipsis(mails, tmp_path):
    """Review 12B item 13: a preheader cut from a party's message ended in "..."."""
    app = wiring.build(make_config(tmp_path))
    try:
        _, ctx, _ = mails["operator.message_relayed", "closed_payment_awaited", "fr"]
        ctx = {**ctx, "data": {**ctx["data"], "text": "mot " * 60}}
        html = app.renderer.render("operator.message_relayed", "fr", ctx).html
    finally:
        app.close()
    assert "mot mot…" in html and "..." not in html


@pytest.mark.parametrize("locale, wrong, right", [
    # A copy pre-review before the thirteenth (/work/pre13): a shop's refusal that read as an
    # order; a "prima" with nothing before it; a shop answers a request, not a file; one
    # resends a message, not always a "richiesta"; no straight apostrophe in Dutch; a Dutch
    # sentence that first read "asks you whether the shop".
    ("it", "non rimborsi l’acquirente", "hai scelto di non rimborsare l’acquirente"),
    ("it", "Prima potrebbe", "Se serve, prima di decidere può chiedere altri documenti"),
    ("it", "Appena ha deciso", "Quando avrà preso una decisione, scriverà a te e al negozio."),
    # (design12: the buyer's lead no longer repeats the escalation's reason; the heading says it.)
    ("it", "alla tua pratica", "%(shop)s non ha risposto: ora decide il nostro team"),
    ("it", "dal campo A.", "dal campo «A» (destinatario)"),
    ("it", "su cui ricevi", "invia di nuovo il tuo messaggio dall’indirizzo a cui ricevi"),
    ("it", "hai ordinato da", "perché hai effettuato un ordine presso %(shop)s"),
    ("it", "metodo di pagamento originale", "con lo stesso metodo di pagamento usato per l’ordine"),
    ("nl", "Stuur je verzoek", "Stuur je bericht dan opnieuw"),
    ("nl", "programma's", "programma’s, scripts en webpagina’s"),
    ("nl", "bestelde met", "omdat je bij %(shop)s hebt besteld"),
    ("nl", "Het team vraagt jou of", "aan jou of aan de webshop"),
    ("nl", "van elk maximaal", "van hooguit %(mb)s\u00a0MB per stuk"),
])
def test_wording_of_the_thirteenth_pre_review(locale, wrong, right):
    texts = list(strings(locale))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


def test_the_shop_that_refunds_reads_until_it_has_refunded(mails):
    """Pre-review 13 NL-8: the shop that must refund read "until the money has been paid"."""
    shop = mails["merchant.case_closed", "refunded_by_merchant", "nl"][2].text
    assert "Zolang je nog niet hebt terugbetaald, kun je op deze e-mail antwoorden" in shop


@pytest.mark.parametrize("locale, wrong, right", [
    # Blind review 13: a payment is masculine in Italian; a deadline that read as the order's;
    # a conditional in place of a question; what the shop writes in the amount; Dutch compounds
    # in one word; the shop's team message is about "de" melding, not its own.
    ("it", "· scaduta", "termine scaduto, in attesa dei dati bancari"),
    ("it", "usato per l’ordine entro", "usato per l’ordine, entro %(date)s"),
    ("fr", "pas arrivé d’ici quelques jours\u202f?", "Si le remboursement n’est pas arrivé d’ici"),
    ("it", "non è arrivato entro qualche giorno?", "Se il rimborso non arriva entro qualche giorno"),
    ("fr", "montant inférieur après", "le montant que vous remboursez"),
    ("it", "Se fino ad allora non avremo", "Se non ci rispondi entro questa data"),
    ("fr", "demandez-nous-en", "demandez-nous une nouvelle adresse"),
    ("nl", "service-adres", "vanaf ons serviceadres"),
    ("nl", "over je melding", "Bericht van ons serviceteam over de melding"),
    ("nl", "schrijf je een partij", "stuur je een partij een bericht"),
])
def test_wording_of_the_thirteenth_review(locale, wrong, right):
    texts = list(strings(locale))
    assert [t for t in texts if wrong in t] == []
    assert [t for t in texts if right in t]


def test_a_count_keeps_its_noun_on_its_line(mails):
    """Review 13A item 4: "12 / dagen" broke between a count and its noun at 375 px; review
    13D item 9: a tile of one reads "1 Alarm", not "1 Alarmen"."""
    html = mails["operator.digest", "", "nl"][2].html
    assert "12\u00a0dagen" in html and "12 dagen" not in html
    tiles = [td.get_text(" ", strip=True)
             for td in BeautifulSoup(html, "html.parser").find_all(class_="mb-count")]
    assert tiles[0] == "1 Alarm", tiles
