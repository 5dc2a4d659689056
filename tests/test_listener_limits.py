"""The listener as LMTP, and the limits that bound what a stranger's SMTP session can cost."""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl

import pytest

from mailbot import wiring
from mailbot.inbound.smtp import JUNK_LIMIT, listener
from mailbot.config import ConfigError
from mailbot.tokens import Token

from conftest import make_config
from test_relay_tls_dkim import certificate  # noqa: F401  (a fixture)

MAIL = b"From: a@x.example\r\nSubject: t\r\n\r\nhello\r\n"


@pytest.fixture
def serve(tmp_path):
    running = []

    def start(**smtp):
        app = wiring.build(make_config(tmp_path, smtp=smtp))
        server = listener(app)
        server.start()
        running.append((app, server))
        start.doorman = server.handler
        return app

    yield start
    for app, server in running:
        server.stop()
        app.close()


def stored(app) -> int:
    return app.db().execute("SELECT count(*) FROM inbox").fetchone()[0]


def test_lmtp_answers_once_per_recipient(serve):
    app = serve(protocol="lmtp")
    token = app.signer.address(Token("buyer", 1))
    with smtplib.LMTP("127.0.0.1", app.config.smtp.port) as lmtp:
        code, _ = lmtp.docmd("LHLO", "mx.example")
        assert code == 250
        assert lmtp.docmd("MAIL FROM:<a@x.example>")[0] == 250
        assert lmtp.docmd(f"RCPT TO:<{token}>")[0] == 250
        assert lmtp.docmd("RCPT TO:<bot@bot.example>")[0] == 250
        assert lmtp.docmd("RCPT TO:<forged@bot.example>")[0] == 550
        assert lmtp.docmd("DATA")[0] == 354
        lmtp.send(MAIL + b".\r\n")
        replies = [lmtp.getreply(), lmtp.getreply()]  # RFC 2033 §4.2: one per accepted RCPT
        assert [code for code, _ in replies] == [250, 250]
    assert stored(app) == 1


@pytest.mark.parametrize("protocol, wrong", [("lmtp", "EHLO"), ("lmtp", "HELO"),
                                             ("smtp", "LHLO")])
def test_the_other_protocol_is_answered_421_so_the_mta_keeps_the_mail(serve, protocol, wrong):
    app = serve(protocol=protocol)
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        code, text = smtp.docmd(wrong, "mx.example")
        assert code == 421 and f'protocol = "{protocol}"'.encode() not in text
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtp.noop()
    client = smtplib.LMTP if protocol == "lmtp" else smtplib.SMTP
    with client("127.0.0.1", app.config.smtp.port) as right:
        assert right.sendmail("a@x.example", ["bot@bot.example"], MAIL) == {}
    assert stored(app) == 1


def test_recipients_per_message_are_capped(serve):
    app = serve(max_recipients=3)
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        smtp.ehlo()
        smtp.mail("a@x.example")
        codes = [smtp.rcpt("bot@bot.example")[0] for _ in range(5)]
    assert codes == [250, 250, 250, 452, 452]


def test_connections_at_once_are_capped(serve):
    app = serve(max_connections=2)
    open_ = [smtplib.SMTP("127.0.0.1", app.config.smtp.port) for _ in range(2)]
    try:
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", app.config.smtp.port)
        assert refused.value.smtp_code == 421
    finally:
        for smtp in open_:
            smtp.close()
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:  # a freed slot is usable
        assert smtp.noop()[0] == 250


def test_noop_cannot_keep_a_session_alive_for_ever(serve):
    app = serve()
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        codes = []
        try:
            for _ in range(JUNK_LIMIT + 5):
                codes.append(smtp.noop()[0])
        except smtplib.SMTPServerDisconnected:
            pass
    assert codes[:JUNK_LIMIT] == [250] * JUNK_LIMIT
    assert codes[JUNK_LIMIT:] == [421]  # then the connection is closed


def test_a_session_that_delivers_mail_is_not_an_idler(serve):
    app = serve()
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        for _ in range(3):
            for _ in range(JUNK_LIMIT - 1):
                assert smtp.noop()[0] == 250
            smtp.sendmail("a@x.example", ["bot@bot.example"], MAIL)
    assert stored(app) == 3


def test_anonymous_mail_is_size_and_rate_capped(serve):
    app = serve(anonymous_max_size=2000, anonymous_per_hour=2, anonymous_total_per_hour=3)
    token = app.signer.address(Token("buyer", 1))
    big = MAIL + b"x" * 5000 + b"\r\n"
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as too_big:
            smtp.sendmail("a@x.example", ["bot@bot.example"], big)
        assert too_big.value.smtp_code == 552
        smtp.sendmail("a@x.example", [token], big)  # a token address vouches for the mail
        smtp.sendmail("a@x.example", ["bot@bot.example"], MAIL)
        smtp.sendmail("a@x.example", ["bot@bot.example"], MAIL)
        with pytest.raises(smtplib.SMTPDataError) as quota:
            smtp.sendmail("a@x.example", ["bot@bot.example"], MAIL)
        assert quota.value.smtp_code == 452  # temporary: a real sender tries again later
        smtp.sendmail("a@x.example", [token], MAIL)
        # One stranger's flood does not close the bare address to everyone else...
        smtp.sendmail("buyer@y.example", ["bot@bot.example"], MAIL)
        # ...up to the ceiling for all anonymous mail together.
        with pytest.raises(smtplib.SMTPDataError) as ceiling:
            smtp.sendmail("other@z.example", ["bot@bot.example"], MAIL)
        assert ceiling.value.smtp_code == 452
    assert stored(app) == 5


