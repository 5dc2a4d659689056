"""Poison messages (issue 9 §1): the worst processing time of one inbound mail, as a ratio.

    python bench/poison.py [--quick] [--timeout 30] [--fuzz 500] [--case NAME ...]

Each case builds mail of growing size, up to ``[smtp] max_message_size``, stores it in the inbox
of a temporary app and times the real ``intake.process`` on it, as ``bench/fuzz.py`` does. Every
message is processed in a child process that is killed after ``--timeout`` seconds (a case stops
growing at its first timeout: bigger would only be slower). The baseline is an ordinary 2 KB reply
from a registered buyer, measured in the same run; the goal is every message <= 1 s.
Prints one line per message (bytes, seconds in ``intake.process``, seconds of parsing alone), a
table of the worst message per case with its ratio to the baseline, and a JSON object last.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz  # noqa: E402
import run as bench  # noqa: E402

from mailbot import config as config_mod  # noqa: E402
from mailbot import wiring  # noqa: E402
from mailbot.inbound import inbox, intake  # noqa: E402
from mailbot.inbound.parse import parse  # noqa: E402
from mailbot.outbound.return_path import return_path  # noqa: E402
from mailbot.tokens import Token  # noqa: E402

GOAL_SECONDS = 1.0
BUYER = "buyer1@buyer.example"
KB, MB = 1024, 1024 * 1024


def mail(body: bytes | str, *, headers: str = "", ctype: str = "text/plain; charset=utf-8",
         sender: str = BUYER, subject: str = "Re: uw bestelling") -> bytes:
    """One message; the Message-ID is filled in per run so that nothing is a duplicate."""
    if isinstance(body, str):
        body = body.encode()
    head = (f"From: {sender}\r\nTo: {{to}}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{{mid}}@poison.example>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: {ctype}\r\n{headers}\r\n")
    return head.encode() + body


def fill(unit: str, size: int, top: str = "Dit is mijn antwoord.\n\n") -> str:
    return top + unit * max(1, (size - len(top)) // len(unit))


def original_message(lines: int) -> bytes:
    return mail("-----Original Message-----\n" * lines)


def quote_lines(size: int) -> bytes:
    return mail(fill(">\n", size))


def op_words(size: int) -> bytes:
    return mail(fill("Op ", size))


def html_br(size: int) -> bytes:
    return mail(fill("<br>", size, "<html><body>"), ctype="text/html; charset=utf-8")


def mime_parts(size: int) -> bytes:
    part = "--b\r\nContent-Type: application/octet-stream; name=f{n}.bin\r\n\r\nx\r\n"
    count = max(1, size // len(part.format(n=100000)))
    body = "".join(part.format(n=n) for n in range(count)) + "--b--\r\n"
    return mail(body, ctype='multipart/mixed; boundary="b"')


def deep_nesting(size: int) -> bytes:
    unit = len("--bNNNNNN\r\nContent-Type: multipart/mixed; boundary=bNNNNNN\r\n\r\n")
    depth = max(1, size // (2 * unit))
    opening = "".join(f"--b{d}\r\nContent-Type: multipart/mixed; boundary=b{d + 1}\r\n\r\n"
                      for d in range(depth))
    closing = "".join(f"--b{d}--\r\n" for d in range(depth, -1, -1))
    return mail(opening + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nhallo\r\n" + closing,
                ctype='multipart/mixed; boundary="b0"')


def many_headers(size: int) -> bytes:
    return mail("Hallo.\n", headers="".join(f"X-H{n}: waarde {n}\r\n"
                                            for n in range(size // 22)))


def long_folded_header(size: int) -> bytes:
    return mail("Hallo.\n", headers="X-Long: " + "a\r\n " * (size // 5) + "z\r\n")


def many_recipients(size: int) -> bytes:
    return mail("Hallo.\n", headers="Cc: " + ", ".join(
        f"a{n}@x.example" for n in range(size // 16)) + "\r\n")


def encoded_subject(size: int) -> bytes:
    return mail("Hallo.\n", subject="=?utf-8?q?a?= " * (size // 14))


def empty_parts(size: int) -> bytes:
    return mail("--b\r\n" * (size // 5), ctype='multipart/mixed; boundary="b"')


def part_headers(size: int) -> bytes:
    part = ("--b\r\n" + "".join(f"X-H{n}: v\r\n" for n in range(1400))
            + "Content-Type: text/plain\r\n\r\nx\r\n")
    return mail(part * max(1, size // len(part)) + "--b--\r\n",
                ctype='multipart/mixed; boundary="b"')


def long_line(size: int) -> bytes:
    return mail(fill("x", size, "Mijn antwoord: "))


def long_word_lines(size: int) -> bytes:
    return mail(fill("Bedrag: " + "9" * 990 + "\n", size))


def prose(size: int) -> bytes:
    return mail(fill("Het pakket is nooit aangekomen, ik wacht nu al drie weken op een antwoord.\n",
                     size))


def big_attachment(size: int) -> bytes:
    import base64
    data = base64.encodebytes(b"%PDF-1.4\n" + b"0" * (size * 3 // 4 - 400)).decode()
    return mail("--b\r\nContent-Type: text/plain\r\n\r\nZie bijlage.\r\n--b\r\n"
                "Content-Type: application/pdf; name=bon.pdf\r\n"
                "Content-Disposition: attachment; filename=bon.pdf\r\n"
                f"Content-Transfer-Encoding: base64\r\n\r\n{data}\r\n--b--\r\n",
                ctype='multipart/mixed; boundary="b"')


# Issue 16 §1: parameters, part headers and delimiter look-alikes that the standard library's
# parsers (and flufl.bounce's detectors) read in superlinear time.
def _filler(size: int, used: int) -> str:
    return "Hallo.\r\n" + "x" * max(0, size - used - 10) + "\r\n"


def report_type_semicolons(size: int) -> bytes:
    """To the bare address: an unbalanced quote in ``report-type``, then ``;`` up to the header
    block's cap (``email.message._parseparam`` is quadratic in them)."""
    params = ";" * min(60_000, size)
    return mail(_filler(size, len(params)), ctype=f'multipart/report; report-type="x{params}')


