"""A soak: ``mailbot serve`` with its default workers under a steady trickle of buyers' clicks for
many minutes, watched from outside.

    python bench/soak.py [--minutes 20] [--rate 10] [--pg]

Each click is a "not received" to a buyer's token address of an order of its own, sent at
``--rate`` clicks a second over one SMTP connection; serve's answers go to a capturing aiosmtpd
relay in this process. Every 30 s it samples each of serve's processes: resident memory, open file
descriptors and CPU time. At the end: the lag from a click's 250 to its answer at the relay (p50
and p95 per fifth of the run), clicks never answered, mails the relay took twice (the same
Message-ID), and whether memory, descriptors and lag stayed flat (last fifth against the first).
Everything on loopback; every server started here is stopped here. The last line is one JSON
object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).parent))
from run import Postgres, Serve, config_for, free_port, message, seed  # noqa: E402

from mailbot import config as config_mod  # noqa: E402
from mailbot import wiring  # noqa: E402
from mailbot.core.model import Action  # noqa: E402
from mailbot.tokens import Token  # noqa: E402

SAMPLE_SECONDS = 30
TICKS = os.sysconf("SC_CLK_TCK")


class Relay:
    """Takes every mail, remembers when it came, to whom and its Message-ID."""

    def __init__(self):
        self.got: list[tuple[float, list[str], str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.lock:
            self.got.append((time.monotonic(), list(envelope.rcpt_tos),
                             headers.get("Message-ID", "")))
        return "250 OK"


def process_sample(pids: list[int]) -> dict[int, tuple[int, int, int]]:
    """pid -> (RSS kB, open descriptors, CPU ticks) for the processes still there."""
    out = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss = next(int(line.split()[1]) for line in status.splitlines()
                       if line.startswith("VmRSS:"))
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (rss, fds, int(fields[11]) + int(fields[12]))  # utime + stime
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            pass
    return out


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def soak(folder: Path, minutes: float, rate: float, url: str = "") -> dict:
    clicks = int(minutes * 60 * rate)
    folder.mkdir()
    relay = Relay()
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    port = free_port()
    path = config_for(folder, port, relay_port=controller.port, url=url)
    app = wiring.build(config_mod.load(path))
    seed(app.db(), clicks, 0, datetime.now(timezone.utc), app.tz)
    order_ids = [r[0] for r in
                 app.db().execute("SELECT id FROM orders ORDER BY id").fetchall()]
    buyers = {f"buyer{i}@buyer.example": i for i in range(1, clicks + 1)}
    sent_at: dict[int, float] = {}
    samples: list[tuple[float, dict]] = []
    serve = Serve(path, port)
    try:
        serve.wait_ready(2)
        start = time.monotonic()
        next_sample = start
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for i, oid in enumerate(order_ids, 1):
                due = start + (i - 1) / rate
                while (now := time.monotonic()) < due:
                    if now >= next_sample:
                        samples.append((now - start, process_sample(serve._pids())))
                        next_sample += SAMPLE_SECONDS
                    time.sleep(min(due - now, 0.05))
                sender = f"buyer{i}@buyer.example"
                to = app.signer.address(Token("buyer", oid, Action.NOT_RECEIVED))
                smtp.sendmail(sender, [to], message(sender, to, i))
                sent_at[i] = time.monotonic()
        # Until every click is answered, or 60 s of nothing new.
        quiet_since, seen = time.monotonic(), 0
        while time.monotonic() - quiet_since < 60:
            answered = {buyers[r] for _, rcpts, _ in relay.got for r in rcpts if r in buyers}
            if len(answered) == clicks:
                break
            if len(relay.got) != seen:
                seen, quiet_since = len(relay.got), time.monotonic()
            time.sleep(0.5)
        time.sleep(3)  # a late double would come now
        samples.append((time.monotonic() - start, process_sample(serve._pids())))
    finally:
        serve.stop()
        controller.stop()
        app.close()

    first_answer: dict[int, float] = {}
    for at, rcpts, _ in relay.got:
        for r in rcpts:
            if r in buyers:
                first_answer.setdefault(buyers[r], at)
    lags = [(i, first_answer[i] - sent_at[i]) for i in sent_at if i in first_answer]
    fifths = []
    for k in range(5):
        part = [lag for i, lag in lags if k * clicks / 5 < i <= (k + 1) * clicks / 5]
        fifths.append((round(percentile(part, 0.5) * 1000), round(percentile(part, 0.95) * 1000)))
    doubles = sum(n - 1 for n in Counter(mid for _, _, mid in relay.got).values() if n > 1)

    def totals(sample: dict) -> tuple[float, int]:
        return (sum(v[0] for v in sample.values()) / 1024, sum(v[1] for v in sample.values()))

    rss_first, fds_first = totals(samples[1][1] if len(samples) > 1 else samples[0][1])
    rss_last, fds_last = totals(samples[-1][1])
    # CPU share of one core per process over the run, from the first sample to the last.
    (t0, s0), (t1, s1) = samples[0], samples[-1]
    cpu = {pid: round((s1[pid][2] - s0[pid][2]) / TICKS / (t1 - t0), 3)
           for pid in s1 if pid in s0}
    return {
        "clicks": clicks, "minutes": minutes, "rate_per_s": rate,
        "lost": clicks - len(first_answer), "doubled": doubles,
        "mails_at_relay": len(relay.got),
        "lag_ms_p50_p95_by_fifth": fifths,
        "lag_ms_p95": round(percentile([lag for _, lag in lags], 0.95) * 1000),
        "rss_mb_first_last": [round(rss_first, 1), round(rss_last, 1)],
        "fds_first_last": [fds_first, fds_last],
        "cpu_share_per_process": sorted(cpu.values(), reverse=True),
        "processes": len(s1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20, help="how long (default 20)")
    parser.add_argument("--rate", type=float, default=10, help="clicks a second (default 10)")
    parser.add_argument("--pg", action="store_true", help="on PostgreSQL (pgserver)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mailbot-soak-"))
    pg = Postgres(folder / "pg") if args.pg else None
    try:
        load = os.getloadavg()
        out = soak(folder / "run", args.minutes, args.rate, pg.fresh() if pg else "")
        out["load_average_start_end"] = [round(load[0], 1), round(os.getloadavg()[0], 1)]
    finally:
        if pg:
            pg.stop()
    for key, value in out.items():
        print(f"{key:26} {value}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
