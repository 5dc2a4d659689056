"""Operators see and mend the outbox and the inbox from the command line; ``tick --now`` far
ahead needs ``--force``."""

from __future__ import annotations

import email.utils
import json
import os
import pty
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

from conftest import free_port, make_config, write_config
from mailbot import cli, jobs, wiring
from mailbot.outbound.return_path import return_path
from mailbot.outbound import outbox as outbox_table
from mailbot.store import admin
from test_bounces import dsn, merchant_mail
from test_protection_by_mail import MERCHANT_NL

MAILBOT = Path(sys.executable).parent / "mailbot"


def run_json(capsys, config, *args):
    capsys.readouterr()
    assert cli.main(["--config", str(config), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_dead_mail_is_listed_and_resent(app, tmp_path, capsys):
    now = datetime.now(timezone.utc)
    jobs.tick(app, now)  # three reminders queued
    broken = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": free_port()}))
    assert jobs.deliver(broken, now)["retry"] == 3
    config = write_config(tmp_path, app.config)
    retrying = run_json(capsys, config, "outbox", "--state", "retry")
    assert len(retrying) == 3 and all(r["attempts"] == 1 for r in retrying)
    assert "unreachable" in retrying[0]["last_error"]
    assert jobs.deliver(broken, now + timedelta(hours=49))["dead"] == 3
    broken.close()
    dead = run_json(capsys, config, "outbox", "--state", "dead")
    jan = next(r for r in dead if r["recipients"] == ["jan@buyer.example"])
    assert (jan["shop_id"], jan["order_number"], jan["template"]) == \
        ("shop-nl", "NL-1", "buyer.reminder")
    assert jan["attempts"] == 2 and jan["last_error"].startswith("gave up retrying")
    assert cli.main(["--config", str(config), "outbox", "resend", str(jan["id"])]) == 0
    assert f"outbox {jan['id']}: dead -> queued" in capsys.readouterr().out
    assert cli.main(["--config", str(config), "outbox", "resend", str(jan["id"])]) == 2
    assert "is queued: only dead or bounced" in capsys.readouterr().err
    assert cli.main(["--config", str(config), "outbox", "resend", "9999"]) == 2
    jobs.deliver(app, now + timedelta(hours=50))
    sent = list((Path(app.config.relay.maildir) / "new").iterdir())
    assert any(b"jan@buyer.example" in p.read_bytes() for p in sent)
    assert jan["id"] not in [r["id"] for r in run_json(capsys, config, "outbox")]


def test_bounced_mail_can_be_resent(app):
    jobs.tick(app, datetime.now(timezone.utc))
    db = app.db()
    row_id = db.execute("SELECT min(id) FROM outbox").fetchone()[0]
    jobs.deliver(app, datetime.now(timezone.utc))
    assert outbox_table.mark_bounced(db, row_id, "550 mailbox unknown")
    assert [r["id"] for r in admin.outbox(db, "bounced")] == [row_id]
    assert admin.resend(db, row_id, datetime.now(timezone.utc))
    assert admin.outbox(db, "queued")[0]["id"] == row_id
    assert not admin.resend(db, row_id, datetime.now(timezone.utc))  # queued: left alone


def test_resend_goes_to_the_fixed_address(app, tmp_path, capsys):
    """A dead mail to a mistyped address, the address fixed by a re-import, then resent."""
    now = datetime.now(timezone.utc)
    jobs.tick(app, now)
    broken = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": free_port()}))
    jobs.deliver(broken, now)
    jobs.deliver(broken, now + timedelta(hours=49))
    broken.close()
    db = app.db()
    dead_id = db.execute("SELECT id FROM outbox WHERE status = 'dead' AND recipients = "
                         "'[\"jan@buyer.example\"]'").fetchone()[0]
    order = db.execute("SELECT order_date FROM orders WHERE order_number = 'NL-1'").fetchone()
    (tmp_path / "fix.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
        f"shop-nl,NL-1,{order[0]},49.95,EUR,jan.fixed@buyer.example,nl,plus\n")
    config = write_config(tmp_path, app.config)
    assert cli.main(["--config", str(config), "import", "orders", str(tmp_path / "fix.csv"),
                     "--update"]) == 0
    assert cli.main(["--config", str(config), "outbox", "resend", str(dead_id)]) == 0
    assert "to jan.fixed@buyer.example (was jan@buyer.example)" in capsys.readouterr().out
    jobs.deliver(app, now + timedelta(hours=50))
    mails = [email.message_from_bytes(p.read_bytes())
             for p in (Path(app.config.relay.maildir) / "new").iterdir()]
    to_jan = [m for m in mails if "jan" in m["To"]]
    assert [m["To"] for m in to_jan] == ["jan.fixed@buyer.example"]
    assert "jan@buyer.example" not in str(to_jan[0].items())


def _stranger(subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "someone@stranger.example"
    msg["To"] = "bot@bot.example"
    msg["Subject"] = subject
    msg["Message-ID"] = email.utils.make_msgid(domain="stranger.example")
    msg.set_content(body)
    return msg


def test_inbox_lists_and_shows_held_and_unmatched_mail(app, box, tmp_path, capsys):
    box.send(_stranger("Waar blijft mijn fiets?", "Hallo,\n\nIk wacht nog steeds.\n\n"
                       "> oude tekst\n"), "someone@stranger.example", ["bot@bot.example"])
    jobs.tick(app, datetime.now(timezone.utc))
    reminder = [m for m in box.deliver() if "jan@buyer.example" in m["To"]][0]
    held = _stranger("Re: " + reminder["Subject"], "alles goed")
    held.replace_header("To", reminder["Reply-To"])
    box.send(held, "someone@stranger.example", [reminder["Reply-To"]])
    config = write_config(tmp_path, app.config)
    unmatched = run_json(capsys, config, "inbox", "--disposition", "unmatched")
    assert len(unmatched) == 1 and unmatched[0]["mail_from"] == "someone@stranger.example"
    holds = run_json(capsys, config, "inbox", "--disposition", "held")
    assert [(h["disposition"], h["shop_id"], h["order_number"]) for h in holds] == \
        [("sender_mismatch", "shop-nl", "NL-1")]
    everything = run_json(capsys, config, "inbox")
    assert {r["id"] for r in everything} == {unmatched[0]["id"], holds[0]["id"]}
    shown = run_json(capsys, config, "inbox", "show", str(unmatched[0]["id"]))
    assert shown["headers"]["Subject"] == "Waar blijft mijn fiets?"
    assert shown["new_text"] == "Hallo,\n\nIk wacht nog steeds."
    assert cli.main(["--config", str(config), "inbox", "show", "999"]) == 2


def test_inbox_show_escapes_control_characters_on_a_terminal(app, box, tmp_path):
    box.send(_stranger("=?utf-8?q?hi=1B]0;pwned=07?=", "line\x1b[2J\u202eevil\r\nmore\n"),
             "someone@stranger.example", ["bot@bot.example"])
    inbox_id = app.db().execute("SELECT max(id) FROM inbox").fetchone()[0]
    env = dict(os.environ, MAILBOT_CONFIG=str(write_config(tmp_path, app.config)))
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(MAILBOT), "inbox", "show", str(inbox_id)], env=env,
                            stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=30) == 0, proc.stderr.read()
    text = out.decode()
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "\\u001b]0;pwned\\u0007" in text and "\\u202eevil" in text


def test_tick_far_ahead_needs_force(app, tmp_path):
    env = dict(os.environ, MAILBOT_CONFIG=str(write_config(tmp_path, app.config)))

    def tick(*args):
        return subprocess.run([str(MAILBOT), "tick", *args], env=env, capture_output=True,
                              text=True, timeout=60)

    ahead = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    refused = tick("--now", ahead)
    assert refused.returncode == 2 and "more than 2 days ahead" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert app.db().execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    soon = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert tick("--now", soon).returncode == 0
    assert tick("--now", ahead, "--force").returncode == 0
    for bad in ("9999-12-31T00:00:00+00:00", "0001-01-01", "1999-12-31T23:00:00+00:00"):
        result = tick("--now", bad, "--force")
        assert result.returncode == 2 and result.stderr.count("\n") == 1
        assert "out of range" in result.stderr and "Traceback" not in result.stderr



def test_a_partly_failed_mail_is_listed_with_its_failed_address(box, tmp_path, capsys):
    """A mail to two merchant addresses, one failed by a real DSN: the mail stays sent (the
    other address got it) but the outbox lists it, under ``bounced`` too, naming the address."""
    outbox_id, recipients, _ = merchant_mail(box)
    assert recipients == [MERCHANT_NL, "sales@fietsen.example"]
    config = write_config(tmp_path, box.app.config)

    def listed(*args):
        return {r["id"]: r for r in run_json(capsys, config, "outbox", *args)}

    second = return_path(box.app.signer, outbox_id, 1)
    box.send(dsn(second, "sales@fietsen.example", "delayed", "4.2.2"), "", [second])
    assert outbox_id not in listed("--state", "bounced")  # a delay fails no one
    assert outbox_id not in listed()
    box.send(dsn(second, "sales@fietsen.example", "failed", "5.1.1"), "", [second])
    for args in (["--state", "bounced"], [], ["--state", "sent"]):
        row = listed(*args)[outbox_id]
        assert row["state"] == "sent"
        assert row["failed"] == [{"address": "sales@fietsen.example", "status": "5.1.1",
                                  "diagnostic": "smtp; 5.1.1 mailbox says no"}]
    assert outbox_id not in listed("--state", "queued")
    assert cli.main(["--config", str(config), "outbox", "--state", "bounced"]) == 0
    [line] = [l for l in capsys.readouterr().out.splitlines() if l.split()[0] == str(outbox_id)]
    assert "merchant.case_opened" in line
    assert line.endswith("failed: sales@fietsen.example 5.1.1")

    # Every recipient failed now: bounced, both addresses named.
    first = return_path(box.app.signer, outbox_id, 0)
    box.send(dsn(first, MERCHANT_NL, "failed", "5.2.1"), "", [first])
    row = listed("--state", "bounced")[outbox_id]
    assert row["state"] == "bounced"
    assert [(f["address"], f["status"]) for f in row["failed"]] == \
        [("sales@fietsen.example", "5.1.1"), (MERCHANT_NL, "5.2.1")]
    # Resent to a fixed address: the failures of the old ones are over.
    assert admin.resend(box.app.db(), outbox_id, datetime.now(timezone.utc),
                        ["orders@fietsen.example"])
    row = listed()[outbox_id]
    assert (row["state"], row["failed"]) == ("queued", [])
    assert outbox_id not in listed("--state", "bounced")
