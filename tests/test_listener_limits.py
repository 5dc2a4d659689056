"""The listener as LMTP, and the limits that bound what a stranger's SMTP session can cost."""

from __future__ import annotations

import smtplib

import pytest

from mailbot import wiring
from mailbot.inbound.smtp import JUNK_LIMIT, listener
from mailbot.tokens import Token

from conftest import make_config

MAIL = b"From: a@x.example\r\nSubject: t\r\n\r\nhello\r\n"


@pytest.fixture
def serve(tmp_path):
    running = []

    def start(**smtp):
        app = wiring.build(make_config(tmp_path, smtp=smtp))
        server = listener(app)
        server.start()
        running.append((app, server))
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
