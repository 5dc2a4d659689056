"""The data directory on disk: owner-only permissions, read-only opening, one-line errors.

Everything under ``[storage] root`` holds personal data and the HMAC secret (in the database), so
files are created 0600 and folders 0700 (``OWNER_ONLY_UMASK`` for the process, explicit modes
where a file is made here). Commands that only read open the database read-only and never create
it: a mistyped root must not silently become a new, empty database with a new secret. Problems
with the files are ``StorageError`` with one line that names the file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .dialect import SQLite

OWNER_ONLY_UMASK = 0o077


class StorageError(Exception):
    """The data directory cannot be used as asked; the message names the file in one line."""


def make_dir(path: str | Path) -> Path:
    """``path`` and its missing parents, created owner-only."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(f"cannot create folder {path}: {exc.strerror}") from None
    return path


def check_maildir(maildir: str | Path) -> None:
    """Refuses at start, naming it, a Maildir that cannot be made or written (a typo, a file in
    the way, another user's folder): delivery would otherwise fail on every mail, every try.
    Nothing is created here: the first existing folder on the way must be one we can write."""
    maildir = Path(maildir).absolute()
    existing = maildir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise StorageError(f"cannot create maildir {maildir}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StorageError(f"cannot create maildir {maildir}: folder {existing} is not "
                           "writable for this user")


def check_writable(database: str | Path) -> None:
    """Refuses, naming the file, a database (or its folder) this process cannot write: SQLite
    would otherwise fail later with a bare 'readonly database' or 'unable to open' error."""
    database = Path(database)
    folder = make_dir(database.parent)
    if database.exists() and not os.access(database, os.R_OK | os.W_OK):
        raise StorageError(f"database {database} is read-only for this user")
    if not os.access(folder, os.W_OK | os.X_OK):
        # WAL mode needs the -wal and -shm files beside the database.
        raise StorageError(f"folder {folder} is not writable (the database {database.name} "
                           "needs it)")


def owner_only(path: str | Path) -> None:
    """Tightens a file made before permissions were enforced (an older mailbot made 0644)."""
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # not ours to change: reading and writing it still work


def open_readonly(database: str | Path) -> SQLite:
    """A read-only connection; ``StorageError`` (where it looked) when there is no database."""
    database = Path(database)
    if not database.is_file():
        raise StorageError(f"no database at {database} (set [storage] root or --config)")
    uri = f"{database.absolute().as_uri()}?mode=ro"
    # A read-only folder cannot take the -shm file that WAL readers need; when nobody can write
    # there, nobody can change the database either, so reading it as immutable is safe.
    shm = Path(str(database) + "-shm")
    if not os.access(database.parent, os.W_OK) and not shm.exists():
        uri += "&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False,
                               isolation_level=None)
        db = SQLite(conn)
        db.execute("PRAGMA busy_timeout = 30000")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot read database {database}: {exc}") from None
    return db
