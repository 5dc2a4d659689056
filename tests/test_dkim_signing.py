"""Our DKIM signer (OpenSSL through ``cryptography``) against dkimpy as the verifier: every mail
the bot writes — every template in nl, fr and it, with attachments, threads and folded encoded
subjects — verifies, tampering does not, relays' refolding does; and it costs a fraction of
dkimpy's own pure-Python signing of the same mails."""

from __future__ import annotations

import base64
import time
from dataclasses import replace

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mailbot import wiring
from mailbot.core.model import Document
from mailbot.outbound import compose, samples
from mailbot.outbound.dkim import SIGNED_HEADERS, Signer

from conftest import make_config

LOCALES = ("nl", "fr", "it")


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_file(tmp_path_factory, key):
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    # PKCS#1 ("BEGIN RSA PRIVATE KEY"), as opendkim-genkey writes it; PKCS#8 in the relay test.
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def dns(key):
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def lookup(name, timeout=5):
        return record if name == b"mb2026._domainkey.bot.example." else None
    return lookup


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    """The raw bytes of every sample mail in every locale, built by compose as it sends them;
    every third with two attachments, every other one in a thread, some with a long accented
    subject that compose folds into several encoded words."""
    app = wiring.build(make_config(tmp_path_factory.mktemp("mails")))
    docs = [Document(d.name, app.attachments.save(b"%PDF-1.4 " + d.name.encode() * 3000),
                     d.content_type, 0) for d in (samples.INVOICE, samples.TRACKING)]
    out = []
    for locale in LOCALES:
        for i, (sample, ctx) in enumerate(samples.contexts(app, app.db(), locale)):
            rendered = app.renderer.render(sample.name, locale, ctx)
            if i % 4 == 1:
                rendered = replace(rendered, subject=rendered.subject + " — réponse très urgente"
                                   " à propos de la commande numéro 2026-10481, s'il vous plaît")
            rcpt = compose.Recipients(("koper@buyer.example", "winkel@shop.example"), locale)
            thread = [f"<t{n}-{i}@bot.example>" for n in range(3)] if i % 2 else []
            out.append(compose.build(app, rendered, rcpt, "reply+x@bot.example",
                                     f"<m{i}-{locale}@bot.example>", thread, samples.NOW,
                                     docs if i % 3 == 0 else ()))
    app.close()
    return out


def _tags(signed: bytes) -> dict:
    header = signed.split(b"DKIM-Signature:", 1)[1].split(b"\r\nFrom:")[0]
    return dict(t.strip().split(b"=", 1) for t in b"".join(header.split()).split(b";") if t)


def test_every_mail_we_write_verifies_with_dkimpy(mails, key_file, dns):
    signer = Signer("bot.example", "mb2026", key_file)
    assert len(mails) >= 3 * 30
    assert any(b"Content-Disposition: attachment" in m for m in mails)
    assert any(b"?=\r\n =?utf-8?b?" in m for m in mails)  # a folded encoded Subject
    assert any(b"\r\nReferences: " in m for m in mails)
    for raw in mails:
        signed = signer.sign(raw)
        assert signed.endswith(raw)
        assert dkim.verify(signed, dnsfunc=dns), signed[:600]
        tags = _tags(signed)
        assert (tags[b"a"], tags[b"c"], tags[b"d"], tags[b"s"]) == (
            b"rsa-sha256", b"relaxed/relaxed", b"bot.example", b"mb2026")
        assert tags[b"h"].split(b":") == list(SIGNED_HEADERS)
        head = signed.split(b"\r\n\r\n", 1)[0]
        assert max(map(len, head.split(b"\r\n")[:12])) <= 78  # RFC 5322 §2.1.1


def test_a_changed_header_or_body_no_longer_verifies(mails, key_file, dns):
    signed = Signer("bot.example", "mb2026", key_file).sign(mails[0])
    for old, new in [(b"\r\nSubject: ", b"\r\nSubject: URGENT "),
                     (b"\r\nReply-To: reply+x", b"\r\nReply-To: thief+x"),
                     (b"\r\nTo: ", b"\r\nCc: someone@else.example\r\nTo: "),  # absent, signed
                     (b"=C2=A0", b"=C2=A0 pay to IBAN NL00 EVIL 0000 0000 00 ")]:
        assert old in signed
        assert not dkim.verify(signed.replace(old, new, 1), dnsfunc=dns), old


