"""A long fuzz run of the inbound path: random and mutated MIME seeded from ../shared/corpus.

    python bench/fuzz.py [--count 10000] [--seed 1]

Every message is stored and processed as if it came over SMTP to a valid token address; the run
fails if intake raises or leaves a message without a recorded disposition.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402

from mailbot import config as config_mod  # noqa: E402
from mailbot import wiring  # noqa: E402
from mailbot.core.model import Action  # noqa: E402
from mailbot.inbound import inbox, intake  # noqa: E402
from mailbot.tokens import Token  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SNIPPETS = [b"\r\nContent-Type: multipart/mixed; boundary=x\r\n", b"=?utf-8?b?////?=",
            b"\r\n--x\r\n", b"charset=unknown-8bit", b"\r\nAuto-Submitted: auto-replied\r\n",
            b"\r\nFrom: <>\r\n", b"\x00\xff\xfe", b"Content-Transfer-Encoding: base64\r\n",
            b"\r\n\r\n", b"Terugbetaling: ja\r\nBedrag: 1.234,56\r\nToelichting: x\r\n"]


def mutate(rng: random.Random, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(rng.randint(0, 10)):
        if not data:
            break
        pos = rng.randrange(len(data))
        op = rng.randrange(4)
        if op == 0:
            data[pos] = rng.randrange(256)
        elif op == 1:
            del data[pos:pos + rng.randint(1, 300)]
        elif op == 2:
            data[pos:pos] = rng.randbytes(rng.randint(1, 100))
        else:
            data[pos:pos] = rng.choice(SNIPPETS)
    return bytes(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seeds = [p.read_bytes()[:30000] for p in sorted(CORPUS.rglob("*.eml"))]
    folder = Path(tempfile.mkdtemp(prefix="mailbot-fuzz-"))
    app = wiring.build(config_mod.load(bench.config_for(folder, bench.free_port())))
    db = app.db()
    now = datetime.now(timezone.utc)
    bench.seed(db, 50, 0, now, app.tz)
    orders = [r[0] for r in db.execute("SELECT id FROM orders").fetchall()]
    dispositions, errors = Counter(), 0
    start = time.perf_counter()
    for n in range(args.count):
        raw = mutate(rng, rng.choice(seeds)) if rng.random() < 0.9 else rng.randbytes(
            rng.randint(0, 4000))
        role = rng.choice(["buyer", "merchant", "operator", "bounce"])
        action = rng.choice([None, *Action])
        order = rng.choice(orders)
        to = app.signer.address(Token(role, order, action))
        sender = rng.choice([f"buyer{order}@buyer.example", "shop@merchant.example",
                             "operators@mailbot.localhost", "x@y.example", ""])
        if rng.random() < 0.8:
            # Mostly from the right party with a fresh Message-ID, so that mutated mail goes
            # past the sender check and the dedupe into the deeper paths.
            raw = (f"From: {sender}\r\nMessage-ID: <f{n}@fuzz.example>\r\n".encode() + raw)
        inbox_id = inbox.store(db, raw, sender, [to], now)
        try:
            intake.process(app, inbox_id, now)
        except Exception as exc:  # the finding this script exists for
            errors += 1
            print(f"message {n}: {exc!r}", file=sys.stderr)
        row = inbox.load(db, inbox_id)
        dispositions[row["disposition"] or "UNRECORDED"] += 1
    result = {"messages": args.count, "errors": errors,
              "unrecorded": dispositions.get("UNRECORDED", 0),
              "seconds": round(time.perf_counter() - start, 1),
              "dispositions": dict(dispositions.most_common())}
    print(json.dumps(result))
    sys.exit(1 if errors or result["unrecorded"] else 0)


if __name__ == "__main__":
    main()
