"""Importing merchants and orders from files as shops export them (``mailbot import``), row by row.

Files come from spreadsheets as often as from programs: Excel in nl, fr and it saves CSV with
``;`` between fields, a byte-order mark, CRLF line ends, decimal commas (``49,95``, ``1.234,56``),
day-first dates and often windows-1252; Excel in English writes month-first dates (``11/25/2026``).
The date order of a file is decided from its unambiguous dates (a first or second number over 12),
never guessed: a file whose numeric dates fit both orders, or that mixes them, is refused unless
the operator names the order (``date_order``). The encoding (UTF-8 with or without BOM, UTF-16
with BOM, else windows-1252) and the delimiter (``,``, ``;`` or tab: the one that splits the header
into the expected names) are detected, and ``Report.assumed`` says in one line what was assumed.

Every bad row is rejected with its reason and the good rows are imported. Refused: unknown
merchant, locale or plan; an address outbound mail cannot reach (``addresses.normal``); an
implausible date (before 2000, more than a day ahead) or amount (not one number, over a million);
line breaks and other control characters in any field (they would become new lines or hidden text
in mail); a field longer than ``MAX_CHARS`` (a shop's name goes into Subject lines) or past the
csv module's 131,072 characters; more than ``MAX_MERCHANT_ADDRESSES`` addresses for a merchant.
Orders are idempotent on (shop_id, order_number): an order imported again with other values is
reported with the difference, and applied with ``update=True`` while its protection is active or
expired without a case (a corrected date makes it active again). A new order starts an active
protection whose timers follow from it. Rows are written in batches, one transaction (one disk
sync) per ``BATCH`` rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from . import addresses
from .core.deadlines import protection_end
from .core.model import LOCALES, Order, Plan, Protection, ProtectionState, State
from .money import parse_amount
from .store import imported, records
from .store.db import transaction

MERCHANT_FIELDS = ("id", "name", "emails", "locale")
ORDER_FIELDS = ("shop_id", "order_number", "order_date", "amount", "currency", "buyer_email",
                "buyer_locale", "plan")
DELIMITERS = {",": "','", ";": "';'", "\t": "tab"}
BATCH = 500
PROGRESS_EVERY = 10_000
EARLIEST_ORDER = date(2000, 1, 1)
MAX_AMOUNT = Decimal("1000000")
MAX_AMOUNT_TEXT = 24
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
DAY_FIRST, MONTH_FIRST = "day-first", "month-first"
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)
# Every control character (Unicode category Cc, NEL included), the line and paragraph separators
# (Zl, Zp), and the bidi controls that can make a text read backwards (Trojan Source,
# CVE-2021-42574).
_BAD_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f"
                            "\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = "\r\n\x0b\x0c\x85\u2028\u2029"
# Sane lengths, as characters: a shop's name goes into Subject lines (RFC 5322 §2.1.1: 998 a
# line, 78 recommended), every other field is an identifier, a number or one address (RFC 5321
# §4.5.3.1.3: 254); ``emails`` by its count below (and by the csv module's field limit).
MAX_CHARS = {"name": 200, "emails": 131_072}
MAX_CHARS_OTHER = 254
# Every mail to a merchant goes to all its addresses (one SMTP transaction each).
MAX_MERCHANT_ADDRESSES = 20


class BadFile(ValueError):
    """The file as a whole cannot be read (missing, wrong header, unknown encoding)."""


@dataclass
class Report:
    imported: int = 0
    unchanged: int = 0
    updated: int = 0
    changed: list[tuple[int, str]] = field(default_factory=list)  # differences not applied
    rejected: list[tuple[int, str]] = field(default_factory=list)
    assumed: str = ""


@dataclass
class _Table:
    rows: object  # iterator of (line number, row dict or None, error or None)
    total: int
    encoding: str
    delimiter: str | None  # None: JSON Lines


def _decode(path: str) -> tuple[str, str]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadFile(f"cannot read {path}: {exc.strerror}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = (("utf-16", "UTF-16"),)
    else:
        candidates = (("utf-8-sig", "UTF-8"), ("cp1252", "windows-1252"))
    for codec, name in candidates:
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    raise BadFile(f"{path}: neither UTF-8 nor windows-1252 text")


def _table(path: str, fields: tuple[str, ...], allow_jsonl: bool) -> _Table:
    content, encoding = _decode(path)
    lines = content.splitlines()
    total = sum(1 for line in lines if line.strip()) - 1
    first = content.lstrip()[:1]
    if allow_jsonl and first == "{":
        return _Table(_jsonl(lines, fields), total + 1, encoding, None)
    header = next((line for line in lines if line.strip()), "")
    # The delimiter is the one that splits the header into the names we expect; a frequency
    # guess (csv.Sniffer) picks the wrong one on short files whose rows hold ';' or ','.
    best, missing = None, list(fields)
    for delimiter in DELIMITERS:
        names = [n.strip().lower() for n in next(csv.reader([header], delimiter=delimiter))]
        absent = [f for f in fields if f not in names]
        if len(absent) < len(missing):
            best, missing = delimiter, absent
    if missing:
        raise BadFile(f"{path}: header must be {','.join(fields)} (missing {','.join(missing)})")
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=best)
    return _Table(_csv(reader, fields), total, encoding, best)


def _csv(reader, fields):
    names = [n.strip().lower() for n in next(reader)]
    where = {f: names.index(f) for f in fields}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field past csv.field_size_limit(); the reader goes on
            yield reader.line_num, None, f"not readable as CSV: {exc}"
            continue
        if not any(cell.strip() for cell in row):
            continue
        number = reader.line_num
        yield number, {f: row[i] if i < len(row) else "" for f, i in where.items()}, None


def _jsonl(lines, fields):
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:  # JSONDecodeError, or an integer of thousands of digits
            yield number, None, f"not valid JSON: {getattr(exc, 'msg', exc)}"
            continue
        if not isinstance(row, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, {k: "" if row.get(k) is None else str(row.get(k)) for k in fields}, None


def _bad_characters(row: dict) -> str | None:
    for key, value in row.items():
        if len(value) > (most := MAX_CHARS.get(key, MAX_CHARS_OTHER)):
            return f"{key} is {len(value):,} characters long (at most {most:,})"
        if found := _BAD_CHARACTER.search(value):
            char = found.group()
            what = "a line break" if char in _LINE_BREAKS else "a control character"
            return f"{key} contains {what} (U+{ord(char):04X})"
    return None


def _assumed(path: str, table: _Table, styles: set[str]) -> str:
    parts = [table.encoding]
    parts.append("JSON Lines" if table.delimiter is None
                 else f"{DELIMITERS[table.delimiter]} delimited")
    parts += sorted(styles)
    return f"read {Path(path).name} as " + ", ".join(parts)


def _progress(report_progress, number: int, total: int, last: bool = False) -> None:
    """Calls ``report_progress(done, total)`` every ``PROGRESS_EVERY`` rows, and at the end of
    a file that had such calls with ``done == total``."""
    if report_progress is None or total < PROGRESS_EVERY:
        return
    if last:
        report_progress(total, total)
    elif number % PROGRESS_EVERY == 0 and number < total:
        report_progress(number, total)


def import_merchants(db, path: str, progress=None) -> Report:
    report = Report()
    table = _table(path, MERCHANT_FIELDS, allow_jsonl=False)
    for count, (number, row, error) in enumerate(table.rows, start=1):
        _progress(progress, count, table.total)
        error = error or _bad_characters(row)
        emails = []
        listed = [] if error else [a for a in re.split(r"[;,\s]+", row["emails"]) if a]
        if len(listed) > MAX_MERCHANT_ADDRESSES:
            error = f"{len(listed):,} email addresses (at most {MAX_MERCHANT_ADDRESSES})"
        if not error:
            for address in listed:
                normal, why = addresses.normal(address)
                if why:
                    error = f"bad email address {address!r}: {why}"
                    break
                emails.append(normal)
        if not error:
            if not row["id"].strip():
                error = "id is empty"
            elif not emails:
                error = "no email address"
            elif row["locale"].strip().lower() not in LOCALES:
                error = f"unknown locale {row['locale']!r} (nl, fr or it)"
        if error:
            report.rejected.append((number, error))
            continue
        shop_id, name, locale = row["id"].strip(), row["name"].strip(), row["locale"].strip().lower()
        old = records.merchant(db, shop_id)
        differences = [f"{key} {old[key]!r} -> {new!r}" for key, new in
                       (("name", name), ("emails", emails), ("locale", locale))
                       if old is not None and old[key] != new]
        if old is not None and not differences:
            report.unchanged += 1  # the same file imported again changes nothing
            continue
        with transaction(db):
            records.upsert_merchant(db, shop_id, name, emails, locale)
        if old is None:
            report.imported += 1
        else:  # a shop's details are the operators' to update: always applied, and said
            report.updated += 1
            report.changed.append((number, ", ".join(differences)))
    _progress(progress, 0, table.total, last=True)
    report.assumed = _assumed(path, table, set())
    return report


def import_orders(db, path: str, tz, now: datetime | None = None, update: bool = False,
                  progress=None, date_order: str | None = None) -> Report:
    """Imports the file's orders; ``now`` (default: the clock) bounds plausible order dates and
    decides whether a corrected order date makes an expired protection active again.
    ``date_order`` (``day-first`` or ``month-first``) overrides the order read from the file."""
    report = Report()
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(tz).date()
    table = _table(path, ORDER_FIELDS, allow_jsonl=True)
    merchants: dict[str, bool] = {}
    all_rows = list(table.rows)
    order_of_dates = date_order or _date_order(path, all_rows)
    styles: set[str] = set()
    rows = iter(all_rows)
    count = 0
    while True:
        batch = [row for _, row in zip(range(BATCH), rows)]
        if not batch:
            break
        with transaction(db):
            for number, row, error in batch:
                count += 1
                _progress(progress, count, table.total)
                order = None
                error = error or _bad_characters(row)
                if not error:
                    order, error = _order(row, today, styles, order_of_dates)
                if not error and order.shop_id not in merchants:
                    merchants[order.shop_id] = records.merchant(db, order.shop_id) is not None
                if not error and not merchants[order.shop_id]:
                    error = f"unknown merchant {order.shop_id!r}"
                if error:
                    report.rejected.append((number, error))
                    continue
                _store(db, order, tz, update, number, report, now)
    _progress(progress, count, table.total, last=True)
    report.assumed = _assumed(path, table, styles)
    return report


def _store(db, order: Order, tz, update: bool, number: int, report: Report,
           now: datetime) -> None:
    protection = Protection(ProtectionState.ACTIVE, protection_end(order.order_date, tz))
    new_id = records.insert_order(db, order, protection)
    if new_id is not None:
        records.write_timers(db, State(replace(order, id=new_id), protection), tz)
        report.imported += 1
        return
    old = imported.existing(db, order.shop_id, order.order_number)
    differences = {k: (old[k], v) for k, v in _stored_values(order).items() if old[k] != v}
    if not differences:
        report.unchanged += 1
        return
    said = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in differences.items())
    label = f"order {order.shop_id}/{order.order_number}: {said}"
    if not update:
        report.changed.append((number, f"{label} (not applied; --update applies it)"))
        return
    why_not = imported.why_not_updatable(old, "order_date" in differences)
    if why_not:
        report.changed.append((number, f"{label} (not applied: {why_not})"))
        return
    imported.update(db, old["id"], {k: b for k, (_, b) in differences.items()})
    again = ""
    if "order_date" in differences:
        state = records.load(db, old["id"])
        ends_at = protection_end(order.order_date, tz)
        moved = replace(state.protection, ends_at=ends_at)
        # A protection that expired only because its date was misread is active again.
        if moved.state is ProtectionState.EXPIRED and ends_at > now:
            moved = replace(moved, state=ProtectionState.ACTIVE, ended_at=None)
            again = f"; protection active again until {ends_at.astimezone(tz).date()}"
        imported.set_protection(db, old["id"], moved.state, moved.ends_at)
        records.write_timers(db, replace(state, protection=moved), tz)
    report.updated += 1
    report.changed.append((number, f"{label} (updated{again})"))


def correct(db, shop_id: str, order_number: str, changes: dict[str, str], tz,
            now: datetime) -> tuple[str | None, str | None]:
    """One order corrected by hand (``mailbot order correct``): the stored values with
    ``changes`` over them, checked like a file's row and applied as ``--update`` applies one.
    Returns (what changed, None) or (None, why not)."""
    old = imported.existing(db, shop_id, order_number)
    if old is None:
        return None, f"no order {order_number!r} of shop {shop_id!r}"
    row = {"shop_id": shop_id, "order_number": order_number,
           **{k: str(old[k]) for k in imported.UPDATABLE}, **changes}
    order, error = None, _bad_characters(row)
    if not error:
        order, error = _order(row, now.astimezone(tz).date(), set(), None)
    if error:
        return None, error
    report = Report()
    _store(db, order, tz, True, 0, report, now)
    if not report.changed:
        return None, "nothing to change: the order has these values already"
    said = report.changed[0][1]
    return (said, None) if report.updated else (None, said)


def _stored_values(order: Order) -> dict[str, str]:
    """The order's fields as the orders table spells them."""
    return {"order_date": order.order_date.isoformat(), "amount": str(order.amount),
            "currency": order.currency, "buyer_email": order.buyer_email,
            "buyer_locale": order.buyer_locale, "plan": str(order.plan)}


