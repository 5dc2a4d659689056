"""``mailbot check``: one line per check, exit 0 only when database, relay and serve all work."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port, make_config, write_config
from mailbot.serve import check as check_mod
from mailbot.serve.socketmap import MapServer
from test_serve import MAILBOT, Serve


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def check(tmp_path, config):
    return subprocess.run([str(MAILBOT), "check"], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, MAILBOT_CONFIG=str(config)), timeout=60)


@pytest.mark.sqlite_only
def test_check_without_a_database_fails_and_creates_none(tmp_path):
    result = check(tmp_path, write_config(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["database", "relay", "serve",
                                                      "postfix-map", "postfix", "orders by mail"]
    assert lines[0].startswith("database: FAIL: no database at")
    assert lines[2].startswith("serve: FAIL: not running")
    # Without a trusted MTA no sender can be checked: intake by mail is off, and check says so.
    assert lines[5].startswith("orders by mail: ok: off: [inbound] authserv_id is empty")
    assert not (tmp_path / "mailbot.db").exists()


def test_check_passes_while_serve_runs_and_fails_after(tmp_path):
    s = Serve(tmp_path)
    try:
        s.wait_running()
        s.wait_for(lambda: (tmp_path / "serve.pid").exists(), "serve.pid")
        result = check(tmp_path, s.config)
        assert result.returncode == 0, result.stdout + result.stderr
        statuses = [line.split(": ")[1] for line in result.stdout.splitlines()]
        assert statuses[:3] == ["ok"] * 3 and statuses[-1] == "ok"
        assert f"pid {s.proc.pid}" in result.stdout
        s.stop()
    finally:
        s.kill()
    after = check(tmp_path, s.config)
    assert after.returncode == 1 and "serve: FAIL: not running" in after.stdout


def test_check_asks_the_relay(tmp_path):
    port = free_port()
    config = write_config(tmp_path, relay={"transport": "smtp", "port": port})
    down = check(tmp_path, config)
    assert f"relay: FAIL: relay 127.0.0.1:{port} unreachable" in down.stdout
    server = Controller(Sink(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        up = check(tmp_path, config)
    finally:
        server.stop()
    assert f"relay: ok: relay 127.0.0.1:{port} answers NOOP: 250 " in up.stdout


def _lines(config) -> dict[str, str]:
    out = io.StringIO()
    check_mod.run(config, out)
    return dict(line.split(": ", 1) for line in out.getvalue().splitlines())


@pytest.mark.parametrize("protocol, down", [("lmtp", "FAIL: nothing answers"),
                                            ("smtp", "skipped: nothing answers")])
def test_check_asks_postfix_map_for_the_bot_address(app, tmp_path, protocol, down):
    server = MapServer(app, "127.0.0.1", 0).start()
    config = make_config(tmp_path, smtp={"protocol": protocol},
                         postfix={"socketmap": f"127.0.0.1:{server.port}"})
    try:
        up = _lines(config)["postfix-map"]
    finally:
        server.stop()
    assert up == f"ok: 127.0.0.1:{server.port} answers 'OK mailbot' for bot@bot.example"
    assert _lines(config)["postfix-map"].startswith(down)


@pytest.mark.skipif(shutil.which("postconf", path=os.environ.get("PATH", "") + ":/usr/sbin")
                    is None, reason="Postfix is not installed (postconf)")
def test_check_warns_when_postfix_takes_the_bot_domain_as_local(app, tmp_path, monkeypatch):
    etc = tmp_path / "postfix"
    etc.mkdir()
    monkeypatch.setenv("MAIL_CONFIG", str(etc))  # postconf reads this Postfix's main.cf
    config = make_config(tmp_path, smtp={"protocol": "lmtp"})
    (etc / "main.cf").write_text("mydestination = $myhostname, bot.example, localhost\n"
                                 "message_size_limit = 50000000\n")
    warned = _lines(config)["postfix"]
    assert warned.startswith("WARN: bot.example is in Postfix's mydestination")
    assert "message_size_limit 50000000 is above [smtp] max_message_size 200000" in warned
    assert "relay_recipient_maps does not ask socketmap:inet:127.0.0.1:8026:recipients" in warned
    (etc / "main.cf").write_text("mydestination = localhost\nrelay_domains = bot.example\n"
                                 "message_size_limit = 200000\nrelay_recipient_maps = "
                                 "socketmap:inet:127.0.0.1:8026:recipients\n")
    assert _lines(config)["postfix"] == ("ok: bot.example not in mydestination, "
                                         "message_size_limit 200000 within max_message_size")
