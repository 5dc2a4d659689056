"""Turning raw bytes into the facts intake needs: addresses, thread headers, text, documents.

Header facts (sender, recipients, subject, Message-ID, thread headers) are read at once from the
header block alone, which is bounded by ``MAX_HEADER_BYTES``. The body is read only when intake
first asks for ``text`` or ``attachments``, so a mail that fails the cheap checks (token, sender,
robot screening) never costs more than its headers. The MIME structure is walked by our own
splitter rather than the standard library's line-by-line parser, whose cost per line and per
nesting level lets one 10 MB mail stall intake for minutes: boundaries are found with one byte
search per level, at most ``MAX_PARTS`` parts and ``MAX_DEPTH`` levels are read and the rest is
counted as skipped; part headers share one byte budget; the text handed on is cut at
``MAX_TEXT_CHARS`` (the HTML at ``MAX_HTML_CHARS``). Headers and transfer encodings are still read
by the standard library, but never unbounded: its parameter parser (``email.message._parseparam``)
is quadratic in the ``;`` after an unbalanced quote, so ``Content-Type`` and
``Content-Disposition`` are cut to ``MAX_PARAMETER_FIELD`` characters and ``MAX_PARAMETERS``
parameters before anyone reads a parameter (``bounded``). Cut, not refused: the mail is stored
whole for operators, and refusing it at DATA would bounce it to a forged sender once an MTA in
front has queued it.

Parsing never raises for bad mail: headers that do not parse read as empty, text is decoded with
its charset where that works (the Latin-1 and ASCII labels as windows-1252, as the WHATWG Encoding
Standard and every browser do), else as UTF-8, else as windows-1252; an HTML-only body is turned
into text with its quoted blocks dropped (``html_text.html_to_text``).
"""

from __future__ import annotations

import binascii
import codecs
import email.header
import email.parser
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses, parseaddr
from functools import cached_property

from .html_text import html_to_text

MAX_HEADER_BYTES = 64 * 1024  # beyond this the header block is not parsed (CPython gh-136063)
MAX_PARTS = 200  # MIME parts read per mail; real mail has a handful, a document folder dozens
MAX_DEPTH = 10  # nesting levels read: mixed > related > alternative, forwarded mail inside...
MAX_PART_HEADER_BYTES = 16 * 1024  # a part's own header block: a type, a name, an encoding
PART_HEADER_BUDGET = 256 * 1024  # header bytes of all parts and forwarded mails together
# A Content-Type or Content-Disposition: a type, a charset or boundary, a name (RFC 2231 may
# split a long one into ~78-character pieces); beyond these it is cut (issue 16 §1).
MAX_PARAMETER_FIELD = 4 * 1024
MAX_PARAMETERS = 64
_PARAMETER_FIELDS = ("content-type", "content-disposition")
# Any other field: an address list, a subject, the thread's Message-IDs. RFC 5322 §2.1.1 keeps a
# line within 998 characters; folded, a real field stays within a few lines (the standard
# library's address parser takes 0.2 s for 60 KB of "<").
MAX_FIELD = 8 * 1024
# What a person writes fits with room to spare, and the quoted history under it mostly does too;
# beyond this the text is cut (reply trimming, forms and the mails that relay the text cost time
# in proportion: 256 K characters took 0.5 s of trimming and 0.6 s of relaying).
MAX_TEXT_CHARS = 64 * 1024
# HTML handed to ``html_to_text`` when there is no plain text. HTML clients write above the quote,
# so a cut falls in the history that ``html_to_text`` drops anyway.
MAX_HTML_CHARS = 128 * 1024

