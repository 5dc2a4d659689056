"""The mails' design rules (issue 20), checked on every sample of ``outbound/samples.py`` in nl,
fr and it: one filled button where the reader has one thing to do and equal outlined buttons
for a choice, the operators' own frame, label/value rows that stack on a phone, the digest's
tables, and a SpamAssassin score of 0.0 for every mail."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from babel.dates import get_month_names
from bs4 import BeautifulSoup

from conftest import make_config
from mailbot import wiring
from mailbot.outbound import samples
from mailbot.outbound.render import LOCALES

BRAND = {"upgrade_url": "https://plus.example/upgrade", "brand": "Example Trust",
         "help_url": "https://help.example/", "legal_footer": "Example Trust B.V., Damrak 1"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """[(sample, locale, Rendered)] for every sample, on an app with a brand's settings."""
    app = wiring.build(make_config(tmp_path_factory.mktemp("design"), bot=BRAND))
    out = [(s, locale, app.renderer.render(s.name, locale, ctx))
           for locale in LOCALES for s, ctx in samples.contexts(app, app.db(), locale)]
    yield app, out
    app.close()


def key(sample) -> str:
    return ".".join(p for p in (sample.name, sample.label) if p)


# The mails whose reader has one thing to do, and what that is (the filled button's target).
PRIMARY = {
    "buyer.case_closed.compensated": "mailto:",  # send my bank details
    "buyer.extend_needs_plus": "https://plus.example/upgrade",
    "buyer.confirm_sender": "mailto:",  # the one action, sent again from the known address
    "merchant.confirm_sender": "mailto:",
    "operator.other_request": "mailto:{buyer}",  # answer the buyer in person
    # A buyer's message on a closed case: answer them (outlined beside the commands when open).
    "operator.message_relayed.closed_payment_awaited": "mailto:bot+",  # message buyer (ops12a)
    # The buyer's bank details: pay, then record it with "paid" (review 11, ops11 point 2).
    "operator.message_relayed.bank_details": "mailto:bot+",
    # A compensation decided: record its payment once made (review 12: a button, not a link).
    "operator.command_done": "mailto:bot+",
    "operator.command_help": "mailto:",  # the command the operator meant, prefilled
    "operator.command_help.missing": "mailto:",  # the command sent again, its fields prefilled
    "operator.command_help.amount": "mailto:",  # the same, the amount at the bound (ops8b)
    "operator.delivery_failed.before_case": "mailto:",  # resend N by mail, the one thing to do
    # The address does not exist: correcting it is what to do, the resend quiet (design 10D).
    "operator.delivery_failed": "mailto:",
    "buyer.documents_requested": "mailto:",  # a new e-mail to attach the documents to
    "merchant.documents_requested": "mailto:",
    "buyer.team_message": "mailto:",  # a reply to the team (ops12a)
    "merchant.team_message": "mailto:",
    "buyer.storage_full": "mailto:",  # a shorter message (design8: withdrawing is quiet)
    # The shop that owes a refund reports it paid, proof attached (design10 point 1).
    "merchant.case_closed.refunded_by_merchant": "mailto:",
    "merchant.case_closed.corrected": "mailto:",
}
# Mails that offer a choice: equal outlined buttons, none filled.
CHOICES = ("buyer.reminder", "buyer.decision.A", "buyer.decision.A.after_return",
           "buyer.decision.B", "buyer.decision.C", "merchant.case_opened", "merchant.nudge")


def test_one_filled_button_where_there_is_one_thing_to_do_and_none_for_a_choice(rendered):
    _, out = rendered
    seen = set()
    for sample, locale, mail in out:
        soup = BeautifulSoup(mail.html, "html.parser")
        primary = [a["href"] for a in soup.select("td.mb-btn-primary a")]
        where = (key(sample), locale)
        if key(sample) in PRIMARY:
            target = PRIMARY[key(sample)].format(buyer=samples.BUYERS[locale])
            assert len(primary) == 1 and primary[0].startswith(target), where
            seen.add(key(sample))
        else:
            assert primary == [], where
        if key(sample) in CHOICES:
            # a choice may end in a quiet option ("OK, end my buyer protection")
            assert soup.select("td.mb-btn-choice a"), where
            assert len(soup.select("td.mb-btn-choice a, td.mb-btn-quiet a")) >= 2, where
    assert seen == set(PRIMARY)


