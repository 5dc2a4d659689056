"""mailbot's benchmarks: speed, scale and memory, as ratios against baselines of the same run.

    python bench/run.py [--quick] [--no-pg]

Accept and end to end against a bare SMTP server (the "ceiling"); end to end with 1, 2 and 4
intake workers, tick and delivery, on SQLite and on PostgreSQL (a server started for the run);
the lanes (a party's click while the other lanes are stuck). Prints a table and, as its last line, one JSON object with the figures. Everything runs on
loopback with bounded counts; every server started here is stopped here. The machines are shared
and noisy, so each timed figure is the median of several runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mailbot import config as config_mod
from mailbot import jobs, views, wiring
from mailbot.core.model import Action
from mailbot.store import records
from mailbot.store.db import transaction
from mailbot.tokens import Token

MAILBOT = Path(sys.executable).parent / "mailbot"
CONNECTIONS = 4
SINK = """
import sys, time
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]), server_hostname="sink")
c.start()
try:
    sys.stdin.read()
finally:
    c.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def message(sender: str, to: str, n: int) -> bytes:
    body = "\r\n".join(["Bonjour, voici ma réponse à votre message, merci."] * 36)
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: Re: votre commande\r\n"
            f"Message-ID: <bench-{n}-{time.monotonic_ns()}@client.example>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def blast(port: int, jobs_: list[tuple[str, str, bytes]]) -> float:
    """Sends ``jobs_`` over CONNECTIONS connections; returns messages per second."""
    chunks = [jobs_[i::CONNECTIONS] for i in range(CONNECTIONS)]

    def worker(chunk):
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for sender, to, raw in chunk:
                smtp.sendmail(sender, [to], raw)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(jobs_) / (time.perf_counter() - start)


def config_for(folder: Path, port: int, relay_port: int | None = None, url: str = "",
               extra: str = "") -> Path:
    """The bench's settings; ``url`` a store other than the SQLite file, ``extra`` more
    sections."""
    path = folder / "bench.toml"
    relay = f'transport = "smtp"\nport = {relay_port}' if relay_port else \
        f'maildir = "{folder / "sent"}"'
    path.write_text(f"""
[bot]
domain = "bot.example"
[smtp]
port = {port}
[relay]
{relay}
[storage]
url = "{url}"
database = "{folder / 'db.sqlite'}"
attachments = "{folder / 'att'}"
{extra}""")
    return path


