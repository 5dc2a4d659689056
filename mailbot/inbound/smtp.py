"""The SMTP listener: a doorman that checks recipients, stores the bytes and answers.

``RCPT`` refuses every address that is neither a verified token address nor the bot's own
address (no backscatter later); ``DATA`` stores the raw message durably and only then answers
250; processing happens afterwards on the intake worker. Any internal error answers a transient
451 so that the sending MTA tries again (aiosmtpd would answer a permanent 500).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from ..store.db import transaction
from ..wiring import event_log
from . import inbox

log = logging.getLogger("mailbot.smtp")

OK = "250 2.0.0 OK: queued"
RCPT_OK = "250 2.1.5 OK"
NO_SUCH_USER = "550 5.1.1 No such recipient here"
LOCAL_ERROR = "451 4.3.0 Local error, please try again later"


class Doorman:
    def __init__(self, app, on_stored=None):
        self.app = app
        self.on_stored = on_stored or (lambda inbox_id: None)
        self.own = app.config.bot.sender.lower()
        self._pending: list[tuple[bytes, str, list[str], asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            accepted = address.lower() == self.own or self.app.signer.parse(address) is not None
        except Exception:
            log.exception("smtp.rcpt_error")
            return LOCAL_ERROR
        if not accepted:
            event_log("smtp.refused", peer=_peer(session), rcpt=repr(address),
                      reason="no such recipient")
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        return RCPT_OK

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        loop = asyncio.get_running_loop()
        stored = loop.create_future()
        self._pending.append((raw, envelope.mail_from or "", list(envelope.rcpt_tos), stored))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write())
        try:
            inbox_id = await stored
        except Exception:
            log.exception("smtp.store_failed")
            return LOCAL_ERROR
        event_log("smtp.accepted", inbox_id=inbox_id, peer=_peer(session),
                  mail_from=repr(envelope.mail_from), size=len(raw))
        self.on_stored(inbox_id)
        return OK

    async def _write(self):
        """Group commit: the messages that arrived while the disk was busy share one commit,
        and none of them is answered before that commit is on disk."""
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                ids = await loop.run_in_executor(None, self._store, batch)
            except Exception as exc:
                for *_, stored in batch:
                    stored.set_exception(exc)
                continue
            for inbox_id, (*_, stored) in zip(ids, batch):
                stored.set_result(inbox_id)

    def _store(self, batch) -> list[int]:
        db, now = self.app.db(), datetime.now(timezone.utc)
        with transaction(db):
            return [inbox.store(db, raw, mail_from, rcpt_tos, now)
                    for raw, mail_from, rcpt_tos, _ in batch]


def _peer(session) -> str:
    return session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)


class LenientSMTP(SMTP):
    # RFC 5321 §4.5.3.1.6 allows 1000 octets a line, but real clients send longer lines (and
    # bare LF line ends, which make a whole message one "line"); refusing them loses mail.
    line_length_limit = 1024 * 1024


class Listener(Controller):
    def factory(self):
        return LenientSMTP(self.handler, **self.SMTP_kwargs)


def listener(app, on_stored=None) -> Controller:
    """The SMTP server; ``on_stored(inbox_id)`` is called after each 250 (tests wake intake)."""
    # aiosmtpd logs every SMTP command at INFO; at our volume that is most of the listener's CPU.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    cfg = app.config.smtp
    return Listener(
        Doorman(app, on_stored), hostname=cfg.host, port=cfg.port,
        # A fixed name: no DNS look-up per connection.
        server_hostname=app.config.bot.domain, ident="mailbot",
        data_size_limit=cfg.max_message_size, enable_SMTPUTF8=True, decode_data=False,
    )
