"""The dialect seam: one ``Database`` interface over SQLite (embedded) and PostgreSQL (psycopg 3).

The store writes portable SQL with ``?`` placeholders (``:name`` for named ones) and calls
``db.execute(sql, params)``, ``db.query(sql, params)`` (rows as dicts), ``db.executemany``,
``db.executescript`` and ``db.write`` (a write whose result nobody reads). On PostgreSQL every
statement is a round trip to the server, so a transaction's BEGIN and the writes said inside it
go out with its next statement, in one (libpq's pipeline mode); ``db.statements`` counts the
round trips (the tests hold a click, a timer and a delivered mail to a number). For
PostgreSQL the text is translated once per statement: placeholders to psycopg's ``%s``,
SQLite's DDL words to PostgreSQL's (``INTEGER PRIMARY KEY`` to an identity column, ``BLOB`` to
``BYTEA``), ``PRAGMA`` to nothing (SQLite's tuning only, no round trip), and the row lock of a
claim (``FOR UPDATE [SKIP LOCKED]``) kept; for SQLite that lock clause is dropped, since its
``BEGIN IMMEDIATE`` already serialises writers. Plain SQL through a seam this thin was chosen over
SQLAlchemy Core: the store is ~90 short statements that read like the schema, and a query builder
would have rewritten all of them for no gain on two dialects. ``clock(seconds)`` is the
database's own time as the store's ISO text, for leases that no node's clock may decide.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import sys
from collections.abc import Iterator, Sequence


# psycopg is imported by ``connect_postgresql`` only: on SQLite no process of serve carries its
# modules (about 20 MB of resident memory each, bench/RESULTS.md). A psycopg error can only come
# from a connection it made, so before the import there is none to catch.
def operational_errors() -> tuple[type[Exception], ...]:
    """Errors of the database rather than of a mail: a lock, a lost connection (intake gives the
    try back for these, inbound/intake.py)."""
    psycopg = sys.modules.get("psycopg")
    return (sqlite3.OperationalError,) + ((psycopg.OperationalError,) if psycopg else ())


def database_errors() -> tuple[type[Exception], ...]:
    psycopg = sys.modules.get("psycopg")
    return (sqlite3.Error,) + ((psycopg.Error,) if psycopg else ())


class Database:
    """One connection. Subclasses say how a statement reaches the driver."""

    dialect = ""
    conn = None
    # Statements sent through this connection: on PostgreSQL each one is a round trip to the
    # server (the tests hold a click, a timer and a delivered mail to a number of them).
    statements = 0

    def execute(self, sql: str, params: Sequence | dict = ()):
        self.statements += 1
        return self.conn.execute(self.translate(sql), params)

    def executemany(self, sql: str, rows) -> None:
        self.statements += 1
        self.conn.cursor().executemany(self.translate(sql), list(rows))

    def write(self, sql: str, params: Sequence | dict = ()) -> None:
        """A write whose result nobody reads (neither rows nor a count). Here it is sent at
        once; PostgreSQL sends it with the transaction's next statement."""
        self.execute(sql, params)

    def query(self, sql: str, params: Sequence | dict = ()) -> Iterator[dict]:
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description]
        for row in cur.fetchall():
            yield dict(zip(names, row))

    def close(self) -> None:
        self.conn.close()

    def translate(self, sql: str) -> str:
        return sql


class SQLite(Database):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def translate(self, sql: str) -> str:
        return _for_sqlite(sql)

    def executescript(self, sql: str) -> None:
        # Statement by statement: sqlite3's executescript would first commit the transaction
        # the migration runs in.
        for statement in _statements(sql):
            self.conn.execute(statement)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def begin(self) -> None:
        # The write lock up front: two writers wait for each other instead of failing on a
        # lock upgrade, and a claim's SELECT and UPDATE see no other writer between them.
        self.execute("BEGIN IMMEDIATE")

    def lock(self, name: str) -> None:
        """Until the transaction ends, no other transaction takes the lock ``name``: here every
        write transaction already holds SQLite's one write lock (``begin``)."""

    def clock(self, seconds: float = 0) -> str:
        return f"strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '{float(seconds):+f} seconds')"

    def items(self, column: str) -> str:
        return f"json_each({column})"


