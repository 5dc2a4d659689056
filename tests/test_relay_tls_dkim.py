"""Outbound to a relay that wants STARTTLS (or implicit TLS) and AUTH, DKIM-signed; checked with
an aiosmtpd relay on loopback using a self-signed certificate made here, and dkimpy."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import ssl
import time
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


def _private(path, data):
    path.write_bytes(data)
    path.chmod(0o600)
    return str(path)


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_relay_with_tls_and_auth_gets_dkim_signed_mail(tmp_path, certificate, mode):
    cert, key = certificate
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
    # The test's CA through [relay] ca_file, no longer through the SSL_CERT_FILE environment.
    app = _app(tmp_path, {"port": port, mode: True, "username": "mailbot", "ca_file": str(cert),
                          "password_file": _private(tmp_path / "relay.pass", b"s3cret\n")},
               dkim={"selector": "mb2026",
                     "key_file": _private(tmp_path / "dkim.pem", _pem(dkim_key))})
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


def test_wrong_password_is_retried_not_sent_in_clear(tmp_path, certificate):
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    relay, port = Relay(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port, tls_context=server_tls,
                            require_starttls=True, auth_required=True, auth_require_tls=True,
                            authenticator=relay.authenticate)
    controller.start()
    app = _app(tmp_path, {"port": port, "starttls": True, "username": "mailbot",
                          "ca_file": str(cert),
                          "password_file": _private(tmp_path / "relay.pass", b"wrong\n")})
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


def _tls_relay(certificate, **tls):
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    relay = Relay()
    controller = Controller(relay, hostname="127.0.0.1", port=free_port(),
                            **{k: server_tls for k in tls})
    controller.start()
    return relay, controller


@pytest.mark.parametrize("relay_settings, sent", [
    ({}, 0),  # a private CA the system does not know: not trusted
    ({"verify": False}, 3),  # a lab relay: encrypted, not checked
])
def test_the_relay_certificate_is_checked_as_configured(tmp_path, certificate, relay_settings,
                                                        sent):
    relay, controller = _tls_relay(certificate, tls_context=True)
    app = _app(tmp_path, {"port": controller.port, "starttls": True, **relay_settings})
    try:
        now = datetime.now(timezone.utc)
        jobs.tick(app, now)
        assert jobs.deliver(app, now)["sent"] == sent
    finally:
        controller.stop()
        app.close()
    assert len(relay.messages) == sent


def test_starttls_against_an_implicit_tls_port_says_so_in_one_line(tmp_path, certificate):
    from mailbot import config as config_mod
    from mailbot.outbound.transport import SmtpTransport, TemporaryError

    with pytest.raises(config_mod.ConfigError, match="port 465 is implicit TLS: set tls = true"):
        make_config(tmp_path, relay={"transport": "smtp", "port": 465, "starttls": True})
    # On another port: the relay waits for a ClientHello, we for a greeting; told, not hung.
    _, controller = _tls_relay(certificate, ssl_context=True)
    transport = SmtpTransport("127.0.0.1", controller.port, "bot.example", starttls=True,
                              greeting_timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(TemporaryError) as failed, transport:
            transport.noop()
    finally:
        controller.stop()
    assert time.monotonic() - started < 5  # not the 30 s timeout
    assert str(failed.value) == (f"relay 127.0.0.1:{controller.port} sent no SMTP greeting in "
                                 "0.5 s; is it an implicit-TLS port? set tls = true, not starttls")


@pytest.mark.parametrize("secret", ["password_file", "key_file"])
def test_a_secret_file_others_can_read_is_refused_as_ssh_does(tmp_path, secret):
    from mailbot import config as config_mod
    from mailbot.private_files import UnprotectedFile
    from mailbot.outbound.transport import open_transport

    path = tmp_path / "secret"
    path.write_bytes(_pem(_key()) if secret == "key_file" else b"s3cret\n")
    path.chmod(0o644)
    sections = {"dkim": {"selector": "s", "key_file": str(path)}} if secret == "key_file" \
        else {"relay": {"transport": "smtp", "username": "u", "password_file": str(path)}}
    setting = "[dkim] key_file" if secret == "key_file" else "[relay] password_file"
    said = f"{setting} {path} is accessible by others (mode 0644): run chmod 600 {path}"
    with pytest.raises(config_mod.ConfigError) as at_start:  # every command, serve included
        make_config(tmp_path, **sections)
    assert str(at_start.value) == said
    path.chmod(0o600)
    config = make_config(tmp_path, **sections)
    assert open_transport(config) is not None
    path.chmod(0o640)  # changed while serve runs: refused when it is read
    with pytest.raises(UnprotectedFile, match=r"\(mode 0640\): run chmod 600"):
        open_transport(config)


def test_a_delivery_run_that_sends_nothing_loads_no_certificates_and_checks_no_key(tmp_path):
    """A transport is opened for every delivery run (every 2 s, and after each intake that
    queued mail): the system's CA bundle (~25 ms) is loaded when a connection is opened, and
    the DKIM key (~40 ms to check) once per process."""
    from mailbot.outbound.transport import open_transport, tls_context

    config = make_config(tmp_path, relay={"transport": "smtp", "port": free_port(),
                                          "starttls": True},
                         dkim={"selector": "s", "key_file": _private(tmp_path / "dkim.pem",
                                                                     _pem(_key()))})
    open_transport(config)
    start = time.process_time()
    tls_context(config.relay)
    one_bundle = time.process_time() - start
    start = time.process_time()
    for _ in range(20):
        with open_transport(config):
            pass
    assert time.process_time() - start < one_bundle


def test_a_missing_ca_file_is_a_retry_that_says_so(tmp_path):
    _, port = Relay(), free_port()
    app = _app(tmp_path, {"port": port, "starttls": True, "ca_file": str(tmp_path / "no.pem")})
    reports = []
    try:
        now = datetime.now(timezone.utc)
        jobs.tick(app, now)
        counts = jobs.deliver(app, now, report=lambda row, result, detail: reports.append(detail))
    finally:
        app.close()
    assert counts == {"sent": 0, "retry": 3, "dead": 0}
    assert all(f"relay 127.0.0.1:{port}: no TLS context: [Errno 2]" in d for d in reports), reports
