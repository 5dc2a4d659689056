"""Outbound to a relay that wants STARTTLS (or implicit TLS) and AUTH, DKIM-signed; checked with
an aiosmtpd relay on loopback using a self-signed certificate made here, and dkimpy."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import ssl
from datetime import datetime, timezone

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mailbot import imports, jobs, wiring
from mailbot.outbound.dkim import SIGNED_HEADERS

from conftest import MERCHANTS, ORDERS, free_port, make_config


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert file, key file)."""
    folder, key = tmp_path_factory.mktemp("tls"), _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(_pem(key))
    return folder / "cert.pem", folder / "key.pem"


class Relay:
    """Captures what arrives, and the AUTH logins it saw."""

    def __init__(self):
        self.messages, self.logins = [], []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content,
                              server.transport.get_extra_info("ssl_object") is not None))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"mailbot"
                          and auth_data.password == b"s3cret", handled=False)


def _app(tmp_path, relay: dict, **sections):
    app = wiring.build(make_config(tmp_path, relay={"transport": "smtp", **relay}, **sections))
    (tmp_path / "m.csv").write_text(MERCHANTS)
    (tmp_path / "o.csv").write_text(ORDERS)
    imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
    imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
    return app


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_relay_with_tls_and_auth_gets_dkim_signed_mail(tmp_path, monkeypatch, certificate, mode):
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the test's CA, through the default context
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    relay, port = Relay(), free_port()
    # aiosmtpd's auth_require_tls knows only STARTTLS; on an implicit-TLS port all is TLS anyway.
    tls = {"tls_context": server_tls, "require_starttls": True, "auth_require_tls": True} \
        if mode == "starttls" else {"ssl_context": server_tls, "auth_require_tls": False}
    controller = Controller(relay, hostname="127.0.0.1", port=port, auth_required=True,
                            authenticator=relay.authenticate, **tls)
    controller.start()
    dkim_key = _key()
    (tmp_path / "dkim.pem").write_bytes(_pem(dkim_key))
    (tmp_path / "relay.pass").write_text("s3cret\n")
    app = _app(tmp_path, {"port": port, mode: True, "username": "mailbot",
                          "password_file": str(tmp_path / "relay.pass")},
               dkim={"selector": "mb2026", "key_file": str(tmp_path / "dkim.pem")})
    try:
        now = datetime.now(timezone.utc)
        jobs.tick(app, now)
        assert jobs.deliver(app, now) == {"sent": 3, "retry": 0, "dead": 0}
    finally:
        controller.stop()
        app.close()
    assert relay.logins == [(b"mailbot", b"s3cret")]  # one connection, one login, for the run
    assert len(relay.messages) == 3 and all(m[3] for m in relay.messages)

    public = dkim_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name, timeout=5):
        return record if name == b"mb2026._domainkey.bot.example." else None

    for _, _, raw, _ in relay.messages:
        assert dkim.verify(raw, dnsfunc=dns), raw[:400]
        signature = raw.split(b"DKIM-Signature:", 1)[1].split(b"\r\n\r\n")[0]
        tags = dict(t.strip().split(b"=", 1) for t in b"".join(signature.split()).split(b";") if t)
        assert tags[b"d"] == b"bot.example" and tags[b"s"] == b"mb2026"
        assert tags[b"c"] == b"relaxed/relaxed"
        signed = set(tags[b"h"].lower().split(b":"))
        assert {b"from", b"to", b"subject", b"date", b"message-id", b"reply-to",
                b"mime-version", b"content-type"} <= signed <= set(SIGNED_HEADERS)
        tampered = raw.replace(b"\r\nSubject: ", b"\r\nSubject: URGENT ", 1)
        assert not dkim.verify(tampered, dnsfunc=dns)


def test_wrong_password_is_retried_not_sent_in_clear(tmp_path, monkeypatch, certificate):
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    relay, port = Relay(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port, tls_context=server_tls,
                            require_starttls=True, auth_required=True, auth_require_tls=True,
                            authenticator=relay.authenticate)
    controller.start()
    (tmp_path / "relay.pass").write_text("wrong\n")
    app = _app(tmp_path, {"port": port, "starttls": True, "username": "mailbot",
                          "password_file": str(tmp_path / "relay.pass")})
    try:
        now = datetime.now(timezone.utc)
        jobs.tick(app, now)
        assert jobs.deliver(app, now) == {"sent": 0, "retry": 3, "dead": 0}
    finally:
        controller.stop()
        app.close()
    assert relay.messages == []
    # One session for the run (smtplib tries PLAIN, then LOGIN), not one per mail.
    assert relay.logins == [(b"mailbot", b"wrong")] * 2


def test_starttls_required_never_falls_back_to_clear_text(tmp_path):
    relay, port = Relay(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)  # offers no STARTTLS
    controller.start()
    app = _app(tmp_path, {"port": port, "starttls": True})
    try:
        now = datetime.now(timezone.utc)
        jobs.tick(app, now)
        assert jobs.deliver(app, now)["sent"] == 0
    finally:
        controller.stop()
        app.close()
    assert relay.messages == []
