"""DKIM signatures (RFC 6376) on outbound mail, RSA-SHA256 through OpenSSL, at the moment of sending.

The big mailbox providers file unsigned mail as spam; DMARC (RFC 7489) passes when the ``d=``
domain is the domain of ``From``, so the signing domain is the bot's own domain. Relaxed/relaxed
canonicalization survives the header refolding and whitespace changes of relays. The outbox keeps
the unsigned bytes: a mail retried after a key rotation is signed with the key of that day.
Canonicalization and hashing are a few C-level regex and hash passes here; the RSA operation is
the ``cryptography`` package's (OpenSSL). dkimpy signed the same way but did RSA in pure Python,
13-15 ms a mail, most of a delivery run (bench/dkim.py); the tests verify our signatures with it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .. import private_files

# The headers a DMARC receiver and a reader rely on (RFC 6376 §5.4.1); a header named here but
# absent from a mail is signed as absent, so nobody can add it on the way.
SIGNED_HEADERS = (b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"reply-to",
                  b"in-reply-to", b"references", b"mime-version", b"content-type",
                  b"content-transfer-encoding", b"auto-submitted")

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:", re.MULTILINE)
_WSP = re.compile(rb"[\t ]+")
_TRAILING_WSP = re.compile(rb"[\t ]+\r\n")
B64_LINE = 72  # characters of b= a line
# h= folded between names (FWS is allowed around its colons, RFC 6376 §3.5).
_H_TAG = b":\r\n  ".join(b":".join(SIGNED_HEADERS[i:j]) for i, j in ((0, 5), (5, 9), (9, None)))


class Signer:
    def __init__(self, domain: str, selector: str, key_file: str | Path):
        self.domain, self.selector = domain.encode("ascii"), selector.encode("ascii")
        # Read at every opening of the transport, so that a rotated key is used at once.
        key = _private_key(private_files.read(key_file, "[dkim] key_file"))
        if key is None:  # a bad key stops the delivery run in one line
            raise ValueError(f"[dkim] key_file {key_file} holds no unencrypted RSA private key "
                             "in PEM")
        self._key = key

    def sign(self, raw: bytes, now: float | None = None) -> bytes:
        """``raw`` with a ``DKIM-Signature`` header in front (``now``: the t= tag, Unix time)."""
        match = _HEADER_END.search(raw)
        head, body = (raw[:match.start()], raw[match.end():]) if match else (raw, b"")
        body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest())
        stamp = str(int(time.time() if now is None else now)).encode("ascii")
        # One group of tags a line, so that no line passes 78 characters (RFC 5322 §2.1.1).
        tags = b";\r\n ".join([
            b"v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + self.domain,
            b"i=@" + self.domain + b"; q=dns/txt; s=" + self.selector + b"; t=" + stamp,
            b"h=" + _H_TAG, b"bh=" + body_hash, b"b="])
        # RFC 6376 §3.7: the signed header fields, then the signature field itself with an empty
        # b= and without its final CRLF.
        data = b"".join(_signed_fields(head)) + b"dkim-signature:" + _relaxed_value(tags)
        signature = base64.b64encode(self._key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
        folded = b"\r\n ".join(signature[i:i + B64_LINE]
                               for i in range(0, len(signature), B64_LINE))
        return b"DKIM-Signature: " + tags + folded + b"\r\n" + raw


@functools.lru_cache(maxsize=4)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey | None:
    """The key in ``pem`` (PKCS#1 or PKCS#8), checked once per process and key: OpenSSL's check
    of an RSA key costs ~40 ms of CPU for 2048 bits, and the transport is opened for every
    delivery run (every 2 s, and after each intake that queued mail)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, rsa.RSAPrivateKey) else None


def _signed_fields(head: bytes) -> list[bytes]:
    """The relaxed form (RFC 6376 §3.4.2) of each header field named in SIGNED_HEADERS, each
    name taken once from the bottom up (§5.4.2), in the order of SIGNED_HEADERS."""
    starts = [(m.start(), m.group(1).lower()) for m in _FIELD.finditer(head)]
    last = {}
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(head)
        last[name] = (start, end)
    out = []
    for name in SIGNED_HEADERS:
        if name in last:
            start, end = last[name]
            field = head[start:end]
            value = field[field.index(b":") + 1:]
            out.append(name + b":" + _relaxed_value(value) + b"\r\n")
    return out


def _relaxed_value(value: bytes) -> bytes:
    # Unfold, squeeze runs of WSP to one space, strip both ends (§3.4.2).
    return _WSP.sub(b" ", _LINE_END.sub(b"", value)).strip()


def _relaxed_body(body: bytes) -> bytes:
    """RFC 6376 §3.4.4: no WSP at line ends, runs of WSP as one space, no empty lines at the end;
    a body that is empty stays empty, any other ends with one CRLF. Each pass runs only when a
    byte search finds work for it: our bodies are CRLF, quoted-printable and base64, so most
    passes are skipped and a mail with attachments costs a few memchr scans."""
    if body.count(b"\n") != body.count(b"\r\n"):
        body = _LINE_END.sub(b"\r\n", body)
    body += b"\r\n"
    if b"\t" in body or b"  " in body:
        body = _WSP.sub(b" ", body)
    if b" \r\n" in body:
        body = _TRAILING_WSP.sub(b"\r\n", body)
    end = len(body)
    while body.endswith(b"\r\n\r\n", 0, end):
        end -= 2
    return b"" if end == 2 else body[:end]
