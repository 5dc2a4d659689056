"""The database: opening a connection (either dialect, ``store/dialect.py``) and the schema's
migrations, one set for SQLite and PostgreSQL.

``[storage] url`` picks the store: empty or ``sqlite:`` is the embedded SQLite file at ``[storage]
database`` (WAL, busy timeout, synchronous FULL); ``postgresql://…`` a PostgreSQL server. Each
thread opens its own connection (aiosmtpd's loop, the intake worker and the scheduler run on
different threads). Writes go through ``transaction``: on SQLite it takes the write lock up front
(``BEGIN IMMEDIATE``) so that two writers wait for each other instead of failing on a lock
upgrade; on PostgreSQL rows are locked as they are written, and claims lock theirs with ``FOR
UPDATE SKIP LOCKED``. Migrations are appended at the end of this file, as functions that call
``db.executescript`` / ``db.execute`` with portable SQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
from datetime import datetime
from pathlib import Path

from . import chain, datadir
from .dialect import SQLite, connect_postgresql, operational_errors  # noqa: F401
from .migrating import Migrations

migrations = Migrations("mailbot")


def holder() -> str:
    """This process as the holder of a lease: its host and pid, as a log line names them."""
    return f"{socket.gethostname()}:{os.getpid()}"


def database_now(db) -> datetime:
    """The database's clock: what ``serve`` counts time by, so that the nodes of one database
    agree on it however far their own clocks drift (a timer never fires early on a fast one)."""
    return datetime.fromisoformat(db.execute(f"SELECT {db.clock()}").fetchone()[0])


def is_postgresql(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in ("postgresql", "postgres")


def open_store(storage, readonly: bool = False):
    """The connection ``[storage]`` names, migrated (read-only: never created nor migrated)."""
    if is_postgresql(storage.url):
        try:
            db = connect_postgresql(storage.url, readonly)
        except Exception as exc:  # psycopg's errors name the host, never the password
            raise datadir.StorageError(f"cannot open database {_shown(storage.url)}: "
                                       f"{str(exc).strip().splitlines()[0]}") from None
        if not readonly:
            migrations.apply(db)
        return db
    if readonly:
        return datadir.open_readonly(storage.database)
    return connect(storage.database)


def where(storage) -> str:
    """The database named for people: the file, or the URL without its password."""
    return _shown(storage.url) if is_postgresql(storage.url) else str(storage.database)


def _shown(url: str) -> str:
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, user = head.partition("://")
    return f"{scheme}://{user.split(':')[0]}@{tail}"


def connect(path: str | Path) -> SQLite:
    datadir.check_writable(path)
    try:
        db = _connect(path)
    except sqlite3.DatabaseError as exc:
        raise datadir.StorageError(f"cannot open database {path}: {exc}") from None
    datadir.owner_only(path)
    return db


def _connect(path: str | Path) -> SQLite:
    # Autocommit outside ``transaction``: no write is left in an implicit, forgotten transaction.
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    db = SQLite(conn)
    db.execute("PRAGMA busy_timeout = 30000")
    db.execute("PRAGMA foreign_keys = ON")
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.execute("PRAGMA journal_mode = wal")
    # FULL: a commit is on disk before the SMTP 250 that depends on it (SPEC §8).
    db.execute("PRAGMA synchronous = FULL")
    migrations.apply(db)
    return db


@contextlib.contextmanager
def lease_writes(db):
    """Around writes that only take or give back leases, each of them one statement, atomic by
    itself. On SQLite they share one transaction whose commit does not wait for the disk
    (synchronous=NORMAL, WAL): a power cut may forget a lease, and then the row is only taken
    again, which a lease has to survive anyway; the next FULL commit syncs it along. On
    PostgreSQL each commits on its own (autocommit): a transaction around a single statement
    would only cost a round trip more for its COMMIT. Inside a caller's transaction, they are
    part of it."""
    if db.in_transaction or db.dialect != "sqlite":
        yield db
        return
    db.execute("PRAGMA synchronous = NORMAL")
    try:
        with transaction(db):
            yield db
    finally:
        db.execute("PRAGMA synchronous = FULL")  # connect's setting (SPEC §8)


@contextlib.contextmanager
def transaction(db):
    """One atomic write: everything inside commits together or not at all. Nested, it is a
    savepoint inside the outer transaction (``jobs.tick`` groups many events in one commit)."""
    # RELEASE and COMMIT inside the try: on PostgreSQL they carry the writes not sent yet
    # (``Database.write``), and one of those that fails must undo the rest as any failure does.
    if db.in_transaction:
        db.execute("SAVEPOINT nested")
        try:
            yield db
            db.execute("RELEASE SAVEPOINT nested")
        except BaseException:
            db.execute("ROLLBACK TO SAVEPOINT nested")
            db.execute("RELEASE SAVEPOINT nested")
            raise
        return
    db.begin()
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


@migrations()
def m001_initial(db):
    db.executescript(
        """
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE merchants (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, emails TEXT NOT NULL,
            locale TEXT NOT NULL, insolvent INTEGER NOT NULL DEFAULT 0);
        -- One row per order with its protection (one per order, SPEC §2).
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY, shop_id TEXT NOT NULL REFERENCES merchants(id),
            order_number TEXT NOT NULL, order_date TEXT NOT NULL, amount TEXT NOT NULL,
            currency TEXT NOT NULL, buyer_email TEXT NOT NULL, buyer_locale TEXT NOT NULL,
            plan TEXT NOT NULL, state TEXT NOT NULL, ends_at TEXT NOT NULL,
            extended INTEGER NOT NULL DEFAULT 0, reminder_sent INTEGER NOT NULL DEFAULT 0,
            ended_at TEXT, end_reason TEXT,
            UNIQUE (shop_id, order_number));
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL UNIQUE REFERENCES orders(id),
            reason TEXT NOT NULL, state TEXT NOT NULL, variant TEXT, outcome TEXT,
            escalation_reason TEXT, opened_at TEXT NOT NULL, merchant_due TEXT,
            nudged INTEGER NOT NULL DEFAULT 0, buyer_due TEXT, refund_choice TEXT,
            refund_amount TEXT, closed_at TEXT);
        CREATE INDEX cases_state ON cases(state);
        CREATE TABLE timeline (
            id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, at TEXT NOT NULL,
            actor TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL DEFAULT '',
            attachments TEXT NOT NULL DEFAULT '[]');
        CREATE INDEX timeline_order ON timeline(order_id);
        -- Timers are derived from the state and rewritten with it (core/decide.timers).
        CREATE TABLE timers (
            order_id INTEGER NOT NULL, kind TEXT NOT NULL, due_at TEXT NOT NULL,
            PRIMARY KEY (order_id, kind)) WITHOUT ROWID;
        CREATE INDEX timers_due ON timers(due_at);
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, mail_from TEXT NOT NULL,
            rcpt_tos TEXT NOT NULL, raw BLOB NOT NULL, processed_at TEXT,
            disposition TEXT, dedupe_key TEXT, order_id INTEGER, sender TEXT, detail TEXT);
        CREATE INDEX inbox_pending ON inbox(processed_at) WHERE processed_at IS NULL;
        CREATE INDEX inbox_dedupe ON inbox(dedupe_key);
        CREATE INDEX inbox_sender ON inbox(sender, received_at);
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, order_id INTEGER,
            role TEXT NOT NULL, template TEXT NOT NULL, recipients TEXT NOT NULL,
            raw BLOB NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'queued',
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT,
            claimed_until TEXT, sent_at TEXT, last_error TEXT);
        -- next_attempt_at NULL: due at once, whatever clock queued it (tick --now may run ahead).
        CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'queued';
        CREATE INDEX outbox_thread ON outbox(order_id, role);
        """
    )


@migrations()
def m002_bounces(db):
    # One row per delivery report and recipient (inbound/bounces.py).
    db.executescript(
        """
        CREATE TABLE bounces (
            id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL, recipient TEXT NOT NULL,
            action TEXT NOT NULL, status TEXT NOT NULL, diagnostic TEXT NOT NULL,
            inbox_id INTEGER, received_at TEXT NOT NULL);
        CREATE INDEX bounces_outbox ON bounces(outbox_id);
        CREATE INDEX bounces_received ON bounces(received_at);
        """
    )


@migrations()
def m003_attempts_and_answers(db):
    db.executescript(
        """
        -- Processing attempts are counted before each try, so a mail that crashes or hangs the
        -- worker is counted too, and a restart does not loop on it (intake quarantines it).
        ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE inbox ADD COLUMN started_at TEXT;
        ALTER TABLE inbox ADD COLUMN last_error TEXT;
        -- An answer to an inbound mail records whose budget it counts against and which mail
        -- it answers (outbound/budget.py); NULL for every other mail.
        ALTER TABLE outbox ADD COLUMN answer_to TEXT;
        ALTER TABLE outbox ADD COLUMN inbox_id INTEGER;
        CREATE INDEX outbox_answers ON outbox(answer_to, created_at) WHERE answer_to IS NOT NULL;
        -- A timer that fails (e.g. its mail cannot be composed) records why on its own row.
        ALTER TABLE timers ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE timers ADD COLUMN last_error TEXT;
        -- A fresh mail to the bare address is matched against the buyers of open orders.
        CREATE INDEX orders_buyer ON orders(lower(buyer_email));
        """
    )


@migrations()
def m004_timeline_chain(db):
    # Each timeline entry is linked into its order's hash chain (store/chain.py). The entries
    # written before are linked now, oldest first, so every order has one unbroken chain.
    db.execute("ALTER TABLE timeline ADD COLUMN content_sha256 TEXT")
    db.execute("ALTER TABLE timeline ADD COLUMN chain_sha256 TEXT")
    last: dict[int, str] = {}
    rows = db.execute("SELECT id, order_id, at, actor, kind, text, attachments FROM timeline "
                      "ORDER BY id").fetchall()
    for id_, order_id, at, actor, kind, text, attachments in rows:
        content = chain.content_hash(text, json.loads(attachments))
        last[order_id] = chain.link(last.get(order_id, chain.GENESIS), order_id, at, actor, kind,
                                    content)
        db.execute("UPDATE timeline SET content_sha256 = ?, chain_sha256 = ? WHERE id = ?",
                   [content, last[order_id], id_])


@migrations()
def m005_orders_by_mail(db):
    db.executescript(
        """
        -- A shop's intake address for orders by mail (orders_by_mail/): a signed token address
        -- of kind "intake" naming a row here. Rotating adds a row and retires the old one.
        CREATE TABLE intake_addresses (
            id INTEGER PRIMARY KEY, shop_id TEXT NOT NULL REFERENCES merchants(id),
            plan TEXT NOT NULL, created_at TEXT NOT NULL, retired_at TEXT,
            held_notice_at TEXT);
        CREATE INDEX intake_addresses_shop ON intake_addresses(shop_id);
        -- One row per confirmation mail an intake address received, and what became of it.
        CREATE TABLE mail_orders (
            id INTEGER PRIMARY KEY, shop_id TEXT NOT NULL, inbox_id INTEGER NOT NULL,
            received_at TEXT NOT NULL, outcome TEXT NOT NULL, order_number TEXT,
            order_id INTEGER, subject TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
            told_at TEXT);
        CREATE INDEX mail_orders_shop ON mail_orders(shop_id, received_at);
        """
    )


@migrations()
def m006_timeline_done_by(db):
    # Who gave an operator's command (the From of their mail, the CLI's --as or login name);
    # empty for every other entry and for the entries written before.
    db.execute("ALTER TABLE timeline ADD COLUMN done_by TEXT NOT NULL DEFAULT ''")


@migrations()
def m007_inbox_by_order(db):
    # The storage quota of an order (inbound/inbox.stored_bytes) sums its mails for each one.
    db.execute("CREATE INDEX inbox_order ON inbox(order_id)")


@migrations()
def m008_leases_and_raw_mail(db):
    db.executescript(
        """
        -- Claims with a lease (inbox_rows, outbox_rows, records.claim_timers): who holds a
        -- row, until when by the database's clock. A lease whose holder died expires, and
        -- another worker takes the row.
        ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
        ALTER TABLE inbox ADD COLUMN claimed_until TEXT;
        -- The claim's query reads the unprocessed rows in id order, and nothing else.
        CREATE INDEX inbox_unprocessed ON inbox(id) WHERE processed_at IS NULL;
        ALTER TABLE timers ADD COLUMN claimed_until TEXT;
        ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
        -- When a queued or sending row may next be taken ('' = at once, also for a row inserted
        -- without it); NULL once it is done, so the due query reads an index of the rows in
        -- flight only, never the whole table.
        ALTER TABLE outbox ADD COLUMN due_at TEXT DEFAULT '';
        CREATE INDEX outbox_due_at ON outbox(due_at) WHERE due_at IS NOT NULL;
        -- The raw mail in a table of its own: status updates of an inbox row never rewrite it.
        CREATE TABLE inbox_raw (inbox_id INTEGER PRIMARY KEY, raw BLOB NOT NULL);
        INSERT INTO inbox_raw (inbox_id, raw) SELECT id, raw FROM inbox;
        -- The daily digest goes out once per period, however many nodes run.
        CREATE TABLE digests (period TEXT PRIMARY KEY, sent_at TEXT NOT NULL);
        """
    )
    db.execute("UPDATE outbox SET due_at = CASE WHEN status = 'queued' "
               "THEN coalesce(next_attempt_at, '') END")
    db.execute("UPDATE inbox SET raw = ?", [b""])
    db.execute("DROP INDEX outbox_due")


@migrations()
def m009_lanes(db):
    db.executescript(
        """
        -- The lane a mail waits in (inbound/lanes.py), decided from its envelope when it is
        -- stored; each lane's workers claim from their own lanes only.
        ALTER TABLE inbox ADD COLUMN lane TEXT NOT NULL DEFAULT 'party';
        CREATE INDEX inbox_lane_unprocessed ON inbox(lane, id) WHERE processed_at IS NULL;
        """
    )


@migrations()
def m010_timeline_chain_version(db):
    # The head each timeline entry's link hashes (store/chain.py): 1 for the entries written
    # before, whose links stay as they are; new entries also hash who gave the command.
    db.execute("ALTER TABLE timeline ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1")


@migrations()
def m011_shared_counters_and_recipients(db):
    db.executescript(
        """
        -- The listener's hourly counters for mail to the bare address (store/anonymous_counts):
        -- mails per counter ('*' for all of them, 'from:' and the envelope sender) per
        -- 10-minute bucket of the database's clock, so every listener of every node counts in
        -- the same rows. Buckets older than an hour are deleted.
        CREATE TABLE anonymous_counts (
            counter TEXT NOT NULL, bucket TEXT NOT NULL, mails INTEGER NOT NULL,
            PRIMARY KEY (counter, bucket)) WITHOUT ROWID;
        -- What became of each recipient of a mail whose recipients fared differently (one taken,
        -- one refused for now or for good): 'sent' or 'dead', by the recipient's index in
        -- outbox.recipients. A later attempt sends to the others only. No row: every recipient
        -- fared as the outbox row says.
        CREATE TABLE outbox_recipients (
            outbox_id INTEGER NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,
            at TEXT NOT NULL, PRIMARY KEY (outbox_id, idx)) WITHOUT ROWID;
        """
    )
