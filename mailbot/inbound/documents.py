"""Which attachments a party may send as documents, and under what name they are kept.

A trust service must never pass malware from one party to the other, and a list of forbidden
extensions always misses one (``.chm``, ``.xll``, ``.url``, ``.vhd``, ``.one``...). So documents
are an allow-list: PDF, photos and scans, office documents of the formats that cannot hold macros
(OOXML and OpenDocument), plain text and CSV. The file's first bytes must be what its extension
says, and an office file (a ZIP container) is refused when it carries macros, ActiveX or embedded
objects -- read from its directory alone, with the entry count checked before the directory is
read. Archives (ZIP, RAR, 7z...) are refused: what is inside cannot be checked when encrypted,
and every document they could carry can be attached directly. A document is kept with the content
type of its kind, never the one the sender declared. Inline images with a Content-ID are
signature logos and never reach this module (``parse``); names lose any path and control
characters; count and size are capped, and a refusal notice names at most ``MAX_LISTED`` files.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass

from ..core.model import Document
from ..limits import MAX_DOCUMENT_BYTES, MAX_DOCUMENTS
from .parse import Attachment

MAX_LISTED = 20  # names in one refusal notice; the rest is counted in one line
MAX_ZIP_ENTRIES = 2000  # an office file has dozens


def _is_text(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" not in head and head[:2] != b"MZ"


def _zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
# extension -> (content type kept, test of the first bytes)
KINDS = {
    "pdf": ("application/pdf", lambda d: b"%PDF-" in d[:1024]),  # ISO 32000 allows junk before
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
# Entries of an office file that hold code or foreign objects: VBA projects and ActiveX (OOXML,
# ECMA-376 / MS-OFFMACRO), embedded OLE objects, OpenDocument Basic and scripts (ODF 1.2 §3.15).
# Names only: printer settings (``printerSettings1.bin``) are inert and common in spreadsheets.
_ACTIVE_PARTS = ("vbaproject", "vbadata", "activex", "oleobject", "embeddings/", "basic/",
                 "scripts/")
_PROGRAMS = (".exe", ".dll", ".jar", ".js", ".vbs", ".bat", ".cmd", ".ps1", ".zip")


@dataclass(frozen=True)
class Refusal:
    name: str
    why: str  # "type", "size" or "count"


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
        if kind is None:
            refused.append(Refusal(name, "type"))
        elif len(attachment.data) > MAX_DOCUMENT_BYTES:
            refused.append(Refusal(name, "size"))
        elif len(kept) >= MAX_DOCUMENTS:
            refused.append(Refusal(name, "count"))
        else:
            extension, content_type = kind
            if not name.lower().endswith("." + extension):
                name = f"{name}.{extension}"
            sha = save(attachment.data)
            kept.append(Document(name, sha, content_type, len(attachment.data)))
    more = len(refused) - MAX_LISTED + unread
    if more > 0:
        # Language-neutral, so that the notice needs no new sentence: "… (+99990)".
        refused = refused[:MAX_LISTED] + [Refusal(f"… (+{more})", "count")]
    return tuple(kept), refused


def _kind(name: str, attachment: Attachment) -> tuple[str, str] | None:
    """(extension, content type) of an acceptable document, or None."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not extension:
        extension = _EXTENSION_OF_TYPE.get(attachment.content_type, "")
    if extension not in KINDS:
        return None
    content_type, looks_right = KINDS[extension]
    data = attachment.data
    if not looks_right(data):
        return None
    if extension in _OFFICE and not _inert_office_file(data):
        return None
    return extension, content_type


def _inert_office_file(data: bytes) -> bool:
    """An OOXML or OpenDocument file without macros, ActiveX or embedded objects."""
    if not 0 < _zip_entries(data) <= MAX_ZIP_ENTRIES:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n.lower() for n in archive.namelist()]  # nothing is decompressed
    except Exception:  # not a readable container: not a document we can vouch for
        return False
    return not any(part in n for n in names for part in _ACTIVE_PARTS) \
        and not any(n.endswith(_PROGRAMS) for n in names)


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
