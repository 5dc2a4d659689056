"""``mailbot purge`` covers the default way out too: the Maildir of sent mail (``var/sent``)
holds addresses and the parties' texts; and it says what it does not cover."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import write_config
from mailbot import cli, jobs


def test_purge_removes_maildir_files_written_before_the_cutoff(app, tmp_path, capsys):
    now = datetime.now(timezone.utc)
    jobs.tick(app, now)
    assert jobs.deliver(app, now)["sent"] == 3
    files = sorted((Path(app.config.relay.maildir) / "new").iterdir())
    assert len(files) == 3 and b"jan@buyer.example" in b"".join(f.read_bytes() for f in files)
    later = (now + timedelta(days=2)).timestamp()
    os.utime(files[0], (later, later))  # written after the cut-off: kept
    capsys.readouterr()
    purge = ["--config", str(write_config(tmp_path, app.config)), "purge",
             "--now", (now + timedelta(days=731)).isoformat()]
    assert cli.main(purge + ["--dry-run"]) == 0
    assert "dry run, nothing removed; would purge" in capsys.readouterr().out
    assert all(f.exists() for f in files)
    assert cli.main(purge) == 0
    out = capsys.readouterr().out
    assert [f for f in files if f.exists()] == [files[0]]
    assert "2 maildir" in out
    assert "not covered: backups, the logs of serve (they name envelope senders" in out
