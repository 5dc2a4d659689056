"""Every mail the core emits renders in nl, fr and it, as text and HTML, from realistic samples:
every string translated, no raw identifier in what a reader sees, the house design (wrapper table,
title, preheader, dark-mode meta, 44 px buttons of equal weight in the core's order), locale
typography, and the operators' case file with its documents."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from conftest import click, make_config, only
from mailbot import digest, resources, views, wiring
from mailbot.inbound import forms
from mailbot.core.model import Role
from mailbot.outbound import compose, samples
from mailbot.outbound.render import LOCALES, NAMES, Renderer, template_file
from mailbot.store import records
from test_protection_by_mail import BUYER_FR, BUYER_NL, MERCHANT_NL, now, reminders

COMMANDS = [f"{verb} {arg}" for verb, arg in compose.COMMANDS]
# ``mailbot case ID correct OUTCOME``: the outcomes as typed (a closed case's mails name them).
COMMANDS += [arg for verb, arg in compose.COMMANDS if verb == "decide"]
RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(buyer|merchant|operator)\.[a-z_]+\b")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """(sample, context, Rendered) for every sample in every locale, rendered once."""
    app = wiring.build(make_config(tmp_path_factory.mktemp("render")))
    out = {}
    for locale in LOCALES:
        out[locale] = [(s, ctx, app.renderer.render(s.name, locale, ctx))
                       for s, ctx in samples.contexts(app, app.db(), locale)]
    yield out
    app.close()


def visible(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    return soup.body.get_text(" ")


def test_every_template_name_has_a_file_and_every_file_a_name():
    files = {p.name for p in resources.templates().glob("*.j2") if not p.name.startswith("_")}
    assert {template_file(n) for n in NAMES} == files
    # Parties share a file where the kind of mail is the same.
    assert template_file("buyer.case_closed") == template_file("merchant.case_closed")


def test_samples_cover_every_name(rendered):
    assert {s.name for s, _, _ in rendered["nl"]} == set(NAMES)


@pytest.mark.parametrize("locale", LOCALES)
def test_no_raw_identifier_reaches_a_reader(rendered, locale):
    for sample, _, out in rendered[locale]:
        for part in (out.subject, out.text, visible(out.html)):
            seen = re.sub(r"mailto:\S+|\S+@\S+", "", part)
            for command in COMMANDS:  # what an operator types is shown as typed
                seen = seen.replace(command, "")
            assert not RAW.search(seen), (sample.name, sample.label, RAW.search(seen)[0])
        assert "\n" not in out.subject and out.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_layout_for_mail_clients(rendered, locale):
    for sample, ctx, out in rendered[locale]:
        soup = BeautifulSoup(out.html, "html.parser")
        assert soup.title.get_text() == out.subject
        assert soup.find("meta", attrs={"name": "color-scheme"})
        assert soup.body.attrs == {}  # styles live on the wrapper table, not on <body>
        assert soup.find("table", attrs={"width": "600"})
        assert "pre-wrap" not in out.html
        preheader = soup.body.find("div")
        assert "display:none" in preheader["style"] and preheader.get_text(strip=True)
        assert soup.h1.get_text(strip=True)
        assert out.sender_name and out.sender_name != "Buyer protection"
        buttons = soup.find_all("a", attrs={"data-action": True})
        # The core's order, except that what ends the protection or case comes last.
        quiet = ("all_fine", "withdraw", "accept")
        presented = ([a for a in ctx["actions"] if a not in quiet]
                     + [a for a in ctx["actions"] if a in quiet])
        assert [b["data-action"] for b in buttons] in ([], presented)
        for b in buttons:
            assert b.find_parent("td")["height"] == "44"
        choices = [b for b in buttons if b["data-action"] not in quiet]
        if len(choices) > 1:  # a choice: every option looks the same, none is pushed
            assert len({b["style"] for b in choices}) == 1
            assert len({b.find_parent("td")["style"] for b in choices}) == 1
        if sample.state is not None and buttons:
            for b in buttons:
                subject = parse_qs(urlsplit(b["href"]).query)["subject"][0]
                assert sample.state.order.order_number in subject


def contrast(fg: str, bg: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    def luminance(hex_colour):
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    high, low = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_small_text_is_readable(rendered):
    _, _, out = rendered["nl"][0]
    soup = BeautifulSoup(out.html, "html.parser")
    for cls in ("mb-foot", "mb-muted"):
        for cell in soup.find_all(class_=cls):
            style = dict(p.split(":", 1) for p in cell["style"].split(";") if ":" in p)
            background = style.get("background", "#ffffff")
            assert contrast(style["color"], background) >= 4.5, (cls, style)
    assert "prefers-color-scheme: dark" in out.html  # dark mode gets its own colours


@pytest.mark.parametrize("locale", LOCALES)
def test_no_zero_amount_and_party_text_on_lines(rendered, locale):
    for sample, _, out in rendered[locale]:
        assert not re.search(r"(?<![\d.])0,00", out.text), (sample.name, sample.label)
    decision = next(o for s, _, o in rendered[locale] if s.name == "buyer.decision")
    assert "<br>" in decision.html  # the shop's two lines stay two lines


def test_party_text_is_escaped(tmp_path):
    app = wiring.build(make_config(tmp_path))
    sample, ctx = next((s, c) for s, c in samples.contexts(app, app.db(), "nl")
                       if s.name == "merchant.case_opened")
    ctx = {**ctx, "data": {**ctx["data"], "text": "<script>alert(1)</script>\n<b>x</b>"}}
    out = app.renderer.render(sample.name, "nl", ctx)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html and "<b>x" not in out.html


def test_merchant_links_carry_a_form_with_a_prompt(rendered):
    _, _, out = next(x for x in rendered["fr"] if x[0].name == "merchant.case_opened")
    soup = BeautifulSoup(out.html, "html.parser")
    href = soup.find("a", attrs={"data-action": "refund_full"})["href"]
    body = parse_qs(urlsplit(href).query)["body"][0]
    assert body.startswith("Remboursement\u202f: oui") and body.rstrip().endswith("]")
    # Sent as it is, the prompt is no explanation: the form is refused for a missing message.
    form = forms.read_decision(body.replace("\r\n", "\n"))
    assert form.choice == "yes" and form.message == ""
    assert forms.read_decision(body + "\nLe colis part demain.").message == "Le colis part demain."


def test_every_string_is_translated():
    msgids = {(m[2], m[4]) for m in extract_from_dir(
        str(resources.templates()), method_map=[("**.j2", "jinja2")],
        options_map={"**.j2": {"extensions": "jinja2.ext.i18n"}})}
    assert len(msgids) > 100
    for locale in LOCALES:
        path = resources.locales() / locale / "LC_MESSAGES" / "mailbot.po"
        catalog = read_po(path.open("rb"))
        missing = [m for m, ctx in msgids
                   if not (catalog.get(m, ctx) and catalog.get(m, ctx).string)]
        assert missing == [], f"{locale}: untranslated {missing[:5]}"


def test_french_punctuation_never_wraps_alone():
    catalog = read_po((resources.locales() / "fr" / "LC_MESSAGES" / "mailbot.po").open("rb"))
    for message in (m for m in catalog if m.id):
        for string in (message.string if isinstance(message.string, tuple) else (message.string,)):
            assert not re.search(r"[^\u202f][;?!]|[^\u202f]:(\s|$)", string or ""), string


@pytest.mark.parametrize("locale, opening, closing", [
    ("fr", "\u00ab\u202f", "\u202f\u00bb"), ("it", "\u00ab", "\u00bb"), ("nl", "\u201c", "\u201d")])
def test_party_words_in_the_case_file_are_quoted_the_local_way(rendered, locale, opening,
                                                                 closing):
    text = next(r.text for s, _, r in rendered[locale] if s.name == "operator.case_escalated")
    assert re.search(f"{opening}[^{closing}]+{closing}", text)


def test_deadlines_show_the_last_whole_day():
    renderer = Renderer(ZoneInfo("Europe/Amsterdam"))
    nl = renderer._envs["nl", "text"].filters
    fr = renderer._envs["fr", "text"].filters
    end_of_day = datetime(2026, 12, 1, 22, 59, tzinfo=timezone.utc)  # 23:59 in Amsterdam
    midnight = datetime(2026, 12, 2, 23, 0, tzinfo=timezone.utc)  # 00:00 on 3 December
    assert nl["deadline"](end_of_day) == "dinsdag 1 december 2026"
    assert nl["deadline"](midnight) == "woensdag 2 december 2026"
    assert fr["deadline"](end_of_day) == "mardi 1er décembre 2026"
    # A phone does not break "23:59 / uur" or "23 / h 59" (review A): no-break spaces.
    assert nl["deadline_at"](end_of_day).endswith("om 23:59\u00a0uur")
    assert fr["deadline_at"](end_of_day).endswith("à 23\u00a0h\u00a059")


def test_money_follows_the_locale(rendered):
    nl = next(o for s, _, o in rendered["nl"] if s.name == "buyer.reminder").text
    fr = next(o for s, _, o in rendered["fr"] if s.name == "buyer.reminder").text
    assert "€\xa0249,95" in nl and "249,95\xa0€" in fr


def test_operator_case_file_attaches_documents_and_reads_as_sentences(app):
    db = app.db()
    order_id = records.order_id(db, "shop-nl", "NL-1")
    sample = next(s for s in samples.samples("nl")
                  if s.name == "operator.case_escalated" and s.label == "buyer_disputes")
    state = records.load(db, order_id)
    state = type(state)(state.order, sample.state.protection, sample.state.case)
    docs = {}  # the case's files, kept in the real attachment store
    for doc in samples.INVOICE, samples.TRACKING:
        sha = app.attachments.save(b"%PDF-1.4 " + doc.name.encode())
        docs[doc.name] = type(doc)(doc.name, sha, doc.content_type, 10)
    timeline = tuple(type(e)(e.actor, e.kind, e.text,
                             tuple(docs[d.name] for d in e.attachments))
                     for e in sample.timeline)
    out = compose.prepare(app, db, state, sample.mail, samples.NOW, timeline)
    msg = message_from_bytes(out.raw, policy=policy.default)
    names = {p.get_filename() for p in msg.iter_attachments()}
    assert names == {"factuur-10481.pdf", "track-and-trace.png"}
    body = msg.get_body(("plain",)).get_content()
    assert "Koper: opende de case: “Ik heb op 2 november" in body
    assert "Antwoord van de webshop: terugbetaling van €\xa0120,00" in body
    soup = BeautifulSoup(msg.get_body(("html",)).get_content(), "html.parser")
    commands = [a for a in soup.find_all("a") if "body=decide" in a["href"]
                or "body=request-documents" in a["href"]]
    # Every command once: the decisions in the short block on top, the rest below (review 12).
    assert len({a["href"] for a in commands}) == len(compose.COMMANDS)
    assert len(commands) == len(compose.COMMANDS)


def test_other_request_reply_reaches_the_buyer(app):
    db = app.db()
    state = records.load(db, records.order_id(db, "shop-it", "IT-1"))
    mail = next(s.mail for s in samples.samples("it") if s.name == "operator.other_request")
    out = compose.prepare(app, db, state, mail, samples.NOW)
    msg = message_from_bytes(out.raw, policy=policy.default)
    assert msg["Reply-To"] == state.order.buyer_email
    assert msg["From"].addresses[0].display_name == "Kopersbescherming"  # operators read Dutch (conftest)
    assert out.role == str(Role.OPERATOR)


def test_buyer_reads_the_shops_refusal_when_it_goes_straight_to_the_team(rendered):
    out = next(o for s, _, o in rendered["it"]
               if s.name == "buyer.case_escalated" and s.label == "merchant_refused_refund")
    assert "Non abbiamo ricevuto il reso." in out.text
    assert "La motivazione del negozio" in out.html


def test_stale_click_after_closing_says_how_the_case_ended(rendered):
    out = next(o for s, _, o in rendered["fr"]
               if s.name == "buyer.not_active" and s.label == "closed")
    assert "Vous avez confirmé avoir reçu le remboursement." in out.text


def test_case_text_shows_the_refund_and_escapes_control_characters():
    case = {"id": 7, "state": "escalated", "reason": "no_refund", "variant": "B",
            "escalation_reason": "buyer_disputes", "outcome": None,
            "merchant_due": "2026-11-20T23:59:00+01:00", "buyer_due": None,
            "refund": {"choice": "yes_after_return", "amount": "12.50"},
            "timeline": [{"at": "2026-11-23T14:02:00+01:00", "actor": "buyer", "kind": "message",
                          "text": "hallo \x1b[2J\x1b[31mrood\x07", "attachments": []}]}
    out = views.case_text(case)
    assert "merchant's answer: refund yes_after_return, 12.50" in out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[2J" in out
    refused = views.case_text({**case, "refund": {"choice": "no", "amount": "0.00"}})
    assert "merchant's answer: refund no\n" in refused and "0.00" not in refused


def test_digest_lists_cases_that_need_action_and_other_requests_in_words(box):
    mails = reminders(box)
    click(box, only(mails, BUYER_FR), "other", BUYER_FR, body="Puis-je changer l'adresse ?")
    click(box, only(mails, BUYER_NL), "no_refund", BUYER_NL, body="Geen geld terug.")
    merchant = only(box.deliver(), MERCHANT_NL)
    click(box, merchant, "refund_none", MERCHANT_NL, body="Terugbetaling: nee\nToelichting: Nee.")
    box.deliver()
    out = digest.text(box.app, now() + timedelta(days=2, hours=1), timedelta(days=7))
    # The operators' frame's bar (the period), then the heading.
    assert re.match(r"Overzicht · \d+ \w+ 2026, \d\d:\d\d – \d+ \w+ 2026, \d\d:\d\d\n\n"
                    r"1 case wacht op actie\n", out)
    # Each case a block of lines, why it needs action under its id (issue 20, ops6).
    assert re.search(r"\n  Waarom: de webshop weigert een terugbetaling[^\n]*\n  Bedrag: €\xa049,95\n"
                     r"  Bestelling: NL-1, Fietsen BV\n  Stand: bij het serviceteam sinds ", out)
    assert "  Bestelling: FR-1, Boutique Rive\n  Koper: " in out
    assert "Vraag: “Puis-je changer l'adresse ?”" in out
    assert not RAW.search(re.sub(r"\S+@\S+", "", out))  # addresses aside
