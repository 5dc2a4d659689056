"""Handing finished mail to the world: a Maildir (the default) or an SMTP relay.

Both take the exact bytes stored in the outbox plus the envelope (the VERP return path and the
recipients). The SMTP transport keeps one connection open for a whole delivery run. Errors are
sorted into permanent (5xx: the mail is dead) and temporary (anything else: retried).
"""

from __future__ import annotations

import mailbox
import smtplib
from pathlib import Path


class PermanentError(Exception):
    """The relay refused the mail for good (SMTP 5xx)."""


class TemporaryError(Exception):
    """Worth another try later (4xx, connection refused or dropped)."""


class MaildirTransport:
    last_reply = ""  # after send: what the receiving side said (logged with delivery.sent)

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __enter__(self):
        # Created here with exist_ok: mailbox.Maildir(create=True) fails when two delivery
        # processes create the folder at the same moment.
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        self._box = mailbox.Maildir(str(self.path), create=False)
        return self

    def __exit__(self, *exc):
        return False

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> dict:
        # A delivery agent records the envelope sender as Return-Path (RFC 5322 §3.6.7).
        message = mailbox.MaildirMessage(b"Return-Path: <" + envelope_from.encode() + b">\r\n" + raw)
        try:
            self.last_reply = f"stored as {self._box.add(message)}"
        except OSError as exc:
            raise TemporaryError(str(exc)) from exc
        return {}


class _SMTP(smtplib.SMTP):
    """Keeps the relay's answer to DATA, which names its queue id (``250 2.0.0 Ok: queued as
    4F3A2B``); ``sendmail`` drops it."""
    data_reply = b""

    def data(self, msg):
        code, self.data_reply = super().data(msg)
        return code, self.data_reply


class SmtpTransport:
    last_reply = ""

    def __init__(self, host: str, port: int, local_hostname: str, timeout: float = 30):
        self.host, self.port, self.local_hostname, self.timeout = host, port, local_hostname, timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None
        return False

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = _SMTP(self.host, self.port, local_hostname=self.local_hostname,
                                   timeout=self.timeout)
            except (OSError, smtplib.SMTPException) as exc:
                raise TemporaryError(f"relay {self.host}:{self.port} unreachable: {exc}") from exc
        return self._smtp

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> dict:
        smtp = self._connection()
        try:
            refused = smtp.sendmail(envelope_from, recipients, raw)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            self._reset()
            if all(code >= 500 for code in codes):
                raise PermanentError(f"recipients refused: {exc.recipients}") from exc
            raise TemporaryError(f"recipients refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            self._reset()
            if exc.smtp_code >= 500:
                raise PermanentError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise TemporaryError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryError(str(exc)) from exc
        self.last_reply = "250 " + smtp.data_reply.decode(errors="replace")
        # Some recipients may have been refused while others took the mail: the mail counts as
        # sent (a retry would give it twice to the others); the caller logs the refusals.
        return refused

    def _reset(self):
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self):
        try:
            self._smtp.close()
        except (smtplib.SMTPException, OSError, AttributeError):
            pass
        self._smtp = None


def open_transport(config):
    relay = config.relay
    if relay.transport == "smtp":
        return SmtpTransport(relay.host, relay.port, local_hostname=config.bot.domain)
    return MaildirTransport(relay.maildir)
