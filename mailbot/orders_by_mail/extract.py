"""What a shop's order confirmation says: order number, total, buyer, the buyer's language.

In order: the schema.org ``Order`` markup (``markup``), then, field by field for what the markup
did not give, the labelled words of the subject and body (``words``). The buyer is the
confirmation's one ``To`` address (the shop sends it to the buyer and us in BCC); never an address
of the shop itself. The language is the HTML's ``lang`` or the ``Content-Language`` header when it
is one of ours, else None (the caller takes the shop's). A field that could not be read with
confidence stays None and ``missing`` names it: then no protection starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from email.utils import getaddresses

from .. import addresses
from ..core.model import LOCALES
from ..inbound.html_text import html_to_text
from ..inbound.parse import Parsed
from ..money import parse_amount
from . import markup, words

FIELDS = ("order_number", "amount", "buyer")
MAX_AMOUNT = Decimal("1000000")
_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2})", re.I)
_CURRENCY = re.compile(r"[A-Z]{3}")  # ISO 4217
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_/.#-]{0,59}")


@dataclass(frozen=True)
class Reading:
    order_number: str | None
    amount: Decimal | None
    currency: str
    buyer: str | None
    locale: str | None
    markup: bool  # the order number or the amount came from schema.org markup

    @property
    def missing(self) -> list[str]:
        return [name for name in FIELDS if getattr(self, name) is None]


def read(mail: Parsed, not_buyer: set[str] = frozenset()) -> Reading:
    """``not_buyer``: the shop's own addresses and domains (lower case), never the buyer."""
    html = mail.html
    found = markup.orders(html)
    order = found[0] if found else {}
    number = _number(markup.field(order, "orderNumber"))
    price = markup.field(order, "price") or markup.field(order, "totalPaymentDue", "price") \
        or markup.field(order, "totalPaymentDue", "value")
    amount = _plausible(parse_amount(price) if price else None)
    currency = markup.field(order, "priceCurrency") \
        or markup.field(order, "totalPaymentDue", "priceCurrency")
    from_markup = number is not None or amount is not None
    text = "\n".join((mail.subject, mail.text, html_to_text(html) if html else ""))
    if number is None:
        number = _number(words.order_number(text))
    if amount is None and (total := words.total(text)):
        amount, currency = _plausible(total[0]), total[1] or currency
    currency = (currency or "EUR").upper()
    if not _CURRENCY.fullmatch(currency):
        amount = None  # an amount in a currency we cannot name is no amount read
    return Reading(number, amount, currency, _buyer(mail, not_buyer), _locale(mail, html),
                   from_markup)


def _number(text: str | None) -> str | None:
    text = (text or "").strip().lstrip("#").strip()
    return text if _NUMBER.fullmatch(text) else None


def _plausible(amount: Decimal | None) -> Decimal | None:
    return amount if amount is not None and Decimal(0) < amount <= MAX_AMOUNT else None


def _buyer(mail: Parsed, not_buyer) -> str | None:
    found = [a for _, a in getaddresses(mail.headers.get_all("To") or []) if a]
    if len(found) != 1:
        return None
    address, why = addresses.normal(found[0])
    if why or address.lower() in not_buyer or address.rpartition("@")[2].lower() in not_buyer:
        return None
    return address


def _locale(mail: Parsed, html: str) -> str | None:
    languages = [m.group(1) for m in [_LANG.search(html[:5000])] if m]
    languages += str(mail.headers.get("Content-Language") or "").replace(",", " ").split()
    for language in languages:
        if language[:2].lower() in LOCALES:
            return language[:2].lower()
    return None
