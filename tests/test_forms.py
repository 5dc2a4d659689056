"""The merchant's form and the amounts of SPEC §4, in every language and format it lists."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mailbot.core.model import RefundChoice
from mailbot.inbound.forms import parse_amount, read_command, read_decision


@pytest.mark.parametrize("text, amount", [
    ("12", "12.00"), ("12,5", "12.50"), ("12,50", "12.50"), ("12.50", "12.50"),
    ("€ 12,50", "12.50"), ("12,50 EUR", "12.50"), ("1.234,56", "1234.56"),
    ("1,234.56", "1234.56"), ("-5", "-5.00"), ("0", "0.00"),
])
def test_amounts(text, amount):
    assert parse_amount(text) == Decimal(amount) and str(parse_amount(text)) == amount


@pytest.mark.parametrize("text", ["abc", "12,3456", "1.2.3", "", "€"])
def test_unreadable_amounts(text):
    assert parse_amount(text) is None


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


def test_operator_commands():
    command = read_command("decide compensated\nWe vergoeden het.")
    assert (command.verb, command.argument, command.message) == (
        "decide", "compensated", "We vergoeden het.")
    assert read_command("Wat vinden jullie?") is None
