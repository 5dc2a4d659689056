"""mailbot behind a real Postfix (Debian's), started by the test on loopback with its own config.

Postfix takes mail for the bot's domain on a high port, asks ``mailbot postfix-map``'s socketmap
whether a recipient exists (``relay_recipient_maps``), and hands accepted mail to mailbot over
LMTP (``transport_maps``). mailbot relays its own mail through the same Postfix (a second,
loopback smtpd as in the README) to Maildirs of a local test domain (``mydestination``,
aliases); an unknown local user makes Postfix send a DSN to the VERP return path, which comes
back through Postfix. Skipped, with the reason, where Postfix is
not installed or this process cannot start it (its master must start as root).
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import os
import pwd
import shutil
import smtplib
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailbot import digest, imports, jobs, views, wiring
from mailbot.outbound.return_path import return_path
from mailbot.serve.socketmap import MapServer
from mailbot.store import records

from conftest import ORDER_DATE, Mailbox, actions, free_port, make_config

POSTFIX = "/usr/sbin/postfix"
LOCAL = "shop.test"  # Postfix's own domain: the parties' mailboxes
MERCHANTS = f"id,name,emails,locale\nshop-1,Fietsen BV,merchant@{LOCAL};gone@{LOCAL},nl\n"
ORDERS = ("shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
          f"shop-1,NL-1,{ORDER_DATE},49.95,EUR,buyer@{LOCAL},nl,plus\n")

# One line per service, chroot off everywhere ("n"): the queue is a temporary folder.
MASTER_CF = """\
{smtpd} inet n - n - - smtpd
{submission} inet n - n - - smtpd
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def _why_not() -> str | None:
    if not os.path.exists(POSTFIX):
        return "Postfix is not installed (apt-get install postfix; .ci/run does this as root)"
    if os.geteuid() != 0:
        return "Postfix's master process must be started as root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "the postfix user does not exist (Postfix package not fully installed)"
    return None


class Postfix:
    """A private Postfix instance: ``postfix -c DIR start`` with its queue in a temporary folder."""

    def __init__(self, port: int, submission: int, bot_domain: str, next_hop: str,
                 map_port: int, size_limit: int):
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-postfix-"))
        self.root.chmod(0o755)  # local(8) delivers as nobody: the mailboxes must be reachable
        self.etc, self.mail, self.port = self.root / "etc", self.root / "mail", port
        for folder in (self.etc, self.mail, self.root / "spool", self.root / "data"):
            folder.mkdir()
            folder.chmod(0o755)  # whatever the umask (in-process `mailbot` commands set 077)
        self.mail.chmod(0o777)
        owner = pwd.getpwnam("postfix")
        os.chown(self.root / "data", owner.pw_uid, owner.pw_gid)
        for name in ("master.cf", "main.cf"):
            (self.etc / name).touch(mode=0o644)
            (self.etc / name).chmod(0o644)
        (self.etc / "master.cf").write_text(MASTER_CF.format(
            smtpd=f"127.0.0.1:{port}", submission=f"127.0.0.1:{submission}"))
        aliases = ", ".join(f"{{{name} = {self.mail}/{name}/}}"
                            for name in ("buyer", "merchant", "team"))
        (self.etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.root}/spool