def test_the_bank_details_button_prefills_a_reply_with_the_fields_to_fill_in(rendered):
    _, out = rendered
    for sample, locale, mail in out:
        if key(sample) == "buyer.case_closed.compensated":
            href = BeautifulSoup(mail.html, "html.parser").select_one("td.mb-btn-primary a")["href"]
            body = parse_qs(urlsplit(href).query)["body"][0]
            assert "IBAN" in body and body.count("\r\n") >= 1, locale


def test_operators_get_their_own_plain_frame_with_the_case_first(rendered):
    _, out = rendered
    for sample, locale, mail in out:
        where = (key(sample), locale)
        signature = mail.text.split("\n-- \n")[1]
        if sample.role.value == "operator":
            # No consumer brand, help centre or legal line: the team's own tool.
            for word in (BRAND["brand"], BRAND["help_url"], BRAND["legal_footer"]):
                assert word not in mail.html and word not in signature, where
            if sample.state is not None and sample.state.case is not None:
                first = mail.text.splitlines()[0]
                # 1029: the earlier, closed case of the operators' samples (review 12).
                assert re.match(r"(Case|Dossier|Pratica) 10(41|29) · ", first), where
                ident = BeautifulSoup(mail.html, "html.parser").select_one("td.mb-ident")
                assert ident.get_text().startswith(first.split(" · ")[0]), where
        else:
            assert BRAND["legal_footer"] in signature and BRAND["help_url"] in mail.html, where


def test_label_value_rows_stack_on_a_phone(rendered):
    """Every summary box, fact list and digest table is built of .mb-kv rows, which the layout's
    narrow-screen rule turns into a label above its value (no "Montant de la / commande")."""
    _, out = rendered
    for sample, locale, mail in out:
        soup = BeautifulSoup(mail.html, "html.parser")
        css = soup.style.get_text()
        narrow = css[css.index("@media (max-width: 480px)"):css.index("@media (prefers")]
        assert ".mb-kv td, .mb-kv th { display: block" in narrow
        for card in soup.select("table.mb-card"):
            rows = card.select("tr")[1:]  # the first is the box's padding row
            assert rows and all("mb-kv" in r.get("class", []) for r in rows), (key(sample), locale)


def test_the_digest_tables_line_up_and_every_request_has_its_reply(rendered):
    _, out = rendered
    for sample, locale, mail in out:
        if sample.name != "operator.digest":
            continue
        soup = BeautifulSoup(mail.html, "html.parser")
        heads = soup.select("th[scope=row]")
        assert heads and {th.get("width") for th in heads} == {"30%"}, locale
        other = samples.digest_sample()["other"]
        replies = [unquote(a["href"]) for a in soup.find_all("a", href=re.compile(
            "^mailto:" + re.escape(other[0]["buyer_email"])))]
        assert len(replies) == len(other) and other[0]["order_number"] in replies[0], locale
        assert "mailto:" + other[0]["buyer_email"] in mail.text  # the text part's list


def test_the_intake_report_says_what_happened_and_lists_the_held_confirmations(rendered):
    _, out = rendered
    headings = {"nl": "41 bestellingen beschermd, 3 orderbevestigingen tegengehouden",
                "fr": "41 protections ouvertes, 3 confirmations de commande bloquées",
                "it": "41 protezioni avviate, 3 conferme d’ordine bloccate"}
    for sample, locale, mail in out:
        if sample.name == "merchant.intake_report":
            assert mail.text.startswith(headings[locale] + "\n"), locale
            for held in sample.mail.data["held_mail"]:
                if held["subject"]:
                    assert held["subject"] in mail.text, locale


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="spamassassin not installed")
def test_spamassassin_scores_every_mail_zero(rendered):
    """All samples in all languages, whole messages with their headers, in one run of
    SpamAssassin over an mbox (one start-up, about 0.1 s of CPU a mail)."""
    app, out = rendered
    mbox = bytearray()
    for sample, locale, mail in out:
        raw = samples.message(app, sample, mail, locale)
        # mboxrd: a body line starting with "From " is quoted, so it does not split the box.
        raw = re.sub(rb"(?m)^(>*From )", rb">\1", raw.replace(b"\r\n", b"\n"))
        mbox += b"From MAILER-DAEMON Mon Nov 23 13:02:00 2026\n" + raw.rstrip(b"\n") + b"\n\n"
    run = subprocess.run(["spamassassin", "-L", "-t", "--mbox"], input=bytes(mbox),
                         capture_output=True, timeout=600)
    scores = re.findall(rb"X-Spam-Status: \w+, score=(-?[\d.]+)", run.stdout)
    assert len(scores) == len(out)
    high = [(key(s), locale, float(score)) for (s, locale, _), score in zip(out, scores)
            if float(score) > 0.0]
    assert high == []


