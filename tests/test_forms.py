"""The merchant's form and the amounts of SPEC §4, in every language and format it lists."""

from __future__ import annotations

from decimal import Decimal

import pytest

from babel.numbers import format_currency

from mailbot.core.model import OPERATOR_COMMAND_LINES, RefundChoice
from mailbot.inbound.forms import closest_command, read_command, read_decision
from mailbot.money import parse_amount


@pytest.mark.parametrize("text, amount", [
    ("12", "12.00"), ("12,5", "12.50"), ("12,50", "12.50"), ("12.50", "12.50"),
    ("€ 12,50", "12.50"), ("12,50 EUR", "12.50"), ("1.234,56", "1234.56"),
    ("1,234.56", "1234.56"), ("-5", "-5.00"), ("0", "0.00"),
    ("1\u202f234,56\u00a0€", "1234.56"), ("€\u00a01.234,56", "1234.56"),  # Babel's spaces
    ("1 234 567,89", "1234567.89"), ("1\u2009234,5", "1234.50"), ("1'234.50", "1234.50"),
    ("1’234.50", "1234.50"), ("+7", "7.00"), ("12.5 euro", "12.50"), ("EUROS 3", "3.00"),
    ("1.234", "1234.00"), ("1,234", "1234.00"), ("1.234.567", "1234567.00"), ("0,5", "0.50"),
    ("999.999.999.999,99", "999999999999.99"), ("-1.234,5", "-1234.50"),
])
def test_amounts(text, amount):
    assert parse_amount(text) == Decimal(amount) and str(parse_amount(text)) == amount


@pytest.mark.parametrize("text", [
    "abc", "12,3456", "1.2.3", "", "€", "12,", "12.", ",5", "1.23.456", "12,34,56", "1,2345.6",
    "12-5", "--5", "1 2x", "1" * 41, "1e309", "inf", "NaN", "1" * 13, "9" * 10_000,
    "1.000.000.000.000", "12,50 USD",
])
def test_unreadable_amounts(text):
    assert parse_amount(text) is None


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
@pytest.mark.parametrize("amount", ["0.01", "0.50", "12.00", "49.95", "1000.00", "1234.56",
                                    "1234567.89", "999999999999.99"])
def test_amounts_as_the_mails_write_them_read_back(locale, amount):
    """The merchant's prefilled "Montant : 1 234,56 €" is what format_currency wrote."""
    written = format_currency(Decimal(amount), "EUR", locale=locale)
    assert parse_amount(written) == Decimal(amount)


@pytest.mark.parametrize("form, choice, amount, message", [
    ("Terugbetaling: ja na retour\nBedrag: 12,50\nToelichting: graag terugsturen",
     RefundChoice.YES_AFTER_RETURN, "12,50", "graag terugsturen"),
    ("Remboursement : oui\nMontant : 12,50 €\nExplication : désolé",
     RefundChoice.YES, "12,50 €", "désolé"),
    ("RIMBORSO: no\nMotivazione: consegnato", RefundChoice.NO, None, "consegnato"),
    ("refund: yes after return\namount: 3\nmessage: ok", RefundChoice.YES_AFTER_RETURN, "3",
     "ok"),
    ("Erstattung: nein\nBegründung: zugestellt", RefundChoice.NO, None, "zugestellt"),
    ("Terugbetaling: ja / ja na retour / nee\nToelichting: x", None, None, "x"),
])
def test_decision_forms(form, choice, amount, message):
    read = read_decision(form)
    assert (read.choice, read.amount_text, read.message) == (choice, amount, message)


def test_the_explanation_keeps_its_lines_and_indentation():
    read = read_decision("Terugbetaling: ja\nToelichting: Eerste regel.  \n  - een punt  \n\n"
                         "Laatste regel.\n")
    assert read.message == "Eerste regel.\n  - een punt\n\nLaatste regel."
    assert (read.choice, read.amount_text, read.labels_found) == (RefundChoice.YES, None, 2)


def test_without_an_explanation_label_the_merchants_own_lines_explain():
    read = read_decision("Wij storten het bedrag vandaag.  \n\nRemboursement : oui\n"
                         "Montant : 12,50 €\n   Groet, Piet  ")
    assert read.message == "Wij storten het bedrag vandaag.\n\n   Groet, Piet"
    assert (read.choice, read.amount_text, read.labels_found) == (RefundChoice.YES, "12,50 €", 2)


