"""One log holds every change: serve's event lines name the order and, for a mail, to whom;
changes made on the command line reach the same log (``[log] file``, else the syslog socket) in
the same format, with who gave them; a ``--dry-run`` logs nothing at INFO."""

from __future__ import annotations

import logging
import re
import socket
from datetime import datetime, timezone

from conftest import OPERATOR, ORDER_DATE, click, make_config, write_config
from mailbot import cli, jobs, logs
from test_case_by_mail import case, open_case
from test_protection_by_mail import BUYER_NL, MERCHANT_NL

# serve's text format: time, level, event, fields.
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 (INFO|WARNING|DEBUG) [a-z_.]+( |$)")


def _run(box, config, capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["--config", str(config), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_serve_names_the_order_and_the_recipient(box, tmp_path):
    log = tmp_path / "service.log"
    logs.setup(make_config(tmp_path, log={"file": str(log)}))  # as serve does
    try:
        open_case(box)
        jobs.deliver(box.app, datetime.now(timezone.utc))
    finally:
        logs.setup(box.app.config)
    lines = _lines(log)
    assert all(LINE.match(line) for line in lines) and lines
    assert any(" case.awaiting_merchant " in line and "order=shop-nl/NL-1" in line
               for line in lines)
    assert any(" inbound.applied " in line and "order=shop-nl/NL-1" in line
               and f"sender={BUYER_NL}" in line for line in lines)
    sent = [line for line in lines if " delivery.sent " in line]
    assert any("order=shop-nl/NL-1" in line
               and "to=info@fietsen.example,sales@fietsen.example" in line for line in sent)
    assert any(f"to={BUYER_NL}" in line for line in sent)


def test_changes_from_the_command_line_reach_the_service_log(box, tmp_path, capsys):
    log = tmp_path / "service.log"
    config = write_config(tmp_path, box.app.config, log={"file": str(log)})
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL, body="Terugbetaling: nee\nToelichting: Nee.")
    case_id = str(case(box)["id"])
    decide = ("case", case_id, "decide", "compensated", "--message", "Wij vergoeden het.",
              "--as", "alice")

    code, out, err = _run(box, config, capsys, *decide, "--dry-run")
    assert code == 0 and out.startswith("dry run") and err == ""
    assert _lines(log) == []  # a rehearsal logs nothing at INFO
    # ... and at DEBUG, when the log is that detailed, its lines marked.
    debug = write_config(tmp_path, box.app.config, log={"file": str(log), "level": "DEBUG"})
    assert _run(box, debug, capsys, *decide, "--dry-run")[0] == 0
    rehearsed = [line for line in _lines(log) if " case.closed " in line]
    assert len(rehearsed) == 1 and " DEBUG " in rehearsed[0] and "dry_run=yes" in rehearsed[0]
    assert not [line for line in _lines(log) if " INFO " in line]
    log.unlink()
    config = write_config(tmp_path, box.app.config, log={"file": str(log)})

    code, out, err = _run(box, config, capsys, *decide, "--yes")
    assert code == 0 and err == ""  # the command still prints its own result only
    lines = _lines(log)
    assert all(LINE.match(line) for line in lines)
    [closed] = [line for line in lines if " case.closed " in line]
    assert f"case_id={case_id}" in closed and "order=shop-nl/NL-1" in closed \
        and "outcome=compensated" in closed
    [done] = [line for line in lines if " cli.case.decide " in line]
    assert "by=alice" in done and f"said='case {case_id}: decide compensated done by alice'" \
        in done and BUYER_NL in done and "info@fietsen.example" in done and OPERATOR in done

    (tmp_path / "more.csv").write_text("shop_id,order_number,order_date,amount,currency,"
                                      "buyer_email,buyer_locale,plan\n"
                                      f"shop-nl,NL-9,{ORDER_DATE},10.00,EUR,p@x.example,nl,basic\n")
    assert _run(box, config, capsys, "import", "orders", str(tmp_path / "more.csv"))[0] == 0
    [imported] = [line for line in _lines(log) if " cli.import.orders " in line]
    assert "imported=1 updated=0 rejected=0" in imported

    outbox_id = str(box.app.db().execute("SELECT max(id) FROM outbox").fetchone()[0])
    assert _run(box, config, capsys, "outbox", "hold", outbox_id, "--as", "bob")[0] == 0
    [held] = [line for line in _lines(log) if " cli.outbox.hold " in line]
    assert "by=bob" in held and f"said='outbox {outbox_id} to {OPERATOR}: held'" in held



def test_without_a_log_file_command_line_changes_go_to_syslog(tmp_path, monkeypatch):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(tmp_path / "log.sock"))
    server.settimeout(5)
    monkeypatch.setattr(logs, "SYSLOG", str(tmp_path / "log.sock"))
    try:
        logs.setup(make_config(tmp_path), "WARNING", command=True)  # as the CLI does
        logs.event_log("cli.merchant.solvent", by="alice", said="'merchant shop-nl: solvent'")
        logging.getLogger("mailbot.cli").info("not an event, still the service's INFO")
        datagram = server.recv(4096).decode()
    finally:
        server.close()
        logs.setup(make_config(tmp_path))
    # RFC 3164: <facility * 8 + severity>TAG: the line; daemon (3), info (6).
    assert datagram.startswith("<30>mailbot: ")
    assert "INFO cli.merchant.solvent by=alice said='merchant shop-nl: solvent'" in datagram


def test_a_log_file_in_a_folder_not_made_yet_is_made_and_an_unwritable_one_refused(
        box, tmp_path, capsys):
    """A fresh install with ``[log] file = "var/mailbot.log"`` before anything made var/: the
    folder is made (it was a traceback on every command); a log file that cannot be written is
    refused in one line."""
    log = tmp_path / "not-yet" / "deeper" / "mailbot.log"
    config = write_config(tmp_path, box.app.config, log={"file": str(log)})
    assert _run(box, config, capsys, "order", "delete", "shop-nl", "NL-9", "--yes")[0] != 1
    assert log.parent.is_dir()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    config = write_config(tmp_path, box.app.config, log={"file": str(blocked / "mailbot.log")})
    code, out, err = _run(box, config, capsys, "cases")
    assert code == 2 and out == ""
    assert err.startswith("mailbot: cannot write the log file ") and len(err.splitlines()) == 1
