"""Logging set-up: one line per event that matters, as text or JSON Lines, at the ``[log]`` level.

Events are logged by ``event_log`` (``delivery.sent outbox_id=7 ...``); the JSON format
writes the event name and its fields as keys, so that a log shipper needs no parsing. Libraries
that narrate their routine work (APScheduler's "Running job ...", aiosmtpd's every SMTP command)
are held at WARNING: at INFO they were 97 % of the log. ``serve`` logs at the configured level;
the other commands print their own result on stdout and log only warnings unless ``--verbose``.
Under systemd (stderr is the journal's stream, ``JOURNAL_STREAM``) every line starts with its
syslog priority, ``<3>`` for ERROR ... ``<7>`` for DEBUG (sd-daemon(3)), so that journald files an
error as an error and ``journalctl -p warning`` finds it.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime, timezone

from . import printable

CHATTY = ("apscheduler", "mail.log", "asyncio")

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


def setup(config, level: str | None = None, stream=None) -> None:
    """Routes every log record to ``stream`` (stderr) in the configured format; ``level``
    overrides ``[log] level`` (the CLI's WARNING)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if config.log.format == "json":
        formatter = JsonLines()
    else:
        formatter = Text("%(asctime)s %(levelname)s %(message)s")
    handler.setFormatter(Journald(formatter) if to_journal(stream) else formatter)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or config.log.level).upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def event_log(name: str, level: int = logging.INFO, **fields) -> None:
    """One structured line per event: ``case.escalated case_id=17 reason=merchant_no_response``;
    ``level`` WARNING for an event someone must act on (a mail given up)."""
    fields = {key: value for key, value in fields.items() if value is not None}
    parts = [name] + [f"{key}={value}" for key, value in fields.items()]
    log.log(level, " ".join(parts), extra={"event": name, "fields": fields})  # JsonLines
