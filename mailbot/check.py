"""``mailbot check``: is this installation working? One line per check, exit 1 if one failed.

Checks the database (opens read-only, never creates one; schema migrations applied), the way out
(the relay answers EHLO and NOOP, or the Maildir is writable) and ``serve`` (the pid in
``serve.pid`` runs and its processing side touched the file recently, see ``pidfile``). Meant for
a monitoring probe or a person after a deploy; it changes nothing.
"""

from __future__ import annotations

import os
import smtplib
import sqlite3
from pathlib import Path

import sqlite_utils

from . import pidfile
from .store.db import migrations

RELAY_TIMEOUT = 10


def run(config, out) -> int:
    failed = 0
    for name, check in (("database", _database), ("relay", _relay), ("serve", _serve)):
        try:
            ok, detail = check(config)
        except Exception as exc:  # a check that breaks is a failed check, named
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        print(f"{name}: {'ok' if ok else 'FAIL'}: {detail}", file=out)
        failed += not ok
    return 1 if failed else 0


def _database(config) -> tuple[bool, str]:
    path = Path(config.storage.database)
    if not path.is_file():
        return False, f"no database at {path}"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        db = sqlite_utils.Database(conn, execute_plugins=False)
        pending = [m.name for m in migrations.pending(db)]
    finally:
        conn.close()
    if pending:
        return False, f"{path}: migrations not applied: {', '.join(pending)} (start serve once)"
    return True, f"{path}, schema current"


def _relay(config) -> tuple[bool, str]:
    relay = config.relay
    if relay.transport == "smtp":
        where = f"{relay.host}:{relay.port}"
        try:
            with smtplib.SMTP(relay.host, relay.port, local_hostname=config.bot.domain,
                              timeout=RELAY_TIMEOUT) as smtp:
                smtp.ehlo()
                code, text = smtp.noop()
        except (OSError, smtplib.SMTPException) as exc:
            return False, f"relay {where} does not answer: {exc}"
        if code != 250:
            return False, f"relay {where} answered NOOP with {code} {text.decode(errors='replace')}"
        return True, f"relay {where} answers"
    folder = Path(relay.maildir)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        return False, f"Maildir {folder}: {existing} is not writable"
    return True, f"Maildir {folder} writable"


def _serve(config) -> tuple[bool, str]:
    return pidfile.status(config)
