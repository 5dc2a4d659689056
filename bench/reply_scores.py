"""Scores reply trimming on the shared corpus: per source, how many ``expected_reply`` items come
out right after whitespace normalisation.

    python bench/reply_scores.py [--corpus ../shared/corpus] [--with NAME] [--show-misses N]

``--with`` scores another trimmer on the same items for comparison (``mailbot`` by default;
``mail_parser_reply``, ``email_reply_parser`` or ``talon`` when that package is installed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mailbot.inbound.parse import parse
from mailbot.inbound.reply import html_to_text, new_text

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
        ok = total = 0
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
            else:
                misses.append((path, expected, got))
        results[source] = (ok, total)
        print(f"{source:32} {ok:3}/{total:<3} {100 * ok / max(total, 1):5.1f} %")
        for path, expected, got in misses[:show]:
            print(f"  MISS {path}\n    want: {normal(expected)[:160]!r}\n    got:  {normal(got)[:160]!r}")
    return results


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    args.add_argument("--with", dest="trimmer", default="mailbot")
    args.add_argument("--show-misses", type=int, default=0)
    ns = args.parse_args()
    print(f"trimmer: {ns.trimmer}")
    score(Path(ns.corpus), ns.trimmer, ns.show_misses)


if __name__ == "__main__":
    main()
