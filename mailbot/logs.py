"""Logging set-up: one line per event that matters, as text or JSON Lines, at the ``[log]`` level.

Events are logged by ``event_log`` (``delivery.sent outbox_id=7 ...``); the JSON format
writes the event name and its fields as keys, so that a log shipper needs no parsing. Libraries
that narrate their routine work (APScheduler's "Running job ...", aiosmtpd's every SMTP command)
are held at WARNING: at INFO they were 97 % of the log. ``serve`` logs at the configured level,
to stderr or ``[log] file``. The other commands print their own result on stdout and only
warnings on stderr (unless ``--verbose``); the event lines of what they change go to the
service's log, so that one log holds every change: ``[log] file``, else the local syslog socket
(journald reads it: ``journalctl -t mailbot`` shows serve's lines and theirs). A change that is
only rehearsed (``--dry-run``) logs its lines at DEBUG, marked ``dry_run=yes`` (``holding``). Under
systemd (stderr is the journal's stream, ``JOURNAL_STREAM``) every line starts with its
syslog priority, ``<3>`` for ERROR ... ``<7>`` for DEBUG (sd-daemon(3)), so that journald files an
error as an error and ``journalctl -p warning`` finds it.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from . import printable

class LogFileError(OSError):
    """``[log] file`` cannot be written: refused in one line, as a taken port."""


CHATTY = ("apscheduler", "mail.log", "asyncio")
SYSLOG = "/dev/log"  # the local syslog socket (journald's, or a syslog daemon's)

log = logging.getLogger("mailbot")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
                "level": record.levelname, "logger": record.name}
        event = getattr(record, "event", None)
        if event:
            line["event"] = event
            line.update(getattr(record, "fields", {}))
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return printable.dumps(line, default=str)


class Text(logging.Formatter):
    def formatMessage(self, record):
        # A sender's name or a subject inside a message cannot move the terminal or split the
        # line (the traceback, added after this, keeps its own lines).
        record.message = printable.line(record.message)
        return super().formatMessage(record)

    def formatTime(self, record, datefmt=None):
        return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="seconds")


# sd-daemon(3)'s priority prefixes, as syslog(3) numbers them.
PRIORITY = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}


class Journald(logging.Formatter):
    """Another formatter's lines, each with the record's priority prefix (a traceback's lines
    too: journald reads the prefix per line)."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{PRIORITY.get(record.levelname, 6)}>"
        return "\n".join(prefix + line for line in self.inner.format(record).split("\n"))


def to_journal(stream) -> bool:
    """True when ``stream`` is the journal's: systemd sets JOURNAL_STREAM to its device:inode."""
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a file (pytest's capture, a StringIO)
        return False
    return os.environ.get("JOURNAL_STREAM") == f"{st.st_dev}:{st.st_ino}"


def setup(config, level: str | None = None, stream=None, command: bool = False) -> None:
    """Routes every log record, in the configured format, to the service's log: ``[log] file``,
    else ``stream`` (stderr). ``command``: a command other than serve, whose records go to
    ``stream`` from ``level`` on (the CLI's WARNING; None: ``[log] level``, ``--verbose``) and,
    from ``[log] level`` on, to the service's log: ``[log] file``, else the syslog socket."""
    stream = stream or sys.stderr
    formatter = JsonLines() if config.log.format == "json" else \
        Text("%(asctime)s %(levelname)s %(message)s")
    service = _file(config.log.file, formatter) if config.log.file else None
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    if command or service is None:
        own = logging.StreamHandler(stream)
        own.setFormatter(Journald(formatter) if to_journal(stream) else formatter)
        own.setLevel((level or config.log.level).upper())
        root.addHandler(own)
    if command and service is None:
        service = _syslog(formatter)
    if service is not None:
        service.setLevel(config.log.level.upper())
        root.addHandler(service)
    root.setLevel(min(h.level for h in root.handlers))
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def _file(path: str, formatter: logging.Formatter) -> logging.Handler:
    # Its folder is made as the database's is (a fresh install has no var/ yet); the file is
    # reopened when logrotate has moved it away (no copytruncate needed).
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise LogFileError(f"cannot write the log file {path}: {exc.strerror}") from None
    handler.setFormatter(formatter)
    return handler


def _syslog(formatter: logging.Formatter) -> logging.Handler | None:
    """The local syslog socket, tagged ``mailbot`` (RFC 3164's TAG, journald's identifier); None
    on a machine without one: the lines are then in no service log (set ``[log] file``)."""
    if not os.path.exists(SYSLOG):  # the handler would print a traceback on every line
        return None
    try:
        handler = logging.handlers.SysLogHandler(
            SYSLOG, facility=logging.handlers.SysLogHandler.LOG_DAEMON)
    except OSError:
        return None
    handler.ident = "mailbot: "
    handler.setFormatter(formatter)
    return handler


_held: ContextVar[list | None] = ContextVar("held", default=None)


def event_log(name: str, level: int = logging.INFO, **fields) -> None:
    """One structured line per event: ``case.escalated case_id=17 reason=merchant_no_response``;
    ``level`` WARNING for an event someone must act on (a mail given up). Inside ``holding`` the
    line waits for the change's end."""
    fields = {key: value for key, value in fields.items() if value is not None}
    held = _held.get()
    if held is not None:
        held.append((name, level, fields))
    else:
        _emit(name, level, fields)


def _emit(name: str, level: int, fields: dict) -> None:
    parts = [name] + [f"{key}={value}" for key, value in fields.items()]
    log.log(level, " ".join(parts), extra={"event": name, "fields": fields})  # JsonLines


@contextmanager
def holding(dry_run: bool) -> Iterator[None]:
    """The event lines of one change, logged when it has ended: as they are once it was carried
    out (the log never tells of a change that did not happen), at DEBUG with ``dry_run=yes``
    when it was only rehearsed, not at all when it failed."""
    lines: list = []
    token = _held.set(lines)
    try:
        yield
    finally:
        _held.reset(token)
    for name, level, fields in lines:
        if dry_run:
            _emit(name, logging.DEBUG, {"dry_run": "yes", **fields})
        else:
            _emit(name, level, fields)