_HEADERS = email.parser.BytesParser(policy=email.policy.compat32)
_MSGID = re.compile(r"<[^<>\s]+>")
# RFC 5322 §2.2: a field name and a colon; or the "From " line of an mbox copy.
_HEADER_LINE = re.compile(rb"From |[!-9;-~]{1,200}:")
# RFC 2046 §5.1.1: a delimiter line is "--" and the boundary at the start of a line; after it,
# "--" closes the multipart; transport padding (spaces, tabs) may follow before the line ends.
_DELIMITER_TAIL = rb"(--)?[ \t]*(?:\r\n|\n|\r|\Z)"
# WHATWG Encoding Standard: these labels all name windows-1252.
_WINDOWS_1252 = {"ascii", "us-ascii", "ansi_x3.4-1968", "csascii", "iso-8859-1", "iso8859-1",
                 "iso_8859-1", "iso88591", "iso_8859-1:1987", "iso-ir-100", "latin1", "latin-1",
                 "l1", "csisolatin1", "ibm819", "cp819", "cp1252", "x-cp1252", "windows-1252"}
# Codecs Python offers that are no mail charset; punycode decodes in quadratic time.
_NOT_CHARSETS = {"punycode", "idna", "undefined", "unicode-escape", "raw-unicode-escape"}


def _c1_controls(error: UnicodeDecodeError):
    # The five bytes Python's cp1252 leaves undefined are the C1 controls of the same number in
    # the WHATWG index, so windows-1252 decoding never fails.
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("mailbot-windows-1252", _c1_controls)


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Body:
    text: str
    html: str
    text_cut: bool
    attachments: list[Attachment]
    parts_skipped: int


class Parsed:
    """One inbound mail: header facts at once, body facts on first use."""

    def __init__(self, raw: bytes, headers: Message, body_start: int):
        self._raw, self._body_start = raw, body_start
        self.headers = headers  # the top-level header block only (no parts)
        self.message_id = _header(headers, "Message-ID").strip()
        self.sender = parseaddr(_header(headers, "From"))[1].lower()  # lower-cased
        self.subject = _header(headers, "Subject")
        self.in_reply_to = _MSGID.findall(
            _header(headers, "In-Reply-To") + " " + _header(headers, "References"))
        self.recipients = [a.lower() for _, a in getaddresses(  # To and Cc
            [_header(headers, "To"), _header(headers, "Cc")]) if a]

    @property
    def text(self) -> str:
        """The whole body as text (quotes included; ``reply.new_text`` trims)."""
        return self._body.text

    @property
    def html(self) -> str:
        """The first HTML part as it was sent (cut at MAX_HTML_CHARS), or ""."""
        return self._body.html

    @property
    def text_cut(self) -> bool:
        """True when the body was longer than MAX_TEXT_CHARS (or its HTML MAX_HTML_CHARS)."""
        return self._body.text_cut

    @property
    def attachments(self) -> list[Attachment]:
        return self._body.attachments

    @property
    def parts_skipped(self) -> int:
        """MIME parts beyond ``MAX_PARTS`` or ``MAX_DEPTH``, never read."""
        return self._body.parts_skipped

    @cached_property
    def _body(self) -> _Body:
        walk = _Walk(self._raw)
        walk.entity(self.headers, self._body_start, len(self._raw), 0)
        text, html = walk.text, walk.html
        cut = len(text) > MAX_TEXT_CHARS or (not text.strip() and len(html) > MAX_HTML_CHARS)
        if not text.strip() and html:
            text = html_to_text(html[:MAX_HTML_CHARS])
        text = text[:MAX_TEXT_CHARS].replace("\r\n", "\n")
        return _Body(text, html[:MAX_HTML_CHARS], cut, walk.attachments, walk.skipped)


def bounded(headers: Message) -> Message:
    """``headers`` with every field cut to ``MAX_FIELD`` characters (References keeps its end,
    where the mail it answers is named), and Content-Type and Content-Disposition, which the
    standard library reads parameters from, to ``MAX_PARAMETER_FIELD`` characters and
    ``MAX_PARAMETERS`` parameters: no address or parameter parser sees unbounded input."""
    # compat32 keeps the fields as (name, str) pairs in ``_headers``; rewritten in one pass, in
    # order, only when one is too long (``replace_header`` would cost a pass per field).
    fields = headers._headers
    if any(len(value) > MAX_PARAMETER_FIELD or value.count(";") > MAX_PARAMETERS
           for _, value in fields):
        headers._headers = [(name, _cut(name.lower(), value)) for name, value in fields]
    return headers