def _order(row: dict, today: date, styles: set[str],
           date_order: str | None) -> tuple[Order | None, str | None]:
    values = {k: v.strip() for k, v in row.items()}
    if not values["shop_id"]:
        return None, "shop_id is empty"
    if not values["order_number"]:
        return None, "order_number is empty"
    try:
        order_date = _date(values["order_date"], styles, date_order)
    except ValueError:
        spelled = "MM/DD/YYYY" if date_order == MONTH_FIRST else "DD-MM-YYYY"
        return None, f"bad order_date {values['order_date']!r} (YYYY-MM-DD or {spelled})"
    if order_date < EARLIEST_ORDER:
        return None, f"order_date {order_date} is before 2000"
    if order_date > today + timedelta(days=1):
        return None, f"order_date {order_date} is in the future"
    amount, error = _amount(values["amount"], styles)
    if error:
        return None, error
    currency = values["currency"].upper() or "EUR"
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return None, f"bad currency {values['currency']!r}"
    buyer_email, why = addresses.normal(values["buyer_email"])
    if why:
        return None, f"bad buyer_email {values['buyer_email']!r}: {why}"
    locale = values["buyer_locale"].lower()
    if locale not in LOCALES:
        return None, f"unknown buyer_locale {values['buyer_locale']!r} (nl, fr or it)"
    plan = values["plan"].lower()
    if plan not in tuple(Plan):
        return None, f"unknown plan {values['plan']!r} (basic, plus or single)"
    return Order(0, values["shop_id"], values["order_number"], order_date, amount, currency,
                 buyer_email, locale, Plan(plan)), None


