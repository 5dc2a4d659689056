"""Imports as shops export them: Excel's ';', BOM, CRLF, decimal commas and windows-1252; changed
orders reported and updated on request; implausible rows refused with a reason, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from conftest import make_config, write_config
from mailbot import imports, wiring
from mailbot.core.deadlines import protection_end, reminder_at
from mailbot.store import records

MAILBOT = Path(sys.executable).parent / "mailbot"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
HEADER = "shop_id;order_number;order_date;amount;currency;buyer_email;buyer_locale;plan"


@pytest.fixture
def bare(tmp_path):
    app = wiring.build(make_config(tmp_path))
    (tmp_path / "m.csv").write_text("id,name,emails,locale\ns1,Shop,s@shop.example,nl\n")
    imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
    yield app
    app.close()


def orders(app, tmp_path, content: bytes | str, name="o.csv", **kwargs):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return imports.import_orders(app.db(), str(path), app.tz, now=NOW, **kwargs)


def amount(app, number: str) -> str:
    return str(records.load(app.db(), records.order_id(app.db(), "s1", number)).order.amount)


def test_excel_export_in_dutch(bare, tmp_path):
    excel = (HEADER + "\r\n"
             "s1;1;24-11-2026;49,95;EUR;jan@buyer.example;nl;plus\r\n"
             "s1;2;2026-11-20;1.234,56;EUR;piet@buyer.example;nl;basic\r\n"
             "s1;3;20/11/2026;\u20ac 12,50;eur;an@buyer.example;NL;single\r\n")
    report = orders(bare, tmp_path, excel.encode("cp1252"))
    assert report.rejected == [] and report.imported == 3
    assert report.assumed == ("read o.csv as windows-1252, ';' delimited, day-first dates, "
                              "decimal comma")
    assert [amount(bare, n) for n in "123"] == ["49.95", "1234.56", "12.50"]
    state = records.load(bare.db(), records.order_id(bare.db(), "s1", "1"))
    assert state.order.order_date == date(2026, 11, 24)


def test_merchants_from_excel_with_bom_and_quoted_addresses(bare, tmp_path):
    path = tmp_path / "shops.csv"
    path.write_bytes("\ufeffid;name;emails;locale\r\nshop-fr;Caf\u00e9 \u00e9t\u00e9;"
                     "\"a@cafe.example;b@cafe.example\";fr\r\n".encode("utf-8"))
    report = imports.import_merchants(bare.db(), str(path))
    assert report.rejected == [] and report.assumed == "read shops.csv as UTF-8, ';' delimited"
    merchant = records.merchant(bare.db(), "shop-fr")
    assert merchant["name"] == "Caf\u00e9 \u00e9t\u00e9"
    assert merchant["emails"] == ["a@cafe.example", "b@cafe.example"]


def test_merchants_imported_again_are_unchanged_and_a_change_is_said(bare, tmp_path):
    """The same merchants file twice said "4 imported" twice; now the second run is unchanged,
    and a changed address is applied and named."""
    path = tmp_path / "shops.csv"
    path.write_text("id;name;emails;locale\nshop-nl;Fietsen;a@fiets.example;nl\n"
                    "shop-fr;Café;b@cafe.example;fr\n", encoding="utf-8")
    assert imports.import_merchants(bare.db(), str(path)).imported == 2
    again = imports.import_merchants(bare.db(), str(path))
    assert (again.imported, again.unchanged, again.updated, again.changed) == (0, 2, 0, [])
    path.write_text("id;name;emails;locale\nshop-nl;Fietsen;c@fiets.example;nl\n",
                    encoding="utf-8")
    moved = imports.import_merchants(bare.db(), str(path))
    assert (moved.imported, moved.unchanged, moved.updated) == (0, 0, 1)
    assert moved.changed == [(2, "emails ['a@fiets.example'] -> ['c@fiets.example']")]
    assert records.merchant(bare.db(), "shop-nl")["emails"] == ["c@fiets.example"]


def test_tab_delimited_utf16_from_excel_unicode_text(bare, tmp_path):
    content = (HEADER.replace(";", "\t") + "\r\ns1\t7\t2026-11-01\t10\tEUR\tx@buyer.example\t"
               "fr\tbasic\r\n").encode("utf-16")
    report = orders(bare, tmp_path, content)
    assert report.imported == 1 and report.assumed == "read o.csv as UTF-16, tab delimited"


def test_changed_amount_is_reported_and_updated_on_request(bare, tmp_path):
    row = "s1;1;2026-11-20;{};EUR;jan@buyer.example;nl;plus\n"
    orders(bare, tmp_path, HEADER + "\n" + row.format("49,95"))
    report = orders(bare, tmp_path, HEADER + "\n" + row.format("59,95"))
    assert report.unchanged == 0 and report.updated == 0
    assert report.changed == [(2, "order s1/1: amount 49.95 -> 59.95 (not applied; --update "
                                  "applies it)")]
    assert amount(bare, "1") == "49.95"
    report = orders(bare, tmp_path, HEADER + "\n" + row.format("59,95"), update=True)
    assert report.updated == 1 and amount(bare, "1") == "59.95"
    assert orders(bare, tmp_path, HEADER + "\n" + row.format("59,95")).unchanged == 1


def test_update_is_refused_once_a_case_is_open(app, tmp_path):
    from mailbot import service
    from mailbot.core.events import BuyerAction
    from mailbot.core.model import Action
    order_id = records.order_id(app.db(), "shop-nl", "NL-1")
    service.handle(app, order_id, BuyerAction(Action.NOT_RECEIVED, "nothing came", ()),
                   datetime.now(timezone.utc))
    state = records.load(app.db(), order_id)
    row = (f"shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
           f"shop-nl,NL-1,{state.order.order_date},10.00,EUR,jan@buyer.example,nl,plus\n")
    report = orders(app, tmp_path, row, update=True)
    assert report.updated == 0
    assert report.changed[0][1].endswith("(not applied: the protection is in_case)")
    assert str(records.load(app.db(), order_id).order.amount) == "49.95"


def test_new_order_date_moves_the_protection_end(bare, tmp_path):
    row = "s1;1;{};10;EUR;jan@buyer.example;nl;plus\n"
    orders(bare, tmp_path, HEADER + "\n" + row.format("2026-11-01"))
    orders(bare, tmp_path, HEADER + "\n" + row.format("2026-11-10"), update=True)
    state = records.load(bare.db(), records.order_id(bare.db(), "s1", "1"))
    ends_at = protection_end(date(2026, 11, 10), bare.tz)
    assert state.protection.ends_at == ends_at
    due = records.due_timers(bare.db(), datetime(2027, 1, 1, tzinfo=timezone.utc))
    assert {k: d for _, k, d in due} == {"reminder": records.iso(reminder_at(ends_at, bare.tz)),
                                         "expiry": records.iso(ends_at)}


@pytest.mark.parametrize("field, value, reason", [
    ("order_date", "2026-11-28", "order_date 2026-11-28 is in the future"),
    ("order_date", "1999-12-31", "order_date 1999-12-31 is before 2000"),
    ("order_date", "31-02-2026", "bad order_date"),
    ("amount", "1e309", "bad amount '1e309': not an amount"),
    ("amount", "9" * 41, "too long to be an amount"),
    ("amount", "12345678,00", "is not a plausible order"),
    ("amount", "NaN", "bad amount 'NaN'"),
    ("amount", "-5", "must be more than zero"),
    ("buyer_email", "jos\u00e9 x@buyer.example", "not an email address"),
    ("buyer_email", "jan@@buyer.example", "not an email address"),
    ("buyer_email", "jan@buyer.example\u2028Bcc: x@y.example", "a line break (U+2028)"),
    ("order_number", "A\u0085B", "order_number contains a line break (U+0085)"),
    ("order_number", "A\u202eB", "order_number contains a control character (U+202E)"),
    ("order_number", "A\x1b[2JB", "a control character (U+001B)"),
])
def test_implausible_rows_are_refused_with_a_reason(bare, tmp_path, field, value, reason):
    row = {"shop_id": "s1", "order_number": "9", "order_date": "2026-11-20", "amount": "10",
           "currency": "EUR", "buyer_email": "jan@buyer.example", "buyer_locale": "nl",
           "plan": "plus", field: value}
    report = orders(bare, tmp_path, json.dumps(row) + "\n", name="o.jsonl")
    assert len(report.rejected) == 1 and reason in report.rejected[0][1]
    assert report.imported == 0


def test_a_utf8_local_part_is_kept_for_smtputf8(bare, tmp_path):
    report = orders(bare, tmp_path, HEADER + "\ns1;1;2026-11-20;10;EUR;Jos\u00e9@buyer.example;"
                                             "nl;plus\n")
    assert report.imported == 1
    order = records.load(bare.db(), records.order_id(bare.db(), "s1", "1")).order
    assert order.buyer_email == "Jos\u00e9@buyer.example"


def test_international_domain_is_stored_in_ascii(bare, tmp_path):
    report = orders(bare, tmp_path, HEADER + "\ns1;1;2026-11-20;10;EUR;jan@b\u00fccher.example;"
                                             "nl;plus\n")
    assert report.imported == 1
    order = records.load(bare.db(), records.order_id(bare.db(), "s1", "1")).order
    assert order.buyer_email == "jan@xn--bcher-kva.example"


def test_no_traceback_on_absurd_json_numbers(tmp_path):
    config = write_config(tmp_path)
    (tmp_path / "m.csv").write_text("id,name,emails,locale\ns1,Shop,s@shop.example,nl\n")
    base = '{"shop_id": "s1", "order_number": "%s", "order_date": "2026-01-01", ' \
           '"amount": %s, "currency": "EUR", "buyer_email": "b@x.example", ' \
           '"buyer_locale": "nl", "plan": "basic"}\n'
    (tmp_path / "o.jsonl").write_text(base % ("1", "1e309") + base % ("2", "1" * 5000)
                                      + base % ("3", "12.5"))
    env = dict(os.environ, MAILBOT_CONFIG=str(config))
    run = [str(MAILBOT), "import"]
    assert subprocess.run(run + ["merchants", "m.csv"], cwd=tmp_path, env=env).returncode == 0
    result = subprocess.run(run + ["orders", "o.jsonl"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "row 1: rejected: bad amount 'inf'" in result.stdout
    assert "row 2: rejected: not valid JSON" in result.stdout
    assert "1 imported" in result.stdout


def test_large_import_shows_progress(tmp_path):
    config = write_config(tmp_path)
    (tmp_path / "m.csv").write_text("id,name,emails,locale\ns1,Shop,s@shop.example,nl\n")
    rows = [HEADER] + [f"s1;{n};2026-11-01;10,00;EUR;b{n}@x.example;nl;basic"
                       for n in range(12_000)]
    (tmp_path / "o.csv").write_text("\n".join(rows) + "\n")
    env = dict(os.environ, MAILBOT_CONFIG=str(config))
    run = [str(MAILBOT), "import"]
    assert subprocess.run(run + ["merchants", "m.csv"], cwd=tmp_path, env=env).returncode == 0
    result = subprocess.run(run + ["orders", "o.csv"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["import: 10,000 of 12,000 rows",
                                          "import: 12,000 of 12,000 rows"]
    assert "12000 imported" in result.stdout
    small = subprocess.run(run + ["merchants", "m.csv"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert small.stderr == ""


ENGLISH = "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"


def _english(*dates):
    return ENGLISH + "".join(f"s1,{n},{d},10.00,EUR,b{n}@buyer.example,nl,plus\n"
                             for n, d in enumerate(dates, start=1))


def _order_date(app, number):
    return records.load(app.db(), records.order_id(app.db(), "s1", number)).order.order_date


def test_month_first_dates_are_read_from_the_unambiguous_rows(bare, tmp_path):
    """Excel in English: 11/25/2026 can only be month-first, so 11/05/2026 is 5 November."""
    report = orders(bare, tmp_path, _english("11/25/2026", "11/05/2026"))
    assert report.rejected == [] and report.imported == 2
    assert "month-first dates" in report.assumed
    assert [_order_date(bare, n) for n in "12"] == [date(2026, 11, 25), date(2026, 11, 5)]


def test_dates_that_fit_both_orders_refuse_the_file(bare, tmp_path):
    with pytest.raises(imports.BadFile, match=r"05/11/2026 \(row 2\) can be day-first or "
                                              r"month-first.*--date-order"):
        orders(bare, tmp_path, _english("05/11/2026", "2026-11-20"))
    assert records.order_id(bare.db(), "s1", "2") is None  # nothing imported
    report = orders(bare, tmp_path, _english("05/11/2026"), date_order="month-first")
    assert report.imported == 1 and _order_date(bare, "1") == date(2026, 5, 11)


def test_dates_in_both_orders_refuse_the_file(bare, tmp_path):
    with pytest.raises(imports.BadFile, match=r"day-first in row 2 \(25/11/2026\) but "
                                              r"month-first in row 3 \(11/24/2026\)"):
        orders(bare, tmp_path, _english("25/11/2026", "11/24/2026"))


def test_a_misread_date_is_corrected_with_update_and_the_protection_is_active_again(
        bare, tmp_path):
    """The old misreading: 11/05/2026 stored as 11 May, expired by the next tick."""
    from mailbot import jobs
    orders(bare, tmp_path, _english("11/05/2026"), date_order="day-first")
    assert _order_date(bare, "1") == date(2026, 5, 11)
    jobs.tick(bare, NOW)
    order_id = records.order_id(bare.db(), "s1", "1")
    assert str(records.load(bare.db(), order_id).protection.state) == "expired"
    report = orders(bare, tmp_path, _english("11/05/2026", "11/25/2026"), update=True)
    assert report.updated == 1 and report.imported == 1
    ends_at = protection_end(date(2026, 11, 5), bare.tz)
    assert report.changed == [(2, "order s1/1: order_date 2026-05-11 -> 2026-11-05 (updated; "
                                  f"protection active again until {ends_at.date()})")]
    state = records.load(bare.db(), order_id)
    assert str(state.protection.state) == "active" and state.protection.ended_at is None
    assert state.protection.ends_at == ends_at
    due = records.due_timers(bare.db(), datetime(2027, 1, 1, tzinfo=timezone.utc))
    assert {k for o, k, _ in due if o == order_id} == {"reminder", "expiry"}