def test_every_text_part_lists_its_long_links_numbered_at_the_end(rendered):
    """Operators' mails too: "* Decide: … (decide compensated) [2]", and the 200-character
    prefilled addresses after the last paragraph, not inline under each command."""
    _, out = rendered
    for sample, locale, mail in out:
        body = mail.text.partition("\n-- \n")[0]
        if "mailto:" not in body:
            continue
        # "[1] label: mailto:…" since design12 (a link inside a sentence: "[1] mailto:…").
        listed = re.findall(r"^\[(\d+)\] (?:.*: )?mailto:\S+$", body, re.M)
        assert body.count("mailto:") == len(listed) > 0, (key(sample), locale)
        last = body.rstrip().splitlines()[-1]
        assert last.startswith(f"[{len(listed)}] ") and " mailto:" in last


HOOKS = ('{% extends layout %}{% block ident %}Digest · 23 nov{% endblock %}'
         '{% block heading %}H{% endblock %}{% block subject %}S{% endblock %}'
         '{% block body %}{{ m.p("a " ~ m.overdue("late")) }}{% endblock %}')


def test_the_operators_frame_has_hooks_for_a_mail_about_no_order(rendered):
    """The digest's header bar (its own "ident" block) and the red "overdue" mark, which has a
    dark-mode rule (design6 point 4)."""
    app, _ = rendered
    for locale in LOCALES:
        ctx = {"role": "operator", "order": None, "case": None, "left_out": (), "bot": None}
        html = app.renderer._envs[locale, "html"].from_string(HOOKS).render(ctx)
        text = app.renderer._envs[locale, "text"].from_string(HOOKS).render(ctx)
        soup = BeautifulSoup(html, "html.parser")
        assert soup.select_one("td.mb-ident").get_text() == "Digest · 23 nov"
        assert text.startswith("Digest · 23 nov\n\nH\n")
        late = soup.select_one("span.mb-due")
        assert late.get_text() == "late" and "#9a3412" in late["style"]
        dark = soup.style.get_text().split("prefers-color-scheme: dark")[1]
        assert ".mb-due {" in dark


def test_a_filled_button_is_as_wide_as_the_text_column(rendered):
    """"Mijn bankgegevens versturen", "Overstappen op PLUS": full width like the choices below
    them, not a narrow block at the left edge of a phone (design6 point 1)."""
    _, out = rendered
    seen = 0
    for sample, locale, mail in out:
        soup = BeautifulSoup(mail.html, "html.parser")
        for cell in soup.select("td.mb-btn-primary, td.mb-btn-choice, td.mb-btn-quiet"):
            outer = [t.get("width") for t in cell.find_parents("table")][:2]
            assert outer == ["100%", "100%"], (key(sample), locale)
            seen += "mb-btn-primary" in cell["class"]
    assert seen >= len(PRIMARY) * len(LOCALES)


ORDER_LIKE = re.compile(r"[\w.@+]*\w-[\w.@+-]*\w")


def test_order_numbers_and_file_names_never_break_at_a_hyphen(rendered):
    """In the HTML part an order number (and a file name or address with a digit) sits in a
    no-wrap span wherever it is ("NL-2026- / 10481" in the intake report), with its ASCII
    hyphens for copy-paste; so does "e-mail" (not U+2011, which old Outlook fonts lack and which
    breaks search and copy: design10 point 8); the text part keeps ASCII hyphens everywhere
    (design6 point 2)."""
    _, out = rendered
    for sample, locale, mail in out:
        where = (key(sample), locale)
        soup = BeautifulSoup(mail.html, "html.parser")
        for node in soup.body.find_all(string=ORDER_LIKE):
            for word in ORDER_LIKE.findall(node):
                if (re.search(r"[\d@]", word) and len(word) <= 30) or re.match(r"[eE]-mail", word):
                    assert any("white-space:nowrap" in p.get("style", "")
                               for p in node.parents), (where, word)
        assert "\u2011" not in mail.html and "\u2011" not in mail.text, where
        assert soup.style.get_text().count("white-space") == 0, where  # the CSS untouched
    numbers = {s.mail.data["held_mail"][0]["subject"] for s, _, _ in out
               if s.name == "merchant.intake_report"}
    assert numbers and all(re.search(r"\w-\d", n) for n in numbers)