def charset_semicolons(size: int) -> bytes:
    params = ";" * min(60_000, size)
    return mail(_filler(size, len(params)), ctype=f'text/plain; charset="x{params}')


def disposition_semicolons(size: int) -> bytes:
    params = ";" * min(60_000, size)
    return mail(_filler(size, len(params)), headers=f'Content-Disposition: inline; filename="x{params}\r\n')


def long_part_headers(size: int) -> bytes:
    """17 parts, each with a header of 15,000 characters: an unbalanced quote, then ``;``."""
    part = '--b\r\nContent-Type: text/plain; charset="x' + ";" * 15_000 + "\r\n\r\nx\r\n"
    parts = part * 17
    return mail(parts + "--b\r\nContent-Type: text/plain\r\n\r\n" + _filler(size, len(parts))
                + "--b--\r\n", ctype='multipart/mixed; boundary="b"')


def boundary_lookalikes(size: int) -> bytes:
    """Lines that start like the boundary, or hold it after other characters."""
    return mail("--b\r\nContent-Type: text/plain\r\n\r\nHallo.\r\n"
                + "--bb\r\nx--b\r\n" * (size // 12) + "--b--\r\n",
                ctype='multipart/mixed; boundary="b"')


def nested_report(size: int) -> bytes:
    """From the null sender: multipart nested 280 deep, then short lines to the end."""
    depth = 280
    opening = "".join(f"--b{d}\r\nContent-Type: multipart/mixed; boundary=b{d + 1}\r\n\r\n"
                      for d in range(depth))
    lines = "x\r\n" * max(1, (size - len(opening)) // 3)
    return mail(opening + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\n" + lines,
                ctype='multipart/report; report-type=delivery-status; boundary="b0"',
                sender="MAILER-DAEMON@mx.example", subject="Undelivered Mail")


def netscape_report(size: int) -> bytes:
    """To the VERP return path of a mail we sent: flufl.bounce's Netscape detector reads a line
    of ``<`` with a cubic regular expression."""
    return mail("--b\r\nContent-Type: text/plain\r\n\r\n"
                "This Message was undeliverable due to the following reason:\r\n"
                + "<" * min(size, 4000) + "\r\n" + _filler(size, 4000)
                + "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
                "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y.example\r\n"
                "--b--\r\n", ctype='multipart/report; report-type=delivery-status; boundary="b"',
                sender=BUYER, subject="Undeliverable")


def ordinary(_size: int = 0) -> bytes:
    body = ("Goedemiddag,\n\nIk heb de bestelling nog steeds niet ontvangen. Kunt u nagaan waar "
            "het pakket is?\n\nMet vriendelijke groet,\nJan\n\n"
            "Op 12 november 2026 om 10:04 schreef Koperbescherming <bot@bot.example>:\n"
            + "> Uw bestelling O1 bij Bench Shop is beschermd tot 12 december.\n" * 22)
    return mail(body)


def sizes(limit: int, *candidates: int) -> list[int]:
    return [s for s in candidates if s < limit] + [limit]


def cases(limit: int) -> list[tuple]:
    """(name, recipient, builder, sizes[, envelope sender]): ``limit`` bytes at most."""
    body = limit - 2 * KB  # room for the header block
    growth = sizes(body, 10 * KB, 100 * KB, MB)
    return [
        ("original_message_lines", "buyer", original_message,
         [20, 24, 28, 30, 32, 34, 36, 38, 40, 42, 1000, 10000, body // 27]),
        ("quote_lines", "buyer", quote_lines, sizes(body, 4 * KB, 40 * KB, 400 * KB, MB)),
        ("op_words", "buyer", op_words, sizes(body, 30 * KB, 300 * KB, 3 * MB)),
        ("html_br_bare_address", "bare", html_br, sizes(body, 12 * KB, 120 * KB, MB)),
        ("html_br_buyer", "buyer", html_br, sizes(body, 12 * KB, 120 * KB, MB)),
        ("mime_parts", "buyer", mime_parts, sizes(body, 70 * KB, 700 * KB, 7 * MB)),
        ("mime_parts_bare_address", "bare", mime_parts, sizes(body, 70 * KB, 700 * KB, 7 * MB)),
        ("mime_parts_null_sender", "bare", mime_parts, sizes(body, 70 * KB, 700 * KB, 7 * MB), ""),
        ("empty_parts", "buyer", empty_parts, sizes(body, 70 * KB, 700 * KB, 7 * MB)),
        ("part_headers", "buyer", part_headers, sizes(body, 70 * KB, 700 * KB, 7 * MB)),
        ("deep_nesting", "buyer", deep_nesting, sizes(body, 6 * KB, 60 * KB, 600 * KB)),
        ("many_headers", "buyer", many_headers, [8 * KB, 60 * KB, 200 * KB]),
        ("long_folded_header", "buyer", long_folded_header, [8 * KB, 60 * KB, 200 * KB]),
        ("many_recipients", "buyer", many_recipients, [8 * KB, 60 * KB]),
        ("encoded_subject", "buyer", encoded_subject, [8 * KB, 60 * KB]),
        ("long_line", "buyer", long_line, growth),
        ("long_form_lines", "buyer", long_word_lines, growth),
        ("prose", "buyer", prose, growth),
        ("big_attachment", "buyer", big_attachment, growth),
        ("report_type_semicolons", "bare", report_type_semicolons, growth),
        ("charset_semicolons", "buyer", charset_semicolons, growth),
        ("disposition_semicolons", "buyer", disposition_semicolons, growth),
        ("long_part_headers", "buyer", long_part_headers, growth),
        ("boundary_lookalikes", "buyer", boundary_lookalikes, growth),
        ("nested_report_null_sender", "bare", nested_report, growth, ""),
        ("netscape_report_to_verp", "verp", netscape_report, growth),
    ]


class Target:
    """The temporary app: its config file, and the addresses a poison mail is sent to."""

    def __init__(self, folder: Path):
        # Every case sends mail to one order: past its storage quota a mail's body is dropped,
        # which is cheap and would time nothing. The quota is measured by its own tests.
        self.config = bench.config_for(folder, bench.free_port(),
                                       extra="[limits]\nstorage_per_order_mb = 1000000\n")
        app = self.app()
        bench.seed(app.db(), 5, 0, datetime.now(timezone.utc), app.tz)
        # One mail we sent to the buyer, so that its VERP return path takes reports.
        outbox_id = app.db().execute(
            "INSERT INTO outbox (message_id, role, template, recipients, raw, created_at) "
            "VALUES ('<sent1@bot.example>', 'buyer', 'buyer.reminder', ?, ?, ?)",
            [json.dumps([BUYER]), b"", "2026-11-26T00:00:00+00:00"]).lastrowid
        app.db().conn.commit()
        self.addresses = {"buyer": app.signer.address(Token("buyer", 1)),
                          "bare": app.config.bot.sender,
                          "verp": return_path(app.signer, outbox_id, 0)}
        self.limit = app.config.smtp.max_message_size
        app.close()

    def app(self):
        return wiring.build(config_mod.load(self.config))


def _child(target: Target, jobs, conn) -> None:
    """Processes each job ``(label, recipient, build, sender)``; sends ``(label, bytes, s, disp,
    parse s)``: the whole of ``intake.process``, and parsing alone (headers, text, documents)."""
    app = target.app()
    db = app.db()
    # Every template compiled and one ordinary mail processed first, as in a running server, so
    # that no poison mail pays for start-up.
    for env in app.renderer._envs.values():
        for name in env.list_templates(extensions=["j2"]):
            env.get_template(name)
    jobs = [("warm-up", "buyer", ordinary, BUYER), *jobs]
    for n, (label, recipient, build, mail_from) in enumerate(jobs):
        raw = build()
        to = target.addresses.get(recipient, recipient)
        raw = raw.replace(b"{to}", to.encode(), 1).replace(
            b"{mid}", f"p{n}-{time.monotonic_ns()}".encode(), 1)
        start = time.perf_counter()
        try:
            mail = parse(raw)
            mail.text, mail.attachments  # noqa: B018 -- reading them is the work measured
        except ValueError:
            pass  # a header block too large: intake records it unparseable
        parsing = time.perf_counter() - start
        now = datetime.now(timezone.utc)
        inbox_id = inbox.store(db, raw, mail_from, [to], now)
        start = time.perf_counter()
        disposition = intake.process(app, inbox_id, now)
        if n:
            conn.send((label, len(raw), time.perf_counter() - start, str(disposition), parsing))
    conn.send(None)


def measure(target: Target, jobs, timeout: float, show: bool = True) -> list[tuple]:
    """Results per job in order; a job over ``timeout`` ends the series with ``seconds=None``."""
    parent, child = multiprocessing.Pipe(duplex=False)
    proc = multiprocessing.Process(target=_child, args=(target, jobs, child))
    proc.start()
    child.close()
    results = []
    try:
        while True:
            if not parent.poll(timeout):
                label = jobs[len(results)][0]
                results.append((label, None, None, f"over {timeout:g} s, killed", None))
                if show:
                    print(f"  {label:<40} {'':>10} {'> ' + format(timeout, 'g') + ' s':>10}",
                          flush=True)
                break
            try:
                item = parent.recv()
            except EOFError:
                results.append((jobs[len(results)][0], None, None, "child died", None))
                break
            if item is None:
                break
            results.append(item)
            if show:
                label, size, seconds, disposition, parsing = item
                print(f"  {label:<40} {size:>10} {seconds:>10.3f} {parsing:>8.3f}  {disposition}",
                      flush=True)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
    return results


def job(label, recipient, builder, size, mail_from=BUYER):
    return (label, recipient, lambda: builder(size), mail_from)


def fuzz_jobs(count: int, seed: int, target: Target):
    rng = random.Random(seed)
    seeds = [p.read_bytes()[:30000] for p in sorted(fuzz.CORPUS.rglob("*.eml"))]
    jobs = []
    for n in range(count):
        raw = fuzz.mutate(rng, rng.choice(seeds)) if rng.random() < 0.9 else rng.randbytes(
            rng.randint(0, 4000))
        sender = rng.choice([BUYER, "x@y.example", ""])
        recipient = rng.choice(["buyer", "bare"])
        if rng.random() < 0.8:
            raw = f"From: {sender}\r\nMessage-ID: <{{mid}}@fuzz.example>\r\n".encode() + raw
        jobs.append((f"fuzz {n}", recipient, (lambda r=raw: r), sender))
    return jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="up to 1 MB, 200 fuzz mails")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--fuzz", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--case", action="append", help="only these cases (repeatable)")
    args = parser.parse_args()
    multiprocessing.set_start_method("fork")
    target = Target(Path(tempfile.mkdtemp(prefix="mailbot-poison-")))
    limit = min(target.limit, MB) if args.quick else target.limit

    baseline_runs = measure(target, [job("baseline", "buyer", ordinary, 0)] * 15, args.timeout,
                            show=False)
    baseline = statistics.median(r[2] for r in baseline_runs[3:])
    print(f"baseline (ordinary {baseline_runs[0][1]} byte reply): {baseline * 1000:.2f} ms")

    worst = {}
    for name, recipient, builder, steps, *envelope in cases(limit):
        if args.case and name not in args.case:
            continue
        print(name, flush=True)
        results = measure(target, [job(f"{name} {s}", recipient, builder, s, *envelope)
                                   for s in steps], args.timeout)
        worst[name] = max(results, key=lambda r: float("inf") if r[2] is None else r[2])
    count = 200 if args.quick else args.fuzz
    if (not args.case or "fuzz" in args.case) and count:
        print(f"fuzz ({count} mutated corpus mails)", flush=True)
        results = measure(target, fuzz_jobs(count, args.seed, target), args.timeout, show=False)
        worst["fuzz"] = max(results, key=lambda r: float("inf") if r[2] is None else r[2])

    print(f"\n{'case':<26} {'worst message':<34} {'bytes':>10} {'seconds':>9} {'ratio':>7} "
          f"{'parse s':>8}")
    for name, (label, size, seconds, disposition, parsing) in worst.items():
        shown = f"> {args.timeout:g}" if seconds is None else f"{seconds:.3f}"
        ratio = "" if seconds is None else f"{seconds / baseline:.0f}"
        parsed = "" if parsing is None else f"{parsing:.3f}"
        print(f"{name:<26} {label:<34} {size or '':>10} {shown:>9} {ratio:>7} {parsed:>8}  "
              f"{disposition}")
    over = [n for n, r in worst.items() if r[2] is None or r[2] > GOAL_SECONDS]
    print(json.dumps({"baseline_ms": round(baseline * 1000, 3),
                      "max_message_size": limit,
                      "worst_s": {n: None if r[2] is None else round(r[2], 3)
                                  for n, r in worst.items()},
                      "parse_s": {n: None if r[4] is None else round(r[4], 3)
                                  for n, r in worst.items()},
                      "over_goal": over}))


if __name__ == "__main__":
    main()
