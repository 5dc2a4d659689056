"""Importing orders as shops export them: 100,000 rows under a minute.

    python bench/imports.py [--rows N]

Writes an Excel-style export (windows-1252, ';', CRLF, decimal commas, day-first dates) of N
orders, then times in the same run: the baseline, plain ``csv`` parsing of that file, and
``imports.import_orders`` into a fresh database (detection, validation, one insert and the
timers per order, a commit per batch), then the same file again (every order unchanged). Prints
a table and, as its last line, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from mailbot import config as config_mod
from mailbot import imports, wiring

HEADER = "shop_id;order_number;order_date;amount;currency;buyer_email;buyer_locale;plan"


def export(path: Path, rows: int) -> None:
    today = date.today()
    lines = [HEADER]
    for n in range(rows):
        day = today - timedelta(days=n % 60)
        euros, cents = 5 + n % 1500, n % 100
        amount = f"{euros // 1000}.{euros % 1000:03d},{cents:02d}" if euros >= 1000 \
            else f"{euros},{cents:02d}"
        lines.append(f"shop-{n % 50};{100000 + n};{day:%d-%m-%Y};{amount};EUR;"
                     f"koper{n}@buyer.example;{('nl', 'fr', 'it')[n % 3]};"
                     f"{('basic', 'plus', 'single')[n % 3]}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def baseline(path: Path) -> int:
    content = path.read_bytes().decode("cp1252")
    return sum(1 for _ in csv.reader(io.StringIO(content, newline=""), delimiter=";"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        app = wiring.build(config_mod.from_dict({"storage": {"root": str(folder)}}))
        merchants = folder / "m.csv"
        merchants.write_text("id,name,emails,locale\n" + "".join(
            f"shop-{i},Shop {i},info@shop{i}.example,nl\n" for i in range(50)))
        imports.import_merchants(app.db(), str(merchants))
        orders = folder / "orders.csv"
        export(orders, args.rows)

        started = time.perf_counter()
        parsed = baseline(orders)
        parse_s = time.perf_counter() - started
        now = datetime.now(timezone.utc)
        started = time.perf_counter()
        report = imports.import_orders(app.db(), str(orders), app.tz, now=now)
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        again = imports.import_orders(app.db(), str(orders), app.tz, now=now)
        reimport_s = time.perf_counter() - started
        app.close()
    assert parsed == args.rows + 1 and report.imported == args.rows and not report.rejected
    assert again.unchanged == args.rows
    figures = {
        "rows": args.rows,
        "csv_parse_s": round(parse_s, 3),
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(args.rows / import_s),
        "import_ratio_to_csv_parse": round(import_s / parse_s, 1),
        "reimport_unchanged_s": round(reimport_s, 2),
    }
    print(report.assumed)
    for key, value in figures.items():
        print(f"{key:<28} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
