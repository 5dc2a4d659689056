"""``mailbot backup DEST``: a consistent copy of the database and the attachments, taken online.

Copying ``mailbot.db`` with ``cp`` while ``serve`` runs misses whatever still sits in the WAL file.
SQLite's online backup API copies the database as one read snapshot (in a single step, so writers
in other processes go on; WAL readers never block them) into a plain, self-contained file
(journal mode DELETE). Attachments are copied after the snapshot: they are content-addressed and
written before the row that names them commits, so every file the copy refers to already exists.
The copy is checked (``integrity_check``, every referenced attachment present) before the command
reports success; the result is owner-only, like the data directory. A PostgreSQL store is the
server's to copy: ``pg_dump``, said so in one line.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .datadir import StorageError, make_dir
from .files import AttachmentStore

DATABASE = "mailbot.db"
ATTACHMENTS = "attachments"


@dataclass
class Copy:
    database: Path
    inbox: int = 0
    orders: int = 0
    attachments: int = 0
    missing: list[str] = field(default_factory=list)  # referenced but not in the store


def backup(db, attachments: AttachmentStore, dest: str | Path) -> Copy:
    if db.dialect == "postgresql":
        # The server's own tool takes a consistent snapshot; attachments are files beside it.
        raise StorageError("a PostgreSQL store is backed up with pg_dump (e.g. pg_dump -Fc "
                           "-f mailbot.dump URL), and the attachments folder copied after it")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StorageError(f"backup destination {dest} exists and is not an empty folder")
    make_dir(dest)
    partial = dest / (DATABASE + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    target = sqlite3.connect(partial)
    try:
        db.conn.backup(target)  # pages=-1: the whole database from one read snapshot
        target.execute("PRAGMA journal_mode = DELETE")
        verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise StorageError(f"backup copy {partial} fails integrity_check: {verdict}")
        result = Copy(dest / DATABASE,
                      inbox=target.execute("SELECT count(*) FROM inbox").fetchone()[0],
                      orders=target.execute("SELECT count(*) FROM orders").fetchone()[0])
        referenced = _referenced(target)
    except sqlite3.Error as exc:
        raise StorageError(f"backup to {partial} failed: {exc}") from None
    finally:
        target.close()
    os.replace(partial, result.database)
    copied = make_dir(dest / ATTACHMENTS)
    for sha256, path in attachments.stored():
        folder = make_dir(copied / sha256[:2])
        shutil.copyfile(path, folder / sha256)
        os.chmod(folder / sha256, 0o600)
        result.attachments += 1
    result.missing = sorted(s for s in referenced if not (copied / s[:2] / s).is_file())
    return result


def _referenced(conn) -> set[str]:
    found = set()
    for (documents,) in conn.execute("SELECT attachments FROM timeline WHERE attachments != '[]'"):
        found.update(d["sha256"] for d in json.loads(documents))
    return found
