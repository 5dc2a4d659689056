"""Importing merchants and orders from files (``mailbot import``), row by row.

Every bad row is rejected with its reason (unknown merchant, bad address, unknown locale or plan,
bad amount or date, CR/LF in a field) and the good rows are imported. Orders are idempotent on
(shop_id, order_number): importing a file twice changes nothing. A new order starts an active
protection whose timers follow from it (core.decide.timers).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .core.deadlines import protection_end
from .core.model import Order, Plan, Protection, ProtectionState, State
from .store import records
from .store.db import transaction

LOCALES = ("nl", "fr", "it")
MERCHANT_FIELDS = ("id", "name", "emails", "locale")
ORDER_FIELDS = ("shop_id", "order_number", "order_date", "amount", "currency", "buyer_email",
                "buyer_locale", "plan")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


class BadFile(ValueError):
    """The file as a whole cannot be read (missing, wrong header)."""


@dataclass
class Report:
    imported: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def valid_email(address: str) -> bool:
    return bool(_EMAIL.match(address)) and len(address) <= 254


def _rows(path: str, fields: tuple[str, ...], allow_jsonl: bool):
    try:
        content = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadFile(f"cannot read {path}: {exc}") from None
    first = content.lstrip()[:1]
    if allow_jsonl and first == "{":
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON: {exc.msg}"
                continue
            if not isinstance(row, dict):
                yield number, None, "not a JSON object"
                continue
            yield number, {k: "" if row.get(k) is None else str(row.get(k)) for k in fields}, None
        return
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = tuple(h.strip() for h in (reader.fieldnames or ()))
    missing = [f for f in fields if f not in header]
    if missing:
        raise BadFile(f"{path}: header must be {','.join(fields)} (missing {','.join(missing)})")
    for number, row in enumerate(reader, start=2):
        yield number, {k: (row.get(k) or "") for k in fields}, None


def _crlf(row: dict) -> str | None:
    for key, value in row.items():
        if "\r" in value or "\n" in value:
            return f"{key} contains a line break"
    return None


def import_merchants(db, path: str) -> Report:
    report = Report()
    for number, row, error in _rows(path, MERCHANT_FIELDS, allow_jsonl=False):
        error = error or _crlf(row)
        emails = [e.strip() for e in row["emails"].split(";") if e.strip()] if row else []
        if not error:
            if not row["id"].strip():
                error = "id is empty"
            elif not emails:
                error = "no email address"
            elif bad := [e for e in emails if not valid_email(e)]:
                error = f"bad email address {bad[0]!r}"
            elif row["locale"].strip() not in LOCALES:
                error = f"unknown locale {row['locale']!r} (nl, fr or it)"
        if error:
            report.rejected.append((number, error))
            continue
        with transaction(db):
            records.upsert_merchant(db, row["id"].strip(), row["name"].strip(), emails,
                                    row["locale"].strip())
        report.imported += 1
    return report


def import_orders(db, path: str, tz) -> Report:
    report = Report()
    merchants: dict[str, bool] = {}
    for number, row, error in _rows(path, ORDER_FIELDS, allow_jsonl=True):
        order = None
        if not error:
            error = _crlf(row)
        if not error:
            order, error = _order(row)
        if not error and order.shop_id not in merchants:
            merchants[order.shop_id] = records.merchant(db, order.shop_id) is not None
        if not error and not merchants[order.shop_id]:
            error = f"unknown merchant {order.shop_id!r}"
        if error:
            report.rejected.append((number, error))
            continue
        protection = Protection(ProtectionState.ACTIVE, protection_end(order.order_date, tz))
        with transaction(db):
            new_id = records.insert_order(db, order, protection)
            if new_id is not None:
                records.write_timers(db, State(replace(order, id=new_id), protection), tz)
        if new_id is None:
            report.unchanged += 1
        else:
            report.imported += 1
    return report


def _order(row: dict) -> tuple[Order | None, str | None]:
    values = {k: v.strip() for k, v in row.items()}
    if not values["shop_id"]:
        return None, "shop_id is empty"
    if not values["order_number"]:
        return None, "order_number is empty"
    try:
        order_date = _date(values["order_date"])
    except ValueError:
        return None, f"bad order_date {values['order_date']!r} (YYYY-MM-DD)"
    try:
        amount = Decimal(values["amount"])
    except InvalidOperation:
        return None, f"bad amount {values['amount']!r}"
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        return None, f"bad amount {values['amount']!r}"
    currency = values["currency"].upper() or "EUR"
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return None, f"bad currency {values['currency']!r}"
    if not valid_email(values["buyer_email"]):
        return None, f"bad buyer_email {values['buyer_email']!r}"
    if values["buyer_locale"] not in LOCALES:
        return None, f"unknown buyer_locale {values['buyer_locale']!r} (nl, fr or it)"
    if values["plan"] not in tuple(Plan):
        return None, f"unknown plan {values['plan']!r} (basic, plus or single)"
    return Order(0, values["shop_id"], values["order_number"], order_date,
                 amount.quantize(Decimal("0.01")), currency, values["buyer_email"],
                 values["buyer_locale"], Plan(values["plan"])), None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.fromisoformat(text).date()
