"""Two ``mailbot serve`` nodes on one database, as operators run them (real subprocesses, each
with its own listener and workers): both accept and process mail; one is killed with SIGKILL
under load and the other finishes its work once the dead node's leases run out. Nothing is lost,
nothing is applied twice, and no answer goes out twice but in the one documented window (a kill
between the relay's 250 and the commit). Runs on the store ``--store`` names; on PostgreSQL the
two nodes are two machines in all but the network."""

from __future__ import annotations

import email
import os
import signal
import smtplib
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from conftest import OPERATOR, ORDER_DATE, free_port
from test_intake import fresh_mail, token_address
from mailbot import imports

MAILBOT = Path(sys.executable).parent / "mailbot"
CLICKS = 20
KILLS = 1  # node a, once


class Node:
    def __init__(self, tmp_path: Path, name: str, app):
        cfg = app.config
        self.port, self.root = free_port(), tmp_path / name
        self.root.mkdir()
        self.config = self.root / "mailbot.toml"
        self.config.write_text(f"""
[bot]
domain = "{cfg.bot.domain}"
[smtp]
port = {self.port}
[relay]
maildir = "{cfg.relay.maildir}"
[storage]
url = "{cfg.storage.url}"
root = "{self.root}"
database = "{cfg.storage.database}"
attachments = "{cfg.storage.attachments}"
[operators]
addresses = ["{OPERATOR}"]
[processing]
workers = 2
# A party's mail is held 3 s by its worker's lease (1.5 times the budget): the test waits
# for a dead node's leases to run out, not for the 60 s of production.
party_seconds = 2
""")
        self.log_path = self.root / "serve.log"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([str(MAILBOT), "serve"], cwd=self.root, stderr=log,
                                         start_new_session=True,
                                         env=dict(os.environ, MAILBOT_CONFIG=str(self.config)))

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.log().count("intake.started") < 2 or "processing.started" not in self.log():
            assert self.proc.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)


def more_orders(app, tmp_path, count: int) -> None:
    """Orders M-0 ... M-(count-1) of buyers b0 ... @buyer.example, each for a click of its own."""
    (tmp_path / "more.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n" +
        "".join(f"shop-nl,M-{i},{ORDER_DATE},10.00,EUR,b{i}@buyer.example,nl,plus\n"
                for i in range(count)))
    imports.import_orders(app.db(), str(tmp_path / "more.csv"), app.tz)


def _wait(what: str, predicate, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_two_nodes_share_the_work_and_one_killed_under_load_loses_nothing(app, tmp_path):
    more_orders(app, tmp_path, CLICKS)
    db = app.db()
    nodes = [Node(tmp_path, "a", app), Node(tmp_path, "b", app)]
    try:
        for node in nodes:
            node.wait_ready()
        for i in range(CLICKS):
            buyer = f"b{i}@buyer.example"
            to = token_address(app, "buyer", number=f"M-{i}", action="extend")
            with smtplib.SMTP("127.0.0.1", nodes[i % 2].port, timeout=10) as smtp:
                smtp.sendmail(buyer, [to], fresh_mail(buyer, "graag verlengen", to))
        nodes[0].kill()  # under load: whatever node a holds is leased to a dead node
        _wait("every accepted mail processed", lambda: db.execute(
            "SELECT count(*) FROM inbox WHERE processed_at IS NULL").fetchone()[0] == 0)
        _wait("every answer sent", lambda: db.execute(
            "SELECT count(*) FROM outbox WHERE due_at IS NOT NULL").fetchone()[0] == 0)
        nodes[1].stop()
        assert nodes[1].proc.returncode == 0, nodes[1].log()
    finally:
        for node in nodes:
            node.kill()
    # 0 lost: every click that got its 250 was applied, once.
    assert [r[0] for r in db.execute("SELECT disposition FROM inbox")] == ["applied"] * CLICKS
    extended = Counter(r[0] for r in db.execute(
        "SELECT order_id FROM timeline WHERE kind = 'protection.extended'"))
    assert len(extended) == CLICKS and set(extended.values()) == {1}
    answers = [r[0] for r in db.execute(
        "SELECT message_id FROM outbox WHERE template LIKE '%extended%'")]
    assert len(answers) == CLICKS
    # At least once toward the relay: each answer arrived; a double only for a mail that the
    # killed node had sent and not yet marked sent. One process of a node sends (its jobs
    # child, one mail at a time), so one kill doubles one mail at most (README, "More than one
    # machine"); the 2 workers and the jobs child all sent before, up to 3.
    sent = Counter(email.message_from_bytes(p.read_bytes())["Message-ID"]
                   for p in (Path(app.config.relay.maildir) / "new").iterdir())
    assert set(answers) <= set(sent)
    doubles = sum(n - 1 for m, n in sent.items() if m in answers)
    assert doubles <= KILLS, sent
