"""Applying the schema's migrations once, in order, on either dialect.

The record of what was applied is sqlite-utils' own table (``_sqlite_migrations``: id,
migration_set, name, applied_at), which earlier versions of mailbot wrote through sqlite-utils:
an existing SQLite file opens with its history as it is and only the newer migrations run. Each
migration and its record commit together. Two processes starting at once wait for each other
(SQLite's write lock; on PostgreSQL a transaction-scoped advisory lock) and the second finds the
migration applied.
"""

from __future__ import annotations

import datetime
import zlib
from dataclasses import dataclass

TABLE = "_sqlite_migrations"
# A fixed key for PostgreSQL's advisory lock: "mailbot migrations" as a 31-bit number.
_LOCK_KEY = zlib.crc32(b"mailbot migrations") & 0x7FFFFFFF


@dataclass
class Migration:
    name: str
    fn: object


class Migrations:
    def __init__(self, name: str):
        self.name = name
        self._migrations: list[Migration] = []

    def __call__(self):
        """``@migrations()`` registers the function below it, by its name, after the others."""
        def register(fn):
            if any(m.name == fn.__name__ for m in self._migrations):
                raise ValueError(f"migration {fn.__name__} is registered twice")
            self._migrations.append(Migration(fn.__name__, fn))
            return fn
        return register

    def applied(self, db) -> set[str]:
        if not _exists(db):
            return set()
        return {r[0] for r in db.execute(
            f"SELECT name FROM {TABLE} WHERE migration_set = ?", [self.name]).fetchall()}

    def pending(self, db) -> list[Migration]:
        done = self.applied(db)
        return [m for m in self._migrations if m.name not in done]

    def apply(self, db) -> None:
        from .db import transaction  # db.py registers its migrations on an instance of this
        if not self.pending(db):
            return
        with transaction(db):
            _lock(db)
            db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, "
                       "migration_set TEXT, name TEXT, applied_at TEXT)")
            db.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS idx_{TABLE}_migration_set_name "
                       f"ON {TABLE} (migration_set, name)")
        for migration in self._migrations:
            with transaction(db):
                _lock(db)
                if migration.name in self.applied(db):
                    continue
                migration.fn(db)
                db.execute(f"INSERT INTO {TABLE} (migration_set, name, applied_at) "
                           "VALUES (?, ?, ?)", [self.name, migration.name,
                                                str(datetime.datetime.now(datetime.UTC))])


def _exists(db) -> bool:
    if db.dialect == "postgresql":
        return db.execute("SELECT to_regclass(?) IS NOT NULL", [TABLE]).fetchone()[0]
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      [TABLE]).fetchone() is not None


def _lock(db) -> None:
    if db.dialect == "postgresql":
        db.execute("SELECT pg_advisory_xact_lock(?)", [_LOCK_KEY])
