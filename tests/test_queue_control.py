"""Queue control as Postfix's postqueue/postsuper (issue 19 §2): after a relay outage `outbox
flush` tries every mail backing off now; `outbox hold/release/delete ID` act on one mail; the
listings say when they show only part of the rows."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from conftest import free_port, make_config, write_config
from mailbot import cli, jobs, wiring
from mailbot.store import admin


def run(capsys, config, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["--config", str(config), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def states(app) -> dict[int, str]:
    return {r["id"]: r["state"] for r in admin.outbox(app.db())}


def test_after_an_outage_flush_delivers_now_and_one_mail_can_be_held(app, tmp_path, capsys):
    now = datetime.now(timezone.utc)
    jobs.tick(app, now)  # three reminders queued
    broken = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": free_port()}))
    assert jobs.deliver(broken, now)["retry"] == 3  # the relay is down: backing off
    broken.close()
    assert jobs.deliver(app, datetime.now(timezone.utc))["sent"] == 0  # not due yet
    first, second, third = sorted(states(app))
    config = write_config(tmp_path, app.config)
    code, out, _ = run(capsys, config, "outbox", "hold", str(first))
    assert code == 0 and out.startswith(f"outbox {first} to ") and out.rstrip().endswith("held")
    code, _, err = run(capsys, config, "outbox", "hold", str(first))
    assert code == 2 and f"outbox {first} is held: only queued mail is held" in err
    code, out, _ = run(capsys, config, "outbox", "delete", str(second))
    assert code == 2 and "would" not in out and second in states(app)  # deletes: needs --yes
    assert run(capsys, config, "outbox", "delete", str(second), "--yes")[0] == 0
    assert second not in states(app)
    code, out, _ = run(capsys, config, "outbox", "flush")  # the relay is back (the Maildir)
    assert code == 0 and "1 mail(s) backing off are due now" in out and "1 sent" in out
    assert states(app) == {first: "held"}
    assert run(capsys, config, "outbox", "release", str(first))[0] == 0
    assert jobs.deliver(app, datetime.now(timezone.utc))["sent"] == 1
    assert states(app) == {}
    assert len(list((Path(app.config.relay.maildir) / "new").iterdir())) == 2


def test_listings_say_how_many_rows_they_leave_out(app, tmp_path, capsys):
    config = write_config(tmp_path, app.config)
    assert run(capsys, config, "outbox") == (0, "", "nothing to show\n")
    jobs.tick(app, datetime.now(timezone.utc))  # three reminders queued
    code, out, _ = run(capsys, config, "outbox", "--limit", "2")
    assert code == 0 and out.splitlines()[-1] == "2 of 3 shown, newest first (--limit 3 shows all)"
    code, out, err = run(capsys, config, "outbox", "--limit", "2", "--json")
    assert out.count('"id"') == 2 and "2 of 3 shown" in err
    code, out, _ = run(capsys, config, "outbox")
    assert len(out.splitlines()) == 3 and "shown" not in out


def test_the_inbox_shows_times_in_the_configured_zone_as_every_view_does(app, tmp_path, capsys):
    """`inbox` printed the stored UTC time beside `cases` in Amsterdam's: one zone in every
    view (issue 19 §4)."""
    from mailbot.inbound import inbox
    received = datetime(2026, 12, 7, 7, 41, 40, tzinfo=timezone.utc)
    inbox_id = inbox.store(app.db(), b"Subject: x\r\n\r\nx\r\n", "a@b.example", ["bot@x"],
                           received)
    config = write_config(tmp_path, app.config)
    code, out, _ = run(capsys, config, "inbox", "--json")
    assert code == 0 and '"received_at": "2026-12-07T08:41:40+01:00"' in out
    code, out, _ = run(capsys, config, "inbox")
    assert "2026-12-07T08:41:40+01:00" in out and "+00:00" not in out
    code, out, _ = run(capsys, config, "inbox", "show", str(inbox_id))
    assert out.splitlines()[0].endswith("received 2026-12-07T08:41:40+01:00")