def seed(db, orders: int, due: int, now: datetime, tz) -> None:
    """``orders`` protections, ``due`` of them with the reminder due at ``now``."""
    records.upsert_merchant(db, "shop", "Bench Shop", ["shop@merchant.example"], "nl")
    today = now.astimezone(tz).date()
    due_date = (today - timedelta(days=23)).isoformat()
    later = (today - timedelta(days=5)).isoformat()
    with transaction(db):
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {orders})
            INSERT INTO orders (shop_id, order_number, order_date, amount, currency, buyer_email,
                                buyer_locale, plan, state, ends_at)
            SELECT 'shop', 'O' || i, CASE WHEN i <= {due} THEN '{due_date}' ELSE '{later}' END,
                   '49.95', 'EUR', 'buyer' || i || '@buyer.example',
                   CASE i % 3 WHEN 0 THEN 'nl' WHEN 1 THEN 'fr' ELSE 'it' END, 'plus', 'active', ''
            FROM n""")
    # Ends and timers through the same code the import uses, in batches.
    from mailbot.core.deadlines import protection_end
    from mailbot.core.decide import timers
    from mailbot.core.model import Order, Plan, Protection, ProtectionState, State
    from decimal import Decimal
    batch = []
    rows = db.execute("SELECT id, order_date FROM orders").fetchall()
    ends = {}
    for order_id, order_date in rows:
        day = datetime.fromisoformat(order_date).date()
        if day not in ends:
            end = protection_end(day, tz)
            state = State(Order(0, "", "", day, Decimal(1), "EUR", "", "nl", Plan.PLUS),
                          Protection(ProtectionState.ACTIVE, end))
            ends[day] = (records.iso(end), [(k, records.iso(d)) for k, d in timers(state, tz)])
        end, due_timers = ends[day]
        batch.append((order_id, end, due_timers))
    with transaction(db):
        db.executemany("UPDATE orders SET ends_at = ? WHERE id = ?",
                       [(end, oid) for oid, end, _ in batch])
        db.executemany("INSERT INTO timers (order_id, kind, due_at) VALUES (?, ?, ?)",
                       [(oid, k, d) for oid, _, ts in batch for k, d in ts])


def median_of(runs: int, fn):
    return statistics.median(fn() for _ in range(runs))


class Serve:
    def __init__(self, config: Path, port: int):
        # Its log beside the config: the workers say when they are ready (intake.started).
        self.log = config.parent / "serve.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([str(MAILBOT), "--config", str(config), "serve"],
                                         stderr=log)
        wait_port(port)

    def wait_ready(self, workers: int, timeout: float = 300) -> None:
        """Until every intake worker has built its renderer (seconds of CPU each, more on a
        loaded machine): what is timed next is the work, not the start of the workers."""
        deadline = time.monotonic() + timeout
        while self.log.read_text(errors="replace").count("intake.started") < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} workers not started in {timeout} s")
            time.sleep(0.1)

    def _pids(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [self.proc.pid] + ([int(p) for p in children.read_text().split()]
                                  if children.exists() else [])

    def rss_peak_mb(self) -> float:
        """Peak resident memory of serve: the listener and every child (intake workers, jobs
        child, multiprocessing's resource tracker), each counted whole (shared libraries once
        per process)."""
        return sum(_status_kb(pid, "VmHWM:") for pid in self._pids()) / 1024

    def pss_mb(self) -> float:
        """The same processes' memory now, pages shared between them divided among them
        (proportional set size, Linux's smaps_rollup)."""
        return sum(_status_kb(pid, "Pss:", "smaps_rollup") for pid in self._pids()) / 1024

    def per_process(self) -> str:
        """Each process's peak RSS / PSS now (MB), named by its job: the two sums above, split."""
        log = self.log.read_text(errors="replace")
        roles = {int(pid): "worker" for pid in re.findall(r"intake\.started pid=(\d+)", log)}
        roles.update((int(pid), "jobs") for pid in re.findall(r"processing\.started pid=(\d+)",
                                                              log))
        roles[self.proc.pid] = "listener"
        parts = []
        for pid in self._pids():
            role = roles.get(pid) or ("resource tracker" if b"resource_tracker" in Path(
                f"/proc/{pid}/cmdline").read_bytes() else "other")
            parts.append(f"{role} {_status_kb(pid, 'VmHWM:') / 1024:.1f}/"
                         f"{_status_kb(pid, 'Pss:', 'smaps_rollup') / 1024:.1f}")
        return ", ".join(parts)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _status_kb(pid: int, field: str, name: str = "status") -> int:
    for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def wait_processed(db, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while db.execute("SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL").fetchone()[0] \
            < count:
        if time.monotonic() > deadline:
            raise RuntimeError("processing did not finish")
        time.sleep(0.05)


def stage_costs(app, raw: bytes, order_id: int, now) -> dict:
    """CPU per reply split into parse, decide, render, compose and commit (ms, medians)."""
    from mailbot.core.decide import decide
    from mailbot.core.events import BuyerAction
    from mailbot.inbound.parse import parse
    from mailbot.inbound.reply import new_text
    from mailbot.outbound import compose as compose_mod
    from dataclasses import replace
    from mailbot.core.model import ProtectionState
    db = app.db()
    state = records.load(db, order_id)
    state = replace(state, case=None,
                    protection=replace(state.protection, state=ProtectionState.ACTIVE))
    out = {}

    def timed(fn, n=30):
        samples = []
        for _ in range(n):
            t = time.process_time_ns()
            fn()
            samples.append(time.process_time_ns() - t)
        return statistics.median(samples) / 1e6

    out["parse"] = timed(lambda: new_text(parse(raw).text))
    event = BuyerAction(Action.NOT_RECEIVED, "x")
    out["decide"] = timed(lambda: decide(state, event, now, app.tz))
    decision = decide(state, event, now, app.tz)
    mail = decision.mails[1]
    merchant = records.merchant(db, decision.state.order.shop_id)
    ctx = compose_mod.context(app, db, decision.state, mail, mail.to, merchant)
    out["render"] = timed(lambda: app.renderer.render(mail.template, "nl", ctx))
    rendered = app.renderer.render(mail.template, "nl", ctx)
    rcpt = compose_mod.recipients(app, decision.state, mail.to, merchant)
    out["compose"] = timed(lambda: compose_mod.build(app, rendered, rcpt, "r@x", "<m@x>", [],
                                                     now))

    def commit():
        db.conn.execute("BEGIN IMMEDIATE")
        db.conn.execute("INSERT INTO settings (key, value) VALUES ('bench', 'x') "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        db.conn.execute("COMMIT")
    out["commit"] = timed(commit)
    return out


class Postgres:
    """A PostgreSQL server for the run (``pgserver``: no system installation), one fresh
    database per measurement."""

    def __init__(self, folder: Path):
        import pgserver
        self.folder = folder
        self.server = pgserver.get_server(str(folder), cleanup_mode="stop")
        self.count = 0

    def url(self, name: str = "postgres") -> str:
        return f"postgresql://postgres@/{name}?host={self.folder}"

    def fresh(self) -> str:
        import psycopg
        self.count += 1
        name = f"bench_{self.count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        self.server.cleanup()


def scale(folder: Path, url: str, n_orders: int, n_due: int, runs: int, now, rows) -> dict:
    """Many protections on one store: a tick with ``n_due`` reminders due, an idle tick, the
    status of one order."""
    folder.mkdir()
    app = wiring.build(config_mod.load(config_for(folder, free_port(), url=url)))
    db = app.db()
    t = time.perf_counter()
    seed(db, n_orders, n_due, now, app.tz)
    rows.append((f"seeded protections ({db.dialect})",
                 f"{n_orders} in {time.perf_counter() - t:.1f} s"))
    out = {}
    if db.dialect == "sqlite":
        pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute(
            "PRAGMA page_size").fetchone()[0]
        out["bytes_per_protection"] = round(pages / n_orders)
    app.renderer  # noqa: B018  (built before the clock starts, as in serve)
    t = time.perf_counter()
    applied = jobs.tick(app, now)
    tick_s = time.perf_counter() - t
    mails = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    assert applied >= n_due and mails == n_due, (applied, mails)
    out["tick_10k_mails_per_s"] = round(mails / tick_s)
    out["tick_idle_ms"] = round(median_of(runs, lambda: _timed_ms(lambda: jobs.tick(app, now))),
                                2)
    probe = db.execute("SELECT shop_id, order_number FROM orders WHERE id = ?",
                       [n_orders // 2]).fetchone()

    def status():
        oid = records.order_id(db, *probe)
        views.status_json(db, records.load(db, oid), app.tz)
    out["status_ms"] = round(median_of(runs * 5, lambda: _timed_ms(status)), 2)
    out["sample"] = bytes(db.execute("SELECT raw FROM outbox LIMIT 1").fetchone()[0])
    app.close()
    return out


def delivery(folder: Path, url: str, relay_port: int, n: int, sample: bytes, now) -> float:
    """Mails per second from the outbox to an SMTP sink, one connection reused."""
    folder.mkdir()
    app = wiring.build(config_mod.load(config_for(folder, free_port(), relay_port, url=url)))
    db = app.db()
    with transaction(db):
        db.executemany(
            "INSERT INTO outbox (message_id, role, template, recipients, raw, created_at, due_at) "
            "VALUES (?, 'buyer', 'buyer.reminder', '[\"b@buyer.example\"]', ?, ?, '')",
            [(f"<d{i}@bot.example>", sample, records.iso(now)) for i in range(n)])
    t = time.perf_counter()
    counts = jobs.deliver(app, now)
    elapsed = time.perf_counter() - t
    assert counts["sent"] == n, counts
    app.close()
    return n / elapsed


GOALS = {"accept_ratio": (">=", 0.6), "e2e_ratio": (">=", 0.10), "tick_ratio": (">=", 0.35),
         "tick_idle_ms": ("<=", 50), "status_ms": ("<=", 50), "delivery_ratio": (">=", 0.2),
         "peak_rss_mb": ("<=", 250), "e2e_sqlite_2w_over_1w": (">=", 1.4),
         "e2e_pg_2w_over_1w": (">=", 1.4), "e2e_pg_over_sqlite_2w": (">=", 0.7),
         "lane_click_answered_s": ("<=", 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, a few minutes")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only (no pgserver)")
    args = parser.parse_args()
    quick = args.quick
    n_accept = 400 if quick else 2000
    n_e2e = 200 if quick else 1000
    n_orders = 100_000 if quick else 1_000_000
    n_due = 2_000 if quick else 10_000
    n_delivery = 300 if quick else 2000
    n_clicks = 200 if quick else 400  # per run of the workers' e2e
    runs = 3 if quick else 5
    figures, rows = {}, []
    folder = Path(tempfile.mkdtemp(prefix="mailbot-bench-"))
    now = datetime.now(timezone.utc)
    rows.append(("load average at start", " ".join(f"{x:.1f}" for x in os.getloadavg())))

    # --- inbound accept: bare aiosmtpd vs mailbot serve, same client --------------------------
    port = free_port()
    (folder / "accept").mkdir()
    config_path = config_for(folder / "accept", port)
    app = wiring.build(config_mod.load(config_path))
    db = app.db()
    seed(db, n_e2e, 0, now, app.tz)
    order_ids = [r[0] for r in db.execute("SELECT id FROM orders ORDER BY id").fetchall()]
    plain = [(f"buyer{i}@buyer.example", app.signer.address(Token("buyer", oid)),
              message(f"buyer{i}@buyer.example", "", i))
             for i, oid in enumerate(order_ids[:n_accept] * (n_accept // len(order_ids) + 1), 1)]
    plain = plain[:n_accept]
    sink_port = free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(sink_port)], stdin=subprocess.PIPE)
    wait_port(sink_port)
    serve = Serve(config_path, port)
    try:
        serve.wait_ready(2)  # the default workers
        ceilings, accepts = [], []
        for _ in range(runs):
            ceilings.append(blast(sink_port, plain))
            accepts.append(blast(port, plain))
        ceiling = figures["ceiling_msgs_per_s"] = round(statistics.median(ceilings))
        figures["accept_msgs_per_s"] = round(statistics.median(accepts))
        figures["accept_ratio"] = round(figures["accept_msgs_per_s"] / ceiling, 3)
        wait_processed(db, n_accept * runs)

        # --- end to end: N clicks until every case is open and merchant mail queued ----------
        clicks = [(f"buyer{i}@buyer.example",
                   app.signer.address(Token("buyer", oid, Action.NOT_RECEIVED)),
                   message(f"buyer{i}@buyer.example", "", i))
                  for i, oid in enumerate(order_ids, 1)]
        before = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
        start = time.perf_counter()
        blast(port, clicks)
        wait_processed(db, before + len(clicks))
        elapsed = time.perf_counter() - start
        opened = db.execute("SELECT count(*) FROM cases").fetchone()[0]
        queued = db.execute("SELECT count(*) FROM outbox WHERE template = "
                            "'merchant.case_opened'").fetchone()[0]
        assert opened == queued == len(clicks), (opened, queued)
        figures["e2e_replies_per_s"] = round(len(clicks) / elapsed)
        figures["e2e_ratio"] = round(figures["e2e_replies_per_s"] / ceiling, 3)
        figures["peak_rss_mb"] = round(serve.rss_peak_mb(), 1)
        figures["pss_mb"] = round(serve.pss_mb(), 1)
        rows.append(("peak RSS/PSS per process (MB)", serve.per_process()))
    finally:
        serve.stop()
        sink.stdin.close()
        sink.wait(timeout=20)
    cpu = stage_costs(app, clicks[0][2], order_ids[0], now)
    rows.append(("cpu per reply (ms)", ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())))
    app.close()

    pg = None if args.no_pg else Postgres(folder / "pg")
    stores = [("sqlite", lambda: "")] + ([("pg", pg.fresh)] if pg else [])
    try:
        # --- e2e with 1, 2 and 4 intake workers, per store: runs interleaved, medians -------
        import workers as workers_bench
        for store, url in stores:
            rates: dict[int, list[float]] = {1: [], 2: [], 4: []}
            for run in range(1 if quick else 3):
                for n in rates:
                    rate, _ = workers_bench.e2e(folder / f"e2e_{store}_{n}w_{run}", n, n_clicks,
                                                url())
                    rates[n].append(rate)
            for n, values in rates.items():
                figures[f"e2e_{store}_{n}w_per_s"] = round(statistics.median(values), 1)
            for n in (2, 4):
                figures[f"e2e_{store}_{n}w_over_1w"] = round(
                    figures[f"e2e_{store}_{n}w_per_s"] / figures[f"e2e_{store}_1w_per_s"], 2)
        if pg:
            figures["e2e_pg_over_sqlite_2w"] = round(
                figures["e2e_pg_2w_per_s"] / figures["e2e_sqlite_2w_per_s"], 2)
        figures["lane_click_answered_s"] = round(workers_bench.lanes(folder / "lanes"), 2)

        # --- scale and delivery, per store ---------------------------------------------------
        relay_port = free_port()
        relay = subprocess.Popen([sys.executable, "-c", SINK, str(relay_port)],
                                 stdin=subprocess.PIPE)
        wait_port(relay_port)
        try:
            for store, url in stores:
                prefix = "" if store == "sqlite" else "pg_"
                out = scale(folder / f"scale_{store}", url(), n_orders, n_due, runs, now, rows)
                sample = out.pop("sample")
                figures.update((prefix + k, v) for k, v in out.items())
                figures[f"{prefix}tick_ratio"] = round(out["tick_10k_mails_per_s"] / ceiling, 3)
                rate = delivery(folder / f"deliver_{store}", url(), relay_port, n_delivery,
                                sample, now)
                figures[f"{prefix}delivery_mails_per_s"] = round(rate)
                figures[f"{prefix}delivery_ratio"] = round(rate / ceiling, 3)
        finally:
            relay.stdin.close()
            relay.wait(timeout=20)
    finally:
        if pg:
            pg.stop()
    rows.append(("load average at end", " ".join(f"{x:.1f}" for x in os.getloadavg())))

    print(f"{'figure':28} {'value':>12}  goal")
    for key, value in figures.items():
        goal = GOALS.get(key) or GOALS.get(key.removeprefix("pg_"))
        mark = ""
        if goal:
            ok = value >= goal[1] if goal[0] == ">=" else value <= goal[1]
            mark = f"{goal[0]} {goal[1]}  {'met' if ok else 'MISSED'}"
        print(f"{key:28} {value:>12}  {mark}")
    for label, value in rows:
        print(f"{label:28} {value}")
    print(json.dumps(figures))


def _timed_ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
