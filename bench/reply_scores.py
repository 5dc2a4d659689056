"""Scores reply trimming on the shared corpus: per source, how many ``expected_reply`` items come
out right after whitespace normalisation; and checks that trimming stays linear in the input.

    python bench/reply_scores.py [--corpus ../shared/corpus] [--with NAME] [--show-misses N]
    python bench/reply_scores.py --scaling [--size BYTES]

Two figures per source: ``exact`` compares with the source's expectation as it is; ``by design``
also accepts a reply that differs only by the closing mailbot removes on purpose (issue 9 §2: a
mobile "sent from" line, a sign-off and the name below it), which some sources keep.
``--with`` scores another trimmer on the same items for comparison (``mailbot`` by default;
``mail_parser_reply``, ``email_reply_parser`` or ``talon`` when that package is installed).
``--scaling`` times each input that once made trimming slow (``poison_inputs``, also used by
``bench/poison.py``) at one size and four times that size and prints the ratio: about 4 is linear.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from mailbot.inbound.parse import parse
from mailbot.inbound.html_text import html_to_text
from mailbot.inbound.reply import new_text, without_closing

SOURCES = ("discourse_email_reply_trimmer", "mailgun_talon", "github_email_reply_parser",
           "mail_parser_reply")


def normal(text: str) -> str:
    return " ".join(text.split())


def mailbot_plain(text: str) -> str:
    return new_text(text)


def mailbot_html(html: str) -> str:
    return new_text(html_to_text(html))


def trimmers(name: str):
    if name == "mailbot":
        return mailbot_plain, mailbot_html
    if name == "mail_parser_reply":
        from mailparser_reply import EmailReplyParser
        parser = EmailReplyParser(languages=["en", "de", "nl", "fr", "it"])
        plain = lambda text: parser.parse_reply(text=text)  # noqa: E731
        return plain, lambda html: plain(html_to_text(html))
    if name == "email_reply_parser":
        from email_reply_parser import EmailReplyParser
        return EmailReplyParser.parse_reply, lambda html: EmailReplyParser.parse_reply(
            html_to_text(html))
    if name == "talon":
        from talon import quotations
        return quotations.extract_from_plain, lambda html: html_to_text(
            quotations.extract_from_html(html))
    raise SystemExit(f"unknown trimmer {name}")


def score(corpus: Path, name: str, show: int):
    plain, html = trimmers(name)
    results = {}
    for source in SOURCES:
        manifest = json.loads((corpus / source / "manifest.json").read_text())
        folder = corpus / source / ("emails" if (corpus / source / "emails").exists() else "")
        ok = by_design = total = 0
        misses = []
        for path, item in manifest["items"].items():
            expected = item.get("expected_reply")
            if expected is None:
                continue
            kind = item.get("input_kind") or manifest.get("input_kind", "")
            file = folder / path if (folder / path).exists() else corpus / source / path
            raw = file.read_bytes()
            try:
                if kind.startswith("rfc822"):
                    got = plain(parse(raw).text)
                elif kind.startswith("html"):
                    got = html(raw.decode("utf-8", "replace"))
                else:
                    got = plain(raw.decode("utf-8", "replace"))
            except Exception as exc:  # a library that crashes scores a miss
                got = f"<error {exc!r}>"
            total += 1
            if normal(got) == normal(expected):
                ok += 1
                by_design += 1
            elif normal(got) == normal(without_closing(expected)):
                by_design += 1
            else:
                misses.append((path, expected, got))
        results[source] = (ok, by_design, total)
        print(f"{source:32} exact {ok:3}/{total:<3} {100 * ok / max(total, 1):5.1f} %"
              f"   by design {by_design:3}/{total:<3} {100 * by_design / max(total, 1):5.1f} %")
        for path, expected, got in misses[:show]:
            print(f"  MISS {path}\n    want: {normal(expected)[:160]!r}\n    got:  {normal(got)[:160]!r}")
    return results


def poison_inputs(size: int) -> dict:
    """Inputs of about ``size`` bytes that once cost trimming exponential or quadratic time
    (issue 9 §1), by name: (function, argument)."""
    return {
        "Original Message lines": (new_text, "-----Original Message-----\n" * (size // 28)),
        "quote lines, then text": (new_text, "hello\n" + ">\n" * (size // 2) + "bye\n"),
        "'Op ' on one line": (new_text, "x " + "Op " * (size // 3)),
        "'Op ' lines": (new_text, "Op 1 jan 2020 12:00 schreef\n" * (size // 28)),
        "attribution lines": (new_text, "On 1 Jan 2020, a@b.example wrote:\n" * (size // 34)),
        "header fields": (new_text, "From: a@b.example\n" * (size // 18)),
        "HTML <br>": (html_to_text, "<br>" * (size // 4)),
        "HTML unclosed tags": (html_to_text, "<a " * (size // 3)),
        "HTML paragraphs": (html_to_text, "<p>a" * (size // 4)),
    }


def scaling(size: int) -> dict:
    """Seconds per input at ``size`` and at four times ``size``, and their ratio."""
    small, large = poison_inputs(size), poison_inputs(4 * size)
    rows = {}
    for name, (function, argument) in small.items():
        times = []
        for function, argument in ((function, argument), large[name]):
            start = time.perf_counter()
            function(argument)
            times.append(time.perf_counter() - start)
        rows[name] = (times[0], times[1], times[1] / max(times[0], 1e-6))
        print(f"{name:28} {size:>8} B {times[0]:7.3f} s   {4 * size:>8} B {times[1]:7.3f} s"
              f"   x{rows[name][2]:.1f}")
    return rows


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    args.add_argument("--with", dest="trimmer", default="mailbot")
    args.add_argument("--show-misses", type=int, default=0)
    args.add_argument("--scaling", action="store_true")
    args.add_argument("--size", type=int, default=250_000)
    ns = args.parse_args()
    if ns.scaling:
        scaling(ns.size)
        return
    print(f"trimmer: {ns.trimmer}")
    score(Path(ns.corpus), ns.trimmer, ns.show_misses)


if __name__ == "__main__":
    main()