def _cut(name: str, value: str) -> str:
    if name in _PARAMETER_FIELDS:
        return ";".join(value[:MAX_PARAMETER_FIELD].split(";", MAX_PARAMETERS + 1)[
            :MAX_PARAMETERS + 1])
    return value[-MAX_FIELD:] if name == "references" else value[:MAX_FIELD]


def parse(raw: bytes) -> Parsed:
    """Reads the header block of ``raw``; raises ValueError only when it is too large to read."""
    headers, body_start = _read_headers(raw, 0, len(raw), MAX_HEADER_BYTES)
    if headers is None:
        raise ValueError("header block too large")
    return Parsed(raw, headers, body_start)


def _read_headers(raw: bytes, start: int, end: int, limit: int) -> tuple[Message | None, int]:
    """The header block of the entity at ``raw[start:end]`` and where its body starts.

    A header block that does not end within ``limit`` bytes is not read: None.
    """
    if raw.startswith(b"\n", start) or raw.startswith(b"\r\n", start):
        # No headers at all: the body starts after the empty line (RFC 5322 §2.1).
        return Message(), start + (1 if raw[start] == 0x0A else 2)
    stop = min(end, start + limit + 3)
    found = [i for i in (raw.find(b"\n\n", start, stop), raw.find(b"\n\r\n", start, stop))
             if i != -1]
    if found:
        head_end = min(found) + 1  # the header block keeps its last line break
        body_start = head_end + (1 if raw[head_end] == 0x0A else 2)
        if head_end - start > limit:
            return None, body_start
    elif stop < end or end - start > limit:
        return None, stop
    elif not _HEADER_LINE.match(raw, start, end):
        return Message(), start  # a part without headers and without the empty line
    else:
        head_end = body_start = end
    try:
        return bounded(_HEADERS.parsebytes(raw[start:head_end], headersonly=True)), body_start
    except Exception:  # a header block the parser cannot take: no headers
        return Message(), body_start


