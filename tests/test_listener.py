"""The SMTP listener as the world meets it: the installed ``serve`` answers 550 to addresses that
are not ours or carry a forged token and stops cleanly on SIGTERM; a mail over the size limit gets
552 at DATA and nothing is stored."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import time

import pytest

from conftest import MAILBOT, free_port, write_config


def test_serve_starts_refuses_strangers_and_stops_on_sigterm(tmp_path):
    port = free_port()
    config = write_config(tmp_path, smtp={"port": port})
    env = dict(os.environ, MAILBOT_CONFIG=str(config))
    started = time.monotonic()
    proc = subprocess.Popen([str(MAILBOT), "serve"], cwd=tmp_path, env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        while True:
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert time.monotonic() - started < 30, "serve did not start"
                time.sleep(0.05)
        with smtp:
            code, _ = smtp.ehlo()
            assert code == 250
            smtp.mail("someone@x.example")
            assert smtp.rcpt("stranger@bot.example")[0] == 550
            assert smtp.rcpt("bot+aaaaaaaaaaaaaaaaaaaaaaaaaaaaa@bot.example")[0] == 550
            assert smtp.rcpt("bot@bot.example")[0] == 250
            code, _ = smtp.data(b"Subject: big\r\n\r\n" + b"x" * 100 + b"\r\n")
            assert code == 250
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("serve did not stop within 10 s of SIGTERM")
    assert proc.returncode == 0


def test_oversized_message_gets_552(box):
    with smtplib.SMTP("127.0.0.1", box.app.config.smtp.port) as smtp:
        smtp.ehlo()
        smtp.mail("a@x.example")
        smtp.rcpt("bot@bot.example")
        code, _ = smtp.data(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 300)
    assert code == 552
    assert box.app.db().execute("SELECT count(*) FROM inbox").fetchone()[0] == 0
