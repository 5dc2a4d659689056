"""Upgrades that keep everything: a database made by the previous release (the fixture built by
``fixtures/make_release_375f768.py``) opens with every order, case, timeline entry, outbox row and
the secret intact, and data kept where releases before ``[storage] root`` kept it (paths read from
the working directory) is never replaced by a new, empty database."""

from __future__ import annotations

import email
import email.policy
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import make_config
from mailbot import views, wiring
from mailbot.store import records

MAILBOT = Path(sys.executable).parent / "mailbot"
FIXTURE = Path(__file__).parent / "fixtures" / "release_375f768.sql"
TABLES = ("merchants", "orders", "cases", "timeline", "timers", "outbox", "inbox", "settings")


def restore(path: Path) -> None:
    """The previous release's database, as that release left it on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    conn.close()


def rows(path: Path) -> dict[str, list[dict]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return {t: [dict(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")]
                for t in TABLES}
    finally:
        conn.close()


def test_the_previous_release_database_opens_with_everything_intact(tmp_path):
    database = tmp_path / "mailbot.db"
    restore(database)
    before = rows(database)
    assert [len(before[t]) for t in ("orders", "cases", "timeline", "outbox")] == [3, 1, 18, 11]
    app = wiring.build(make_config(tmp_path))  # writable: pending migrations are applied
    try:
        after = rows(database)
        with sqlite3.connect(database) as conn:  # raw mail moved to a table of its own (m008)
            moved = dict(conn.execute("SELECT inbox_id, raw FROM inbox_raw"))
        for row in after["inbox"]:
            row["raw"] = moved[row["id"]]
        for table, old_rows in before.items():
            assert len(after[table]) == len(old_rows), table
            for old, new in zip(old_rows, after[table]):
                assert {k: new[k] for k in old} == old, table
        # The secret is the release's: every address already in people's inboxes still verifies.
        for row in before["outbox"]:
            mail = email.message_from_bytes(row["raw"], policy=email.policy.default)
            token = app.signer.parse(str(mail["Reply-To"].addresses[0].addr_spec))
            assert token is not None and token.id == row["order_id"]
        db = app.db()
        state = records.load(db, records.order_id(db, "shop-nl", "NL-1"))
        case = views.case_file_json(db, state, app.tz)
        assert (case["state"], case["variant"], case["escalation_reason"]) == (
            "escalated", "B", "buyer_disputes")
        assert len(case["timeline"]) == len([r for r in before["timeline"]
                                             if r["order_id"] == state.order.id])
    finally:
        app.close()


def mailbot(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MAILBOT_CONFIG"}
    return subprocess.run([str(MAILBOT), "--config", "mailbot.toml", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_data_where_the_earlier_release_kept_it_is_never_replaced_by_an_empty_database(tmp_path):
    """The earlier release read ``database = "mailbot.db"`` from the working directory; this one
    reads it under ``[storage] root`` (default ``var``): it refuses, naming both places."""
    config = tmp_path / "mailbot.toml"
    config.write_text('[bot]\ndomain = "bot.example"\n[storage]\ndatabase = "mailbot.db"\n'
                      'attachments = "attachments"\n[relay]\nmaildir = "sent"\n')
    restore(tmp_path / "mailbot.db")
    for command in (["cases"], ["check"], ["deliver"], ["serve"]):
        result = mailbot(tmp_path, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"no database at {tmp_path / 'var' / 'mailbot.db'}" in result.stderr
        assert f"an earlier release's is at {tmp_path / 'mailbot.db'}" in result.stderr
        assert f'add root = "{tmp_path}" to [storage]' in result.stderr
    assert not (tmp_path / "var").exists()
    # What the line says to do keeps the data, with its secret and the open case.
    config.write_text(config.read_text().replace("[storage]\n",
                                                 f'[storage]\nroot = "{tmp_path}"\n'))
    assert mailbot(tmp_path, "deliver").returncode == 0
    listed = mailbot(tmp_path, "cases")
    assert listed.returncode == 0
    assert "escalated" in listed.stdout and "shop-nl/NL-1" in listed.stdout
    assert not (tmp_path / "var").exists()