def _replies(sock) -> list[bytes]:
    data = b""
    while not data.endswith(b"\r\n") or b"354 " not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data.split(b"\r\n")[:-1]


def test_lmtp_offers_pipelining_and_enhanced_status_codes(serve):
    app = serve(protocol="lmtp")
    token = app.signer.address(Token("buyer", 1))
    with socket.create_connection(("127.0.0.1", app.config.smtp.port)) as sock:
        sock.recv(1000)  # the greeting
        # RFC 2033 §5 and RFC 2920: the whole envelope in one write, the answers in order.
        sock.sendall(f"LHLO mx.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<{token}>\r\n"
                     "RCPT TO:<nobody@bot.example>\r\nRCPT TO:<bot@bot.example>\r\n"
                     "DATA\r\n".encode())
        lines = _replies(sock)
        sock.sendall(MAIL + b".\r\nQUIT\r\n")
        after = b""
        while chunk := sock.recv(65536):
            after += chunk
    assert b"250-PIPELINING" in lines and b"250 ENHANCEDSTATUSCODES" in lines
    replies = [line for line in lines if not line.startswith(b"250-")]
    assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"550", b"250", b"354"]
    # RFC 2034 §3: every reply but the LHLO lines and 354 carries an enhanced status code.
    assert all(re.match(rb"\d{3} [245]\.\d+\.\d+ ", r) for r in replies[1:-1] + after.split(
        b"\r\n")[:-1]), (replies, after)
    assert after.count(b"250 2.0.0") == 2 and after.endswith(b"221 2.0.0 Bye\r\n")
    assert stored(app) == 1


def test_lmtp_takes_and_drops_what_postfix_queued_instead_of_refusing_it(serve, caplog):
    # A refusal after the MTA's queue becomes a bounce to the (forged) sender: backscatter.
    app = serve(protocol="lmtp", anonymous_max_size=2000, anonymous_per_hour=1)
    big = MAIL + b"x" * 5000 + b"\r\n"
    caplog.set_level(logging.INFO, logger="mailbot")
    with smtplib.LMTP("127.0.0.1", app.config.smtp.port) as lmtp:
        assert lmtp.sendmail("forged@victim.example", ["bot@bot.example"], big) == {}
        assert lmtp.sendmail("forged@victim.example", ["bot@bot.example"], MAIL) == {}
        assert lmtp.sendmail("forged@victim.example", ["bot@bot.example"], MAIL) == {}
    assert stored(app) == 1  # the one within the limits
    dropped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("smtp.drop")]
    assert len(dropped) == 2
    assert "mail_from='forged@victim.example'" in dropped[0] and "too big" in dropped[0]
    assert "Too much mail" in dropped[1]


def test_one_client_address_cannot_take_every_connection(serve):
    app = serve(max_connections=10, max_connections_per_client=2)
    port = app.config.smtp.port
    open_ = [smtplib.SMTP("127.0.0.1", port) for _ in range(2)]
    try:
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", port)
        assert refused.value.smtp_code == 421 and b"from your address" in refused.value.smtp_error
        # Another client (another loopback address) still gets in.
        with smtplib.SMTP("127.0.0.1", port, source_address=("127.0.0.2", 0)) as other:
            assert other.noop()[0] == 250
    finally:
        for smtp in open_:
            smtp.close()


def test_lmtp_has_no_cap_per_client_the_mta_is_the_only_client(serve):
    app = serve(protocol="lmtp", max_connections_per_client=1)
    with smtplib.LMTP("127.0.0.1", app.config.smtp.port) as one, \
            smtplib.LMTP("127.0.0.1", app.config.smtp.port) as two:
        assert one.docmd("LHLO", "mx")[0] == two.docmd("LHLO", "mx")[0] == 250


def test_no_command_keeps_an_idle_session_past_the_idle_timeout(serve):
    app = serve(idle_timeout=300)
    clock = [1000.0]
    serve.doorman.clock = lambda: clock[0]
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        clock[0] += 200
        assert smtp.noop()[0] == 250
        smtp.sendmail("a@x.example", ["bot@bot.example"], MAIL)  # delivering renews it
        clock[0] += 299
        assert smtp.noop()[0] == 250
        clock[0] += 2
        assert smtp.noop() == (421, b"4.4.2 No mail delivered for too long, closing")
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        clock[0] += 301
        assert smtp.ehlo()[0] == 250  # not a junk command, yet no renewal either:
        assert smtp.noop()[0] == 421  # the session's timer ran out at its deadline


def test_starttls_is_offered_with_a_certificate_and_its_private_key(serve, certificate):
    cert, key = certificate
    key.chmod(0o600)
    app = serve(cert_file=str(cert), key_file=str(key))
    client_tls = ssl.create_default_context(cafile=str(cert))
    with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        smtp.starttls(context=client_tls)
        assert smtp.sendmail("a@x.example", ["bot@bot.example"], MAIL) == {}
    assert stored(app) == 1
    key.chmod(0o644)
    try:
        with pytest.raises(ConfigError, match=r"\[smtp\] key_file .* chmod 600"):
            serve(cert_file=str(cert), key_file=str(key))
    finally:
        key.chmod(0o600)
