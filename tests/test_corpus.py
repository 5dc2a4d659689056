"""Mail nobody here wrote (``../shared/corpus``): reply trimming keeps its measured score, every
message parses, and robots are recognised."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from mailbot.inbound import screening
from mailbot.inbound.parse import parse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def test_reply_trimming_scores(capsys, corpus):
    from reply_scores import score
    results = score(corpus, "mailbot", 0)
    # Exact: as the source expects. By design: a closing we remove on purpose (issue 9 §2) and
    # the source keeps is not a miss.
    floors = {"discourse_email_reply_trimmer": (0.92, 0.95), "mailgun_talon": (0.90, 0.96)}
    for source, (exact_floor, design_floor) in floors.items():
        ok, by_design, total = results[source]
        assert ok / total >= exact_floor, f"{source}: {ok}/{total}"
        assert by_design / total >= design_floor, f"{source}: {by_design}/{total} by design"
    # Issue 16 §7: at least 90 % exact over all the sources (it was 141/159, 88.7 %).
    ok, total = (sum(r[i] for r in results.values()) for i in (0, 2))
    assert ok / total >= 0.90, f"{ok}/{total}"


@pytest.mark.parametrize("source", ["zammad", "request_tracker", "ruby_mail_gem", "flufl_bounce"])
def test_every_message_parses(corpus, source):
    files = [p for p in (corpus / source).rglob("*") if p.is_file() and p.name != "manifest.json"]
    assert files
    for path in files:
        parse(path.read_bytes())  # raises on a message it cannot read


def test_subjects_read_as_the_source_reads_them(corpus):
    manifest = json.loads((corpus / "zammad" / "manifest.json").read_text())
    checked = matched = 0
    for name, item in manifest["items"].items():
        if not item.get("expected_parse"):
            continue
        expected = item["expected_parse"]
        if isinstance(expected, str):  # some are stored as Python literals
            expected = ast.literal_eval(expected)
        expected = expected.get("subject") or ""
        mail = parse((corpus / "zammad" / name).read_bytes())
        checked += 1
        matched += " ".join(expected.split()) == " ".join((mail.subject or "").split())
    assert checked >= 100
    assert matched / checked >= 0.9, f"{matched}/{checked}"


def test_bounces_are_recognised(corpus):
    manifest = json.loads((corpus / "flufl_bounce" / "manifest.json").read_text())
    folder = corpus / "flufl_bounce"
    missed = []
    for name in manifest["items"]:
        path = folder / name if (folder / name).exists() else folder / "emails" / name
        raw = path.read_bytes()
        mail = parse(raw)
        from_line = mail.headers.get("Return-Path", "") or ""
        if not (screening.is_bounce(from_line.strip() or "x@y", mail.headers, mail.subject)
                or screening.is_auto_reply(mail.headers, mail.subject)):
            missed.append(name)
    assert len(missed) / len(manifest["items"]) <= 0.05, missed[:10]


def test_zammad_robots_and_people_are_told_apart(corpus):
    manifest = json.loads((corpus / "zammad" / "manifest.json").read_text())
    checked = 0
    for name, item in manifest["items"].items():
        kind = item.get("classification")
        if kind is None:
            continue
        mail = parse((corpus / "zammad" / name).read_bytes())
        envelope = str(mail.headers.get("Return-Path", mail.sender))
        robot = (screening.is_bounce(envelope, mail.headers, mail.subject)
                 or screening.is_auto_reply(mail.headers, mail.subject))
        assert robot == (kind != "regular"), (name, kind)
        checked += 1
    assert checked == 10
