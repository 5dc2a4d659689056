"""The operators' mails in nl, fr and it (issue 20, operators' review and the Dutch review's
items 5 and 13): sample cases that tell one story (case 1041's plan and dates, a cross-border
case), a command-line example in the reader's own number form that the command line reads back,
and the words a native operator would use."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from conftest import make_config
from mailbot import wiring
from mailbot.money import parse_amount
from mailbot.outbound import samples
from mailbot.outbound.render import LOCALES


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    """{locale: [(sample, Rendered)]} for the operators' samples."""
    app = wiring.build(make_config(tmp_path_factory.mktemp("operators")))
    out = {locale: [(s, app.renderer.render(s.name, locale, ctx))
                    for s, ctx in samples.contexts(app, app.db(), locale)
                    if s.name.startswith("operator.")]
           for locale in LOCALES}
    yield out
    app.close()


def rendered(mails, locale, name, label=""):
    return next(out for s, out in mails[locale] if s.name == name and s.label == label)


@pytest.mark.parametrize("locale", LOCALES)
def test_case_1041_does_not_contradict_itself(mails, locale):
    # The card says the PLUS plan covers up to the order amount: no refusal names a lower cover.
    card = rendered(mails, locale, "operator.case_escalated", "merchant_no_response").text
    assert re.search(r"PLUS, \S+", card)
    refused = rendered(mails, locale, "operator.command_help", "amount").text
    assert "200,00" not in refused and "249,95" in refused
    # The colleague decided the case on the day it was closed.
    decided = rendered(mails, locale, "operator.command_help", "decided").text
    assert "14 novemb" not in decided and "7 novemb" in decided


@pytest.mark.parametrize("locale, buyer, shop", [
    ("nl", "camille.martin@example.org (Frans)", "service@shop.example (Nederlands)"),
    ("fr", "camille.martin@example.org (français)", "service@shop.example (néerlandais)"),
    ("it", "camille.martin@example.org (francese)", "service@shop.example (olandese)"),
])
def test_a_cross_border_escalation_shows_each_partys_language(mails, locale, buyer, shop):
    out = rendered(mails, locale, "operator.case_escalated", "buyer_fr_shop_nl")
    assert buyer in out.text and shop in out.text
    assert "buyer%20%28fr%29" in out.text and "merchant%20%28nl%29" in out.text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_command_line_example_writes_the_amount_as_the_mail_does(mails, locale):
    out = rendered(mails, locale, "operator.case_escalated", "merchant_no_response").text
    typed = re.search(r"--amount (\S+)", out).group(1)
    assert typed == "249,95" and parse_amount(typed) == parse_amount("249.95") == Decimal("249.95")


WRONG = {
    "nl": ["besluit je op wat er is", "kan niet worden besloten", "meer dan nul",
           "(merchant (", "(buyer ("],
    "fr": ["décidez sur ce que vous avez", "supérieur à zéro", "(merchant (", "(buyer ("],
    "it": ["scheduler", "Cosa puoi fare", "maggiore di zero", "(merchant (", "(buyer ("],
}


@pytest.mark.parametrize("locale", LOCALES)
def test_operator_words_a_native_reader_uses(mails, locale):
    found = [(s.name, s.label, w) for s, out in mails[locale] for w in WRONG[locale]
             if w in out.text]
    assert found == []
