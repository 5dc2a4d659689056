"""Who a mail is from (as DMARC reads From) and what the trusted front MTA said about it."""

from __future__ import annotations

import email
import email.policy

import pytest

from conftest import MERCHANTS, ORDERS, Mailbox, make_config
from mailbot import addresses, imports, wiring
from mailbot.inbound.authentication import Refusal, authentication_failed, sender_of
from mailbot.tokens import Token
from mailbot.core.model import Action


def headers(text: str):
    return email.message_from_string(text.replace("\n", "\r\n") + "\r\n\r\nx\r\n",
                                     policy=email.policy.compat32)


@pytest.mark.parametrize("from_lines, expected", [
    (["Jan <jan@buyer.example>"], "jan@buyer.example"),
    (["JAN@Buyer.Example"], "jan@buyer.example"),
    (["victim <evil@attacker.example>"], "evil@attacker.example"),
    (['"jan@buyer.example" <evil@attacker.example>'], "evil@attacker.example"),
    # An encoded display name that decodes to an address is only a display name (RFC 2047 §5).
    (["=?utf-8?q?jan=40buyer=2Eexample?= <evil@attacker.example>"], "evil@attacker.example"),
    (["=?utf-8?q?jan=40buyer=2Eexample?="], Refusal("From is not an address")),
    (["jan@buyer.example, evil@attacker.example"], Refusal("more than one address in From")),
    (["jan@buyer.example <evil@attacker.example>"], Refusal("more than one address in From")),
    (["jan@buyer.example", "evil@attacker.example"], Refusal("more than one From header")),
    ([], Refusal("no From header")),
    (["undisclosed-recipients:;"], Refusal("no address in From")),
])
def test_sender_is_the_address_dmarc_would_check(from_lines, expected):
    message = headers("\n".join(f"From: {line}" for line in from_lines) + "\nSubject: s")
    assert sender_of(message) == expected


@pytest.mark.parametrize("raw_from, expected", [
    ("José <josé@example.nl>", "josé@example.nl"),  # RFC 6532: UTF-8 in the header
    ("Jan <jan@bücher.example>", "jan@xn--bcher-kva.example"),  # the form imports store
])
def test_internationalised_senders_compare_with_what_was_registered(raw_from, expected):
    """(And 8-bit bytes that are not UTF-8 never come back as surrogates.)"""
    message = email.message_from_bytes(f"From: {raw_from}\r\nSubject: s\r\n\r\nx\r\n".encode(),
                                       policy=email.policy.compat32)
    assert sender_of(message) == expected


@pytest.mark.parametrize("results, failed", [
    (["mx.bot.example; dmarc=fail (p=reject) header.from=buyer.example"], True),
    (["mx.bot.example; spf=pass smtp.mailfrom=buyer.example; dkim=fail; dmarc=fail"], True),
    (["mx.bot.example; spf=fail smtp.mailfrom=x.example; dkim=pass header.d=buyer.example; "
      "dmarc=pass header.from=buyer.example"], False),
    (["mx.bot.example; spf=fail smtp.mailfrom=x.example; dkim=fail header.d=buyer.example"], True),
    (["mx.bot.example; spf=fail smtp.mailfrom=x.example; dkim=pass header.d=buyer.example"], False),
    (["mx.bot.example; spf=softfail smtp.mailfrom=x.example; dkim=none"], False),
    (["mx.bot.example 1; none"], False),
    # dmarc=none (no policy) with SPF and DKIM both failing is held (issue 16 §3).
    (["mx.bot.example; spf=fail smtp.mailfrom=x.example; dkim=fail; dmarc=none"], True),
    (["mx.bot.example; spf=pass smtp.mailfrom=x.example; dkim=fail; dmarc=none"], False),
    # Someone else's verdict, and the case of our id: only the front MTA's header counts, and
    # without it the mail did not come through the front MTA: held (fail closed).
    (["mx.attacker.example; dmarc=pass header.from=buyer.example"], True),
    ([], True),
    (["MX.BOT.EXAMPLE; dmarc=fail header.from=buyer.example"], True),
    (["mx.attacker.example; dmarc=pass", "mx.bot.example; dmarc=fail"], True),
    (["mx.bot.example; dmarc=pass", "mx.attacker.example; dmarc=fail"], False),
    (["this is not ; = a header (((", "mx.bot.example; dmarc=pass"], False),
    (["(comment) mx.bot.example 1; dmarc=fail"], True),
    # Our own MTA's verdict that cannot be read is no pass: the mail is held (fail closed).
    (["mx.bot.example; dmarc=fail ((("], True),
])
def test_authentication_results_of_the_trusted_mta_only(results, failed):
    message = headers("From: jan@buyer.example\n"
                      + "".join(f"Authentication-Results: {r}\n" for r in results) + "X: y")
    assert authentication_failed(message, "mx.bot.example") is failed
    assert authentication_failed(message, "") is False  # not configured: trusts nobody


def test_foreign_results_above_ours_hide_nothing():
    """20 (or 2,000) forged headers above the trusted dmarc=fail: it is still read."""
    for count in (20, 2_000):
        forged = "".join("Authentication-Results: mx.bot.example.evil; dmarc=pass\n"
                         for _ in range(count))
        message = headers("From: jan@buyer.example\n" + forged
                          + "Authentication-Results: mx.bot.example; dmarc=fail")
        assert authentication_failed(message, "mx.bot.example") is True