def test_an_empty_explanation_label_falls_back_to_the_own_lines():
    read = read_decision("Nous remboursons.\nRemboursement : oui\nExplication :")
    assert (read.message, read.labels_found) == ("Nous remboursons.", 2)


def test_repeated_labels_are_joined():
    read = read_decision("Refund: yes after\nRefund: return\nAmount: 12\nAmount: 50\n"
                         "*Message*: a\nb")
    assert (read.choice, read.amount_text, read.message, read.labels_found) == (
        RefundChoice.YES_AFTER_RETURN, "12 50", "a\nb", 3)


def test_a_text_without_a_form():
    read = read_decision("Bedankt voor uw bericht.\nMet vriendelijke groet")
    assert read == type(read)(None, None, "Bedankt voor uw bericht.\nMet vriendelijke groet", 0)


@pytest.mark.parametrize("value, choice", [
    ("ja", RefundChoice.YES), ("Oui", RefundChoice.YES), ("sì", RefundChoice.YES),
    ("yes, today", RefundChoice.YES), ("ja na retour", RefundChoice.YES_AFTER_RETURN),
    ("oui après le retour", RefundChoice.YES_AFTER_RETURN),
    ("sì dopo il reso", RefundChoice.YES_AFTER_RETURN),
    ("ja, nach der Rücksendung", RefundChoice.YES_AFTER_RETURN),
    ("nee", RefundChoice.NO), ("Non", RefundChoice.NO), ("nein", RefundChoice.NO),
    ("", None), ("misschien", None), ("ja / ja na retour / nee", None), ("jawel", None),
])
def test_refund_choices(value, choice):
    assert read_decision(f"Terugbetaling: {value}\nToelichting: x").choice == choice


def test_operator_commands():
    command = read_command("decide compensated\nWe vergoeden het.")
    assert (command.verb, command.argument, command.message) == (
        "decide", "compensated", "We vergoeden het.")
    assert read_command("Wat vinden jullie?") is None


@pytest.mark.parametrize("line", OPERATOR_COMMAND_LINES)
def test_every_command_of_the_table_is_read(line):
    verb, argument = line.split()
    text = f"  {line.upper()}  \n\n Bericht aan de partijen. \nTweede regel.\n"
    command = read_command(text)
    assert (command.verb, command.argument, command.message) == (
        verb, argument, "Bericht aan de partijen. \nTweede regel.")
    assert closest_command(line) == line


@pytest.mark.parametrize("text", [
    "decide withdrawn\nklaar", "decide refund_received", "decide", "decide compensated now",
    "request-documents operator\nx", "request-documents", "compensated\nx", "", "\n\n",
    "Wat vinden jullie?\ndecide compensated", "wat nu?\nx", "close compensated",
])
def test_anything_else_is_not_a_command(text):
    assert read_command(text) is None


@pytest.mark.parametrize("text, meant", [
    ("decide compensatd\nWe vergoeden.", "decide compensated"),
    ("Decide claim rejected", "decide claim_rejected"),
    ("request-document buyer", "request-documents buyer"),
    ("request documents merchant", "request-documents merchant"),
    ("decide refunded", "decide refunded_by_merchant"),
    ("decide  compensated  extra words", "decide compensated"),
    ("Wat vinden jullie?", None),
    ("decide withdrawn", None),
    ("decide buyer_accepted", None),  # no operator's outcome: not a payout by a loose match
    ("decide merchant_refunded", None),
    ("decide claim", "decide claim_rejected"),
    ("", None),
    ("x" * 10_000, None),
])
def test_the_closest_command_for_a_typo(text, meant):
    assert closest_command(text) == meant


def test_a_command_that_is_not_one_is_quoted_back():
    from mailbot.inbound.forms import asked_command
    assert asked_command("decide   withdrawn\nDe koper trekt in.") == "decide withdrawn"
    assert asked_command("Request-Documents koper\nx") == "Request-Documents koper"
    assert asked_command("Graag een beslissing.\ndecide compensated") is None
