"""Documents by allow-list (issue 9 §5): what may pass from one party to the other, judged on the
name and the first bytes, office files read for macros, archives refused, notices bounded."""

from __future__ import annotations

import io
import struct
import zipfile

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
    # Office files that carry code or foreign objects.
    ("factuur.docx", "application/octet-stream", office("word/document.xml",
                                                       "word/vbaProject.bin")),
    ("lijst.xlsx", "application/octet-stream", office("xl/workbook.xml",
                                                      "xl/activeX/activeX1.bin")),
    ("brief.docx", "application/octet-stream", office("word/document.xml",
                                                      "word/embeddings/oleObject1.bin")),
    ("brief.odt", "application/octet-stream", office("content.xml",
                                                     "Basic/Standard/Module1.xml")),
    ("brief.docx", "application/octet-stream", office("word/document.xml", "word/setup.exe")),
    # Archives, whatever they hold.
    ("bewijs.zip", "application/zip", office("bon.pdf")),
    ("bewijs.7z", "application/x-7z-compressed", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 20),
    ("bewijs.rar", "application/vnd.rar", b"Rar!\x1a\x07\x01\x00"),
    ("document", "application/octet-stream", EXE),  # nameless, of no allowed type
])
def test_everything_else_is_refused_for_its_type(store, name, declared, data):
    kept, refused = judged(store, Attachment(name, declared, data))
    assert kept == [] and refused == [(documents.safe_name(name), "type")]


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