class _Walk:
    """One pass over the MIME tree, bounded by MAX_PARTS, MAX_DEPTH and PART_HEADER_BUDGET."""

    def __init__(self, raw: bytes):
        self.raw = raw
        self.text, self.html, self.attachments = "", "", []
        self.parts, self.skipped = 0, 0
        self.header_budget = PART_HEADER_BUDGET

    def entity(self, headers: Message, start: int, end: int, depth: int) -> None:
        self.parts += 1
        ctype = _content_type(headers)
        if ctype.startswith("multipart/"):
            boundary = _boundary(headers)
            if not (boundary and self._multipart(boundary, start, end, depth)):
                # No delimiter line at all (some mobile clients send that): the body is the
                # text, as Discourse and mail clients read it, not nothing.
                self._leaf(headers, "text/plain", start, end)
        elif ctype == "message/rfc822":
            # A forwarded mail: walked like ours, so that what it carries is screened too.
            self._child(start, end, depth, MAX_HEADER_BYTES)
        elif not ctype.startswith("message/"):  # delivery and feedback reports: no documents
            self._leaf(headers, ctype, start, end)

    def _multipart(self, boundary: bytes, start: int, end: int, depth: int) -> bool:
        """Walks the parts; False when there is no delimiter line at all."""
        found = False
        for part_start, part_end in self._bodies(boundary, start, end):
            found = True
            if self.parts >= MAX_PARTS:
                # The rest is counted, not split: one byte search for the delimiters left.
                self.skipped += self.raw.count(b"\n--" + boundary, part_end, end) or 1
                return True
            self._child(part_start, part_end, depth, MAX_PART_HEADER_BYTES)
        return found

    def _child(self, start: int, end: int, depth: int, limit: int) -> None:
        if depth + 1 >= MAX_DEPTH or self.parts >= MAX_PARTS:
            self.skipped += 1
            return
        headers, body_start = _read_headers(self.raw, start, end, min(limit, self.header_budget))
        if headers is None:
            self.skipped += 1  # headers beyond the part's or the mail's budget
            return
        self.header_budget -= body_start - start
        self.entity(headers, min(body_start, end), end, depth + 1)

    def _bodies(self, boundary: bytes, start: int, end: int):
        """(start, end) of each body part between delimiter lines; one regular-expression search
        per delimiter, so lines that only look like one (``--bb``, ``x--b``) cost no Python."""
        raw = self.raw
        # The literal first (the search skips to it in C), then: at the start of a line.
        literal = re.escape(b"--" + boundary)
        delimiter = re.compile(literal + rb"(?<![^\n]" + literal + rb")" + _DELIMITER_TAIL)
        part_start = None
        for found in delimiter.finditer(raw, start, end):
            i = found.start()
            if part_start is not None:
                # The line break before the delimiter belongs to the delimiter (RFC 2046).
                part_end = i - 1
                if part_end > part_start and raw[part_end - 1] == 0x0D:
                    part_end -= 1
                yield part_start, max(part_start, part_end)
            if found.group(1):
                return  # the close delimiter: what follows is the epilogue
            part_start = found.end()
        if part_start is not None and part_start < end:
            # No close delimiter: the last part runs to the end (of the mail, less its last
            # line break, as the standard library reads it).
            last = end
            if end == len(raw) and raw[end - 1] == 0x0A:
                last -= 2 if last - 1 > part_start and raw[end - 2] == 0x0D else 1
            yield part_start, last

    def _leaf(self, headers: Message, ctype: str, start: int, end: int) -> None:
        disposition = str(headers.get("Content-Disposition") or "").split(";")[0].strip().lower()
        try:
            filename = _header_text(headers.get_filename() or "")
        except Exception:  # a malformed filename parameter: keep the part, nameless
            filename = ""
        if disposition == "attachment" or (filename and not ctype.startswith("text/")):
            if disposition == "inline" and headers.get("Content-ID"):
                return  # an inline image (a logo in a signature), not a document
            self.attachments.append(Attachment(filename or "document", ctype,
                                               _payload(headers, self.raw[start:end])))
        elif ctype == "text/plain" and not self.text:
            self.text = _bytes_to_text(_payload(headers, self.raw[start:end]),
                                       _charset(headers))
        elif ctype == "text/html" and not self.html:
            self.html = _bytes_to_text(_payload(headers, self.raw[start:end]), _charset(headers))


# Delivery reports are read by regular expressions per line (flufl.bounce's detectors) that are
# quadratic in a line's length, and cubic in its "<" (the Netscape detector's
# ``(please reply to)?.*<([^>]*)>``): what ``report_tree`` hands them is cut to this.
REPORT_TEXT_BYTES = 32 * 1024  # decoded body bytes of all leaves together
REPORT_LINE_BYTES = 256  # a Diagnostic-Code line is long; a line of a report is not longer
REPORT_LINE_ANGLES = 8  # "<" per line: an address or two, with a little room
REPORT_BLOCKS = 101  # per-message block and 100 per-recipient blocks (RFC 3464 §2)


def report_tree(raw: bytes) -> Message:
    """``raw`` as a standard-library message tree for the readers of delivery reports (RFC 3464
    fields, flufl.bounce), bounded like ``parse`` -- parts, depth, header bytes -- with each
    leaf's decoded body cut to ``REPORT_LINE_BYTES`` and ``REPORT_LINE_ANGLES`` per line and
    ``REPORT_TEXT_BYTES`` in all; a ``message/delivery-status`` body is a list of its blocks,
    as the standard library's parser makes it."""
    headers, body_start = _read_headers(raw, 0, len(raw), MAX_HEADER_BYTES)
    if headers is None:
        return Message()
    return _Tree(raw).entity(headers, body_start, len(raw), 0)


