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
OWASP recommends, rather than the file refused; numbers (``-12,50``) are left as they are, and a
file without formula cells is kept byte for byte. One over 1 MB with formula cells is not
rewritten but refused (a statement or an order list is far smaller).
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
_PDF_INFLATE_BYTES = 8 * 1024 * 1024  # object streams hold dictionaries, not images
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
# A cell that may start a formula: after a delimiter or a line break (the first cell of the
# file is looked at with a line break in front), maybe in quotes.
_FORMULA_CELL = re.compile(rb"[,;\t\n][ ]*\"?[=+\-@\t\r]")
_CSV_REWRITE_BYTES = 1024 * 1024  # a statement or an order list; a larger one is not rewritten


# Each active name as a literal (a fast search in C), ending where a PDF name ends (§7.3.5).
_PDF_ACTIVE_NAME = re.compile(b"|".join(
    b"/" + name.encode() + rb"(?![A-Za-z0-9#._-])" for name in _PDF_ACTIVE))
_PDF_OBJECT_STREAM = re.compile(rb"/ObjStm(?![A-Za-z0-9#._-])")
_PDF_STREAM = re.compile(rb"stream\r?\n")
# A "#xx" escape, and the name around it; real files escape a few names (a font's "#20").
_PDF_ESCAPE = re.compile(rb"#[0-9A-Fa-f]{2}")
_PDF_NAME_AROUND = re.compile(rb"/[^\s/<>\[\]()%{}]{0,127}")
_PDF_ESCAPES = 5000
_PDF_ACTIVE_SET = {b"/" + name.encode() for name in _PDF_ACTIVE} | {b"/ObjStm"}


def _escaped_names(data: bytes) -> set[bytes] | None:
    """The names written with "#xx" escapes, decoded; None when there are too many to read."""
    names, last = set(), -1
    for count, escape in enumerate(_PDF_ESCAPE.finditer(data)):
        if count >= _PDF_ESCAPES:
            return None
        start = data.rfind(b"/", max(0, escape.start() - 127), escape.start() + 1)
        if start == -1 or start == last:
            continue
        last = start
        token = _PDF_NAME_AROUND.match(data, start)
        names.add(re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), token[0]))
    return names


def pdf_is_active(data: bytes) -> bool:
    """True when the PDF holds an action or file that runs or opens something (see above)."""
    return _active(data, True)


def _active(data: bytes, top: bool) -> bool:
    if _PDF_ACTIVE_NAME.search(data):
        return True
    escaped = _escaped_names(data)
    if escaped is None or escaped & _PDF_ACTIVE_SET - {b"/ObjStm"}:
        return True
    if not top:
        return False
    budget, view = _PDF_INFLATE_BYTES, memoryview(data)
    streams = list(_PDF_OBJECT_STREAM.finditer(data))
    if b"/ObjStm" in escaped:
        return True  # an escaped object stream type: what it packs is hidden, not vouched for
    for count, found in enumerate(streams):
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
        if _active(inflated, False):
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
    """``data`` with every formula cell prefixed by ``'``; None when it is no readable CSV, or
    one larger than ``_CSV_REWRITE_BYTES`` with formula cells in it (refused as active)."""
    if not (_FORMULA_CELL.match(b"\n" + data[:3]) or _FORMULA_CELL.search(data)):
        return data  # nothing to neutralise: kept byte for byte, without reading it as CSV
    if len(data) > _CSV_REWRITE_BYTES:
        return None
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
        return data  # only numbers: byte for byte as sent
    return out.getvalue().encode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else encoding)

