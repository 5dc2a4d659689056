"""Workers, lanes and stores: end to end with 1, 2 and 4 intake workers, SQLite against
PostgreSQL, the memory of serve, and a party's click while the other lanes are stuck.

    python bench/workers.py [--clicks 400] [--pg]

e2e: ``mailbot serve`` (a real subprocess) with ``[processing] workers = N``; N buyers' "not
received" clicks over 4 SMTP connections; timed until every case is open and the merchant's mail
queued. Memory: the peak resident memory of serve and all its children (VmHWM), default workers.
Lanes: the real listener and worker pool of serve, with 20 mails that each take 10 s (made slow
on purpose inside the workers) queued in the strangers' lane and 20 in the robots' lane, then a
buyer's click: the time from its 250 to its answer in the Maildir. Bounded counts; every server
started here is stopped here. The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import smtplib
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import Postgres, Serve, blast, free_port, message, seed  # noqa: E402
from run import config_for as bench_config  # noqa: E402

from mailbot import config as config_mod  # noqa: E402
from mailbot import wiring  # noqa: E402
from mailbot.core.model import Action  # noqa: E402
from mailbot.tokens import Token  # noqa: E402

SLOW_SECONDS = 10


def config_for(folder: Path, port: int, workers: int, url: str = "") -> Path:
    return bench_config(folder, port, url=url, extra=f"[processing]\nworkers = {workers}\n")


def e2e(folder: Path, workers: int, clicks: int, url: str = "") -> tuple[float, float]:
    folder.mkdir()
    port = free_port()
    path = config_for(folder, port, workers, url)
    app = wiring.build(config_mod.load(path))
    db = app.db()
    now = datetime.now(timezone.utc)
    seed(db, clicks, 0, now, app.tz)
    order_ids = [r[0] for r in db.execute("SELECT id FROM orders ORDER BY id").fetchall()]
    mails = [(f"buyer{i}@buyer.example",
              app.signer.address(Token("buyer", oid, Action.NOT_RECEIVED)),
              message(f"buyer{i}@buyer.example", "", i)) for i, oid in enumerate(order_ids, 1)]
    serve = Serve(path, port)
    try:
        serve.wait_ready(workers)
        start = time.perf_counter()
        blast(port, mails)
        deadline = time.monotonic() + 600
        while db.execute("SELECT count(*) FROM outbox WHERE template = 'merchant.case_opened'"
                         ).fetchone()[0] < clicks:
            if time.monotonic() > deadline:
                raise RuntimeError("processing did not finish")
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        memory = serve.rss_peak_mb()
    finally:
        serve.stop()
        app.close()
    return clicks / elapsed, memory


def slow_worker(config, *args):
    """``worker.main`` with a parser that takes 10 s on a mail that says SLOW (the slow parsers
    testers found took 10-90 s)."""
    from mailbot.inbound import intake
    from mailbot.serve import worker
    real = intake.parse

    def parse(raw):
        if b"SLOW" in raw:
            time.sleep(SLOW_SECONDS)
        return real(raw)
    intake.parse = parse
    worker.main(config, *args)


def lanes(folder: Path) -> float:
    """Seconds from the 250 of a buyer's click to its answer in the Maildir, with 20 slow mails
    queued before it in each of the strangers' and the robots' lanes (default workers)."""
    import multiprocessing
    from mailbot import imports
    from mailbot.inbound.smtp import listener
    from mailbot.serve import processing
    from mailbot.serve.pool import Pool
    folder.mkdir()
    app = wiring.build(config_mod.load(config_for(folder, free_port(), 2)))
    (folder / "m.csv").write_text("id,name,emails,locale\nshop-nl,Fietsen BV,info@f.example,nl\n")
    (folder / "o.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n"
        f"shop-nl,NL-1,{datetime.now().date()},49.95,EUR,jan@buyer.example,nl,plus\n")
    imports.import_merchants(app.db(), str(folder / "m.csv"))
    imports.import_orders(app.db(), str(folder / "o.csv"), app.tz)
    order_id = app.db().execute("SELECT id FROM orders").fetchone()[0]
    pool = Pool(app.config, target=slow_worker)
    smtp = listener(app, on_stored=lambda _id: pool.wake())
    smtp.start()
    # serve's jobs child sends the answer, woken as serve's supervisor wakes it (Pool.wait).
    spawn = multiprocessing.get_context("spawn")
    pipe, pipe_w = spawn.Pipe(duplex=False)
    jobs_child = spawn.Process(target=processing.main, args=(app.config, pipe), daemon=True)
    # The children log to the stderr they are started with: a file, to see them ready.
    log, saved = folder / "workers.log", os.dup(2)
    with log.open("wb") as out:
        os.dup2(out.fileno(), 2)
        try:
            pool.start()
            jobs_child.start()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    sent = Path(app.config.relay.maildir) / "new"
    try:
        deadline = time.monotonic() + 300
        while (text := log.read_text(errors="replace")).count("intake.started") < len(
                pool.slots) or "processing.started" not in text:
            if time.monotonic() > deadline:  # both workers up, renderers built
                raise RuntimeError("the workers did not start")
            time.sleep(0.1)
        with smtplib.SMTP("127.0.0.1", app.config.smtp.port) as client:
            for i in range(20):
                client.sendmail("x@stranger.example", ["bot@bot.example"],
                                f"Subject: q{i}\r\n\r\nSLOW {i}\r\n".encode())
                client.sendmail("", ["bot@bot.example"],
                                f"Subject: report {i}\r\n\r\nSLOW r{i}\r\n".encode())
            to = app.signer.address(Token("buyer", order_id, Action.EXTEND))
            client.sendmail("jan@buyer.example", [to],
                            f"From: jan@buyer.example\r\nTo: {to}\r\nSubject: verlengen\r\n"
                            f"Message-ID: <click@buyer.example>\r\n\r\nja\r\n".encode())
            accepted = time.monotonic()
        deadline = accepted + 60
        while not (sent.exists() and any(sent.iterdir())):
            if time.monotonic() > deadline:
                raise RuntimeError("the click was not answered in 60 s")
            if pool.wait(0.01):
                os.write(pipe_w.fileno(), b"\0")
            pool.check()
        return time.monotonic() - accepted
    finally:
        pipe_w.close()  # the jobs child stops when its pipe closes
        jobs_child.join(timeout=10)
        pool.stop(wait=True)
        smtp.stop()
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=400)
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL (pgserver)")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    folder = Path(tempfile.mkdtemp(prefix="mailbot-workers-"))
    figures = {}
    for workers in (1, 2, 4):
        rate, memory = e2e(folder / f"sqlite{workers}", workers, args.clicks)
        figures[f"e2e_sqlite_{workers}w_per_s"] = round(rate)
        figures[f"peak_rss_{workers}w_mb"] = round(memory, 1)
        print(f"sqlite, {workers} worker(s): {rate:.0f} replies/s, {memory:.0f} MB", flush=True)
    figures["e2e_2w_over_1w"] = round(figures["e2e_sqlite_2w_per_s"]
                                      / figures["e2e_sqlite_1w_per_s"], 2)
    if args.pg:
        pg = Postgres(folder / "pg")
        try:
            rate, _ = e2e(folder / "pg2", 2, args.clicks, pg.fresh())
            figures["e2e_pg_2w_per_s"] = round(rate)
            figures["e2e_pg_over_sqlite"] = round(rate / figures["e2e_sqlite_2w_per_s"], 2)
            print(f"postgresql, 2 workers: {rate:.0f} replies/s", flush=True)
        finally:
            pg.stop()
    figures["lane_click_answered_s"] = round(lanes(folder / "lanes"), 2)
    print(f"lanes: click answered {figures['lane_click_answered_s']} s after its 250", flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
