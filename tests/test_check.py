"""``mailbot check``: one line per check, exit 0 only when database, relay and serve all work."""

from __future__ import annotations

import os
import subprocess

from aiosmtpd.controller import Controller

from conftest import free_port, write_config
from test_serve import MAILBOT, Serve


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def check(tmp_path, config):
    return subprocess.run([str(MAILBOT), "check"], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, MAILBOT_CONFIG=str(config)), timeout=60)


def test_check_without_a_database_fails_and_creates_none(tmp_path):
    result = check(tmp_path, write_config(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["database", "relay", "serve"]
    assert lines[0].startswith("database: FAIL: no database at")
    assert lines[2].startswith("serve: FAIL: not running")
    assert not (tmp_path / "mailbot.db").exists()


def test_check_passes_while_serve_runs_and_fails_after(tmp_path):
    s = Serve(tmp_path)
    try:
        s.wait_running()
        s.wait_for(lambda: (tmp_path / "serve.pid").exists(), "serve.pid")
        result = check(tmp_path, s.config)
        assert result.returncode == 0, result.stdout + result.stderr
        assert [line.split(": ")[1] for line in result.stdout.splitlines()] == ["ok"] * 3
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