data_directory = {self.root}/data
maillog_file = {self.root}/maillog
maillog_file_prefixes = {self.root}
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.{LOCAL}
mydomain = {LOCAL}
myorigin = $mydomain
mydestination = {LOCAL}
# No recipient check at RCPT for the local domain: local(8) bounces unknown users with a DSN.
local_recipient_maps =
alias_maps = inline:{{ {aliases} }}
alias_database =
recipient_delimiter =
relay_domains = {bot_domain}
relay_recipient_maps = socketmap:inet:127.0.0.1:{map_port}:recipients
transport_maps = inline:{{ {{{bot_domain} = {next_hop}}} }}
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
delay_warning_time = 0
biff = no
# At most [smtp] max_message_size, as the README says: the size is refused before the queue.
message_size_limit = {size_limit}
""")

    def command(self, *args) -> subprocess.CompletedProcess:
        # Postfix's own daemons must read what root creates: never inherit an owner-only umask.
        return subprocess.run([POSTFIX, "-c", str(self.etc), *args], capture_output=True,
                              text=True, timeout=60, preexec_fn=lambda: os.umask(0o022))

    def start(self):
        done = self.command("start")
        if done.returncode != 0:
            raise RuntimeError(f"postfix start failed: {done.stdout}{done.stderr}{self.log()}")
        wait_for(lambda: _accepts(self.port), "Postfix's smtpd to listen")

    def stop(self):
        self.command("stop")
        pid_file = self.root / "spool" / "pid" / "master.pid"
        wait_for(lambda: not pid_file.exists() or not _alive(pid_file), "Postfix to stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def queue(self) -> str:
        """What is still queued (``postqueue -p``)."""
        return subprocess.run(["/usr/sbin/postqueue", "-c", str(self.etc), "-p"],
                              capture_output=True, text=True, timeout=60).stdout

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def mailbox(self, name: str) -> list[email.message.EmailMessage]:
        folder = self.mail / name / "new"
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(folder.glob("*"), key=lambda p: p.stat().st_mtime_ns)] \
            if folder.exists() else []


def _accepts(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2):
            return True
    except OSError:
        return False


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
        return True
    except (OSError, ValueError, IndexError):
        return False


def wait_for(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def stack(tmp_path, request):
    """mailbot's LMTP listener and map, and Postfix handing mail over with ``request.param``'s
    transport (default ``lmtp``)."""
    reason = _why_not()
    if reason:
        print(f"SKIP test_postfix: {reason}")
        pytest.skip(reason)
    map_port, postfix_port, submission_port = free_port(), free_port(), free_port()
    app = wiring.build(make_config(
        tmp_path, smtp={"protocol": "lmtp"},
        relay={"transport": "smtp", "host": "127.0.0.1", "port": submission_port},
        operators={"addresses": [f"team@{LOCAL}"]},
        postfix={"socketmap": f"127.0.0.1:{map_port}"}))
    (tmp_path / "m.csv").write_text(MERCHANTS)
    (tmp_path / "o.csv").write_text(ORDERS)
    imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
    imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
    port = app.config.smtp.port
    next_hop = {"lmtp": f"lmtp:inet:127.0.0.1:{port}",
                "smtp": f"smtp:[127.0.0.1]:{port}"}[getattr(request, "param", "lmtp")]
    postfix = Postfix(postfix_port, submission_port, app.config.bot.domain, next_hop, map_port,
                      app.config.smtp.max_message_size)
    box, socketmap = Mailbox(app), MapServer(app, "127.0.0.1", map_port)
    box.start()
    socketmap.start()
    try:
        postfix.start()
        yield app, box, postfix
    finally:
        try:
            postfix.stop()
        finally:
            socketmap.stop()
            box.stop()
            app.close()


def _submit(postfix, mail_from: str, rcpt: str, raw: bytes) -> dict:
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as smtp:
        return smtp.sendmail(mail_from, [rcpt], raw)


def _inbox(app, disposition=None) -> list[dict]:
    db = app.db()
    return list(db.query("SELECT id, disposition, rcpt_tos FROM inbox WHERE processed_at "
                         "IS NOT NULL" + (" AND disposition = ?" if disposition else ""),
                         [disposition] if disposition else []))


def test_mail_flows_through_postfix_and_forged_tokens_are_refused_at_rcpt(stack):
    app, box, postfix = stack
    now = datetime.now(timezone.utc)
    db = app.db()

    # Outbound: the reminder reaches the buyer's mailbox through Postfix, VERP Return-Path kept.
    jobs.tick(app, now)
    assert jobs.deliver(app, now)["sent"] == 1
    wait_for(lambda: postfix.mailbox("buyer"), "the reminder in the buyer's mailbox")
    reminder = postfix.mailbox("buyer")[0]
    outbox_id = db.execute("SELECT id FROM outbox WHERE template = 'buyer.reminder'").fetchone()[0]
    assert reminder["Return-Path"] == f"<{return_path(app.signer, outbox_id, 0)}>"

    # Inbound: the buyer's answer, submitted to Postfix, reaches mailbot over LMTP: a case opens.
    href = actions(reminder)["not_received"]
    token_address = href.split(":", 1)[1].split("?")[0]
    answer = (f"From: buyer@{LOCAL}\r\nTo: {token_address}\r\nSubject: niet ontvangen\r\n"
              f"Message-ID: <answer-1@{LOCAL}>\r\n\r\nHet pakket is nooit gekomen.\r\n").encode()
    assert _submit(postfix, f"buyer@{LOCAL}", token_address, answer) == {}
    wait_for(lambda: _inbox(app, "applied"), "mailbot to apply the buyer's answer")
    order_id = db.execute("SELECT id FROM orders").fetchone()[0]
    assert db.execute("SELECT state FROM cases WHERE order_id = ?", [order_id]).fetchone()[0] \
        == "awaiting_merchant"

    # The merchant has two addresses; one is unknown to Postfix: one DSN, for that one only.
    jobs.deliver(app, datetime.now(timezone.utc))
    wait_for(lambda: postfix.mailbox("merchant"), "the case in the merchant's mailbox")
    wait_for(lambda: _inbox(app, "bounce"), "the DSN for gone@ to come back to mailbot")
    bounces = list(db.query("SELECT outbox_id, recipient, action, status FROM bounces"))
    case_mail = db.execute("SELECT id, recipients, status FROM outbox "
                           "WHERE template = 'merchant.case_opened'").fetchone()
    assert bounces == [{"outbox_id": case_mail[0], "recipient": f"gone@{LOCAL}",
                        "action": "failed", "status": "5.1.1"}]
    assert json.loads(case_mail[1]) == [f"merchant@{LOCAL}", f"gone@{LOCAL}"]
    assert case_mail[2] == "sent"  # the other address got it: the mail is not "bounced"
    bounce_rcpt = json.loads(_inbox(app, "bounce")[0]["rcpt_tos"])
    assert bounce_rcpt == [return_path(app.signer, case_mail[0], 1)]  # VERP names recipient 1
    timeline = views.case_file_json(db, records.load(db, order_id), app.tz)["timeline"]
    assert [e for e in timeline if e["kind"] == "delivery.failed"
            and f"gone@{LOCAL}" in e["text"] and "5.1.1" in e["text"]]
    text = digest.text(app, datetime.now(timezone.utc), timedelta(days=1))
    assert f"gone@{LOCAL}" in text and "NL-1" in text and f"merchant@{LOCAL}" not in text

    # A forged token and an unknown name are refused by Postfix at RCPT: nothing to bounce.
    forged = token_address[:12] + ("a" if token_address[12] != "a" else "b") + token_address[13:]
    for rcpt in (forged, f"nobody@{app.config.bot.domain}"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            _submit(postfix, "evil@attacker.example", rcpt, b"Subject: x\r\n\r\nx\r\n")
        code, text = refused.value.recipients[rcpt]
        assert code == 550 and b"Recipient address rejected" in text, text
    # The real token address is still accepted (the map is not simply refusing everything).
    assert _submit(postfix, f"buyer@{LOCAL}", token_address,
                   answer.replace(b"answer-1", b"answer-2")) == {}


@pytest.mark.parametrize("stack", ["smtp"], indirect=True)
def test_a_transport_of_the_wrong_protocol_defers_and_loses_nothing(stack):
    """Postfix's smtp: transport against the LMTP listener: 421 at EHLO, the mail stays queued."""
    app, box, postfix = stack
    raw = b"From: someone@elsewhere.test\r\nSubject: hallo\r\n\r\nIs er iemand?\r\n"
    assert _submit(postfix, "someone@elsewhere.test", "bot@bot.example", raw) == {}
    wait_for(lambda: "status=deferred" in postfix.log(), "Postfix to try mailbot and defer")
    deferred = [line for line in postfix.log().splitlines() if "status=deferred" in line]
    assert "421 4.3.5 This is an LMTP listener" in deferred[0], deferred[0]
    assert "status=bounced" not in postfix.log()
    assert _inbox(app) == [] and app.db().execute("SELECT count(*) FROM inbox").fetchone()[0] == 0
    assert "bot@bot.example" in postfix.queue()


