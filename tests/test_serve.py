"""``mailbot serve`` as an operator runs it: a real subprocess on a temporary config and a free
loopback port, stopped by SIGTERM in every state the issue found it hanging in; and ``check``."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port, write_config
from mailbot import config as config_mod
from mailbot.store.db import where

MAILBOT = Path(sys.executable).parent / "mailbot"
STOP_LIMIT = 10  # seconds; serve's own bound is 5 s per step


class Serve:
    """``mailbot serve`` in its own process group (as systemd runs it); its log in a file."""

    def __init__(self, tmp_path: Path, port: int | None = None, **sections):
        self.tmp_path, self.port = tmp_path, port or free_port()
        tmp_path.mkdir(exist_ok=True)
        self.config = write_config(tmp_path, smtp={"port": self.port}, **sections)
        self.log_path = tmp_path / "serve.log"
        self.log_path.write_text("")
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                [str(MAILBOT), "serve"], cwd=tmp_path, start_new_session=True, stderr=log,
                env=dict(os.environ, MAILBOT_CONFIG=str(self.config)))

    def log(self) -> str:
        return self.log_path.read_text()

    def children(self) -> list[int]:
        """Pids of every processing child started so far, in order."""
        return [int(p) for p in re.findall(r"processing\.started pid=(\d+)", self.log())]

    def wait_for(self, predicate, what: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            assert self.proc.poll() is None, f"serve exited: {self.log()}"
            time.sleep(0.02)
        raise AssertionError(f"{what} within {timeout} s; log:\n{self.log()}")

    def wait_running(self, children: int = 1):
        self.wait_for(lambda: len(self.children()) >= children, f"{children} processing child(ren)")

    def stop(self, group: bool = False) -> float:
        """SIGTERM (to the whole group if ``group``); returns how long serve took to exit."""
        started = time.monotonic()
        if group:
            os.killpg(self.proc.pid, signal.SIGTERM)
        else:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_LIMIT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            pytest.fail(f"serve did not stop within {STOP_LIMIT} s of SIGTERM")
        return time.monotonic() - started

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(**kwargs) -> Serve:
        started.append(Serve(tmp_path, **kwargs))
        return started[-1]

    yield start
    for s in started:
        s.kill()


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_port_in_use_is_one_line_and_exit_1_at_once(tmp_path, serve):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        s = serve(port=port)
        s.proc.wait(timeout=STOP_LIMIT)
    lines = s.log().strip().splitlines()
    assert s.proc.returncode == 1
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], lines
    assert "processing" not in s.log() and not (tmp_path / "sent").exists()  # no child ran


def test_invalid_port_is_one_line_and_exit_non_zero(tmp_path, serve):
    s = serve(port=70000)
    s.proc.wait(timeout=STOP_LIMIT)
    lines = s.log().strip().splitlines()
    assert s.proc.returncode != 0 and len(lines) == 1 and "70000" in lines[0], lines


def test_killed_child_is_restarted_and_sigterm_still_stops_serve(serve):
    s = serve()
    s.wait_running()
    first = s.children()[0]
    os.kill(first, signal.SIGKILL)
    s.wait_running(children=2)
    second = s.children()[1]
    assert "serve.processing_died exitcode=-9" in s.log()
    s.stop()
    assert s.proc.returncode == 0
    assert gone(second), "the restarted child outlived serve"
    assert not (s.tmp_path / "serve.pid").exists()


def test_child_stops_when_the_supervisor_is_killed(serve):
    """SIGKILL to serve alone (an OOM kill): the child sees its wake pipe close and exits, so a
    restarted serve never runs beside an orphan that still delivers."""
    s = serve()
    s.wait_running()
    child = s.children()[0]
    s.proc.kill()
    s.proc.wait()
    deadline = time.monotonic() + STOP_LIMIT
    while not gone(child):
        assert time.monotonic() < deadline, "the orphaned child kept running"
        time.sleep(0.05)


def test_sigterm_to_the_process_group_stops_serve_every_time(tmp_path):
    """systemd's default (KillMode=control-group) signals every process at once; 1 run in 3
    deadlocked. Each run accepts a mail first, so the child has work in hand. Four serves run
    side by side to keep the test short; each is stopped and timed on its own."""
    for batch in range(5):
        runs = [Serve(tmp_path / f"run{batch}-{i}") for i in range(4)]
        try:
            for s in runs:
                s.wait_running()
                with smtplib.SMTP("127.0.0.1", s.port, timeout=10) as smtp:
                    smtp.sendmail("a@x.example", ["bot@bot.example"],
                                  b"Subject: hi\r\n\r\nhello\r\n")
            for s in runs:
                child = s.children()[0]
                s.stop(group=True)
                assert s.proc.returncode == 0, s.log()
                assert gone(child)
                assert "Traceback" not in s.log(), s.log()
        finally:
            for s in runs:
                s.kill()


def test_sigint_stops_serve(serve):
    s = serve()
    s.wait_running()
    s.proc.send_signal(signal.SIGINT)
    s.proc.wait(timeout=STOP_LIMIT)
    assert s.proc.returncode == 0 and "Traceback" not in s.log()


def test_serve_logs_one_line_per_event_and_no_scheduler_chatter(serve):
    s = serve()
    s.wait_running()
    with smtplib.SMTP("127.0.0.1", s.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("a@x.example")
        assert smtp.rcpt("stranger@bot.example")[0] == 550
        smtp.rcpt("bot@bot.example")
        smtp.data(b"Subject: hi\r\n\r\nhello\r\n")
    s.wait_for(lambda: "inbound." in s.log(), "a disposition line")
    s.stop()
    log = s.log()
    assert "smtp.refused" in log and "rcpt='stranger@bot.example'" in log
    assert re.search(r"smtp\.accepted inbox_id=1 peer=127\.0\.0\.1 .*size=\d+", log)
    assert re.search(r"inbound\.\w+ inbox_id=1", log)
    for chatter in ("Running job", "executed successfully", "maximum number of running",
                    "Adding job", "Scheduler started"):
        assert chatter not in log


def test_json_log_format(serve):
    s = serve(log={"format": "json"})
    s.wait_running()
    with smtplib.SMTP("127.0.0.1", s.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("a@x.example")
        assert smtp.rcpt("stranger@bot.example")[0] == 550
    s.wait_for(lambda: "smtp.refused" in s.log(), "the refusal logged")
    s.stop()
    lines = [json.loads(line) for line in s.log().splitlines()]
    started = next(line for line in lines if line.get("message", "").startswith("serve.started"))
    assert started["level"] == "INFO" and started["time"].endswith("+00:00")
    # The store in use: on PostgreSQL its URL (without a password), not the unused file's name.
    storage = config_mod.load(s.config).storage
    assert started["message"].endswith(f"database={where(storage)}")
    refused = next(line for line in lines if line.get("event") == "smtp.refused")
    assert refused["peer"] == "127.0.0.1" and refused["rcpt"] == "'stranger@bot.example'"


@pytest.mark.parametrize("log", [{"format": "xml"}, {"level": "LOUD"}])
def test_log_config_refuses_nonsense(log):
    with pytest.raises(config_mod.ConfigError, match=r"\[log\]"):
        config_mod.from_dict({"log": log})


def test_oversized_message_is_logged_as_refused(box, caplog):
    with caplog.at_level(logging.INFO, logger="mailbot"):
        with smtplib.SMTP("127.0.0.1", box.app.config.smtp.port) as smtp:
            smtp.ehlo()
            smtp.mail("a@x.example")
            smtp.rcpt("bot@bot.example")
            assert smtp.data(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 300)[0] == 552
    assert any(r.message.startswith("smtp.refused peer=127.0.0.1 reason='552 ")
               for r in caplog.records)
