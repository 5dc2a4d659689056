"""Which attachments a party may send as documents, and under what name they are kept.

A trust service must never pass malware from one party to the other, and a list of forbidden
extensions always misses one (``.chm``, ``.xll``, ``.url``, ``.vhd``, ``.one``...). So documents
are an allow-list: PDF, photos and scans, office documents of the formats that cannot hold macros
(OOXML and OpenDocument), plain text and CSV. The file's first bytes must be what its extension
says, and a document that would run, fetch or open something when opened is refused for that
(``active_content``: PDF JavaScript and launch actions, office files with macros, ActiveX, embedded
objects, remote templates, programs inside -- an office file's entry count is checked before its
directory is read); a PDF whose first bytes hold HTML is no PDF; CSV formula cells are neutralised.
The refusal names its reason, in the sender's language. Archives (ZIP, RAR, 7z...) are refused:
what is inside cannot be checked when encrypted, and every document they could carry can be
attached directly. A document is kept with the content type of its kind, never the one the sender
declared. Inline images with a Content-ID are signature logos and never reach this module
(``parse``); names lose any path and control characters; count and size are capped, and a refusal
notice names at most ``MAX_LISTED`` files.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass

from ..core.model import Document
from ..limits import MAX_DOCUMENT_BYTES, MAX_DOCUMENTS
from . import active_content
from .parse import Attachment

MAX_LISTED = 20  # names in one refusal notice; the rest is counted in one line
MAX_ZIP_ENTRIES = 2000  # an office file has dozens


def _is_text(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" not in head and head[:2] != b"MZ"


def _zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


# Markup a browser or mail client would render (WHATWG MIME Sniffing §7.1, "text/html" patterns).
_HTML = re.compile(rb"<\s*(?:!doctype|html|head|body|script|iframe|svg|object|embed|meta|a\s|img|"
                   rb"style|title|table|div|p[\s>]|br|h1|font|b[\s>]|!--)", re.I)


def _pdf_header(data: bytes) -> bool:
    """"%PDF-" within the first 1024 bytes (ISO 32000 lets junk come before it), and no HTML
    there: a web page named .pdf that carries the marker in a comment is no PDF."""
    head = data[:1024]
    return b"%PDF-" in head and not _HTML.search(head)


_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
# extension -> (content type kept, test of the first bytes)
KINDS = {
    "pdf": ("application/pdf", lambda d: _pdf_header(d)),
    "jpg": ("image/jpeg", lambda d: d[:2] == b"\xff\xd8"),  # the SOI marker (ITU T.81)
    "jpeg": ("image/jpeg", lambda d: d[:2] == b"\xff\xd8"),
    "png": ("image/png", lambda d: d[:8] == b"\x89PNG\r\n\x1a\n"),
    "gif": ("image/gif", lambda d: d[:6] in (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP"),
    "heic": ("image/heic", lambda d: d[4:8] == b"ftyp" and d[8:12] in _HEIF_BRANDS),
    "heif": ("image/heif", lambda d: d[4:8] == b"ftyp" and d[8:12] in _HEIF_BRANDS),
    "tif": ("image/tiff", lambda d: d[:4] in (b"II*\x00", b"MM\x00*")),
    "tiff": ("image/tiff", lambda d: d[:4] in (b"II*\x00", b"MM\x00*")),
    "bmp": ("image/bmp", lambda d: d[:2] == b"BM"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _zip),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _zip),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _zip),
    "odt": ("application/vnd.oasis.opendocument.text", _zip),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _zip),
    "odp": ("application/vnd.oasis.opendocument.presentation", _zip),
    "txt": ("text/plain", _is_text),
    "csv": ("text/csv", _is_text),
}
# A nameless attachment (a phone's photo, a scanner's PDF) is named for its declared type.
_EXTENSION_OF_TYPE = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png",
                      "image/gif": "gif", "image/webp": "webp", "image/heic": "heic",
                      "image/tiff": "tiff"}
_OFFICE = {"docx", "xlsx", "pptx", "odt", "ods", "odp"}


@dataclass(frozen=True)
class Refusal:
    name: str
    why: str  # "type", "active", "size" or "count"


def safe_name(name: str) -> str:
    """A display name with no path, no control characters and a sane length."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*').strip(" .")
    return name[:120] or "document"


def screen(attachments: list[Attachment], save, unread: int = 0
           ) -> tuple[tuple[Document, ...], list[Refusal]]:
    """Stores the acceptable attachments with ``save(bytes) -> sha256``; names the others.

    ``unread`` counts MIME parts the parser did not read (``Parsed.parts_skipped``): they are
    refused unseen, in the notice's last line with the refusals beyond ``MAX_LISTED``.
    """
    kept, refused = [], []
    for attachment in attachments:
        name = safe_name(attachment.name)
        kind = _kind(name, attachment)
        data = attachment.data
        if isinstance(kind, tuple) and kind[0] == "csv" and len(data) <= MAX_DOCUMENT_BYTES:
            data = active_content.neutral_csv(data)
            kind = "active" if data is None else kind  # formulas we could not neutralise
        if kind is None:
            refused.append(Refusal(name, "type"))
        elif kind == "active" or data is None:
            refused.append(Refusal(name, "active"))
        elif len(data) > MAX_DOCUMENT_BYTES:
            refused.append(Refusal(name, "size"))
        elif len(kept) >= MAX_DOCUMENTS:
            refused.append(Refusal(name, "count"))
        else:
            extension, content_type = kind
            if not name.lower().endswith("." + extension):
                name = f"{name}.{extension}"
            sha = save(data)
            kept.append(Document(name, sha, content_type, len(data)))
    more = len(refused) - MAX_LISTED + unread
    if more > 0:
        # Language-neutral, so that the notice needs no new sentence: "… (+99990)".
        refused = refused[:MAX_LISTED] + [Refusal(f"… (+{more})", "count")]
    return tuple(kept), refused


def _kind(name: str, attachment: Attachment) -> tuple[str, str] | str | None:
    """(extension, content type) of an acceptable document, "active" for one of an allowed kind
    that would run or open something, or None."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not extension:
        extension = _EXTENSION_OF_TYPE.get(attachment.content_type, "")
    if extension not in KINDS:
        return None
    content_type, looks_right = KINDS[extension]
    data = attachment.data
    if not looks_right(data):
        return None
    if len(data) > MAX_DOCUMENT_BYTES:
        return extension, content_type  # refused for its size, unread
    if extension in _OFFICE:
        active = _active_office_file(data)
        if active is None:
            return None  # not a container we can read: no document we can vouch for
        if active:
            return "active"
    if extension == "pdf" and active_content.pdf_is_active(data):
        return "active"
    return extension, content_type


def _active_office_file(data: bytes) -> bool | None:
    """Whether an OOXML or OpenDocument file would run or fetch something (``active_content``);
    None when it is no container we can read."""
    if not 0 < _zip_entries(data) <= MAX_ZIP_ENTRIES:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return active_content.ooxml_is_active(archive)
    except Exception:
        return None


def _zip_entries(data: bytes) -> int:
    """The entry count in the end of central directory record (APPNOTE 4.3.16); -1 if none.

    Read before ``zipfile`` reads the whole directory, so a crafted file with a million entries
    costs one search in its last 64 KB. Zip64 archives (the count 0xFFFF) are not office files.
    """
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if at == -1 or len(data) < at + 22:
        return -1
    (entries,) = struct.unpack("<H", data[at + 10:at + 12])
    return -1 if entries == 0xFFFF else entries
