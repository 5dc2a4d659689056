"""Subjects and preheaders of every mail, in nl, fr and it (issue 20, blind review): the news
first and the order last (" · bestelling N"), so that a phone's inbox shows the part that differs;
operators' subjects end in the case the same way; short subjects; and a preheader, the line an
inbox shows after the subject, that adds something: a capital, not the subject again, not the
first words of the mail."""

from __future__ import annotations

import re
import statistics

import pytest
from bs4 import BeautifulSoup

from conftest import rendered_samples
from mailbot.outbound.render import LOCALES

# How each language names the order and the operators' case at the end of a subject.
ORDER = {"nl": "bestelling", "fr": "commande", "it": "ordine"}
CASE = {"nl": "case", "fr": "dossier", "it": "pratica"}
SEPARATOR = " · "


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    """[(sample, ctx, Rendered)] per locale, for every sample."""
    rendered = rendered_samples(tmp_path_factory.mktemp("subjects"))
    return {locale: [(s, ctx, out) for s, ctx, loc, out in rendered if loc == locale]
            for locale in LOCALES}


def preheader(rendered):
    hidden = BeautifulSoup(rendered.html, "html.parser").find(style=re.compile(r"display:\s*none"))
    # The HTML part keeps "e-mail" whole with a no-break hyphen (U+2011); compare as text.
    return hidden.get_text(" ", strip=True).replace("\u2011", "-")


def field(ctx, name, attribute):
    """A field of the context's case or order, a record or a mapping; None without one."""
    thing = ctx.get(name)
    return thing.get(attribute) if isinstance(thing, dict) else getattr(thing, attribute, None)


def tail(sample, ctx, locale):
    """How the subject must end: the case for operators, else the order (none for a digest)."""
    if sample.name.startswith("operator.") and field(ctx, "case", "id"):
        return f"{SEPARATOR}{CASE[locale]} {field(ctx, 'case', 'id')}"
    if field(ctx, "order", "number"):
        return f"{SEPARATOR}{ORDER[locale]} {field(ctx, 'order', 'number')}"
    return None


def triage(ctx, subject):
    """The parts between an operator's news and its case: only the shop and the amount at stake
    (test_operator_subjects_name_the_shop_and_the_amount)."""
    order = ctx.get("order")
    known = {field(ctx, "order", "shop")} | {
        money for money in re.findall(r"€\xa0[\d.,]+|[\d.,]+\xa0€", subject)} if order else set()
    return set(subject.split(SEPARATOR)[1:-1]) <= known


@pytest.mark.parametrize("locale", LOCALES)
def test_subjects_end_with_the_order_or_the_case(mails, locale):
    wrong = []
    for sample, ctx, out in mails[locale]:
        end = tail(sample, ctx, locale)
        one = out.subject.count(SEPARATOR) == 1 or (
            sample.name.startswith("operator.") and triage(ctx, out.subject))
        if end and not (out.subject.endswith(end) and one):
            wrong.append((sample.name, sample.label, out.subject))
    assert wrong == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_operator_mail_about_a_case_ends_with_it(mails, locale):
    kinds = {s.name for s, ctx, out in mails[locale]
             if (end := tail(s, ctx, locale)) and f"{SEPARATOR}{CASE[locale]} " in end
             and out.subject.endswith(end)}
    assert kinds >= {"operator.command_help", "operator.command_done", "operator.delivery_failed",
                     "operator.message_relayed", "operator.relays_held",
                     "operator.case_escalated"}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_news_comes_first_and_differs_between_kinds(mails, locale):
    """In one reader's inbox (buyer, shop or service team), no two kinds of mail share their
    first 20 characters, what a phone shows first, unless they bring the same news."""
    first = {}
    for sample, _, out in mails[locale]:
        reader = sample.name.split(".")[0]
        first.setdefault((reader, out.subject[:20]), {}).setdefault(sample.name, set()).add(
            out.subject.split(SEPARATOR)[0])
    shared = [(start, kinds) for start, kinds in first.items()
              if len(kinds) > 1 and len(set().union(*kinds.values())) > 1]
    assert shared == []


@pytest.mark.parametrize("locale", LOCALES)
def test_subjects_are_short(mails, locale):
    lengths = [len(out.subject) for _, _, out in mails[locale]]
    assert max(lengths) <= 80 and statistics.mean(lengths) <= 62, (max(lengths),
                                                                     statistics.mean(lengths))


@pytest.mark.parametrize("locale", LOCALES)
def test_the_digest_subject_is_one_day_and_one_colon(mails, locale):
    out = next(out for s, _, out in mails[locale] if s.name == "operator.digest")
    assert out.subject.count(":") == 1 and not re.search(r"\d:\d|\d h \d", out.subject)
    # Up to three counts (alerts, late payments, cases: test_digest_first), still within the
    # limit of every subject.
    assert len(out.subject) <= 80, out.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_preheaders_add_to_the_subject_and_the_first_lines(mails, locale):
    wrong = []
    for sample, ctx, out in mails[locale]:
        said = preheader(out)
        news = out.subject.split(SEPARATOR)[0]
        paragraphs = [" ".join(p.split()) for p in out.text.split("\n\n") if p.strip()]
        # The heading and the lead sentence (an operator's mail opens with the case and order).
        paragraphs = paragraphs[1:3] if sample.name.startswith("operator.") else paragraphs[:2]
        if not said or not said[0].isupper() or len(said) > 100 or said.rstrip(".") == news \
                or any(p.startswith(said.rstrip(".")) for p in paragraphs):
            wrong.append((sample.name, sample.label, said))
    assert wrong == []


@pytest.mark.parametrize("locale, outcome, said", [
    ("nl", "compensated", "Je krijgt €\xa0249,95 vergoed"),
    ("fr", "compensated", "Vous recevez une indemnisation de 249,95\xa0€"),
    ("it", "compensated", "Riceverai un indennizzo di 249,95\xa0€"),
    ("nl", "refunded_by_merchant", "Fietsen de Wit moet je €\xa0180,00 terugbetalen"),
])
def test_a_closing_subject_carries_the_amount(mails, locale, outcome, said):
    out = next(out for s, _, out in mails[locale]
               if s.name == "buyer.case_closed" and s.label == outcome)
    assert out.subject.startswith(said), out.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_deadlines_are_in_the_subjects_that_ask_for_an_answer(mails, locale):
    for sample, _, out in mails[locale]:
        if sample.name in ("merchant.case_opened", "merchant.nudge",
                           "merchant.bad_decision", "buyer.documents_requested",
                           "merchant.documents_requested"):
            assert re.search(r"\b(26|28) novembe?re?\b", out.subject), out.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_operator_subjects_name_the_shop_and_the_amount(mails, locale):
    """The team triages from its inbox's list: an escalation names the shop and the order's
    amount, a command carried out the shop and the amount it decided or recorded as paid (none
    for a request)."""
    money = {"nl": "€\xa0249,95", "fr": "249,95\xa0€", "it": "249,95\xa0€"}[locale]
    for sample, ctx, out in mails[locale]:
        if sample.name in ("operator.case_escalated", "operator.command_done"):
            parts = out.subject.split(SEPARATOR)
            assert parts[1] == field(ctx, "order", "shop"), out.subject
            paid = sample.name == "operator.case_escalated" or sample.label in ("", "paid")
            assert (money in parts[2:-1]) == paid, out.subject
            assert len(out.subject) <= 80, out.subject