@pytest.fixture
def box(tmp_path):
    app = wiring.build(make_config(tmp_path, inbound={"authserv_id": "mx.bot.example"}))
    (tmp_path / "m.csv").write_text(MERCHANTS)
    (tmp_path / "o.csv").write_text(ORDERS)
    imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
    imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
    mailbox = Mailbox(app)
    mailbox.start()
    yield mailbox
    mailbox.stop()
    app.close()


PASS = "mx.bot.example; dmarc=pass header.from=buyer.example"


def buyer_mail(box, from_header: str, results: str = PASS) -> bytes:
    order_id = box.app.db().execute("SELECT id FROM orders WHERE order_number = 'NL-1'"
                                    ).fetchone()[0]
    to = box.app.signer.address(Token("buyer", order_id, Action.NOT_RECEIVED))
    extra = f"Authentication-Results: {results}\r\n" if results else ""
    return (f"{extra}{from_header}\r\nTo: {to}\r\nSubject: niet ontvangen\r\n"
            f"Message-ID: <{abs(hash((from_header, results)))}@buyer.example>\r\n\r\n"
            "Nooit ontvangen.\r\n").encode(), to


def test_dmarc_fail_from_the_trusted_mta_is_held_like_a_sender_mismatch(box):
    raw, to = buyer_mail(box, "From: jan@buyer.example",
                         "mx.bot.example; spf=fail smtp.mailfrom=x.example; dmarc=fail "
                         "header.from=buyer.example")
    box.send(raw, "x@x.example", [to])
    assert box.last_disposition() == "sender_mismatch"
    assert box.app.db().execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    # The same mail judged by someone else's MTA only, or by no one, did not come through the
    # front MTA: held too (fail closed); with the front MTA's pass it is applied.
    for results in ("mx.attacker.example; dmarc=pass header.from=buyer.example", ""):
        raw, to = buyer_mail(box, "From: jan@buyer.example", results)
        box.send(raw, "x@x.example", [to])
        assert box.last_disposition() == "sender_mismatch"
    raw, to = buyer_mail(box, "From: jan@buyer.example")
    box.send(raw, "x@x.example", [to])
    assert box.last_disposition() == "applied"


def test_ambiguous_from_is_refused(box):
    for from_header in ("From: jan@buyer.example\r\nFrom: evil@attacker.example",
                        "From: jan@buyer.example, evil@attacker.example"):
        raw, to = buyer_mail(box, from_header)
        box.send(raw, "x@x.example", [to])
        assert box.last_disposition() == "bad_from"
    raw, to = buyer_mail(box, "From: jan@buyer.example <evil@attacker.example>")
    box.send(raw, "x@x.example", [to])
    assert box.last_disposition() == "bad_from"
    raw, to = buyer_mail(box, "From: Jan <evil@attacker.example>")
    box.send(raw, "x@x.example", [to])
    assert box.last_disposition() == "sender_mismatch"  # evil, not jan: held
    assert box.app.db().execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_a_buyer_with_an_internationalised_address_can_act(box):
    db = box.app.db()
    db.execute("UPDATE orders SET buyer_email = 'jos\u00e9@xn--bcher-kva.example' "
               "WHERE order_number = 'NL-1'")
    db.conn.commit()
    raw, to = buyer_mail(box, "From: Jos\u00e9 <jos\u00e9@b\u00fccher.example>")
    box.send(raw, "x@x.example", [to])
    assert box.last_disposition() == "applied"
    assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 1


@pytest.mark.parametrize("address, stored", [
    # UTS #46 non-transitional: ß is its own letter, not "ss" (IDNA 2003 mapped it away).
    ("anna@straße.example", "anna@xn--strae-oqa.example"),
    ("anna@strasse.example", "anna@strasse.example"),
    ("jan@BÜCHER.example", "jan@xn--bcher-kva.example"),
    ("jan@XN--BCHER-KVA.example", "jan@xn--bcher-kva.example"),
    # Invisible characters, forms that UTS #46 maps away, A-labels that are no IDNA: refused.
    ("kees@buyer\u00ad.example", None),
    ("kees@bu\u200byer.example", None),
    ("kees@buyer.exam\ufeffple", None),
    ("kees@\uff42uyer.example", None),
    ("kees@xn--abc.example", None),
])
def test_domains_compare_as_uts46_a_labels_exactly(address, stored):
    assert addresses.normal(address)[0] == stored


def test_a_look_alike_domain_is_not_the_registered_buyer(box):
    """anna@straße.example (an attacker's domain with a real dmarc=pass) is not
    anna@strasse.example, and kees@buyer<soft hyphen>.example is not kees."""
    for sender in ("jan@buyer\u00ad.example", "jan@b\u00fcyer.example"):
        raw, to = buyer_mail(box, f"From: {sender}")
        box.send(raw, "x@x.example", [to])
        assert box.last_disposition() == "sender_mismatch"
    db = box.app.db()
    db.execute("UPDATE orders SET buyer_email = 'anna@strasse.example' "
               "WHERE order_number = 'NL-1'")
    db.conn.commit()
    raw, to = buyer_mail(box, "From: anna@stra\u00dfe.example")
    box.send(raw, "x@x.example", [to])
    assert box.last_disposition() == "sender_mismatch"
    assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_a_from_in_no_charset_reads_as_windows_1252():
    message = email.message_from_bytes(b"From: a\x80b@x.example\r\n\r\nx\r\n",
                                       policy=email.policy.compat32)
    assert sender_of(message) == "a\u20acb@x.example"  # storable: no lone surrogate
