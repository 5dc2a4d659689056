"""DKIM signing: our signer (OpenSSL through ``cryptography``) against dkimpy's, and delivery with
signing off, on, and on with dkimpy as before, all in one run, as ratios.

    python bench/dkim.py [--mails N]

The mails are the bot's own: every sample of every template in nl, fr and it, as compose builds
them, every tenth with two attachments of 20 KB (outbound/samples.py). Signing is CPU time per mail
(median of runs). Delivery is ``jobs.deliver`` from a real outbox to an aiosmtpd sink on loopback
(one connection for the run; rate, and CPU ms per mail of the delivering process, which the
shared machine's load disturbs less), against the ceiling: the same mails sent straight to the same sink
over 4 connections. Everything started here is stopped here; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

# This script is bench/dkim.py, and Python puts its folder first on the path: without this line
# "import dkim" would import the script itself instead of dkimpy.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import dkim as dkimpy  # noqa: E402  (after the path fix above)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailbot import config as config_mod
from mailbot import jobs, wiring
from mailbot.core.model import Document
from mailbot.outbound import compose, outbox, samples
from mailbot.outbound.dkim import SIGNED_HEADERS, Signer
from mailbot.outbound.dkim import _private_key as private_key
from mailbot.outbound.transport import open_transport
from mailbot.store.db import transaction

SINK = """
import sys
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
CONNECTIONS = 4


class DkimpySigner(Signer):
    """The signer as it was before (dkimpy, RSA in pure Python), for the comparison."""

    def __init__(self, domain, selector, key_file):
        super().__init__(domain, selector, key_file)
        self._pem = Path(key_file).read_bytes()

    def sign(self, raw: bytes, now: float | None = None) -> bytes:
        return dkimpy.sign(raw, self.selector, self.domain, self._pem,
                           canonicalize=(b"relaxed", b"relaxed"),
                           include_headers=list(SIGNED_HEADERS)) + raw


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def build_app(folder: Path, relay_port: int, key_file: Path | None):
    folder.mkdir()
    dkim_section = f'[dkim]\nselector = "mb2026"\nkey_file = "{key_file}"\n' if key_file else ""
    path = folder / "bench.toml"
    path.write_text(f"""
[bot]
domain = "bot.example"
[smtp]
port = {free_port()}
[relay]
transport = "smtp"
port = {relay_port}
[storage]
database = "{folder / 'db.sqlite'}"
attachments = "{folder / 'att'}"
{dkim_section}""")
    return wiring.build(config_mod.load(path))


def real_mails(app) -> list[bytes]:
    docs = [Document(d.name, app.attachments.save(b"%PDF-1.4 " + d.name.encode() * 1100),
                     d.content_type, 0) for d in (samples.INVOICE, samples.TRACKING)]
    out = []
    for locale in ("nl", "fr", "it"):
        for i, (sample, ctx) in enumerate(samples.contexts(app, app.db(), locale)):
            rendered = app.renderer.render(sample.name, locale, ctx)
            rcpt = compose.Recipients(("koper@buyer.example",), locale)
            out.append(compose.build(app, rendered, rcpt, "reply@bot.example",
                                     f"<m{i}-{locale}@bot.example>", [], samples.NOW,
                                     docs if i % 10 == 0 else ()))
    return out


def cpu_ms_per_mail(sign, mails, runs: int) -> float:
    def once():
        start = time.process_time()
        for raw in mails:
            sign(raw)
        return (time.process_time() - start) * 1000 / len(mails)
    return statistics.median(once() for _ in range(runs))


def deliver(app, mails: list[bytes], now, run: int) -> tuple[float, float]:
    """Mails per second of one delivery run, and CPU ms per mail of this process."""
    db = app.db()
    with transaction(db):
        for i, raw in enumerate(mails):
            outbox.enqueue(db, compose.Outgoing(f"<d{run}.{i}@bot.example>", None, "buyer",
                                                "buyer.reminder", ("b@buyer.example",), raw), now)
    start, cpu = time.perf_counter(), time.process_time()
    counts = jobs.deliver(app, now)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert counts["sent"] == len(mails), counts
    return len(mails) / elapsed, cpu * 1000 / len(mails)


