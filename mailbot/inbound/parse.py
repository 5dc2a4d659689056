"""Turning raw bytes into the facts intake needs: addresses, thread headers, text, documents.

Parsing never raises for bad mail: headers that do not parse read as empty, unknown or wrong
charsets are decoded best-effort (UTF-8, then Latin-1, which maps every byte), and an HTML-only
body is turned into text with its quoted blocks dropped (``reply.html_to_text``).
"""

from __future__ import annotations

import email
import email.header
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr

from .reply import html_to_text

MAX_HEADER_BYTES = 64 * 1024  # beyond this the header block is not parsed (CPython gh-136063)


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class Parsed:
    message_id: str
    sender: str  # the From address, lower-cased
    subject: str
    in_reply_to: list[str]
    recipients: list[str]  # To and Cc addresses
    text: str  # the whole body as text (quotes included; ``reply.new_text`` trims)
    headers: Message
    attachments: list[Attachment] = field(default_factory=list)


_MSGID = re.compile(r"<[^<>\s]+>")


def parse(raw: bytes) -> Parsed:
    head_end = raw.find(b"\r\n\r\n")
    if head_end == -1:
        head_end = raw.find(b"\n\n")
    if head_end > MAX_HEADER_BYTES or (head_end == -1 and len(raw) > MAX_HEADER_BYTES):
        raise ValueError("header block too large")
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    text, html, attachments = "", "", []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = str(part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        try:
            filename = _header_text(part.get_filename() or "")
        except Exception:  # a malformed filename parameter: keep the part, nameless
            filename = ""
        if disposition == "attachment" or (filename and not ctype.startswith("text/")):
            if disposition == "inline" and part.get("Content-ID"):
                continue  # an inline image (a logo in a signature), not a document
            attachments.append(Attachment(filename or "document", ctype, _payload(part)))
        elif ctype == "text/plain" and not text:
            text = _decode(part)
        elif ctype == "text/html" and not html:
            html = _decode(part)
    if not text.strip() and html:
        text = html_to_text(html)
    return Parsed(
        message_id=_header(msg, "Message-ID").strip(),
        sender=parseaddr(_header(msg, "From"))[1].lower(),
        subject=_header(msg, "Subject"),
        in_reply_to=_MSGID.findall(_header(msg, "In-Reply-To") + " " + _header(msg, "References")),
        recipients=[a.lower() for _, a in getaddresses(
            [_header(msg, "To"), _header(msg, "Cc")]) if a],
        text=text.replace("\r\n", "\n"),
        headers=msg,
        attachments=attachments,
    )


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop the mail
        return ""
    return _header_text(value) if value is not None else ""


def _header_text(value) -> str:
    """An RFC 2047 encoded header as text, best-effort."""
    try:
        parts = email.header.decode_header(str(value))
    except Exception:
        return str(value)
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(_bytes_to_text(chunk, charset))
        else:
            out.append(chunk)
    return "".join(out).replace("\r", " ").replace("\n", " ")


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _decode(part: Message) -> str:
    return _bytes_to_text(_payload(part), part.get_content_charset())


def _bytes_to_text(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")
