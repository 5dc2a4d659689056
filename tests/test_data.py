"""The data an operator keeps: one data directory, owner-only files, read-only commands that
never create a database, one-line errors on unwritable files, backups taken under load that
restore every accepted mail, and a purge that keeps the figures and drops the personal data."""

from __future__ import annotations

import email.utils
import json
import os
import shutil
import smtplib
import stat
import subprocess
import sys
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import click, make_config, only, write_config
from mailbot import cli, jobs, wiring
from mailbot.store import retention
from mailbot.store.files import AttachmentStore
from mailbot.tokens import Token

MAILBOT = Path(sys.executable).parent / "mailbot"
MERCHANTS = "id,name,emails,locale\ns1,Shop,s@shop.example,nl\n"
ORDERS = ("shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
          "s1,1,2026-01-02,10,EUR,b@buyer.example,nl,basic\n")
READ_ONLY = [["status", "s1", "1"], ["cases"], ["case", "1"], ["digest"], ["outbox"],
             ["inbox"], ["inbox", "show", "1"]]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def mailbot(args, cwd, config=None, user=None, timeout=60):
    env = {k: v for k, v in os.environ.items() if k != "MAILBOT_CONFIG"}
    if config:
        env["MAILBOT_CONFIG"] = str(config)
    command = [str(MAILBOT), *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def one_line(result) -> str:
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    return result.stderr


@pytest.mark.parametrize("args", READ_ONLY)
def test_read_only_commands_never_create_a_database(tmp_path, args):
    result = mailbot(args, cwd=tmp_path)
    assert f"no database at {tmp_path / 'var' / 'mailbot.db'}" in one_line(result)
    assert not (tmp_path / "var").exists()


def test_data_files_are_for_the_owner_only(tmp_path):
    (tmp_path / "m.csv").write_text(MERCHANTS)
    (tmp_path / "o.csv").write_text(ORDERS)
    assert mailbot(["import", "merchants", "m.csv"], tmp_path).returncode == 0
    assert mailbot(["import", "orders", "o.csv"], tmp_path).returncode == 0
    assert mailbot(["tick", "--now", "2026-01-25T12:00:00+01:00"], tmp_path).returncode == 0
    assert mailbot(["deliver"], tmp_path).returncode == 0
    var = tmp_path / "var"
    assert mode(var) == 0o700 and mode(var / "mailbot.db") == 0o600
    sent = list((var / "sent" / "new").iterdir())
    assert len(sent) == 1 and mode(sent[0]) == 0o600 and mode(var / "sent" / "new") == 0o700
    store = AttachmentStore(tmp_path / "attachments")
    sha = store.save(b"%PDF-1.4 receipt")
    assert mode(tmp_path / "attachments") == 0o700
    assert mode(tmp_path / "attachments" / sha[:2]) == 0o700
    assert mode(tmp_path / "attachments" / sha[:2] / sha) == 0o600


def test_an_older_world_readable_database_is_tightened(tmp_path):
    config = make_config(tmp_path)
    wiring.build(config).close()
    os.chmod(config.storage.database, 0o644)
    wiring.build(config).close()
    assert mode(config.storage.database) == 0o600


@pytest.fixture
def shared_dir():
    """A folder another user can enter (pytest's own tmp folders are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="mailbot-ro-"))
    os.chmod(folder, 0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            os.chmod(path, 0o755)
    shutil.rmtree(folder)


def test_read_only_data_directory(shared_dir):
    """As another user where the tests run as root (root writes anywhere)."""
    user = 65534 if os.getuid() == 0 else None
    for name, content in (("m.csv", MERCHANTS), ("o.csv", ORDERS)):
        (shared_dir / name).write_text(content)
        os.chmod(shared_dir / name, 0o644)
    if user is not None:
        os.chown(shared_dir, user, user)
    assert mailbot(["import", "merchants", "m.csv"], shared_dir, user=user).returncode == 0
    assert mailbot(["import", "orders", "o.csv"], shared_dir, user=user).returncode == 0
    var = shared_dir / "var"
    database = var / "mailbot.db"
    os.chmod(database, 0o400)
    said = one_line(mailbot(["import", "orders", "o.csv"], shared_dir, user=user))
    assert f"database {database} is read-only" in said and "Traceback" not in said
    os.chmod(database, 0o600)
    os.chmod(var, 0o500)
    said = one_line(mailbot(["tick"], shared_dir, user=user))
    assert f"folder {var} is not writable" in said
    os.chmod(database, 0o400)
    for args in (["cases", "--json"], ["status", "s1", "1", "--json"], ["outbox"], ["inbox"],
                 ["digest"]):
        result = mailbot(args, shared_dir, user=user)
        assert result.returncode == 0, result.stderr
    status = json.loads(mailbot(["status", "s1", "1", "--json"], shared_dir, user=user).stdout)
    assert status["protection"]["state"] == "active"
    assert sorted(p.name for p in var.iterdir()) == ["mailbot.db"]


def _mail(number: int, to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"someone{number}@sender.example"
    msg["To"] = to
    msg["Subject"] = f"load {number}"
    msg["Message-ID"] = email.utils.make_msgid(idstring=f"load{number}", domain="sender.example")
    msg.set_content("a mail sent while the backup runs\n" * 20)
    return msg


def test_backup_under_load_restores_every_accepted_mail(app, box, tmp_path):
    jobs.tick(app, datetime.now(timezone.utc))
    reminder = only(box.deliver(), "jan@buyer.example")
    click(box, reminder, "not_received", "jan@buyer.example", body="Nothing came.",
          attachments=[("bon.pdf", "application/pdf", b"%PDF-1.4 the order confirmation")])
    accepted: list[str] = []
    stop = threading.Event()

    failed: list[Exception] = []

    def load():
        number = 0
        try:
            with smtplib.SMTP(app.config.smtp.host, app.config.smtp.port) as smtp:
                while not stop.is_set():
                    # To a token address: the bare address takes only so much anonymous mail.
                    msg = _mail(number, reminder["Reply-To"])
                    smtp.sendmail(msg["From"], [reminder["Reply-To"]], msg.as_bytes())
                    accepted.append(msg["Message-ID"])  # the 250 came back
                    number += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            failed.append(exc)

    sender = threading.Thread(target=load)
    sender.start()
    try:
        while len(accepted) < 50 and not failed:
            threading.Event().wait(0.01)
        before = list(accepted)
        result = mailbot(["backup", str(tmp_path / "backup")], tmp_path,
                         config=write_config(tmp_path, app.config))
        after_backup = len(accepted)
    finally:
        stop.set()
        sender.join()
    assert not failed, failed
    assert result.returncode == 0, result.stderr
    assert after_backup > len(before), "the backup did not run while mail was accepted"
    copy = tmp_path / "backup"
    assert mode(copy) == 0o700 and mode(copy / "mailbot.db") == 0o600

    # Restore as the README says: the copy's files into a fresh data directory.
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(copy / "mailbot.db", restored / "mailbot.db")
    shutil.copytree(copy / "attachments", restored / "attachments")
    again = wiring.build(make_config(restored, storage={
        "database": str(restored / "mailbot.db"), "attachments": str(restored / "attachments")}))
    db = again.db()
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raws = [r[0] for r in db.execute("SELECT raw FROM inbox_raw")]
    ids = {email.message_from_bytes(raw)["Message-ID"] for raw in raws}
    assert set(before) <= ids
    token = Token("buyer", 1)
    assert again.signer.address(token) == app.signer.address(token)  # same secret
    documents = [d for (t,) in db.execute("SELECT attachments FROM timeline")
                 for d in json.loads(t)]
    assert [d["name"] for d in documents] == ["bon.pdf"]
    assert again.attachments.read(documents[0]["sha256"]) == b"%PDF-1.4 the order confirmation"
    again.close()


def test_backup_refuses_a_folder_in_use(app, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    result = mailbot(["backup", str(tmp_path / "full")], tmp_path,
                     config=write_config(tmp_path, app.config))
    assert "is not an empty folder" in one_line(result)
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_purge_keeps_figures_and_drops_personal_data(app, box, tmp_path):
    now = datetime.now(timezone.utc)
    jobs.tick(app, now)
    reminder = only(box.deliver(), "jan@buyer.example")
    click(box, reminder, "not_received", "jan@buyer.example", body="Mijn fiets kwam nooit aan.",
          attachments=[("bon.pdf", "application/pdf", b"%PDF-1.4 personal receipt")])
    box.deliver()
    db = app.db()
    case_id = db.execute("SELECT id FROM cases").fetchone()[0]
    assert cli.main(["--config", str(write_config(tmp_path, app.config)), "case", str(case_id),
                     "decide", "compensated", "--message", "Wij vergoeden het."]) == 2  # open
    for t in ("2", "6", "30"):  # merchant silent: escalates; then the operators decide
        jobs.tick(app, now + timedelta(days=int(t)))
    assert cli.main(["--config", str(write_config(tmp_path, app.config)), "case", str(case_id),
                     "decide", "compensated", "--message", "Wij vergoeden het."]) == 0
    box.deliver()
    for path in Path(app.config.storage.attachments).rglob("*"):
        os.utime(path, (0, 0))  # stored long ago
    db.execute("INSERT INTO bounces (outbox_id, recipient, action, status, diagnostic, "
               "received_at) SELECT id, 'jan@buyer.example', 'failed', '5.2.2', "
               "'mailbox of jan@buyer.example full', created_at FROM outbox "
               "WHERE recipients LIKE '%jan@%' LIMIT 1")
    figures = "SELECT state, reason, outcome, escalation_reason, opened_at, closed_at FROM cases"
    before = db.execute(figures).fetchall()
    order = "SELECT order_date, amount, state, end_reason FROM orders WHERE order_number='NL-1'"
    order_before = db.execute(order).fetchone()

    assert str(retention.purge(db, app.attachments, now)) == "0 orders, 0 texts, 0 inbound, " \
        "0 outbound, 0 bounces, 0 files, 0 maildir"  # closed just now: nothing is old enough
    # The case closed today; the other two protections expire in a week.
    # A dry run counts what would go and keeps everything, files too.
    rehearsed = retention.purge(db, app.attachments, now + timedelta(days=1), dry_run=True)
    assert db.execute("SELECT count(*) FROM orders WHERE buyer_email LIKE 'jan@%'"
                      ).fetchone()[0] == 1
    assert any(p.is_file() for p in Path(app.config.storage.attachments).rglob("*"))
    done = retention.purge(db, app.attachments, now + timedelta(days=1))
    assert str(rehearsed) == str(done)
    assert done.orders == 1 and done.texts >= 2 and done.inbound >= 1 and done.files == 1
    assert done.outbound >= 3 and done.bounces == 1
    assert db.execute("SELECT recipient, diagnostic FROM bounces").fetchall() == [("", "")]

    assert db.execute(figures).fetchall() == before
    assert db.execute(order).fetchone() == order_before
    personal = db.execute(
        "SELECT group_concat(text, '|') FROM timeline t JOIN orders o ON o.id = t.order_id "
        "WHERE o.order_number = 'NL-1'").fetchone()[0]
    assert "fiets" not in personal and "vergoeden" not in personal
    assert db.execute("SELECT count(*) FROM orders WHERE buyer_email LIKE 'jan@%'"
                      ).fetchone()[0] == 0
    raw = db.execute("SELECT count(*) FROM inbox i JOIN orders o ON o.id = i.order_id "
                     "JOIN inbox_raw r ON r.inbox_id = i.id "
                     "WHERE o.order_number = 'NL-1' AND length(r.raw) > 0").fetchone()[0]
    assert raw == 0
    assert not any(p.is_file() for p in Path(app.config.storage.attachments).rglob("*"))
    # Open protections keep everything.
    assert db.execute("SELECT count(*) FROM orders WHERE buyer_email = 'marie@buyer.example'"
                      ).fetchone()[0] == 1
    with open(app.config.storage.database, "rb") as fh:
        assert b"Mijn fiets kwam nooit aan" not in fh.read()
    again = retention.purge(db, app.attachments, now + timedelta(days=1))
    assert str(again) == "0 orders, 0 texts, 0 inbound, 0 outbound, 0 bounces, 0 files, 0 maildir"
    # The anonymous facts stay: the digest over the purged period still counts them.
    from mailbot import digest
    summary = digest.text(app, now + timedelta(days=31), timedelta(days=40))
    assert "Cases overgenomen door het serviceteam: 1" in summary, summary


def test_purge_command_uses_the_retention_default(app, tmp_path):
    config = write_config(tmp_path, app.config)
    result = mailbot(["purge"], tmp_path, config=config)
    assert result.returncode == 0, result.stderr
    expected = (datetime.now(timezone.utc) - timedelta(days=730)).astimezone(app.tz).date()
    assert f"closed before {expected}" in result.stdout
    assert "under a day" in one_line(mailbot(["purge", "--older-than", "30m"], tmp_path,
                                             config=config))