def _rules(css: str):
    """(selector, declarations) of a flat block of CSS rules, without its comments."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)
            if not sel.strip().startswith("@")]


def _light(colour: str) -> bool:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 150


def test_no_light_rule_stays_bright_in_dark_mode(rendered):
    """Every light grey border a mail draws (dividers, the digest's table rules, code boxes)
    gets a dark border colour from the dark-mode rules (design6 point 3)."""
    _, out = rendered
    for sample, locale, mail in out:
        soup = BeautifulSoup(mail.html, "html.parser")
        dark = soup.style.get_text().split("(prefers-color-scheme: dark) {")[1]
        darkened = set()
        for selectors, body in _rules(dark):
            if "border-color" in body or "border-left-color" in body:
                for selector in selectors.split(","):
                    darkened.update(map(id, soup.select(selector.strip())))
        for el in soup.body.find_all(style=re.compile(r"border[\w-]*:[^;]*solid #")):
            light = [c for c in re.findall(r"solid (#[0-9a-f]{6})", el["style"]) if _light(c)]
            assert not light or id(el) in darkened, (key(sample), locale, el.name, el["style"])


def test_the_first_screen_of_a_phone_is_tight_enough_for_the_decision(rendered):
    """Below 480 px: a smaller lead, less air above and inside the summary box (design6
    point 5: the first button on the first screen of a 375 px phone)."""
    _, out = rendered
    for sample, locale, mail in out[:1]:
        soup = BeautifulSoup(mail.html, "html.parser")
        css = soup.style.get_text()
        narrow = dict(_rules(css[css.index("@media (max-width: 480px)"):
                                 css.index("@media (prefers")].split("{", 1)[1]))
        for selector in (".mb-body", ".mb-lead", ".mb-card-in"):
            assert selector in narrow and soup.select(selector), selector


def _samples(out, *keys):
    """(key, locale, soup) of the rendered samples named, each found in every locale."""
    found = [(key(s), locale, BeautifulSoup(mail.html, "html.parser"))
             for s, locale, mail in out if key(s) in keys]
    assert {(k, locale) for k, locale, _ in found} == {(k, lc) for k in keys for lc in LOCALES}
    return found


def _buttons_table(soup):
    return soup.select_one("td[class*=mb-btn-]").find_parents("table")[1]


def test_a_decision_offers_ending_the_protection_last_and_quietly(rendered):
    """decision.C: "I do not agree" first and outlined, "OK, end my buyer protection" last and
    quiet, as "all is well" is in the reminder (the QUIET rule, design7 point 1)."""
    _, out = rendered
    for k, locale, soup in _samples(out, "buyer.decision.C"):
        cells = soup.select("td[class*=mb-btn-]")
        shown = [(c.a["data-action"], c["class"][0]) for c in cells]
        assert shown == [("disagree", "mb-btn-choice"), ("accept", "mb-btn-quiet")], (locale, shown)


def test_what_doing_nothing_means_is_said_before_the_decision_buttons(rendered):
    """decision A/B/C: the sentence that says what happens without an answer is not a screen
    below (design7 point 2); "by then" points to the date of the lead and the card, not said a
    third time (review 9D item 1); since review 11D item 3 it follows the lead, beside that
    date, and no body-size paragraph follows the buttons."""
    _, out = rendered
    silence = {"nl": "Als we tot dan niets van je horen",
               "fr": "Sans réponse de votre part d’ici là",
               "it": "Se non ci rispondi entro questa data"}
    for k, locale, soup in _samples(out, "buyer.decision.A", "buyer.decision.B",
                                    "buyer.decision.C"):
        after = [p for p in _buttons_table(soup).find_next_siblings("p")
                 if "mb-muted" not in p.get("class", [])]
        assert after == [], (k, locale, after)
        assert soup.select_one("p.mb-lead").find_next_sibling("p").get_text().startswith(
            silence[locale]), (k, locale)


def test_a_shop_reads_the_buyer_then_finds_its_answer_buttons(rendered):
    """merchant case_opened and nudge: the buyer's words, then the heading "Your answer" and
    straight away the buttons (the how-to and the file limits after them); the summary box has
    no row for the shop's own name (design7 point 3)."""
    _, out = rendered
    for k, locale, soup in _samples(out, "merchant.case_opened", "merchant.nudge"):
        table = _buttons_table(soup)
        assert table.find_previous_sibling().name == "h2", (k, locale)
        assert table.find_previous("td", class_="mb-quote"), (k, locale)
        values = [r.find_all("td")[1].get_text() for r in soup.select("table.mb-card tr.mb-kv")]
        assert len(values) == 6 and samples.SHOPS[locale][0] not in values, (k, locale, values)


def test_problem_reports_stand_apart_and_every_side_note_is_a_hint(rendered):
    """reminder, choose_action, other_received: a wider gap between the problem reports and
    the other requests; "You can also simply reply…" after the buttons is in the muted 14 px
    style of the buttons' hint, in the reminder and the decisions (design7 point 4)."""
    _, out = rendered
    for k, locale, soup in _samples(out, "buyer.reminder", "buyer.choose_action",
                                    "buyer.other_received"):
        gaps = [c.a["data-action"] for c in soup.select("td[class*=mb-btn-]")
                if c.find_parents("td")[0]["style"].startswith("padding:14px")]
        assert gaps == ["extend"], (k, locale, gaps)
    for k, locale, soup in _samples(out, "buyer.reminder", "buyer.decision.A",
                                    "buyer.decision.B", "buyer.decision.C"):
        last = _buttons_table(soup).find_next_siblings("p")[-1]
        assert "mb-muted" in last["class"] and "font-size:14px" in last["style"], (k, locale)


def test_no_date_breaks_between_its_day_month_and_year(rendered):
    """At 375 px "7 / december" (command_done) and "22 / november" (the digest's bar) broke
    inside a date: in every HTML part each date joins day, month and year with no-break spaces,
    as amounts are joined; the text part and the subject (the <title>) keep plain spaces
    (design8 point 1)."""
    _, out = rendered
    for locale in LOCALES:
        months = "|".join(get_month_names("wide", locale=locale).values())
        broken = re.compile(rf"\d(?:er|°)? (?:{months})\b|\b(?:{months}) \d{{4}}")
        joined = re.compile(rf"\d(?:er|°)?\u00a0(?:{months})\b")
        mails = [(s.name, mail) for s, lc, mail in out if lc == locale]
        for name, mail in mails:
            soup = BeautifulSoup(mail.html, "html.parser")
            # A party's own words, as written: quotes, and a message's start as preview line.
            for quoted in soup.select(".mb-quote, div[style*='display:none']"):
                quoted.decompose()
            words = re.sub(r"[“«][^”»]*[”»]", "", soup.body.get_text())
            assert not broken.findall(words), (name, locale)
            assert soup.title.get_text() == mail.subject and not joined.search(mail.text)
        for name in ("operator.command_done", "operator.digest"):
            html = next(BeautifulSoup(m.html, "html.parser") for n, m in mails if n == name)
            assert joined.search(html.body.get_text()), (name, locale)


def test_the_quiet_option_is_a_muted_button_not_a_link_in_a_box(rendered):
    """"Alles is in orde…", "Ik ga akkoord en beëindig…" were underlined link text in a grey box,
    which looked like a broken button: a quiet button has the shape of the other buttons (the
    same border width, height and radius), grey text and no underline, and keeps its SPEC §9
    data-action (design8 point 2)."""
    _, out = rendered
    for k, locale, soup in _samples(out, "buyer.reminder", "buyer.decision.C"):
        quiet = soup.select_one("td.mb-btn-quiet")
        choice = soup.select_one("td.mb-btn-choice")
        width = re.compile(r"border:(\dpx) solid")
        assert width.search(quiet["style"])[1] == width.search(choice["style"])[1], (k, locale)
        assert quiet["height"] == choice["height"] and "border-radius:6px" in quiet["style"]
        text = quiet.a["style"]
        assert "text-decoration:none" in text and "color:#0b5394" not in text, (k, locale)
        assert quiet.a["data-action"] in ("all_fine", "accept")
    assert re.search(r"\.mb-btn-quiet a \{ color: #c3c8cf", out[0][2].html)


def test_an_operators_payment_to_make_stands_in_a_box_above_the_facts(rendered):
    """command_done after "decide compensated": "To do: pay € 249,95 …" was plain text between
    two paragraphs: it is an emphasised box above the summary box, and the command in the lead
    is set in monospace, as the digest and delivery_failed set commands (design8 point 3)."""
    _, out = rendered
    for k, locale, soup in _samples(out, "operator.command_done"):
        todo = soup.select_one("td.mb-todo")
        assert todo and "249,95" in todo.get_text() and "font-weight:bold" in todo["style"]
        assert todo.find_next("table", class_="mb-card"), (k, locale)
        lead = soup.select_one("p.mb-lead")
        code = lead.find("span", style=re.compile("monospace"))
        assert code and code.get_text() == "decide compensated", (k, locale)


def test_a_buyer_whose_mail_was_refused_is_asked_to_write_shorter_not_to_withdraw(rendered):
    """buyer.storage_full: the only button was "The problem is solved: withdraw my case". The
    one filled button now replies to the mail (a shorter message, no files sent before);
    withdrawing stays available, quiet and last (design8 point 5)."""
    _, out = rendered
    for k, locale, soup in _samples(out, "buyer.storage_full"):
        cells = soup.select("td[class*=mb-btn-]")
        first, last = cells[0], cells[-1]
        assert first["class"] == ["mb-btn-primary"] and len(cells) == 2, (k, locale)
        assert first.a["href"].startswith("mailto:") and not first.a.get("data-action")
        assert {"Korter bericht versturen", "Envoyer un message plus court",
                "Invia un messaggio più breve"} & {first.a.get_text().replace("\u00a0", " ")}, \
            (k, locale)
        assert last["class"] == ["mb-btn-quiet"] and last.a["data-action"] == "withdraw"


@pytest.mark.parametrize("locale, click, button, asked", [
    ("nl", "Klik op de knop of antwoord op deze e-mail met je IBAN", "knop", "bankgegevens"),
    ("fr", "cliquez sur le bouton ou répondez simplement à cet e-mail en indiquant votre IBAN",
     "bouton", "coordonnées bancaires"),
    ("it", "clicca sul pulsante o rispondi a questa e-mail indicando il tuo IBAN", "pulsante",
     "dati bancari")])
def test_a_compensated_buyer_is_asked_for_the_bank_details_once(rendered, locale, click, button,
                                                                 asked):
    """buyer.case_closed.compensated asked twice ("send us your bank details as soon as
    possible", then the section) and said "reply with your IBAN" beside a button: one
    paragraph asks, and names the button in the HTML part only (design8 point 6)."""
    _, out = rendered
    mail = next(m for s, lc, m in out
                if lc == locale and s.name == "buyer.case_closed" and s.label == "compensated")
    soup = BeautifulSoup(mail.html.replace("\u2011", "-"), "html.parser")
    asking = [p.get_text() for p in soup.find_all("p") if "IBAN" in p.get_text()
              or asked in p.get_text()]
    assert len(asking) == 1 and click in asking[0], asking
    text = mail.text.split("\n-- \n")[0]
    assert button not in text and "IBAN" in text
    # Lines of running text (not the links, listed as "* label [1]" and "[1] mailto:...").
    said = [line for line in text.splitlines() if not line.startswith(("*", "["))]
    assert sum(asked in line or "IBAN" in line for line in said) == 1, said


def test_a_shop_is_not_told_its_own_name_and_every_box_has_a_38_percent_label(rendered):
    """A shop's own mails listed "Webshop: Fietsen de Wit" to Fietsen de Wit: no such row in
    either part. The operators' boxes gave the label half the width, so values wrapped: the
    label column is 38 % (it stacks below 480 px, _layout.html.j2 .mb-kv). The weekly intake
    report's figures are in the shaded box like every other key/value block (design8 point 4)."""
    _, out = rendered
    for s, locale, mail in out:
        if s.name.startswith("merchant.") and s.name.partition(".")[2] in (
                "case_closed", "case_escalated", "decision_recorded", "bad_decision",
                "documents_requested", "storage_full"):
            soup = BeautifulSoup(mail.html, "html.parser")
            values = [r.find_all("td")[1].get_text() for r in soup.select("tr.mb-kv")]
            shop = samples.SHOPS[locale][0]
            assert values and shop not in values, (s.name, s.label, locale)
            assert not re.search(rf"^\S+ ?: {re.escape(shop)}$", mail.text, re.M), s.name
    # (merchant.intake_report's counts are a 2×2 grid since design10 point 6.)
    for k, locale, soup in _samples(out, "operator.case_escalated.merchant_no_response"):
        labels = soup.select("table.mb-card td.mb-k")
        assert len(labels) >= 4 and all("width:38%" in td["style"] for td in labels), k
        assert labels[0].find_parent("table")["width"] == "100%"


DECISIONS = ("buyer.decision.A", "buyer.decision.A.after_return", "buyer.decision.B",
             "buyer.decision.C")


def test_a_decision_names_its_deadline_in_the_lead_and_card_only_and_gets_to_the_buttons(
        rendered):
    """buyer.decision on a phone: the buttons started about 860 px down and the deadline was said
    three times (lead, card, closing). The lead is one sentence, the date stands only in it and
    in the card, what silence means is one sentence, and the HTML part does not name the
    buttons again under them (the text part, whose links are no buttons, still does) (review 9D
    item 1)."""
    _, out = rendered
    for s, locale, mail in out:
        if key(s) not in DECISIONS:
            continue
        soup = BeautifulSoup(mail.html, "html.parser")
        due = soup.select_one("td.mb-due").get_text()
        body = soup.select_one("h1").find_all_next(string=True)
        assert sum(due in t for t in body) == 2, (key(s), locale)
        lead = soup.select_one("p.mb-lead").get_text()
        assert due in lead and len(re.findall(r"[.?!](?:\s|$)", lead)) == 1, (key(s), locale, lead)
        # What silence means: one sentence right after the lead (review 11D item 3).
        after = soup.select_one("p.mb-lead").find_next_sibling("p").get_text()
        assert len(re.findall(r"[.?!](?:\s|$)", after)) == 1 and due not in after, after
        html = soup.get_text()
        assert not re.search(r"Klik op “|Cliquez sur «|Clicca su «", html), (key(s), locale)
        assert re.search(r"Antwoord met “|[Rr]épondez «|[Rr]ispondi «", mail.text), (key(s), locale)


@pytest.mark.parametrize("locale, figure", [("nl", "€\u00a0120,00 van €\u00a0249,95"),
                                            ("fr", "120,00\u00a0€ sur 249,95\u00a0€"),
                                            ("it", "120,00\u00a0€ su 249,95\u00a0€")])
def test_a_partial_offer_stands_as_a_large_figure_under_the_heading(rendered, locale, figure):
    """decision.B: "Aangeboden terugbetaling € 120,00" was one bold row among five in the card.
    The offer is a large line right under the heading, with what it is part of ("€ 120,00 van
    € 249,95"), in both parts, and no card row repeats it (review 9D item 2)."""
    _, out = rendered
    mail = next(m for s, lc, m in out if lc == locale and key(s) == "buyer.decision.B")
    soup = BeautifulSoup(mail.html, "html.parser")
    line = soup.select_one("h1").find_next("p")
    assert "mb-figure" in line["class"] and "font-size:28px" in line["style"]
    assert re.sub(r"[\u00a0\u202f ]+", " ", line.get_text()) == figure.replace("\u00a0", " ")
    rows = [r.get_text() for r in soup.select("tr.mb-kv")]
    assert not [r for r in rows if "120,00" in r], rows
    assert re.sub(r"[\u00a0\u202f ]+", " ", figure) in re.sub(r"[\u00a0\u202f ]+", " ", mail.text)


@pytest.mark.parametrize("locale, heading, words", [
    ("nl", "Wat de koper schreef", "ook de lampen zijn nooit aangekomen"),
    ("fr", "Ce que l’acheteur a écrit", "l’éclairage n’est jamais arrivé"),
    ("it", "Che cosa ha scritto l’acquirente", "anche le luci non sono mai arrivate")])
def test_a_shop_whose_answer_is_disputed_reads_what_the_buyer_wrote(rendered, locale, heading,
                                                                   words):
    """merchant.case_escalated.buyer_disputes told the shop the buyer disagrees, but not why:
    it quotes the buyer's words from the dispute (compose gives the shop this one line of the
    case, no case file), as case_opened quotes the claim, with the note that a buyer in another
    language is passed on untranslated (review 9D item 5)."""
    app, out = rendered
    s, mail = next((s, m) for s, lc, m in out
                   if lc == locale and key(s) == "merchant.case_escalated.buyer_disputes")
    soup = BeautifulSoup(mail.html, "html.parser")
    h2 = [h for h in soup.find_all("h2") if h.get_text().lower() == heading.lower()]
    assert h2 and words in h2[0].find_next("td", class_="mb-quote").get_text()
    assert heading.upper() in mail.text and words in mail.text
    ctx = next(c for t, c in samples.contexts(app, app.db(), locale) if key(t) == key(s))
    other = {"nl": "fr", "fr": "it", "it": "nl"}[locale]
    foreign = app.renderer.render(s.name, locale, {**ctx, "order": {
        **ctx["order"], "buyer_locale": other, "shop_locale": locale}})
    hint = BeautifulSoup(foreign.html, "html.parser").select_one("td.mb-quote").find_next("p")
    assert "mb-muted" in hint["class"] and hint.get_text()[:12] in foreign.text
    assert hint.get_text() not in soup.get_text()  # one language: no such note


@pytest.mark.parametrize("locale, buyer, shop", [
    ("nl", "Gecorrigeerd besluit: Fietsen de Wit betaalt je terug",
     "Gecorrigeerd besluit: je betaalt € 249,95 terug"),
    ("fr", "Décision corrigée\u202f: Boutique Rive Gauche vous rembourse ·",
     "Décision corrigée\u202f: vous remboursez 249,95 € à l’acheteur"),
    ("it", "Decisione rettificata: Negozio del Sole ti rimborsa ·",
     "Decisione rettificata: rimborsa 249,95 € all’acquirente")])
def test_a_corrected_decision_names_its_new_outcome_in_the_subject(rendered, locale, buyer,
                                                                    shop):
    """buyer/merchant.case_closed.corrected: "Ons besluit is gecorrigeerd" said a decision
    changed but not into what; the subject names the new outcome, as a decision's subject does
    (review 9D item 6)."""
    app, out = rendered
    said = {s.role: m.subject.replace("\u00a0", " ") for s, lc, m in out
            if lc == locale and s.name.endswith(".case_closed") and s.label == "corrected"}
    assert said["buyer"].startswith(buyer) and said["merchant"].startswith(shop), said
    # The other outcomes an operator corrects to, within a subject's 80 characters.
    prefix = buyer.partition(":")[0]
    for s, ctx in samples.contexts(app, app.db(), locale):
        if s.label == "corrected":
            for outcome in ("compensated", "claim_rejected"):
                case = replace(ctx["case"], outcome=outcome)
                subject = app.renderer.render(s.name, locale, {**ctx, "case": case}).subject
                assert subject.startswith(prefix) and len(subject) <= 80, subject


def test_the_resend_button_is_called_a_button_and_french_pronouns_do_not_break(rendered):
    """operator.delivery_failed: "De link opent…" stood under a button, in body text: it says
    "De knop opent…" in the muted hint every button has (the text part, with a numbered link,
    keeps "link"); and fr "Envoyez-le" broke at its hyphen at 375 px: in the HTML part an
    imperative and its pronoun are kept whole, as "e-mail" is (review 9D item 9)."""
    _, out = rendered
    said = {"nl": ("De knop opent", "De link opent"), "fr": ("Le bouton ouvre", "Le lien ouvre"),
            "it": ("Il pulsante apre", "Il link apre")}
    for k, locale, soup in _samples(out, "operator.delivery_failed"):
        button, link = said[locale]
        hint = [p for p in soup.find_all("p") if button in p.get_text()]
        assert hint and "mb-muted" in hint[0]["class"] and link not in soup.get_text(), locale
        text = next(m.text for s, lc, m in out if key(s) == k and lc == locale)
        assert link in text and button not in text
    for s, locale, mail in out:
        if locale == "fr":
            assert not re.search(r'(?<!nowrap">)\b(?:[Ee]nvoyez|[Cc]orrigez)-l[ae]\b', mail.html), key(s)
    fr = next(m for s, lc, m in out if lc == "fr" and key(s) == "buyer.reminder")
    # Kept whole in a no-wrap span with its ASCII hyphen (design10 point 8: no U+2011).
    assert '<span style="white-space:nowrap">Envoyez-le</span>' in fr.html
    assert "Envoyez-le" in fr.text


def test_the_weekly_intake_report_names_seven_days(rendered):
    """merchant.intake_report's nl subject said "Weekoverzicht … van 16 tot en met 23 november":
    eight days for a report of the seven days before it was sent; "tot" names the week it covers
    (review 9D item 8)."""
    _, out = rendered
    subject = next(m.subject for s, lc, m in out
                   if lc == "nl" and key(s) == "merchant.intake_report")
    # Since design10 point 6 the seven days by their first and last: "16 t/m 22 november".
    assert re.search(r"van 16 t/m 22 \w+ \d{4}$", subject) and "tot en met" not in subject