def test_after_postfix_queued_a_mail_nothing_is_bounced_to_a_forged_sender(stack):
    """Mail to the bare address over the anonymous limits, through Postfix: taken and dropped
    by LMTP, so Postfix sends no bounce to the (forged) envelope sender."""
    app, box, postfix = stack
    doorman = box.server.handler
    doorman.limits = dataclasses.replace(doorman.limits, anonymous_max_size=2000)
    big = (b"From: someone@elsewhere.test\r\nSubject: groot\r\n\r\n"
           + b"x" * 78 + b"\r\n") * 100
    assert _submit(postfix, f"buyer@{LOCAL}", "bot@bot.example", big) == {}
    wait_for(lambda: "status=sent" in postfix.log(), "Postfix to hand the mail over")
    sent = [line for line in postfix.log().splitlines() if "status=sent" in line]
    assert "dropped, over the limits of the bare address" in sent[0], sent[0]
    # Too big for mailbot at all: Postfix refuses it itself, before its queue.
    with pytest.raises(smtplib.SMTPException) as refused:
        _submit(postfix, f"buyer@{LOCAL}", "bot@bot.example", big * 30)
    assert "552" in str(refused.value) or "size limit" in str(refused.value)
    assert "status=bounced" not in postfix.log()
    assert app.db().execute("SELECT count(*) FROM inbox").fetchone()[0] == 0
    assert postfix.mailbox("buyer") == []  # no bounce reached the sender
