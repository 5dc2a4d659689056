"""Orders by mail end to end, over SMTP: a shop's confirmation in BCC to its intake address
starts a protection when the trusted MTA vouches for the shop's domain; a spoofed, unaligned or
unregistered sender creates nothing and the shop is told once; a resent confirmation changes
nothing; what cannot be read is listed in one mail a day; the week is reported; the address
rotates, and the socketmap knows only the current one."""

from __future__ import annotations

import email.utils
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import MERCHANTS, ORDERS, Mailbox, make_config, write_config
from mailbot import cli, imports, wiring
from mailbot.orders_by_mail import notices
from mailbot.orders_by_mail.address import intake_address
from mailbot.serve.socketmap import Lookup
from mailbot.store import admin, records, retention

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
MTA = "mx.bot.example"
PASS = f"Authentication-Results: {MTA}; spf=pass smtp.mailfrom=fietsen.example; " \
       "dkim=pass header.d=fietsen.example header.s=s1; dmarc=pass header.from=fietsen.example"


def _app(tmp_path, authserv_id):
    app = wiring.build(make_config(tmp_path, inbound={"authserv_id": authserv_id}))
    (tmp_path / "m.csv").write_text(MERCHANTS)
    (tmp_path / "o.csv").write_text(ORDERS)
    imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
    imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
    return app


@pytest.fixture
def shop(tmp_path):
    """(app, mailbox, intake address of shop-nl) with a trusted MTA."""
    app = _app(tmp_path, MTA)
    box = Mailbox(app)
    box.start()
    address, _, _ = intake_address(app, "shop-nl", datetime.now(timezone.utc))
    yield app, box, address
    box.stop()
    app.close()


def confirmation(name="shopify-nl-markup.eml", results=PASS, sender="info@fietsen.example",
                 extra=b"") -> bytes:
    """A corpus confirmation as the trusted MTA hands it on: its verdict on top."""
    raw = (CORPUS / name).read_bytes()
    raw = re.sub(rb"^From: .*$", f"From: Fietsen BV <{sender}>".encode(), raw, count=1,
                  flags=re.M)
    date = email.utils.format_datetime(datetime.now(timezone.utc) - timedelta(days=1)).encode()
    raw = re.sub(rb"^Date: .*$", b"Date: " + date, raw, count=1, flags=re.M)
    msgid = email.utils.make_msgid(domain="fietsen.example").encode()
    raw = re.sub(rb"^Message-ID: .*$", b"Message-ID: " + msgid, raw, count=1, flags=re.M)
    return (results.encode() + b"\r\n" if results else b"") + extra + raw


def _order(app, number):
    order_id = records.order_id(app.db(), "shop-nl", number)
    return records.load(app.db(), order_id) if order_id else None


def _mail_orders(app):
    return app.db().execute("SELECT outcome, order_number, detail FROM mail_orders "
                            "ORDER BY id").fetchall()


def test_a_confirmation_from_the_shop_starts_a_protection_once(shop):
    app, box, address = shop
    box.send(confirmation(extra=b"Auto-Submitted: auto-generated\r\n"),
             "bounces@fietsen.example", [address])
    assert box.last_disposition() == "order_taken"
    state = _order(app, "1001")
    assert state is not None and state.protection.state == "active"
    o = state.order
    want = EXPECTED["shopify-nl-markup.eml"]
    assert (o.order_number, o.buyer_email, str(o.amount), o.currency, o.buyer_locale, o.plan) \
        == (want["order_number"], want["buyer"], want["amount"], "EUR", "nl", "basic")
    # The order date is the confirmation's (sent yesterday), in the service's time zone.
    assert o.order_date == (datetime.now(timezone.utc) - timedelta(days=1)).astimezone(
        app.tz).date()
    timeline = records.timeline(app.db(), o.id)
    assert [e["kind"] for e in timeline] == ["order.by_mail"]
    inbox_order = app.db().execute("SELECT order_id FROM inbox ORDER BY id DESC").fetchone()[0]
    assert inbox_order == o.id  # the confirmation is part of the case file
    # Resent (a new Message-ID): nothing changes.
    box.send(confirmation(), "bounces@fietsen.example", [address])
    assert box.last_disposition() == "order_taken"
    assert app.db().execute("SELECT count(*) FROM orders WHERE shop_id = 'shop-nl'"
                            ).fetchone()[0] == 2
    assert [r[0] for r in _mail_orders(app)] == ["taken", "known"]
    # Taken confirmations are no work for the operators: ``mailbot inbox`` lists them on request.
    assert admin.inbox(app.db()) == []
    assert len(admin.inbox(app.db(), ("order_taken",))) == 2
    assert records.timeline(app.db(), o.id) == timeline


