"""The order number and the total of a confirmation mail without markup, read from the words
shops put before them in nl, fr, it, en and de ("Bestelnummer", "Numéro de commande", "Numero
d'ordine", "Totaal", "Total TTC", "Totale"), as the common shop systems' templates write them.

An order number is the first token after an order label that looks like one: with a digit
(``#1001``, ``000000123``, ``ORD-2026-17``), or six or more capitals (PrestaShop's references);
never a date. The total is the amount on a line whose label names a total: a total that says it
includes tax or was paid ("Total TTC", "Eindtotaal", "Totaal betaald", "Gesamtsumme Brutto") wins
over a bare "Total"; subtotals, totals without tax, tax, shipping and product totals are never
taken; of equals, the last one (a template ends with its grand total). An amount counts only with
a currency or two decimals, so "Total (3 articles)" does not read as 3. Amounts in the local
styles (``1.234,56``, ``1 234,56 €``, ``€54,95``) go through ``money.parse_amount``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..money import parse_amount

_ORDER = re.compile(
    r"(?<![\w-])(?i:bestelnummer|ordernummer|bestelling|num[ée]ro\s+de\s+commande"
    r"|n[°º]\s*de\s+commande|r[ée]f[ée]rence\s+de\s+(?:la\s+)?commande|commande"
    r"|numero\s+d['’]\s?ordine|numero\s+(?:dell['’]\s?)?ordine|n\.\s*ordine"
    r"|riferimento\s+(?:dell['’]\s?)?ordine|ordine|order\s+number|order\s+no\.?|order"
    r"|bestellnummer|auftragsnummer|bestellung)"
    # Looked ahead, so a word taken for a number is still read as the next label.
    r"(?=(?:(?i:n[°º]|nr\.?|n\.|no\.?)|[#:\n-]|[ \t])*"
    r"(?P<number>#?[A-Za-z0-9][A-Za-z0-9_/.-]{1,39}))")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
_TOTAL = re.compile(
    r"(?<![\w-])(?i:eindtotaal|(?:totaal|totale|total|gesamt)[^\W\d_]*|summe|montant\s+global"
    r"|te\s+betalen|[àa]\s+payer|da\s+pagare|importo\s+totale|costo\s+totale|co[uû]t\s+total)")
_NOT_INCLUSIVE = re.compile(r"(?i)excl|escl|\bht\b|hors|\bnett?o?\b|zzgl|exkl|\bnet\b")
_GRAND = re.compile(r"(?i)incl|inkl|ttc|\bbrut|lordo|betaald|pay[ée]|pagato|paid|global"
                    r"|complessiv|eindtotaal|grand|gesamtsumme|betalen|payer|pagare|compris"
                    r"|inclus|ivato")
_PART = re.compile(r"(?i)sub|sous|zwischen|produ|prodott|artikel|article|item|verzend|shipping"
                   r"|livraison|spedizion|versand|\btva\b|\bbtw\b|\biva\b|mwst|tax|remise"
                   r"|korting|sconto|rabatt|discount|port\b")
_AMOUNT = re.compile(
    r"(?P<pre>€|EUR|CHF|GBP|£|USD|\$)?[ \t\u00a0]?"
    r"(?P<number>-?\d{1,3}(?:[.,\u00a0\u202f' ]\d{3})+(?:[.,]\d{1,2})?|-?\d+(?:[.,]\d{1,2})?)"
    r"(?!\d)(?:[ \t\u00a0]?(?P<post>€|EUR|CHF|GBP|£|USD))?")
_CURRENCIES = {"€": "EUR", "£": "GBP", "$": "USD"}


def order_number(text: str) -> str | None:
    for match in _ORDER.finditer(text):
        number = match["number"].lstrip("#").rstrip(".-/")
        if _DATE.match(number):
            continue
        if any(c.isdigit() for c in number) or (len(number) >= 6 and number.isupper()):
            return number
    return None


def total(text: str) -> tuple[Decimal, str | None] | None:
    """(amount, currency or None) of the grand total, or None."""
    lines = [line.strip() for line in text.splitlines()]
    found = {"grand": [], "plain": []}
    for i, line in enumerate(lines):
        label = _TOTAL.search(line)
        if label is None:
            continue
        rest = line[label.end():]
        amount = _amount(rest)
        if amount is None and i + 1 < len(lines):
            amount = _amount(lines[i + 1])  # label and amount in blocks of their own
            rest += " " + lines[i + 1]
        if amount is None:
            continue
        words = line[:label.end()] + " " + rest[:amount[2]]
        if _NOT_INCLUSIVE.search(words):
            continue
        if _GRAND.search(words):
            found["grand"].append(amount[:2])
        elif not _PART.search(words):
            found["plain"].append(amount[:2])
    chosen = found["grand"] or found["plain"]
    return chosen[-1] if chosen else None


def _amount(text: str) -> tuple[Decimal, str | None, int] | None:
    """The first amount in ``text`` with a currency or two decimals: (amount, currency, where it
    starts)."""
    for match in _AMOUNT.finditer(text):
        sign = match["pre"] or match["post"]
        if not sign and not re.search(r"[.,]\d\d$", match["number"]):
            continue
        amount = parse_amount(match["number"])
        if amount is not None:
            return amount, sign and _CURRENCIES.get(sign, sign), match.start()
    return None
