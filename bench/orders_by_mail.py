"""Scores the order-confirmation extractor on the corpus of ``tests/orders_by_mail/corpus``: per
field, how many mails give the expected value, and how many give every field right.

    python bench/orders_by_mail.py [--corpus tests/orders_by_mail/corpus] [--show-misses]
                                   [--words-only]

Fields: order number, amount, currency, buyer (the confirmation's To), buyer's language (None
when the mail says none: the shop's default is taken). Goal (issue 21): every field right on at
least 95 % of the mails. ``--words-only`` ignores the markup, to score the labelled-words reader
alone on every mail (the markup mails carry the same words).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mailbot.inbound.parse import parse
from mailbot.orders_by_mail import extract

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "orders_by_mail" / "corpus"
FIELDS = ("order_number", "amount", "currency", "buyer", "locale")
SHOP_DOMAINS = {"fietsen.example", "rive.example", "sole.example"}


def got(path: Path) -> dict:
    reading = extract.read(parse(path.read_bytes()), SHOP_DOMAINS)
    return {"order_number": reading.order_number,
            "amount": None if reading.amount is None else str(reading.amount),
            "currency": reading.currency, "buyer": reading.buyer, "locale": reading.locale}


def score(corpus: Path, show: bool = False) -> tuple[dict, int, int]:
    expected = json.loads((corpus / "expected.json").read_text())
    right = dict.fromkeys(FIELDS, 0)
    complete = 0
    for name, want in sorted(expected.items()):
        have = got(corpus / name)
        wrong = [f for f in FIELDS if have[f] != want[f]]
        for field in FIELDS:
            right[field] += field not in wrong
        complete += not wrong
        if wrong and show:
            print(f"MISS {name}: " + ", ".join(f"{f} {have[f]!r} (want {want[f]!r})"
                                                for f in wrong))
    return right, complete, len(expected)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--show-misses", action="store_true")
    p.add_argument("--words-only", action="store_true")
    args = p.parse_args()
    if args.words_only:
        extract.markup.orders = lambda html: []
    right, complete, total = score(args.corpus, args.show_misses)
    for field, count in right.items():
        print(f"{field:14} {count:3}/{total} {100 * count / total:5.1f} %")
    print(f"{'every field':14} {complete:3}/{total} {100 * complete / total:5.1f} %")


if __name__ == "__main__":
    main()
