"""Kills ``mailbot serve`` with SIGKILL at random moments under load and checks SPEC §8.

    python bench/crash.py [--messages 400] [--kills 20] [--seed 1] [--pg]

Buyers click "not received" on distinct orders over SMTP on loopback, retrying (with the same
Message-ID, as an MTA does) until they get a 250. Meanwhile serve is killed and restarted. At the
end: every order has exactly one case and one merchant notification, every queued mail reached
the Maildir, and duplicate deliveries (possible only when a kill falls between the Maildir write
and the outbox's own commit) are counted by Message-ID: one process of a node sends, so at most
one per kill. ``--pg``: the store on PostgreSQL (a server started for the run, pgserver).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402

from mailbot import config as config_mod  # noqa: E402
from mailbot import wiring  # noqa: E402
from mailbot.core.model import Action  # noqa: E402
from mailbot.tokens import Token  # noqa: E402


def crash_run(messages: int, kills: int, seed: int, folder: Path | None = None,
              url: str = "") -> dict:
    rng = random.Random(seed)
    folder = folder or Path(tempfile.mkdtemp(prefix="mailbot-crash-"))
    port = bench.free_port()
    config = bench.config_for(folder, port, url=url)
    app = wiring.build(config_mod.load(config))
    db = app.db()
    bench.seed(db, messages, 0, datetime.now(timezone.utc), app.tz)
    orders = [r[0] for r in db.execute("SELECT id FROM orders ORDER BY id").fetchall()]
    clicks = [(f"buyer{i}@buyer.example", app.signer.address(Token("buyer", oid,
                                                                     Action.NOT_RECEIVED)),
               bench.message(f"buyer{i}@buyer.example", "", i)) for i, oid in enumerate(orders, 1)]
    # The sender list in the seed is buyer{i}@buyer.example for order i.
    serve = {"proc": None}
    lock = threading.Lock()

    def start():
        serve["proc"] = subprocess.Popen([str(bench.MAILBOT), "--config", str(config), "serve"],
                                         stderr=subprocess.DEVNULL)
        bench.wait_port(port)

    start()
    accepted, attempts = set(), Counter()

    def client(chunk):
        for n, (sender, to, raw) in chunk:
            while n not in accepted:
                attempts[n] += 1
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                        smtp.sendmail(sender, [to], raw)
                    accepted.add(n)
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.05)

    indexed = list(enumerate(clicks))
    threads = [threading.Thread(target=client, args=(indexed[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    killed = 0
    while any(t.is_alive() for t in threads) or killed < kills:
        time.sleep(rng.uniform(0.05, 0.6))
        if killed >= kills:
            continue
        with lock:
            children = _children(serve["proc"].pid)
            serve["proc"].send_signal(signal.SIGKILL)
            for pid in children:  # a machine crash takes the processing side down too
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            serve["proc"].wait()
            killed += 1
            start()
    for t in threads:
        t.join()
    # Let the last serve process and deliver everything, then stop it cleanly.
    deadline = time.monotonic() + 180  # a mail claimed by a killed process waits 60 s
    while time.monotonic() < deadline:
        pending = db.execute("SELECT count(*) FROM inbox WHERE processed_at IS NULL").fetchone()[0]
        queued = db.execute("SELECT count(*) FROM outbox WHERE status = 'queued'").fetchone()[0]
        if not pending and not queued:
            break
        time.sleep(0.2)
    serve["proc"].send_signal(signal.SIGTERM)
    serve["proc"].wait(timeout=30)

    cases = dict(db.execute("SELECT order_id, count(*) FROM cases GROUP BY order_id").fetchall())
    notices = Counter(r[0] for r in db.execute(
        "SELECT order_id FROM outbox WHERE template = 'merchant.case_opened'").fetchall())
    opened_twice = sum(1 for o in orders if cases.get(o, 0) != 1)
    notified_wrong = sum(1 for o in orders if notices.get(o, 0) != 1)
    outbox_ids = {r[0] for r in db.execute("SELECT message_id FROM outbox").fetchall()}
    delivered = Counter()
    for path in (folder / "sent" / "new").iterdir():
        with path.open("rb") as fh:
            delivered[BytesHeaderParser().parse(fh)["Message-ID"]] += 1
    doubles = sum(n - 1 for n in delivered.values())
    result = {
        "store": db.dialect, "messages": len(clicks), "kills": killed,
        "smtp_attempts": sum(attempts.values()),
        "cases_not_exactly_once": opened_twice, "notices_not_exactly_once": notified_wrong,
        "outbox_mails": len(outbox_ids),
        "outbox_by_template": dict(Counter(r[0] for r in db.execute(
            "SELECT template FROM outbox").fetchall())),
        "not_delivered": len(outbox_ids - set(delivered)),
        "delivered_twice": sum(1 for n in delivered.values() if n > 1),
        "doubles_per_kill": round(doubles / max(killed, 1), 3),
        "inbox_rows": db.execute("SELECT count(*) FROM inbox").fetchone()[0],
        "duplicates_dropped": db.execute(
            "SELECT count(*) FROM inbox WHERE disposition = 'duplicate'").fetchone()[0],
    }
    app.close()
    return result


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", action="store_true", help="on PostgreSQL (pgserver)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mailbot-crash-"))
    pg = bench.Postgres(folder / "pg") if args.pg else None
    try:
        result = crash_run(args.messages, args.kills, args.seed, folder, pg.fresh() if pg else "")
    finally:
        if pg:
            pg.stop()
    print(json.dumps(result))
    ok = not (result["cases_not_exactly_once"] or result["notices_not_exactly_once"]
              or result["not_delivered"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