def _amount(text: str, styles: set[str]) -> tuple[Decimal | None, str | None]:
    if len(text) > MAX_AMOUNT_TEXT:
        return None, f"bad amount {text[:MAX_AMOUNT_TEXT]!r}...: too long to be an amount"
    amount = parse_amount(text)
    if amount is None:
        return None, f"bad amount {text!r}: not an amount like 49.95, 49,95 or 1.234,56"
    if amount <= 0:
        return None, f"bad amount {text!r}: must be more than zero"
    if amount > MAX_AMOUNT:
        return None, f"bad amount {text!r}: over {MAX_AMOUNT:,} is not a plausible order"
    if re.search(r",\d{1,2}\s*(€|eur)?$", text, re.I):
        styles.add("decimal comma")
    return amount, None


def _date_order(path: str, rows: list) -> str | None:
    """The file's order of numeric dates, from the rows where only one order makes a date (a
    number over 12 can only be the day); ``BadFile`` when the rows disagree, or when every
    numeric date fits both orders (05/11/2026 is 5 November or May 11: never guess)."""
    seen: dict[str, tuple[int, str]] = {}
    undecided = None
    for number, row, _ in rows:
        match = row and _NUMERIC_DATE.match(row["order_date"].strip())
        if not match:
            continue
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            seen.setdefault(DAY_FIRST, (number, match.group()))
        elif second > 12 >= first:
            seen.setdefault(MONTH_FIRST, (number, match.group()))
        elif first != second and undecided is None:
            undecided = (number, match.group())
    name = Path(path).name
    if len(seen) == 2:
        (a, (row_a, text_a)), (b, (row_b, text_b)) = sorted(seen.items(), key=lambda i: i[1])
        raise BadFile(f"{name}: order dates are {a} in row {row_a} ({text_a}) but {b} in row "
                      f"{row_b} ({text_b}); correct the file, or name the order with "
                      "--date-order day-first or month-first")
    if seen:
        return next(iter(seen))
    if undecided:
        raise BadFile(f"{name}: order dates such as {undecided[1]} (row {undecided[0]}) can be "
                      "day-first or month-first and no date in the file tells; name the order "
                      "with --date-order day-first or month-first")
    return None


def _date(text: str, styles: set[str], date_order: str | None) -> date:
    if match := _NUMERIC_DATE.match(text):
        # Excel in nl, fr and it writes day-first dates (24-11-2026, 24/11/2026, 24.11.2026),
        # Excel in English month-first ones (11/24/2026); the file decided which (_date_order).
        styles.add(f"{date_order or DAY_FIRST} dates")
        first, second, year = (int(g) for g in match.groups())
        if date_order == MONTH_FIRST:
            return date(year, first, second)
        return date(year, second, first)
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.fromisoformat(text).date()
