"""Reading a shop's order confirmation: the corpus of 42 mails after the common shop systems'
templates gives every field right, markup wins over words, and what is not read with confidence
stays unread (so no protection starts on a guess)."""

from __future__ import annotations

import json
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from mailbot.inbound.parse import parse
from mailbot.orders_by_mail import markup, words
from mailbot.orders_by_mail.extract import read

CORPUS = Path(__file__).parent / "corpus"
FIELDS = ("order_number", "amount", "currency", "buyer", "locale")
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
SHOPS = {"fietsen.example", "rive.example", "sole.example"}


def _fields(raw: bytes) -> dict:
    r = read(parse(raw), SHOPS)
    return {"order_number": r.order_number, "amount": r.amount and str(r.amount),
            "currency": r.currency, "buyer": r.buyer, "locale": r.locale}


def test_the_corpus_covers_six_shop_systems_in_three_languages():
    names = list(EXPECTED)
    assert len(names) >= 30
    for system in ("shopify", "woocommerce", "magento", "prestashop", "lightspeed", "shopware"):
        for lang in ("nl", "fr", "it"):
            assert f"{system}-{lang}-markup.eml" in names and f"{system}-{lang}-words.eml" in names


def test_every_field_is_right_on_at_least_95_percent_of_the_corpus():
    wrong = {name: [f for f in FIELDS if _fields((CORPUS / name).read_bytes())[f] != want[f]]
             for name, want in EXPECTED.items()}
    misses = {name: fields for name, fields in wrong.items() if fields}
    assert len(misses) <= 0.05 * len(EXPECTED), misses


@pytest.mark.parametrize("name", ["magento-fr-markup.eml", "shopify-it-markup.eml"])
def test_markup_is_read_first(name):
    raw = (CORPUS / name).read_bytes()
    html = parse(raw).html
    assert markup.orders(html)[0]["orderNumber"].lstrip("#") == EXPECTED[name]["order_number"]
    # The markup's number wins over a different one in the words (the text part comes first).
    swapped = raw.replace(EXPECTED[name]["order_number"].encode(), b"999999", 1)
    assert b"999999" in swapped.split(b"text/html")[0]
    assert _fields(swapped)["order_number"] == EXPECTED[name]["order_number"]
    assert read(parse(raw), SHOPS).markup


def test_a_broken_json_ld_block_hides_no_other():
    html = ('<script type="application/ld+json">{"@type": "WebPage", name: x}</script>'
            '<script type="application/ld+json">[{"@type": "Order", "orderNumber": "A-17",'
            '"totalPaymentDue": {"price": "12.50", "priceCurrency": "CHF"}}]</script>')
    assert markup.orders(html) == [{"@type": "Order", "orderNumber": "A-17",
                                    "totalPaymentDue": {"price": "12.50", "priceCurrency": "CHF"}}]
    assert markup.field(markup.orders(html)[0], "totalPaymentDue", "price") == "12.50"


def test_nested_microdata_items_are_values_not_properties():
    html = ('<div itemscope itemtype="https://schema.org/Order"><span itemprop="orderNumber">'
            'X1</span><div itemprop="customer" itemscope itemtype="https://schema.org/Person">'
            '<span itemprop="orderNumber">not-this</span></div></div>')
    assert markup.orders(html) == [{"orderNumber": "X1", "customer": {"orderNumber": "not-this"}}]


@pytest.mark.parametrize("text, total", [
    ("Subtotaal € 45,00\nTotaal € 54,95", Decimal("54.95")),
    ("Total HT 43,33 €\nTotal TTC 52,00 €", Decimal("52.00")),
    ("Total TTC 52,00 €\nTotal HT 43,33 €", Decimal("52.00")),
    ("Total (2 colis) : 45,00 €", Decimal("45.00")),  # the 2 is no amount
    ("Sous-total : 45,00 €\nTVA totale 8,67 €", None),
    ("Totale netto: 43,14 €\nTotale lordo: 52,63 €", Decimal("52.63")),
    ("Totaal 3 stuks", None),
])
def test_the_total_is_the_grand_total(text, total):
    found = words.total(text)
    assert (found and found[0]) == total


@pytest.mark.parametrize("text, number", [
    ("Commande du 07/12/2026\nNuméro de commande : FR-2026-117", "FR-2026-117"),
    ("Bedankt voor je bestelling!\nBestelling geplaatst op 07-12-2026", None),
    ("Conferma d'ordine\nDettagli dell'ordine\nOrdine: HBTYGRWAP effettuato", "HBTYGRWAP"),
    ("Bestellnummer: 10045", "10045"),
    ("Order #1001 confirmed", "1001"),
])
def test_the_order_number_follows_an_order_label(text, number):
    assert words.order_number(text) == number


def _mail(to: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "info@fietsen.example"
    msg["To"] = to
    msg["Subject"] = "Bestelling #1001"
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP)


def test_what_is_not_read_with_confidence_stays_unread():
    r = read(parse(_mail("jan@buyer.example, piet@buyer.example", "Totaal € 10,00")), SHOPS)
    assert r.buyer is None and r.missing == ["buyer"]
    r = read(parse(_mail("info@fietsen.example", "Totaal 10")), SHOPS)
    assert r.missing == ["amount", "buyer"] and r.locale is None
    r = read(parse(_mail("Jan <jan@buyer.example>", "Totaal € 10,00")), SHOPS)
    assert r.missing == [] and r.buyer == "jan@buyer.example" and r.amount == Decimal("10.00")
