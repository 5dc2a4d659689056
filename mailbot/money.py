"""Amounts as people and spreadsheets write them (``12,50``, ``€ 1.234,56``, ``1,234.56``):
one parser for the merchant's form, the operator's command and the order import."""

from __future__ import annotations

import re
from decimal import Decimal


_CURRENCY = re.compile(r"(€|eur(o)?s?)", re.I)
# Group separators: any Unicode space (Babel writes U+00A0 in nl/it and U+202F in fr, so a
# merchant's prefilled "1 234,56 €" carries one) and the Swiss apostrophes.
_GROUPING = re.compile(r"[\s'’]")
# Digits, or digits grouped by threes with one separator used throughout (1.234.567 / 1,234,567),
# then optionally the other separator as decimal mark with one or two decimals. "1.234" is a
# thousand, "12,5" twelve and a half. Linear: no nested quantifier can backtrack.
_AMOUNT = re.compile(r"(?P<sign>[-+]?)"
                     r"(?P<whole>\d+|\d{1,3}(?P<group>[.,])\d{3}(?:(?P=group)\d{3})*)"
                     r"(?:(?P<mark>[.,])(?P<cents>\d{1,2}))?")
MAX_WHOLE_DIGITS = 12  # up to 999 999 999 999: more is not an amount a shop means


def parse_amount(text: str) -> Decimal | None:
    """``12``, ``12,5``, ``12,50``, ``12.50``, ``€ 12,50``, ``12,50 EUR``, ``1.234,56``,
    ``1,234.56``, ``1 234,56 €`` and negative forms; None when the text is not one amount."""
    match = _AMOUNT.fullmatch(_GROUPING.sub("", _CURRENCY.sub("", text)))
    if match is None or (match["mark"] and match["mark"] == match["group"]):
        return None
    digits = re.sub(r"\D", "", match["whole"])
    if len(digits) > MAX_WHOLE_DIGITS:
        return None
    # "12,5" -> 12.50: two decimals, as SPEC §9 spells amounts.
    return Decimal(f"{match['sign']}{digits}.{match['cents'] or 0}").quantize(Decimal("0.01"))
