"""The installed ``mailbot`` command, run as an operator runs it from an unrelated folder: it
finds its templates and catalogs through import, tick and deliver, and ``serve`` alone takes a
click over SMTP to the mails in the Maildir."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import smtplib
import subprocess
import time
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

from conftest import MAILBOT, ORDER_DATE, free_port, write_config


def run(args, cwd, config, timeout=60):
    env = dict(os.environ, MAILBOT_CONFIG=str(config))
    return subprocess.run([str(MAILBOT), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def import_one_order(tmp_path, config) -> None:
    """Shop s1 (fr) and its order 7 to b@x.example, imported by the installed command."""
    (tmp_path / "m.csv").write_text("id,name,emails,locale\ns1,Shop,s@x.example,fr\n")
    (tmp_path / "o.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
        f"s1,7,{ORDER_DATE},25.00,EUR,b@x.example,fr,plus\n")
    assert run(["import", "merchants", "m.csv"], tmp_path, config).returncode == 0
    assert run(["import", "orders", "o.csv"], tmp_path, config).returncode == 0


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
