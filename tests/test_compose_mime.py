"""compose.build writes the MIME bytes itself (quoted-printable by binascii): what a reader's
client decodes is exactly the rendered text and HTML, whatever their lines hold, every line of the
mail stays within RFC 5322's 78 characters and ends in CR LF, and attachments still parse (the
same as email.mime's bytes did: a guard for the faster writer, not a change of behaviour)."""

from __future__ import annotations

import email
from datetime import datetime, timezone
from email.policy import default

from mailbot import wiring
from mailbot.core.model import Document
from mailbot.outbound import compose
from mailbot.outbound.render import Rendered

from conftest import make_config

# Lines a body may hold: one that starts with "From " (mbox-minded writers change it), a lone "."
# (SMTP's end of data), trailing spaces, "=" signs, a CR LF and a lone CR
# from a party's quoted text, and a long line of multibyte characters to wrap.
TEXT = ("From the shop: “ça marche”\n.\nspaces at the end   \n2 = 1 + 1\nquoted\r\nreply\rend\n"
        + "é€ " * 60 + "\n-- \nTrustmark\n")
HTML = "<p>From here</p>\n<p>" + "l’été " * 40 + "</p>"


def _decoded(part) -> str:
    return part.get_payload(decode=True).decode("utf-8")


def test_parts_decode_to_the_rendered_text_with_every_line_break_as_crlf(tmp_path):
    app = wiring.build(make_config(tmp_path))
    docs = [Document("facture été.pdf", app.attachments.save(b"%PDF-1.4 " * 500),
                     "application/pdf", 0)]
    rendered = Rendered("Commande FR-1 : réponse", TEXT, HTML, "Protection acheteur")
    raw = compose.build(app, rendered, compose.Recipients(("a@example.org",), "fr"),
                        "reply@bot.example", "<m@bot.example>", ["<t@bot.example>"],
                        datetime(2026, 11, 23, 13, 2, tzinfo=timezone.utc), docs)
    app.close()
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert max(map(len, lines)) <= 78
    msg = email.message_from_bytes(raw, policy=default)
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    text, html = alternative.get_payload()
    crlf = TEXT.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    assert _decoded(text) == crlf
    assert _decoded(html) == HTML.replace("\n", "\r\n")
    assert text["Content-Type"] == 'text/plain; charset="utf-8"'
    assert html["Content-Transfer-Encoding"] == "quoted-printable"
    assert attachment.get_filename() == "facture été.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.4 " * 500
    assert str(msg["Subject"]) == "Commande FR-1 : réponse"


def test_subjects_fold_as_email_header_folds_them():
    """Encoded-words of whole characters, each as long as its line allows (the first line after
    "Subject: "), the same words email.header writes, for ASCII and any UTF-8 (4-byte emoji)."""
    import random
    from email.charset import BASE64, Charset
    from email.header import Header, decode_header, make_header

    utf8 = Charset("utf-8")
    utf8.header_encoding = BASE64
    rng = random.Random(5322)
    for length in list(range(0, 200)) * 3:
        value = "".join(rng.choice("ab cdé€\u202f’😀xyzÀ-:,.«»\u00a0") for _ in range(length))
        value = compose.one_line(value)  # as compose has it: no runs of white space
        header = compose._encoded(value)
        expected = Header(value, "us-ascii" if value.isascii() else utf8,
                          header_name="Subject").encode(linesep="\r\n", maxlinelen=78)
        assert header == expected
        assert all(len(line) <= 78 for line in f"Subject: {header}".split("\r\n"))
        assert str(make_header(decode_header(header))) == value


def test_a_part_of_one_long_line_breaks_with_crlf(tmp_path):
    app = wiring.build(make_config(tmp_path))
    rendered = Rendered("x", "é" * 300, "<p>" + "ü" * 300 + "</p>", "")
    raw = compose.build(app, rendered, compose.Recipients(("a@example.org",), "nl"),
                        "reply@bot.example", "<m@bot.example>", [],
                        datetime(2026, 11, 23, 13, 2, tzinfo=timezone.utc))
    app.close()
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and max(map(len, lines)) <= 78
    text, html = email.message_from_bytes(raw, policy=default).get_payload()
    assert (_decoded(text), _decoded(html)) == ("é" * 300, "<p>" + "ü" * 300 + "</p>")