class _Tree(_Walk):
    """The MIME tree as ``Message`` objects, for ``report_tree``."""

    def __init__(self, raw: bytes):
        super().__init__(raw)
        self.text_budget = REPORT_TEXT_BYTES

    def entity(self, headers: Message, start: int, end: int, depth: int) -> Message:
        self.parts += 1
        ctype = _content_type(headers)
        if ctype.startswith("multipart/"):
            boundary = _boundary(headers)
            parts = []
            for part_start, part_end in self._bodies(boundary, start, end) if boundary else ():
                child = self._child(part_start, part_end, depth, MAX_PART_HEADER_BYTES)
                if child is None:
                    break
                parts.append(child)
            headers.set_payload(parts)
        elif ctype == "message/rfc822":
            child = self._child(start, end, depth, MAX_HEADER_BYTES)
            headers.set_payload([] if child is None else [child])
        else:
            # At most four times the budget is decoded (base64 is 4/3 of what it carries).
            body = self._lines(_payload(headers, self.raw[start:min(end, start + 4 * max(
                self.text_budget, 0))]))
            del headers["Content-Transfer-Encoding"]  # the payload is decoded now
            if ctype == "message/delivery-status":
                blocks = re.split(rb"\n[ \t]*\n", body.strip(b"\n"))[:REPORT_BLOCKS]
                headers.set_payload([_HEADERS.parsebytes(block + b"\n", headersonly=True)
                                     for block in blocks])
            else:
                headers.set_payload(body.decode("ascii", "surrogateescape"))
        return headers

    def _child(self, start: int, end: int, depth: int, limit: int) -> Message | None:
        if depth + 1 >= MAX_DEPTH or self.parts >= MAX_PARTS:
            return None
        headers, body_start = _read_headers(self.raw, start, end, min(limit, self.header_budget))
        if headers is None:
            return None
        self.header_budget -= body_start - start
        return self.entity(headers, min(body_start, end), end, depth + 1)

    def _lines(self, data: bytes) -> bytes:
        lines = []
        for line in data[:max(self.text_budget, 0)].splitlines():
            line = b"<".join(line[:REPORT_LINE_BYTES].split(b"<", REPORT_LINE_ANGLES + 1)[
                :REPORT_LINE_ANGLES + 1])
            lines.append(line)
        text = b"\n".join(lines) + b"\n" if lines else b""
        self.text_budget -= len(text)
        return text


def _content_type(headers: Message) -> str:
    try:
        return headers.get_content_type()
    except Exception:
        return "text/plain"


def _boundary(headers: Message) -> bytes:
    try:
        boundary = headers.get_boundary()
    except Exception:
        return b""
    try:
        return boundary.encode("ascii") if boundary else b""
    except UnicodeEncodeError:
        return boundary.encode("utf-8", "surrogateescape")


def _charset(headers: Message) -> str | None:
    try:
        return headers.get_content_charset()
    except Exception:
        return None


def _payload(headers: Message, body: bytes) -> bytes:
    """``body`` with its Content-Transfer-Encoding undone."""
    encoding = str(headers.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding in ("", "7bit", "8bit", "binary"):
        return body
    if encoding == "base64":
        try:
            # Skips line breaks and stray characters in one C pass (RFC 2045 §6.8).
            return binascii.a2b_base64(body)
        except binascii.Error:
            pass  # bad padding: the standard library repairs what it can
    part = Message()
    part["Content-Transfer-Encoding"] = encoding
    # compat32 keeps a body as text with undecodable bytes escaped, as its own parser does.
    part.set_payload(body.decode("ascii", "surrogateescape"))
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return body
    return data if isinstance(data, bytes) else body


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


def _bytes_to_text(data: bytes, charset: str | None) -> str:
    label = (charset or "").strip().lower()
    if label in _WINDOWS_1252:
        # Old clients label windows-1252 text (with its € and curly quotes) as Latin-1 or ASCII.
        return data.decode("cp1252", "mailbot-windows-1252")
    for candidate in (label, "utf-8"):
        try:
            if not candidate or codecs.lookup(candidate).name in _NOT_CHARSETS:
                continue
            return data.decode(candidate)
        except (LookupError, ValueError):  # UnicodeError is a ValueError
            continue
    return data.decode("cp1252", "mailbot-windows-1252")
