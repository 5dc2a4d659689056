"""A service that refuses what cannot work, in one line, at start (issue 19 §4): a second serve
on the same data directory, a Maildir that cannot be made; and the command line's --version,
help and global options after the command; journald priorities and a dead mail at WARNING."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

from conftest import make_config, write_config
from mailbot import cli, logs
from test_serve import STOP_LIMIT, Serve, serve  # noqa: F401  (the fixture)

MAILBOT = Path(sys.executable).parent / "mailbot"


def test_a_second_serve_on_the_same_data_directory_is_refused(tmp_path, serve):  # noqa: F811
    first = serve()
    first.wait_running()
    shared = {"root": str(tmp_path), "database": str(tmp_path / "mailbot.db"),
              "attachments": str(tmp_path / "attachments")}
    second = Serve(tmp_path / "second", storage=shared,
                   relay={"maildir": str(tmp_path / "sent")})
    try:
        assert second.proc.wait(timeout=STOP_LIMIT) == 1
    finally:
        second.kill()
    lines = second.log().strip().splitlines()
    assert len(lines) == 1 and f"another serve (pid {first.proc.pid}) runs on {tmp_path}" \
        in lines[0], lines
    assert (tmp_path / "serve.pid").read_text().strip() == str(first.proc.pid)
    first.stop()


def test_a_maildir_that_cannot_be_made_is_refused_in_one_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    config = write_config(tmp_path, relay={"maildir": str(tmp_path / "a-file" / "sent")})
    for command in ("deliver", "serve"):
        result = subprocess.run([str(MAILBOT), "--config", str(config), command],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert result.stderr == (f"mailbot: cannot create maildir {tmp_path / 'a-file' / 'sent'}"
                                 f": {tmp_path / 'a-file'} is not a folder\n")


def test_version_help_and_global_options_after_the_command(tmp_path, capsys):
    result = subprocess.run([str(MAILBOT), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("mailbot 0.")
    assert cli.main(["help"]) == 0 and "outbox" in capsys.readouterr().out
    assert cli.main(["help", "outbox"]) == 0
    assert "flush" in capsys.readouterr().out
    assert cli.main(["help", "nope"]) == 2
    config = write_config(tmp_path)
    assert cli.main(["cases", "--config", str(config), "--verbose"]) == 2  # no database yet
    assert str(tmp_path / "mailbot.db") in capsys.readouterr().err  # read this config


def test_journald_gets_the_priority_of_each_line_and_a_dead_mail_is_a_warning(tmp_path):
    config = make_config(tmp_path)
    with open(tmp_path / "journal", "w") as journal:
        st = os.fstat(journal.fileno())
        os.environ["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        try:
            logs.setup(config, stream=journal)
            logging.getLogger("mailbot").error("serve.listener_died")
            logs.event_log("delivery.dead", logging.WARNING, outbox_id=7)
            logs.event_log("delivery.sent", outbox_id=8)
        finally:
            del os.environ["JOURNAL_STREAM"]
    lines = (tmp_path / "journal").read_text().splitlines()
    assert [line[:3] for line in lines] == ["<3>", "<4>", "<6>"]
    assert "WARNING delivery.dead outbox_id=7" in lines[1]
    plain = io.StringIO()
    logs.setup(config, stream=plain)  # not the journal: no prefix
    logging.getLogger("mailbot").error("x")
    assert not plain.getvalue().startswith("<")
    logs.setup(config)


def test_a_mail_given_up_is_logged_as_a_warning(app, tmp_path, caplog):
    from datetime import datetime, timedelta, timezone

    from conftest import free_port
    from mailbot import jobs, wiring
    now = datetime.now(timezone.utc)
    jobs.tick(app, now)
    broken = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": free_port()}))
    try:
        jobs.deliver(broken, now)
        with caplog.at_level(logging.WARNING, logger="mailbot"):
            assert jobs.deliver(broken, now + timedelta(hours=49))["dead"] == 3
    finally:
        broken.close()
    dead = [r for r in caplog.records if r.getMessage().startswith("delivery.dead")]
    assert len(dead) == 3 and {r.levelno for r in dead} == {logging.WARNING}


def test_serve_tells_systemd_when_it_is_ready_and_when_it_stops(tmp_path, monkeypatch):
    """Type=notify: READY=1 once the listener answers, STOPPING=1 on SIGTERM (sd_notify(3))."""
    import socket
    notify = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(30)
        monkeypatch.setenv("NOTIFY_SOCKET", str(notify))
        s = Serve(tmp_path / "notified")
        try:
            assert sock.recv(64) == b"READY=1"
            assert s.proc.poll() is None
            s.stop()
            assert sock.recv(64) == b"STOPPING=1"
        finally:
            s.kill()