@pytest.mark.parametrize("results, sender, why", [
    ("", "info@fietsen.example", "unauthenticated"),
    (PASS.replace(MTA, "mx.evil.example"), "info@fietsen.example", "unauthenticated"),
    (f"Authentication-Results: {MTA}; dkim=pass header.d=evil.example; dmarc=none",
     "info@fietsen.example", "unauthenticated"),
    (f"Authentication-Results: {MTA}; dmarc=fail header.from=fietsen.example",
     "info@fietsen.example", "unauthenticated"),
    (f"Authentication-Results: {MTA}; dmarc=pass header.from=evil.example",
     "info@evil.example", "domain"),
])
def test_a_spoofed_or_unaligned_confirmation_creates_nothing(shop, results, sender, why):
    app, box, address = shop
    box.send(confirmation(results=results, sender=sender), sender, [address])
    assert box.last_disposition() == "order_held"
    assert _order(app, "1001") is None
    assert _mail_orders(app)[0][0] == "held" and _mail_orders(app)[0][2].startswith(why)
    told = [m for m in box.deliver() if "info@fietsen.example" in m["To"]]
    assert len(told) == 1 and "tegengehouden" in told[0]["Subject"]
    # Told once: the next one is held without a word.
    box.send(confirmation(results=results, sender=sender), sender, [address])
    assert box.last_disposition() == "order_held" and box.deliver() == []


def test_without_a_trusted_mta_intake_by_mail_is_off(tmp_path):
    app = _app(tmp_path, "")
    box = Mailbox(app)
    box.start()
    try:
        address, _, _ = intake_address(app, "shop-nl", datetime.now(timezone.utc))
        box.send(confirmation(), "info@fietsen.example", [address])
        assert box.last_disposition() == "order_held"
        assert _mail_orders(app)[0][2].startswith("off:")
        assert _order(app, "1001") is None
    finally:
        box.stop()
        app.close()


def test_what_cannot_be_read_is_listed_once_a_day(shop):
    app, box, address = shop
    def unreadable():  # sent to the shop itself: no buyer
        return confirmation().replace(b"To: Jan de Vries <jan@buyer.example>",
                                      b"To: info@fietsen.example")
    box.send(unreadable(), "info@fietsen.example", [address])
    assert box.last_disposition() == "order_unread" and _order(app, "1001") is None
    now = datetime.now(timezone.utc)
    assert notices.daily(app, now) == 1
    listed = [m for m in box.deliver() if "info@fietsen.example" in m["To"]]
    assert len(listed) == 1
    body = listed[0].get_body(("plain",)).get_content()
    assert "1001" in body and "adres van de koper" in body and '"orderNumber"' in body
    # A second unreadable mail the same day waits for tomorrow's mail.
    box.send(unreadable(), "info@fietsen.example", [address])
    assert box.last_disposition() == "order_unread"
    assert notices.daily(app, now + timedelta(hours=2)) == 0
    assert notices.daily(app, now + timedelta(days=1)) == 1


