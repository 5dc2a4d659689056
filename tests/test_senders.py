"""One process of a ``mailbot serve`` node sends: the jobs child. ``serve`` (a real subprocess,
2 intake workers) delivers to a relay on loopback (aiosmtpd) that looks up, for each mail it
takes, which process holds the client end of the connection (Linux's /proc). Intake workers wake
the jobs child instead of sending themselves, so a node killed between the relay's 250 and the
outbox's commit doubles at most one mail (README, "More than one machine")."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import smtplib
import time
from datetime import datetime, timezone
from pathlib import Path

from aiosmtpd.controller import Controller

from conftest import free_port, make_config
from test_intake import BARE, BUYER_NL, fresh_mail, token_address
from test_nodes import more_orders
from test_serve import Serve
from mailbot.serve import supervisor
from mailbot.serve.pool import Pool
from mailbot.store import inbox_rows

CLICKS = 6


class Relay:
    """Answers 250 and notes the pid of the process that sent each mail (None: not one of
    ``pids()``)."""

    def __init__(self, pids):
        self.pids, self.senders, self.port = pids, [], 0

    async def handle_DATA(self, server, session, envelope):
        self.senders.append(_owner(session.peer[1], server_port=self.port, pids=self.pids()))
        return "250 OK"


def _owner(client_port: int, server_port: int, pids: list[int]) -> int | None:
    """The process among ``pids`` with the loopback TCP socket from ``client_port`` to
    ``server_port`` open (proc(5): /proc/net/tcp's ports in hex, the socket's inode last)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(a.rsplit(":", 1)[1], 16) for a in fields[1:3])
            if (local, remote) == (client_port, server_port):
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if fd.readlink().as_posix() in inodes:
                    return pid
            except FileNotFoundError:  # closed meanwhile
                continue
    return None


def _tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid] + ([int(p) for p in children.read_text().split()] if children.exists() else [])


def test_only_the_jobs_child_sends_while_two_workers_process(app, tmp_path):
    more_orders(app, tmp_path, CLICKS)
    db = app.db()
    node = {}
    relay = Relay(lambda: _tree(node["serve"].proc.pid))
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    relay.port = controller.port
    try:
        s = node["serve"] = Serve(tmp_path, processing={"workers": 2},
                                  relay={"transport": "smtp", "host": "127.0.0.1",
                                         "port": controller.port})
        s.wait_for(lambda: s.log().count("intake.started") == 2
                   and "processing.started" in s.log(), "two workers and the jobs child", 120)
        jobs_child = int(re.search(r"processing\.started pid=(\d+)", s.log()).group(1))
        # All at once: both workers take clicks (the second one's own lanes are empty).
        with smtplib.SMTP("127.0.0.1", s.port, timeout=10) as smtp:
            for i in range(CLICKS):
                buyer = f"b{i}@buyer.example"
                to = token_address(app, "buyer", number=f"M-{i}", action="extend")
                smtp.sendmail(buyer, [to], fresh_mail(buyer, "graag verlengen", to))
        s.wait_for(lambda: db.execute(
            "SELECT count(*) FROM inbox WHERE disposition = 'applied'").fetchone()[0] == CLICKS,
            "every click applied", 60)
        s.wait_for(lambda: db.execute(
            "SELECT count(*) FROM outbox WHERE due_at IS NOT NULL").fetchone()[0] == 0,
            "every answer sent", 60)
        s.stop()
        assert s.proc.returncode == 0, s.log()
    finally:
        if "serve" in node:
            node["serve"].kill()
        controller.stop()
    answered = db.execute("SELECT count(*) FROM outbox WHERE template LIKE '%extended%'"
                          ).fetchone()[0]
    assert answered >= CLICKS and len(relay.senders) >= answered
    # Not the workers (old code: each sent the answers of its batch itself), nor anyone else.
    assert set(relay.senders) == {jobs_child}, (jobs_child, relay.senders, s.log())


def test_a_worker_s_word_wakes_the_jobs_child_also_from_a_worker_replaced_after_a_kill(
        app, tmp_path):
    """The real worker process under the real pool, and the supervisor's beat: each batch
    of stored answers puts a byte in the jobs child's pipe (which wakes its delivery); a worker
    started in place of a killed one tells through the same pipe."""
    config = make_config(tmp_path, processing={"workers": 1},
                         storage={"url": app.config.storage.url,
                                  "database": app.config.storage.database})
    pool = Pool(config)
    jobs_pipe, jobs_w = multiprocessing.get_context("spawn").Pipe(duplex=False)
    os.set_blocking(jobs_w.fileno(), False)
    db = app.db()

    def mail_then_word(what: str) -> None:
        inbox_rows.store(db, fresh_mail(BUYER_NL, what), BUYER_NL, [BARE],
                         datetime.now(timezone.utc), "stranger")
        pool.wake()
        deadline = time.monotonic() + 120  # a worker's start (templates built) included
        while not jobs_pipe.poll(0):
            assert time.monotonic() < deadline, f"no word after {what}"
            pool.check()
            supervisor._beat(pool, jobs_w)
        os.read(jobs_pipe.fileno(), 4096)

    pool.start()
    try:
        mail_then_word("een vraag")
        first = pool.slots[0].process.pid
        os.kill(first, signal.SIGKILL)
        mail_then_word("nog een vraag")
        assert pool.slots[0].process.pid != first
        assert not jobs_pipe.poll(0.5)  # one word per batch, not a stream
    finally:
        pool.stop(wait=True)
    assert [r[0] for r in db.execute("SELECT processed_at IS NOT NULL FROM inbox")] == [1, 1]
