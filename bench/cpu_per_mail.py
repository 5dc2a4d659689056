"""CPU per reply: parse, reply trimming, render, compose, a buyer's whole intake and a fired
timer, in ms of CPU per mail and as ratios to a fixed pure-Python loop timed in the same run.

    python bench/cpu_per_mail.py [--mails N] [--profile]

The shared machine's load changes every figure in ms (the code of f45a547, recorded at 0.32 ms
of parse and trimming on a quiet machine, measures 0.5-0.7 ms under a load of 9), far less its
ratio to a loop that does no I/O: compare ratios between runs, not ms. Each stage is timed in
rounds that alternate with the baseline loop; medians are reported. ``--profile`` adds
cProfile's top functions by their own time (where the CPU goes) in one round of intakes. The
reply is the one bench/run.py sends (36 lines of French, no quote); every click goes to its own
order (fresh ``buyer`` token, NOT_RECEIVED), so each intake opens a case, renders and queues the
buyer's and the merchant's mail and commits, on a real SQLite file. ``render`` and ``compose``
repeat one mail, so the renderer's kept sentences and links all serve it; ``intake``, with an
order and a signed link of its own per click, is the figure of a real mail. ``tick`` is
``jobs.tick`` firing the reminders of a batch of orders of their own (nl, fr and it buyers), each
batch due a day after the one before: CPU per fired timer, its mail rendered, composed, queued
and committed, as bench/run.py's tick figure but without its wall clock. The last line is JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import socket
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from mailbot import config as config_mod
from mailbot import imports, jobs, wiring
from mailbot.core.decide import decide
from mailbot.core.events import BuyerAction
from mailbot.core.model import Action, ProtectionState
from mailbot.inbound import inbox, intake
from mailbot.inbound.parse import parse
from mailbot.inbound.reply import new_text
from mailbot.outbound import compose
from mailbot.store import records
from mailbot.tokens import Token

ROUNDS = 7
TICK_ROUNDS = 5  # + one to warm up: the first batch's protection ends a week after its reminder


def baseline() -> None:
    """A fixed amount of pure-Python work (~1 ms): integer arithmetic in a loop."""
    total = 0
    for i in range(30_000):
        total += i * i % 7
    return total


def message(sender: str, n: int) -> bytes:
    body = "\r\n".join(["Bonjour, voici ma réponse à votre message, merci."] * 36)
    return (f"From: {sender}\r\nTo: {{to}}\r\nSubject: Re: votre commande\r\n"
            f"Message-ID: <cpu-{n}-{time.monotonic_ns()}@client.example>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def build_app(folder: Path, orders: int, tick_orders: int):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = wiring.build(config_mod.from_dict({
        "bot": {"domain": "bot.example", "timezone": "Europe/Amsterdam"},
        "smtp": {"host": "127.0.0.1", "port": port},
        "relay": {"transport": "maildir", "maildir": str(folder / "sent")},
        "storage": {"root": str(folder), "database": str(folder / "mailbot.db"),
                    "attachments": str(folder / "attachments")},
        "operators": {"addresses": ["team@service.example"], "locale": "nl"}}))
    (folder / "m.csv").write_text("id,name,emails,locale\nshop,Bench Shop,shop@merchant.example,"
                                  "fr\n")
    ordered = (date.today() - timedelta(days=5)).isoformat()
    (folder / "o.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n" +
        "".join(f"shop,O{i},{ordered},49.95,EUR,buyer{i}@buyer.example,fr,plus\n"
                for i in range(orders)))
    # The tick's orders: batch b's reminders are due ``TICK_ROUNDS - b`` days before now.
    today = date.today()
    (folder / "t.csv").write_text(
        "shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan\n" +
        "".join(f"shop,T{b}-{i},{(today - timedelta(days=23 + TICK_ROUNDS - b)).isoformat()},"
                f"49.95,EUR,t{b}-{i}@buyer.example,{('nl', 'fr', 'it')[i % 3]},plus\n"
                for b in range(TICK_ROUNDS + 1) for i in range(tick_orders)))
    imports.import_merchants(app.db(), str(folder / "m.csv"))
    imports.import_orders(app.db(), str(folder / "o.csv"), app.tz)
    imports.import_orders(app.db(), str(folder / "t.csv"), app.tz)
    return app


def cpu_ms(fn, count: int) -> float:
    """CPU ms per call of ``fn`` over ``count`` calls."""
    start = time.process_time_ns()
    for _ in range(count):
        fn()
    return (time.process_time_ns() - start) / 1e6 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=50, help="clicks per round (≤ 500)")
    parser.add_argument("--profile", action="store_true", help="cProfile one round of intakes")
    args = parser.parse_args()
    per_round = min(args.mails, 500)
    folder = Path(tempfile.mkdtemp(prefix="mailbot-bench-cpu-"))
    app = build_app(folder, per_round * (ROUNDS + 2), per_round)
    db = app.db()
    now = datetime.now(timezone.utc)
    order_ids = [r[0] for r in db.execute("SELECT id FROM orders ORDER BY id").fetchall()]
    clicks = iter(order_ids)
    raw = message("buyer0@buyer.example", 0).replace(
        b"{to}", app.signer.address(Token("buyer", order_ids[-1], Action.NOT_RECEIVED)).encode())

    # The merchant's case_opened mail of a click, as intake renders and composes it.
    state = records.load(db, order_ids[-1])
    state = replace(state, case=None,
                    protection=replace(state.protection, state=ProtectionState.ACTIVE))
    decision = decide(state, BuyerAction(Action.NOT_RECEIVED, "x"), now, app.tz)
    mail = next(m for m in decision.mails if m.template == "merchant.case_opened")
    merchant = records.merchant(db, decision.state.order.shop_id)
    ctx = compose.context(app, db, decision.state, mail, mail.to, merchant, now)

    def intakes():
        """One round: ``per_round`` clicks stored, then taken in; CPU of the intakes only."""
        ids = []
        for n in range(per_round):
            order_id = next(clicks)
            sender = records.load(db, order_id).order.buyer_email
            to = app.signer.address(Token("buyer", order_id, Action.NOT_RECEIVED))
            ids.append(inbox.store(db, message(sender, n).replace(b"{to}", to.encode()),
                                   sender, [to], now))
        start = time.process_time_ns()
        for inbox_id in ids:
            assert intake.process(app, inbox_id, now) == "applied"
        return (time.process_time_ns() - start) / 1e6 / per_round

    ticks = iter(range(TICK_ROUNDS, -1, -1))

    def tick():
        """One batch of reminders fired (the next day's); CPU per timer."""
        at = now - timedelta(days=next(ticks))
        before = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        start = time.process_time_ns()
        fired = jobs.tick(app, at)
        elapsed = time.process_time_ns() - start
        assert fired == per_round == db.execute(
            "SELECT count(*) FROM outbox").fetchone()[0] - before, fired
        return elapsed / 1e6 / per_round

    rendered = app.renderer.render(mail.template, "fr", ctx)
    rcpt = compose.recipients(app, decision.state, mail.to, merchant)
    stages = {
        "parse": lambda: parse(raw).text,
        "trim": lambda: new_text(parse(raw).text),
        "render": lambda: app.renderer.render(mail.template, "fr", ctx),
        "compose": lambda: compose.build(app, rendered, rcpt, "r@bot.example", "<m@bot.example>",
                                         [], now),
    }
    for fn in stages.values():  # templates compiled and caches warm before timing
        fn()
    intakes()
    tick()
    samples = {name: [] for name in ["baseline", *stages, "intake", "tick"]}
    for round_ in range(ROUNDS):
        samples["baseline"].append(cpu_ms(baseline, 20))
        for name, fn in stages.items():
            samples[name].append(cpu_ms(fn, per_round))
        samples["intake"].append(intakes())
        if round_ < TICK_ROUNDS:
            samples["tick"].append(tick())
    figures = {name: round(statistics.median(v), 3) for name, v in samples.items()}
    figures["trim"] = round(figures["trim"] - figures["parse"], 3)  # trimming alone
    base = figures["baseline"]
    print(f"{'stage':10} {'ms/mail':>8} {'ratio':>7}")
    for name, value in list(figures.items()):
        figures[f"{name}_ratio"] = round(value / base, 3)
        print(f"{name:10} {value:8.3f} {figures[name + '_ratio']:7.3f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        intakes()
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(40)
        print(out.getvalue())
    app.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