def test_what_relays_do_to_whitespace_still_verifies(key_file, dns):
    raw = (b"From: Kopersbescherming <bot@bot.example>\r\nTo: a@buyer.example,\r\n"
           b"\tb@buyer.example\r\nSubject:   Uw  zaak \t NL-1  \r\nX-Other: one\r\n"
           b"Subject: not this one, the last is signed\r\nDate: Mon, 23 Nov 2026 13:02:00 +0000"
           b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"Beste koper,  \r\n\r\nuw zaak\t is geopend.\r\n\r\n\r\n")
    signed = Signer("bot.example", "mb2026", key_file).sign(raw)
    assert dkim.verify(signed, dnsfunc=dns)
    refolded = (signed.replace(b"To: a@buyer.example,\r\n\tb@", b"To: a@buyer.example, b@")
                .replace(b"Subject:   Uw  zaak", b"Subject: Uw\r\n zaak")
                .replace(b"Beste koper,  \r\n", b"Beste koper,\r\n")
                .replace(b"is geopend.\r\n\r\n\r\n", b"is geopend.\r\n"))
    assert refolded != signed and dkim.verify(refolded, dnsfunc=dns)
    assert dkim.verify(signed.replace(b"\r\n", b"\n"), dnsfunc=dns)  # a relay's bare LFs
    for empty in (b"", b"\r\n", b"  \r\n\r\n"):
        head = raw.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
        assert dkim.verify(Signer("bot.example", "mb2026", key_file).sign(head + empty),
                           dnsfunc=dns), empty


def test_signing_costs_a_fraction_of_dkimpys(mails, key_file):
    """CPU time of both signers on the same mails in the same run (a ratio, so the shared
    machine's load cancels out): dkimpy does RSA in pure Python, 13-15 ms a mail."""
    signer, pem = Signer("bot.example", "mb2026", key_file), key_file.read_bytes()
    batch = mails[:12]

    def cpu(fn):
        start = time.process_time()
        for raw in batch:
            fn(raw)
        return time.process_time() - start

    ours = min(cpu(signer.sign) for _ in range(3))
    theirs = min(cpu(lambda raw: dkim.sign(raw, b"mb2026", b"bot.example", pem,
                                           canonicalize=(b"relaxed", b"relaxed"),
                                           include_headers=list(SIGNED_HEADERS)))
                 for _ in range(2))
    assert ours < 0.25 * theirs, (ours, theirs)


def test_a_key_that_is_not_rsa_is_refused_in_one_line(tmp_path):
    path = tmp_path / "ec.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path.chmod(0o600)
    with pytest.raises(ValueError) as refused:
        Signer("bot.example", "s", path)
    assert str(refused.value) == (f"[dkim] key_file {path} holds no unencrypted RSA private key "
                                  "in PEM")
    path.write_bytes(b"not a key")
    with pytest.raises(ValueError, match="holds no unencrypted RSA private key"):
        Signer("bot.example", "s", path)


def test_the_key_is_checked_once_per_process_and_a_rotated_key_is_used_at_once(tmp_path, dns,
                                                                                key_file):
    """The transport, and with it a Signer, is made for every delivery run (every 2 s and after
    each intake); OpenSSL's check of a 2048-bit key costs ~40 ms, dkimpy's signing did none."""
    path = tmp_path / "dkim.pem"
    first = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(first.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    path.chmod(0o600)
    start = time.process_time()
    Signer("bot.example", "mb2026", path)
    checked = time.process_time() - start
    start = time.process_time()
    for _ in range(20):
        signer = Signer("bot.example", "mb2026", path)
    assert time.process_time() - start < checked, (checked, time.process_time() - start)
    raw = b"From: bot@bot.example\r\nSubject: x\r\n\r\nbody\r\n"
    assert not dkim.verify(signer.sign(raw), dnsfunc=dns)  # not the key in DNS yet
    path.write_bytes(key_file.read_bytes())  # rotation to the key in DNS: same file, new bytes
    assert dkim.verify(Signer("bot.example", "mb2026", path).sign(raw), dnsfunc=dns)