def test_the_weekly_report_counts_taken_and_refused(shop):
    app, box, address = shop
    box.send(confirmation(), "info@fietsen.example", [address])
    box.send(confirmation("magento-nl-words.eml"), "info@fietsen.example", [address])
    box.send(confirmation(results=""), "info@fietsen.example", [address])
    box.deliver()
    assert notices.weekly(app, datetime.now(timezone.utc) + timedelta(minutes=1)) == 1
    report = [m for m in box.deliver() if "info@fietsen.example" in m["To"]]
    assert len(report) == 1
    text = report[0].get_body(("plain",)).get_content()
    assert "Bestellingen beschermd: 2" in text and "Tegengehouden: 1" in text
    # The heading says what happened, and the held confirmation is named by its subject.
    assert text.startswith("2 bestellingen beschermd, 1 orderbevestiging tegengehouden\n")
    subject = email.message_from_bytes(confirmation(results=""))["Subject"]
    held = text.split("GEEN BESCHERMING GESTART\n")[1]
    assert f"“{subject}” – niet ondertekend voor je domein (DMARC of DKIM)" in held


def test_the_address_rotates_and_the_socketmap_knows_only_the_current_one(shop, tmp_path,
                                                                           capsys):
    app, box, old = shop
    config = str(write_config(tmp_path, app.config))
    assert cli.main(["--config", config, "merchant", "shop-nl", "intake-address"]) == 0
    assert old in capsys.readouterr().out
    assert cli.main(["--config", config, "merchant", "shop-nl", "intake-address",
                     "--rotate", "--plan", "plus"]) == 0
    new = re.search(r"new intake address (\S+) \(plan plus\)", capsys.readouterr().out)[1]
    lookup = Lookup(app)
    try:
        assert lookup.answer(new) == "OK mailbot" and lookup.answer(old) == "NOTFOUND "
        assert lookup.answer(new.replace("+", "+x", 1)) == "NOTFOUND "
    finally:
        lookup.close()
    box.send(confirmation(), "info@fietsen.example", [old])
    assert box.last_disposition() == "order_held" and _order(app, "1001") is None
    box.send(confirmation(), "info@fietsen.example", [new])
    assert box.last_disposition() == "order_taken" and _order(app, "1001").order.plan == "plus"


def test_purge_blanks_the_subjects_of_old_confirmations(shop):
    app, box, address = shop
    box.send(confirmation(), "info@fietsen.example", [address])
    assert app.db().execute("SELECT subject FROM mail_orders").fetchone()[0]
    retention.purge(app.db(), app.attachments, datetime.now(timezone.utc) + timedelta(days=1))
    assert app.db().execute("SELECT subject, outcome FROM mail_orders").fetchall() == [
        ("", "taken")]


def test_at_a_public_mailbox_provider_only_the_registered_address_counts(shop):
    app, box, address = shop
    records.upsert_merchant(app.db(), "shop-nl", "Fietsen BV", ["fietsenbv@gmail.com"], "nl")
    gmail = PASS.replace("fietsen.example", "gmail.com")
    # Anyone can open an account at gmail.com and pass DMARC for it: that is not the shop.
    box.send(confirmation(results=gmail, sender="someone@gmail.com"), "someone@gmail.com",
             [address])
    assert box.last_disposition() == "order_held" and _order(app, "1001") is None
    box.send(confirmation(results=gmail, sender="fietsenbv@gmail.com"), "fietsenbv@gmail.com",
             [address])
    assert box.last_disposition() == "order_taken" and _order(app, "1001") is not None


def test_the_weekly_report_lists_what_could_not_be_read_by_date_subject_and_sender(shop):
    """design10 point 6: the unreadable confirmation was only counted; the report lists it with
    the sender of its mail (read from the inbox row) so that the shop can find it."""
    app, box, address = shop
    unreadable = confirmation().replace(b"To: Jan de Vries <jan@buyer.example>",
                                        b"To: info@fietsen.example")
    box.send(unreadable, "info@fietsen.example", [address])
    assert box.last_disposition() == "order_unread"
    box.deliver()
    assert notices.weekly(app, datetime.now(timezone.utc) + timedelta(minutes=1)) == 1
    report = [m for m in box.deliver() if "info@fietsen.example" in m["To"]]
    text = report[0].get_body(("plain",)).get_content()
    listed = text.split("BEVESTIGINGEN DIE NIET TE LEZEN WAREN\n")[1].split("\n\n")[0]
    subject = email.message_from_bytes(unreadable)["Subject"]
    assert f"“{subject}” – verstuurd door info@fietsen.example" in listed