def ceiling_per_s(port: int, mails: list[bytes]) -> float:
    def worker(chunk):
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for raw in chunk:
                smtp.sendmail("bot@bot.example", ["b@buyer.example"], raw)
    threads = [threading.Thread(target=worker, args=(mails[i::CONNECTIONS],))
               for i in range(CONNECTIONS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(mails) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=600, help="mails per delivery run (≤ 5000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    n, runs = min(args.mails, 5000), args.runs
    folder = Path(tempfile.mkdtemp(prefix="mailbot-bench-dkim-"))
    key_file = folder / "dkim.pem"
    key_file.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048)
                         .private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption()))
    key_file.chmod(0o600)
    now = datetime.now(timezone.utc)
    relay_port = free_port()
    relay = subprocess.Popen([sys.executable, "-c", SINK, str(relay_port)],
                             stdin=subprocess.PIPE)
    figures = {}
    try:
        wait_port(relay_port)
        apps = {"off": build_app(folder / "off", relay_port, None),
                "ours": build_app(folder / "ours", relay_port, key_file),
                "dkimpy": build_app(folder / "dkimpy", relay_port, key_file)}
        old_transport = apps["dkimpy"].transport

        def dkimpy_transport():
            transport = old_transport()
            transport.dkim = DkimpySigner("bot.example", "mb2026", key_file)
            return transport
        apps["dkimpy"].transport = dkimpy_transport
        assert open_transport(apps["ours"].config).dkim is not None
        mails = real_mails(apps["off"])
        figures["mail_kb_mean"] = round(statistics.mean(map(len, mails)) / 1024, 1)
        ours, old = Signer("bot.example", "mb2026", key_file), DkimpySigner(
            "bot.example", "mb2026", key_file)
        figures["sign_ms_dkimpy"] = round(cpu_ms_per_mail(old.sign, mails, runs), 3)
        figures["sign_ms_ours"] = round(cpu_ms_per_mail(ours.sign, mails, runs), 3)
        figures["sign_speedup"] = round(figures["sign_ms_dkimpy"] / figures["sign_ms_ours"], 1)
        # Opening the transport (every delivery run): the key read, and checked only once.
        pem = key_file.read_bytes()
        figures["key_check_ms"] = round(cpu_ms_per_mail(
            lambda _: private_key.__wrapped__(pem), [None] * 5, 1), 1)
        figures["open_transport_ms"] = round(cpu_ms_per_mail(
            lambda _: open_transport(apps["ours"].config), [None] * 50, runs), 3)
        batch = (mails * (n // len(mails) + 1))[:n]
        rates, cpus = {name: [] for name in apps}, {name: [] for name in apps}
        ceilings = []
        for run in range(runs):  # all in turn, so that the machine's load drifts alike
            ceilings.append(ceiling_per_s(relay_port, batch))
            for name, app in apps.items():
                rate, cpu = deliver(app, batch, now, run)
                rates[name].append(rate)
                cpus[name].append(cpu)
        figures["ceiling_msgs_per_s"] = round(statistics.median(ceilings))
        for name, app in apps.items():
            figures[f"delivery_{name}_per_s"] = round(statistics.median(rates[name]))
            figures[f"delivery_{name}_cpu_ms"] = round(statistics.median(cpus[name]), 2)
            app.close()
    finally:
        relay.stdin.close()
        relay.wait(timeout=20)
    ceiling = figures["ceiling_msgs_per_s"]
    for name in ("off", "ours", "dkimpy"):
        figures[f"delivery_{name}_ratio"] = round(figures[f"delivery_{name}_per_s"] / ceiling, 3)
    figures["signing_on_vs_off"] = round(figures["delivery_ours_per_s"]
                                         / figures["delivery_off_per_s"], 3)
    figures["mails"] = n
    for key, value in figures.items():
        print(f"{key:28} {value:>10}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
