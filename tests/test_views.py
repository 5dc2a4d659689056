"""The terminal views an operator reads (issue 19 §4): `status` in words, without Python's None;
`cases` with a header; `case` with the order, the buyer, the due dates and every text whole."""

from __future__ import annotations

from conftest import click, write_config
from mailbot import cli
from test_case_by_mail import case, open_case
from test_protection_by_mail import BUYER_NL, MERCHANT_NL


def out(capsys, config, *args) -> str:
    capsys.readouterr()
    assert cli.main(["--config", str(config), *args]) == 0
    return capsys.readouterr().out


def test_status_cases_and_case_read_as_words(box, tmp_path, capsys):
    config = write_config(tmp_path, box.app.config)
    status = out(capsys, config, "status", "shop-fr", "FR-1")
    assert status.startswith("order shop-fr/FR-1: protection active until 20")
    assert "None" not in status and "buyer marie@buyer.example (fr)" in status
    _, merchant = open_case(box)
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: 49,95\nToelichting: Eerste regel.\nTweede regel.")
    listed = out(capsys, config, "cases").splitlines()
    assert listed[0].split() == ["CASE", "STATE", "REASON", "OPENED", "ORDER",
                                 "ESCALATION/OUTCOME"]
    assert f"{case(box)['id']}" in listed[1] and "shop-nl/NL-1" in listed[1]
    shown = out(capsys, config, "case", str(case(box)["id"]))
    assert shown.startswith(f"case {case(box)['id']}: awaiting_buyer, reason not_received, "
                            "variant A")
    assert "order: shop-nl/NL-1, ordered" in shown and f"buyer {BUYER_NL} (nl)" in shown
    assert "buyer due: 20" in shown and "(Europe/Amsterdam)" in shown
    assert "merchant's answer: refund yes, 49.95" in shown
    lines = shown.splitlines()
    first = next(i for i, line in enumerate(lines) if "merchant.decision" in line)
    assert lines[first].endswith("Eerste regel.") and lines[first + 1].strip() == "Tweede regel."
    assert "None" not in shown
