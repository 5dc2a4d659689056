"""Which attachments a party may send as documents, and under what name they are kept.

Executables and scripts are refused (a trust service must never pass malware from one party to
the other); inline images with a Content-ID are signature logos, not documents; names lose any
path and control characters; count and size are capped.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.model import Document
from .parse import Attachment

MAX_DOCUMENTS = 10
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
REFUSED_EXTENSIONS = {
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "jar", "js", "jse",
    "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "sh", "bash", "app", "apk", "hta", "lnk", "reg",
    "iso", "img", "html", "htm", "svg", "xhtml", "docm", "xlsm", "pptm",
}
REFUSED_TYPES = ("application/x-msdownload", "application/x-dosexec", "application/x-sh",
                 "application/javascript", "text/javascript", "application/x-executable",
                 "text/html", "image/svg+xml")


@dataclass(frozen=True)
class Refusal:
    name: str
    why: str  # "type", "size" or "count"


def safe_name(name: str) -> str:
    """A display name with no path, no control characters and a sane length."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*').strip(" .")
    return name[:120] or "document"


def screen(attachments: list[Attachment], save) -> tuple[tuple[Document, ...], list[Refusal]]:
    """Stores the acceptable attachments with ``save(bytes) -> sha256``; names the others."""
    kept, refused = [], []
    for attachment in attachments:
        name = safe_name(attachment.name)
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension in REFUSED_EXTENSIONS or attachment.content_type in REFUSED_TYPES \
                or attachment.data[:2] == b"MZ":  # a Windows executable, whatever its name
            refused.append(Refusal(name, "type"))
        elif len(attachment.data) > MAX_DOCUMENT_BYTES:
            refused.append(Refusal(name, "size"))
        elif len(kept) >= MAX_DOCUMENTS:
            refused.append(Refusal(name, "count"))
        else:
            sha = save(attachment.data)
            kept.append(Document(name, sha, attachment.content_type, len(attachment.data)))
    return tuple(kept), refused
