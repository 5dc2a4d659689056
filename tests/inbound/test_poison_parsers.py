"""Issue 16 §1: no standard-library or third-party parser sees unbounded input.

Costs are measured without a clock where the slow code is Python: the number of Python lines run
while a mail is read (``sys.settrace``), which grows with the input on the old code and stays
small now. flufl.bounce's cubic regular expression runs in C, so that case is run in a child
process that is killed far above what the bounded read costs (the old code took minutes).
"""

from __future__ import annotations

import json
import multiprocessing
import sys

import pytest

from mailbot import wiring
from mailbot.inbound import bounces, screening
from mailbot.outbound.return_path import return_path
from mailbot.inbound import parse as parse_module
from mailbot.inbound.parse import parse

LINES_ALLOWED = 100_000  # bounded work runs some ten thousand; the old code ran millions


def mail(body: str, ctype: str, headers: str = "", sender: str = "jan@buyer.example") -> bytes:
    return (f"From: {sender}\r\nTo: bot@bot.example\r\nSubject: Re: bestelling\r\n"
            f"Message-ID: <p1@buyer.example>\r\nMIME-Version: 1.0\r\nContent-Type: {ctype}\r\n"
            f"{headers}\r\n{body}").encode()


def lines_run(function, *args) -> int:
    """Python lines executed by ``function(*args)``."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        count += event == "line"
        return local

    sys.settrace(lambda frame, event, arg: local)
    try:
        function(*args)
    finally:
        sys.settrace(None)
    return count


def read_all(raw: bytes) -> None:
    mail_ = parse(raw)
    screening.is_bounce("", mail_.headers, mail_.subject)
    screening.is_auto_reply(mail_.headers, mail_.subject)
    mail_.text, mail_.attachments  # noqa: B018 -- reading them is the work measured


SEMICOLONS = ";" * 60_000
PART = '--b\r\nContent-Type: text/plain; charset="x' + ";" * 15_000 + "\r\n\r\nx\r\n"
POISON = {
    # To the bare address, before any sender check: screening reads report-type.
    "report-type": mail("x\r\n", f'multipart/report; report-type="x{SEMICOLONS}'),
    "charset": mail("x\r\n", f'text/plain; charset="x{SEMICOLONS}'),
    "disposition": mail("x\r\n", "text/plain",
                        f'Content-Disposition: inline; filename="x{SEMICOLONS}\r\n'),
    "17 long part headers": mail(PART * 17 + "--b--\r\n", 'multipart/mixed; boundary="b"'),
    "boundary look-alikes": mail("--b\r\nContent-Type: text/plain\r\n\r\nHallo.\r\n"
                                 + "--bb\r\nx--b\r\n" * 25_000 + "--b--\r\n",
                                 'multipart/mixed; boundary="b"'),
}


@pytest.mark.parametrize("name", POISON)
def test_parameters_part_headers_and_delimiters_cost_bounded_work(name):
    assert lines_run(read_all, POISON[name]) < LINES_ALLOWED


def test_no_parameter_parser_sees_more_than_the_cut(monkeypatch):
    import email.message
    seen = []
    original = email.message._parseparam
    monkeypatch.setattr(email.message, "_parseparam", lambda s: seen.append(len(s)) or
                        original(s))
    for raw in POISON.values():
        read_all(raw)
    # (+ 1: _parseparam puts a ";" in front)
    assert seen and max(seen) <= parse_module.MAX_PARAMETER_FIELD + 1


def test_what_is_cut_is_only_the_excess():
    raw = mail("Hallo.\r\n", "text/plain; charset=utf-8; format=flowed",
               'Content-Disposition: inline; filename="bon 12.txt"\r\n')
    headers = parse(raw).headers
    assert headers.get_content_charset() == "utf-8"
    assert headers.get_param("format") == "flowed"
    assert headers.get_filename() == "bon 12.txt"
    cut = parse(POISON["charset"]).headers
    assert len(str(cut["Content-Type"])) <= parse_module.MAX_PARAMETER_FIELD


def nested_report() -> bytes:
    depth = 280
    opening = "".join(f"--b{d}\r\nContent-Type: multipart/mixed; boundary=b{d + 1}\r\n\r\n"
                      for d in range(depth))
    return mail(opening + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\n" + "x\r\n" * 85_000,
                'multipart/report; report-type=delivery-status; boundary="b0"',
                sender="MAILER-DAEMON@mx.example")


def test_a_deeply_nested_null_sender_report_costs_bounded_work(app):
    raw = nested_report()
    assert lines_run(bounces.read, app.db(), app.signer, [], raw) < LINES_ALLOWED


def netscape_report(angles: int) -> bytes:
    return mail("--b\r\nContent-Type: text/plain\r\n\r\n"
                "This Message was undeliverable due to the following reason:\r\n"
                + "<" * angles + "\r\n<jan@buyer.example>\r\n"
                "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
                "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y.example\r\n"
                "--b--\r\n", 'multipart/report; report-type=delivery-status; boundary="b"',
                sender="jan@buyer.example")


def _read_in_child(config, rcpt, raw, conn):
    app = wiring.build(config)
    conn.send([r.action for r in bounces.read(app.db(), app.signer, rcpt, raw)])


def test_flufl_bounce_reads_only_bounded_lines(app):
    """A buyer writes to the VERP return path of a mail they received: a line of 3,000 "<" took
    the Netscape detector 90 s; bounded, it is read at once and the address below still counts
    as failed."""
    db = app.db()
    outbox_id = db.execute(
        "INSERT INTO outbox (message_id, role, template, recipients, raw, created_at) "
        "VALUES ('<sent1@bot.example>', 'buyer', 'buyer.reminder', ?, ?, ?)",
        [json.dumps(["jan@buyer.example"]), b"", "2026-11-26T00:00:00+00:00"]).lastrowid
    db.conn.commit()
    rcpt = [return_path(app.signer, outbox_id, 0)]
    parent, child = multiprocessing.get_context("fork").Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(
        target=_read_in_child, args=(app.config, rcpt, netscape_report(3_000), child))
    process.start()
    try:
        assert parent.poll(20), "flufl.bounce still reads the whole line"
        assert parent.recv() == ["failed"]
    finally:
        process.kill()
        process.join()


def test_address_fields_are_cut_and_references_keep_their_end():
    """Address lists go to the standard library's address parser (0.2 s for 60 KB of "<"): a
    field is cut to ``MAX_FIELD``; References keeps its end, where the mail answered is."""
    raw = (b"From: jan@buyer.example\r\nTo: " + b"<" * 30_000 + b"\r\nReferences: "
           + b"<old@x.example> " * 2_000 + b"<ours@bot.example>\r\n\r\nHallo.\r\n")
    mail_ = parse(raw)
    assert len(mail_.headers["To"]) <= parse_module.MAX_FIELD
    assert mail_.in_reply_to[-1] == "<ours@bot.example>"
