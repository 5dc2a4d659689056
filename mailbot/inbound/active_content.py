"""Active content inside documents of an allowed kind: what would run, fetch or open something when
the other party opens the file, found without running a viewer.

PDF (ISO 32000-1 §12.6): an action that runs JavaScript, launches a program, opens another file
(``/GoToR``, ``/GoToE``), imports data or plays rich media, and embedded files; names are matched
also when written with ``#xx`` escapes (§7.3.5), and dictionaries packed into compressed object
streams (``/ObjStm``, §7.5.7) are inflated -- within a byte budget -- and read too; a stream that
cannot be inflated cannot be vouched for. Links (``/URI``) and ``/OpenAction`` by themselves
(which page to open) are ordinary. OOXML (ECMA-376 Part 2 §9.3): a relationship to something
outside the file other than a hyperlink (a remote template, an external OLE object, a linked
image that reports the opening) and a macro-enabled content type; Excel 4.0 macro sheets; programs
and shortcuts carried as entries. Every read is bounded: entry sizes are checked in the ZIP
directory before anything is decompressed.

CSV cells that start with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) are formulas
to a spreadsheet (OWASP "CSV Injection"): such cells are neutralised with a leading ``'``, as
OWASP recommends, rather than the file refused; numbers (``-12,50``) are left as they are.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib

from lxml import etree

# PDF names whose presence makes a document active.
_PDF_ACTIVE = ("JavaScript", "JS", "Launch", "GoToR", "GoToE", "ImportData", "RichMedia",
               "EmbeddedFile", "EmbeddedFiles")
_PDF_INFLATE_BYTES = 32 * 1024 * 1024  # object streams hold dictionaries, not images
_PDF_OBJECT_STREAMS = 200  # a large report has a few dozen
# Relationship targets outside the package that only link (ECMA-376 hyperlink relationships).
_LINK_TYPES = ("/hyperlink",)
_RELS_BYTES = 1024 * 1024  # one .rels part: a list of a few dozen relationships
_ENTRY_PROGRAMS = (
    ".exe", ".dll", ".jar", ".js", ".jse", ".vbs", ".vbe", ".wsf", ".wsh", ".bat", ".cmd",
    ".ps1", ".psm1", ".zip", ".lnk", ".hta", ".scr", ".com", ".pif", ".msi", ".msp", ".cpl",
    ".reg", ".chm", ".url", ".iso", ".img", ".vhd", ".vhdx", ".one", ".xll", ".application",
    ".gadget", ".sct", ".inf", ".msc", ".jnlp", ".hlp", ".appx", ".msix", ".settingcontent-ms",
    ".library-ms", ".scf", ".ocx", ".sys", ".drv")
# Entries that hold code or foreign objects: VBA projects and ActiveX (MS-OFFMACRO), embedded OLE
# objects, Excel 4.0 macro sheets, OpenDocument Basic and scripts (ODF 1.2 §3.15). Names only:
# printer settings (``printerSettings1.bin``) are inert and common in spreadsheets.
_ENTRY_PARTS = ("vbaproject", "vbadata", "activex", "oleobject", "embeddings/", "macrosheets/",
                "basic/", "scripts/")
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d[\d.,' ]*$")


def _escapable(name: str) -> bytes:
    """A regular expression for the PDF name ``/name``, each character also as ``#xx``."""
    return b"/" + b"".join(
        b"(?:%s|#%s)" % (re.escape(c.encode()), "".join(
            f"[{h.lower()}{h.upper()}]" if h.isalpha() else h
            for h in f"{ord(c):02x}").encode()) for c in name) + rb"(?![A-Za-z0-9#._-])"


_PDF_ACTIVE_NAME = re.compile(b"|".join(_escapable(name) for name in _PDF_ACTIVE))
_PDF_OBJECT_STREAM = re.compile(_escapable("ObjStm"))
_PDF_STREAM = re.compile(rb"stream\r?\n")


def pdf_is_active(data: bytes) -> bool:
    """True when the PDF holds an action or file that runs or opens something (see above)."""
    if _PDF_ACTIVE_NAME.search(data):
        return True
    budget, view = _PDF_INFLATE_BYTES, memoryview(data)
    for count, found in enumerate(_PDF_OBJECT_STREAM.finditer(data)):
        stream = _PDF_STREAM.search(data, found.end(), found.end() + 4096)
        if count >= _PDF_OBJECT_STREAMS or stream is None or budget <= 0:
            return True  # packed dictionaries we cannot read: not a document we can vouch for
        end = data.find(b"endstream", stream.end(), stream.end() + budget)
        packed = view[stream.end():end if end != -1 else stream.end() + budget]
        try:
            inflated = zlib.decompressobj().decompress(packed, budget)
        except zlib.error:
            return True
        budget -= len(inflated) + len(packed)
        if _PDF_ACTIVE_NAME.search(inflated):
            return True
    return False


def ooxml_is_active(archive: zipfile.ZipFile) -> bool:
    """True when an OOXML or OpenDocument package carries code, programs, a macro-enabled content
    type, or a relationship to something outside it other than a hyperlink."""
    infos = archive.infolist()
    names = [info.filename.lower() for info in infos]
    if any(part in n for n in names for part in _ENTRY_PARTS) or any(
            n.endswith(_ENTRY_PROGRAMS) for n in names):
        return True
    for info, name in zip(infos, names):
        if not (name.endswith(".rels") or name == "[content_types].xml"):
            continue
        if info.file_size > _RELS_BYTES:
            return True  # no real list of relationships is this long
        with archive.open(info) as part:
            content = part.read(_RELS_BYTES + 1)
        if name == "[content_types].xml":
            if b"macroenabled" in content.lower():
                return True
            continue
        try:
            root = etree.fromstring(content, _XML)
        except etree.XMLSyntaxError:
            return True  # unreadable relationships: not a package we can vouch for
        for relationship in root.iter("{*}Relationship"):
            if (relationship.get("TargetMode") or "").lower() == "external" and not (
                    relationship.get("Type") or "").lower().endswith(_LINK_TYPES):
                return True
    return False


def neutral_csv(data: bytes) -> bytes | None:
    """``data`` with every formula cell prefixed by ``'``; None when it is no readable CSV."""
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:  # windows-1252 or another 8-bit set: latin-1 gives the bytes back
        text, encoding = data.decode("latin-1"), "latin-1"
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if "\r\n" in text[:4096]
                        else "\n")
    changed = False
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells = []
            for cell in row:
                if cell.startswith(_FORMULA_START) and not _NUMBER.match(cell):
                    cell, changed = "'" + cell, True
                cells.append(cell)
            writer.writerow(cells)
    except csv.Error:  # a field beyond the csv module's limit, a NUL: no CSV we can clean
        return None
    if not changed:
        return data  # byte for byte as sent
    return out.getvalue().encode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else encoding)

