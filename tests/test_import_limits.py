"""Import limits: a field past the csv module's limit, a shop name longer than a mail line, or
thousands of addresses for one merchant is one rejected row with its reason, not a traceback and
not a 100 KB Subject line."""

from __future__ import annotations

from conftest import make_config
from mailbot import imports, wiring


def test_oversized_fields_and_address_lists_are_rejected_row_by_row(tmp_path):
    app = wiring.build(make_config(tmp_path))
    many = ";".join(f"a{i}@shop.example" for i in range(5000))
    path = tmp_path / "m.csv"
    path.write_text("id,name,emails,locale\n"
                    f"huge,{'x' * 140_000},a@huge.example,nl\n"  # past csv's 131,072
                    f"long,{'Fietsen ' * 12_500},a@long.example,nl\n"  # 100,000 characters
                    f"crowd,Crowd,{many},nl\n"
                    "fine,Fietsen BV,info@fietsen.example,nl\n")
    try:
        report = imports.import_merchants(app.db(), str(path))
        names = [r[0] for r in app.db().execute("SELECT id FROM merchants")]
    finally:
        app.close()
    assert report.rejected == [
        (2, "not readable as CSV: field larger than field limit (131072)"),
        (3, "name is 100,000 characters long (at most 200)"),
        (4, "5,000 email addresses (at most 20)"),
    ]
    assert report.imported == 1 and names == ["fine"]


def test_an_order_field_longer_than_an_address_is_rejected(tmp_path):
    app = wiring.build(make_config(tmp_path))
    (tmp_path / "m.csv").write_text("id,name,emails,locale\ns,S,a@s.example,nl\n")
    path = tmp_path / "o.jsonl"
    path.write_text('{"shop_id": "s", "order_number": "%s", "order_date": "2026-01-05", '
                    '"amount": "10", "buyer_email": "b@b.example", "buyer_locale": "nl", '
                    '"plan": "basic"}\n' % ("9" * 300))
    try:
        imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
        report = imports.import_orders(app.db(), str(path), app.tz)
    finally:
        app.close()
    assert report.rejected == [(1, "order_number is 300 characters long (at most 254)")]
