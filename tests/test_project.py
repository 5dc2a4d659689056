"""The project's promises about itself: a pure core, a documented config, an installed package
that finds its templates, a listener that refuses strangers, a relay transport, a clean stop."""

from __future__ import annotations

import ast
import email
import email.policy
import json
import os
import signal
import smtplib
import subprocess
import sys
import time
import tomllib
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup

from conftest import ORDER_DATE, free_port, make_config, write_config
from mailbot import config as config_mod
from mailbot import jobs, wiring
from mailbot.outbound.transport import PermanentError, SmtpTransport, TemporaryError

ROOT = Path(__file__).resolve().parent.parent
MAILBOT = Path(sys.executable).parent / "mailbot"


def test_core_imports_no_io():
    banned = {"sqlite3", "sqlite_utils", "aiosmtpd", "jinja2", "smtplib", "socket", "os",
              "pathlib", "time", "apscheduler"}
    for path in (ROOT / "mailbot" / "core").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                    else [node.module or ""]
                assert not {n.split(".")[0] for n in names} & banned, path.name
            if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today"):
                pytest.fail(f"{path.name} reads the clock")


def test_example_config_documents_exactly_the_defaults():
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    defaults = config_mod.Config()
    assert set(example) == {f.name for f in fields(defaults)}
    for section in fields(defaults):
        keys = {f.name for f in fields(getattr(defaults, section.name))}
        assert set(example[section.name]) == keys, section.name
    config_mod.from_dict(example)  # and it loads


def test_unknown_config_key_is_refused():
    with pytest.raises(config_mod.ConfigError, match="unknown key"):
        config_mod.from_dict({"bot": {"domian": "x"}})


def run(args, cwd, config, timeout=60):
    env = dict(os.environ, MAILBOT_CONFIG=str(config))
    return subprocess.run([str(MAILBOT), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_installed_command_finds_templates_and_catalogs(tmp_path):
    """Runs the installed ``mailbot`` from an unrelated folder, through import, tick, deliver."""
    config = write_config(tmp_path)
    (tmp_path / "m.csv").write_text("id,name,emails,locale\ns1,Shop,s@x.example,it\n")
    (tmp_path / "o.jsonl").write_text(
        '{"shop_id": "s1", "order_number": "1", "order_date": "2026-01-01", "amount": "10",'
        ' "currency": "EUR", "buyer_email": "b@x.example", "buyer_locale": "it", "plan": "basic"}\n'
        '{"shop_id": "s1", "order_number": "2", "order_date": "2026-01-01", "amount": "10",'
        ' "currency": "EUR", "buyer_email": "b@x.example\\r\\nBcc: x@y", "buyer_locale": "it",'
        ' "plan": "basic"}\n')
    assert run(["import", "merchants", "m.csv"], tmp_path, config).returncode == 0
    result = run(["import", "orders", "o.jsonl"], tmp_path, config)
    assert result.returncode == 1 and "line break" in result.stdout
    assert "1 imported" in result.stdout
    again = run(["import", "orders", "o.jsonl"], tmp_path, config)
    assert "0 imported, 1 unchanged" in again.stdout
    assert run(["tick", "--now", "2026-01-24T00:00:00+01:00"], tmp_path, config).returncode == 0
    assert run(["deliver"], tmp_path, config).returncode == 0
    mails = list((tmp_path / "sent" / "new").iterdir())
    assert len(mails) == 1 and b"Protezione Acquirenti" in mails[0].read_bytes()
    bad = run(["status", "s1", "nope"], tmp_path, config)
    assert bad.returncode != 0 and bad.stderr.strip().count("\n") == 0


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


class Sink:
    def __init__(self, answer="250 OK"):
        self.answer, self.messages = answer, []

    async def handle_DATA(self, server, session, envelope):
        if self.answer.startswith("250"):
            self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return self.answer


@pytest.mark.parametrize("answer, error", [("250 OK", None), ("451 try later", TemporaryError),
                                           ("554 no", PermanentError)])
def test_smtp_relay_transport(answer, error):
    sink = Sink(answer)
    port = free_port()
    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()
    try:
        with SmtpTransport("127.0.0.1", port, "bot.example") as transport:
            for _ in range(3):
                if error:
                    with pytest.raises(error):
                        transport.send("bot+v@bot.example", ["a@x.example"], b"Subject: t\r\n\r\nx\r\n")
                else:
                    transport.send("bot+v@bot.example", ["a@x.example"], b"Subject: t\r\n\r\nx\r\n")
    finally:
        server.stop()
    assert len(sink.messages) == (3 if error is None else 0)
    if error is None:
        assert sink.messages[0][0] == "bot+v@bot.example"


def test_relay_down_retries_then_delivers(tmp_path, app):
    port = free_port()
    relay_app = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": port}))
    now = datetime.now(timezone.utc)
    jobs.tick(relay_app, now)
    assert jobs.deliver(relay_app, now)["retry"] == 3
    sink = Sink()
    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert jobs.deliver(relay_app, now + timedelta(minutes=5))["sent"] == 3
    finally:
        server.stop()
    assert all(m[0].startswith("bot+") for m in sink.messages)  # VERP return path


def import_one_order(tmp_path, config) -> None:
    """Shop s1 (fr) and its order 7 to b@x.example, imported by the installed command."""
    (tmp_path / "m.csv").write_text("id,name,emails,locale\ns1,Shop,s@x.example,fr\n")
    (tmp_path / "o.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
        f"s1,7,{ORDER_DATE},25.00,EUR,b@x.example,fr,plus\n")
    assert run(["import", "merchants", "m.csv"], tmp_path, config).returncode == 0
    assert run(["import", "orders", "o.csv"], tmp_path, config).returncode == 0


def test_serve_processes_and_delivers_by_itself(tmp_path):
    """The black-box path: serve on a config, a click over SMTP, the mails in the Maildir."""
    port = free_port()
    config = write_config(tmp_path, smtp={"port": port})
    import_one_order(tmp_path, config)
    env = dict(os.environ, MAILBOT_CONFIG=str(config))
    proc = subprocess.Popen([str(MAILBOT), "serve"], cwd=tmp_path, env=env,
                            stderr=subprocess.DEVNULL)
    maildir = tmp_path / "sent" / "new"

    def mails(count):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = sorted(maildir.glob("*")) if maildir.exists() else []
            if len(found) >= count:
                return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                        for p in found]
            time.sleep(0.1)
        raise AssertionError(f"fewer than {count} mails delivered")

    try:
        reminder = mails(1)[0]  # serve ticks at start: the reminder is due
        soup = BeautifulSoup(reminder.get_body(("html",)).get_content(), "html.parser")
        href = soup.find("a", attrs={"data-action": "not_received"})["href"]
        address = unquote(urlsplit(href).path)
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail("b@x.example", [address],
                          f"From: b@x.example\r\nTo: {address}\r\nSubject: x\r\n"
                          "Message-ID: <e2e@x.example>\r\n\r\nRien reçu.\r\n".encode())
        assert len(mails(3)) == 3  # the buyer's acknowledgement and the merchant's case mail
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    status = run(["status", "s1", "7", "--json"], tmp_path, config)
    assert json.loads(status.stdout)["case"]["state"] == "awaiting_merchant"