class PostgreSQL(Database):
    dialect = "postgresql"

    def __init__(self, conn):
        self.conn = conn
        # Said but not sent yet: BEGIN, and writes whose results nobody reads. They go out with
        # the transaction's next statement, in one round trip (``_send``).
        self._begin = False
        self._writes: list[tuple[str, Sequence | dict]] = []

    def translate(self, sql: str) -> str:
        return _for_postgresql(sql)

    def execute(self, sql: str, params: Sequence | dict = ()):
        text = self.translate(sql)
        if not text:
            return self.conn.cursor()  # a PRAGMA: SQLite's tuning, nothing to send
        if text.startswith("ROLLBACK"):
            # The writes not sent yet all came after the last statement sent, so after any
            # savepoint: undone with it, never sent (one that failed would fail the ROLLBACK).
            self._writes.clear()
        # Always with parameters, even none: psycopg then reads the text as a query with
        # placeholders, so the %% the translation wrote for a literal % is one % again.
        return self._send(lambda: self.conn.execute(text, params))

    def executemany(self, sql: str, rows) -> None:
        text, rows = self.translate(sql), list(rows)
        self._send(lambda: self.conn.cursor().executemany(text, rows))

    def write(self, sql: str, params: Sequence | dict = ()) -> None:
        if not self.in_transaction:  # autocommit: a write is done when this returns
            self.execute(sql, params)
            return
        self._writes.append((self.translate(sql), params))

    def _send(self, statement):
        self.statements += 1
        if not self._begin and not self._writes:
            return statement()
        # BEGIN and the writes said before this statement go out with it in one round trip
        # (libpq's pipeline mode: all sent, then one sync). One that fails raises here, on
        # leaving the pipeline, inside the transaction, which the caller rolls back
        # (``store.db.transaction`` commits inside its try for that).
        begin, writes = self._begin, self._writes
        self._begin, self._writes = False, []
        with self.conn.pipeline():
            if begin:
                self.conn.execute("BEGIN")
            for text, params in writes:
                self.conn.execute(text, params)
            return statement()

    def executescript(self, sql: str) -> None:
        self._send(lambda: self.conn.execute(_for_postgresql(sql, script=True)))

    @property
    def in_transaction(self) -> bool:
        return (self._begin or bool(self._writes)
                or self.conn.info.transaction_status != _psycopg().pq.TransactionStatus.IDLE)

    def begin(self) -> None:
        self._begin = True

    def lock(self, name: str) -> None:
        # A transaction-scoped advisory lock on the name's hash: a collision only makes two
        # unrelated transactions wait for each other.
        self.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [name])

    def clock(self, seconds: float = 0) -> str:
        return ("to_char((now() AT TIME ZONE 'UTC') + interval "
                f"'{float(seconds):f} seconds', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')")

    def items(self, column: str) -> str:
        return f"json_array_elements_text({column}::json)"


def _psycopg():
    try:  # PostgreSQL is an extra (``pip install mailbot[pg]``); SQLite needs nothing
        import psycopg
    except ImportError:  # pragma: no cover - without the extra only sqlite: URLs open
        raise ImportError("a postgresql:// [storage] url needs psycopg: "
                          "pip install 'mailbot[pg]'") from None
    return psycopg


def connect_postgresql(url: str, readonly: bool = False) -> PostgreSQL:
    psycopg = _psycopg()
    # Autocommit outside ``store.db.transaction``, as with SQLite: no write is left in an
    # implicit, forgotten transaction; ``transaction`` says BEGIN itself.
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("SET TIME ZONE 'UTC'")
    if readonly:
        conn.execute("SET default_transaction_read_only = on")
    return PostgreSQL(conn)


# --- translation ------------------------------------------------------------------------------

# A quoted literal or identifier is copied as it is; outside them, placeholders are rewritten.
_TOKENS = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*)|(\?)|(?<!:):([A-Za-z_]\w*)""")
_LOCK = re.compile(r"\s+FOR UPDATE(?: OF \w+)?(?: SKIP LOCKED)?", re.I)


def _statements(script: str) -> Iterator[str]:
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip() and not all(
            not ln.strip() or ln.strip().startswith("--") for ln in pending.splitlines()):
        yield pending


@functools.lru_cache(maxsize=1024)
def _for_sqlite(sql: str) -> str:
    return _LOCK.sub("", sql)


_DDL = [
    (re.compile(r"\bINTEGER PRIMARY KEY\b(?!\s*\()", re.I),
     "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
    (re.compile(r"\)\s*WITHOUT ROWID", re.I), ")"),
    # PostgreSQL wants an indexed expression in parentheses of its own.
    (re.compile(r"\bON (\w+)\s*\((\w+\([^()]*\))\)", re.I), r"ON \1 ((\2))"),
]


@functools.lru_cache(maxsize=1024)
def _for_postgresql(sql: str, script: bool = False) -> str:
    if sql.lstrip().upper().startswith("PRAGMA"):
        return ""
    for pattern, replacement in _DDL:
        sql = pattern.sub(replacement, sql)
    if script:
        return sql

    def swap(match: re.Match) -> str:
        quoted, mark, name = match.groups()
        if quoted is not None:
            return quoted.replace("%", "%%")
        return "%s" if mark else f"%({name})s"
    parts, last = [], 0
    for match in _TOKENS.finditer(sql):
        parts.append(sql[last:match.start()].replace("%", "%%"))
        parts.append(swap(match))
        last = match.end()
    parts.append(sql[last:].replace("%", "%%"))
    return "".join(parts)
