"""``mailbot check``: is this installation working? One line per check, exit 1 if one failed.

Checks the database (opened read-only, never created; schema migrations applied), the way out
(the relay takes a connection opened as delivery opens it, TLS and AUTH included, and answers
NOOP; or the Maildir is writable) and ``serve`` (the pid in ``serve.pid`` runs and its processing
side touched the file recently, see ``pidfile``). For a monitoring probe or a person after a
deploy; it changes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import pidfile
from ..outbound.transport import TemporaryError, open_transport
from ..store import datadir
from ..store.db import migrations, open_store, where


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
    try:
        db = open_store(config.storage, readonly=True)
    except datadir.StorageError as exc:
        return False, str(exc)
    try:
        pending = [m.name for m in migrations.pending(db)]
    finally:
        db.close()
    if pending:
        return False, (f"{where(config.storage)}: migrations not applied: "
                       f"{', '.join(pending)} (start serve once)")
    return True, f"{where(config.storage)}, schema current"


def _relay(config) -> tuple[bool, str]:
    relay = config.relay
    if relay.transport == "smtp":
        where = f"{relay.host}:{relay.port}"
        try:
            with open_transport(config) as transport:
                reply = transport.noop()
        except (TemporaryError, OSError) as exc:
            return False, str(exc)
        return True, f"relay {where} answers NOOP: {reply}"
    folder = Path(relay.maildir)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        return False, f"Maildir {folder}: {existing} is not writable"
    return True, f"Maildir {folder} writable"


def _serve(config) -> tuple[bool, str]:
    return pidfile.status(config)
