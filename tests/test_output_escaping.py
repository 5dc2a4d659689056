"""What strangers write is shown escaped on every output: ``--json`` views, piped text views and
the log lines of ``serve`` (ESC sequences, C1 controls, bidi overrides, line separators)."""

from __future__ import annotations

import io
import json
import logging
from email.header import Header

import pytest

from conftest import make_config, write_config
from mailbot import cli, logs
from mailbot.logs import event_log

NASTY = "Anna\x1b]0;pwned\x07 \x9b2J \u202egpj.exe\u2028Bcc: x@y.example"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2028")


def _sent_by_a_stranger(box):
    # RFC 2047 carries any character into a display name or a subject.
    encoded = Header(NASTY, "utf-8").encode()
    box.send(f"From: {encoded} <someone@stranger.example>\r\nTo: bot@bot.example\r\n"
             f"Subject: {encoded}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             f"Hallo,\r\n\r\n{NASTY}\r\n".encode(), "someone@stranger.example",
             ["bot@bot.example"])


@pytest.mark.parametrize("view", [["inbox", "show", "1", "--json"], ["inbox", "show", "1"]])
def test_views_escape_what_a_stranger_wrote_on_a_pipe_too(app, box, tmp_path, capsys, view):
    _sent_by_a_stranger(box)
    capsys.readouterr()
    assert cli.main(["--config", str(write_config(tmp_path, app.config)), *view]) == 0
    out = capsys.readouterr().out  # captured: not a terminal
    assert not any(c in out for c in RAW), out
    assert "\\u001b]0;pwned\\u0007" in out
    if "--json" in view:  # still JSON, and the text comes back whole
        shown = json.loads(out)
        assert "\x1b]0;pwned\x07 \x9b2J \u202egpj.exe" in shown["headers"]["Subject"]
        assert "\x1b]0;pwned\x07 \x9b2J \u202egpj.exe" in shown["headers"]["From"]


@pytest.mark.parametrize("form", ["text", "json"])
def test_a_log_line_stays_one_harmless_line(tmp_path, form):
    stream = io.StringIO()
    logs.setup(make_config(tmp_path, log={"format": form}), stream=stream)
    try:
        event_log("inbound.unmatched", inbox_id=1, detail=f"From {NASTY}\nforged line")
    finally:
        logging.getLogger().handlers.clear()
    out = stream.getvalue()
    assert out.count("\n") == 1 and not any(c in out for c in RAW), out
    if form == "json":
        assert json.loads(out)["detail"] == f"From {NASTY}\nforged line"
    else:
        assert "\\u202egpj.exe\\u2028Bcc" in out
