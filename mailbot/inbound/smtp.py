"""The SMTP (or LMTP) listener: a doorman that checks recipients, stores the bytes and answers.

``RCPT`` refuses every address that is neither a verified token address nor the bot's own
address (no backscatter later); ``DATA`` stores the raw message durably and only then answers
250 (in LMTP one reply per recipient, RFC 2033 §4.2); processing happens afterwards on the intake
worker. Any internal error answers a transient 451 so that the sending MTA tries again (aiosmtpd
would answer a permanent 500). Strangers' cost is bounded: connections at once and per client
address, recipients per message, junk commands per session, a session that delivers nothing for
``idle_timeout`` seconds is closed whatever it sends, and mail to the bare address only (no
token) has its own smaller size limit and hourly quotas, per envelope sender and for all such mail
together. Those quotas are counted in the store (``store/anonymous_counts.py``), in the same
transaction that stores the mail, so they hold across every listener of every node and cost no
commit of their own. In LMTP the MTA in front has already queued the mail, and anything it is
refused now it bounces to the envelope sender, who is forged in the mail these limits stop
(backscatter): so over those limits LMTP takes the mail and drops it with a log line
(``smtp.dropped``); what the MTA can refuse itself, before its queue, is its job (RCPT:
``mailbot postfix-map``; size: Postfix's ``message_size_limit``). Both protocols advertise
PIPELINING and ENHANCEDSTATUSCODES, which LMTP requires (RFC 2033 §5); STARTTLS is offered when
``[smtp] cert_file`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from datetime import datetime, timezone

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from .. import private_files
from ..store import anonymous_counts
from ..store.db import transaction
from ..logs import event_log
from . import inbox
from .lanes import lane_of

log = logging.getLogger("mailbot.smtp")

OK = "250 2.0.0 OK: queued"
RCPT_OK = "250 2.1.5 OK"
NO_SUCH_USER = "550 5.1.1 No such recipient here"
LOCAL_ERROR = "451 4.3.0 Local error, please try again later"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"  # RFC 5321 §4.5.3.1.10
TOO_MANY_CONNECTIONS = "421 4.7.0 Too many connections, try again later"
TOO_MANY_FROM_CLIENT = "421 4.7.0 Too many connections from your address, try again later"
TOO_IDLE = "421 4.4.2 No mail delivered for too long, closing"
TOO_MUCH_JUNK = "421 4.7.0 Too many commands without mail, closing"
ANONYMOUS_TOO_BIG = "552 5.3.4 Message too big for this address"
ANONYMOUS_QUOTA = "452 4.3.1 Too much mail to this address, try again later"
DROPPED = "250 2.0.0 OK: dropped, over the limits of the bare address"
# EHLO's last line; EHLO lines carry no enhanced status code (RFC 2034 §3).
EHLO_LAST = "250 ENHANCEDSTATUSCODES"
# Postfix counts NOOP, RSET, VRFY, ETRN as junk (smtpd_junk_command_limit); so do we, per mail.
JUNK_LIMIT = 20


class Doorman:
    def __init__(self, app, on_stored=None):
        self.app = app
        self.on_stored = on_stored or (lambda inbox_id: None)
        self.own = app.config.bot.sender.lower()
        self.limits = app.config.smtp
        # Connections open at once, in all and per client address: this listener's own sockets
        # and tasks, so they stay in its memory (each node bounds what it holds itself).
        self.connections = 0
        self.per_client: dict[str | None, int] = {}
        self.clock = time.monotonic  # tests move time on instead of waiting
        self._pending: list[tuple[bytes, str, list[str], bool, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # RFC 2033 §5: an LMTP server must offer both. aiosmtpd reads commands from a buffered
        # stream in order, so pipelined commands are answered in order (RFC 2920).
        session.host_name = hostname
        return [*responses[:-1], "250-" + responses[-1][4:], "250-PIPELINING", EHLO_LAST]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= self.limits.max_recipients:
            return TOO_MANY_RECIPIENTS
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
        reply = await self._data(session, envelope, after_queue=isinstance(server, LMTP))
        if reply.startswith("250"):
            server.delivered()
        if isinstance(server, LMTP):
            # One reply per accepted recipient (RFC 2033 §4.2): the mail is stored once for all.
            return "\r\n".join(reply for _ in envelope.rcpt_tos)
        return reply

    def _anonymous(self, envelope) -> bool:
        """Mail for the bare address only: no token vouches for it, so it gets less room."""
        return all(a.lower() == self.own for a in envelope.rcpt_tos)

    async def _data(self, session, envelope, after_queue: bool) -> str:
        raw = envelope.original_content or envelope.content
        anonymous = self._anonymous(envelope)
        if anonymous and len(raw) > self.limits.anonymous_max_size:
            return self._refused(session, envelope, ANONYMOUS_TOO_BIG, len(raw), after_queue)
        loop = asyncio.get_running_loop()
        stored = loop.create_future()
        self._pending.append((raw, envelope.mail_from or "", list(envelope.rcpt_tos), anonymous,
                              stored))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write())
        try:
            inbox_id = await stored
        except Exception:
            log.exception("smtp.store_failed")
            return LOCAL_ERROR
        if inbox_id is None:
            return self._refused(session, envelope, ANONYMOUS_QUOTA, len(raw), after_queue)
        event_log("smtp.accepted", inbox_id=inbox_id, peer=_peer(session),
                  mail_from=repr(envelope.mail_from), size=len(raw))
        self.on_stored(inbox_id)
        return OK

    @staticmethod
    def _refused(session, envelope, refusal: str, size: int, after_queue: bool) -> str:
        if after_queue:
            # Refused now, the MTA would bounce it to a sender who is most likely forged.
            event_log("smtp.dropped", peer=_peer(session), mail_from=repr(envelope.mail_from),
                      reason=repr(refusal[4:]), size=size)
            return DROPPED
        event_log("smtp.refused", peer=_peer(session), reason=repr(refusal), size=size)
        return refusal

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

    def _store(self, batch) -> list[int | None]:
        """Stores each mail of the batch, or None for one over the hourly quotas."""
        db, now = self.app.db(), datetime.now(timezone.utc)
        with transaction(db):
            return [inbox.store(db, raw, mail_from, rcpt_tos, now,
                                lane_of(self.app.signer, mail_from, rcpt_tos))
                    if not anonymous or self._counted(db, mail_from) else None
                    for raw, mail_from, rcpt_tos, anonymous, _ in batch]

    def _counted(self, db, mail_from: str) -> bool:
        """Counts one mail to the bare address, unless it is over a quota (then it counts
        nowhere, so a sender who tries again later is not held back by the refusals)."""
        # All mail's counter first: every listener locks the rows in the same order, so two
        # nodes never wait for each other's (PostgreSQL would abort one).
        counters = ["*", "from:" + mail_from.lower()]
        counted = anonymous_counts.count(db, counters)
        (bucket, first, total), (_, _, sender) = counted[counters[0]], counted[counters[1]]
        if sender > self.limits.anonymous_per_hour or total > self.limits.anonymous_total_per_hour:
            anonymous_counts.uncount(db, bucket, counters)
            return False
        if first == 1:  # a new bucket, once in ten minutes: the oldest is forgotten
            anonymous_counts.prune(db)
        return True


def _peer(session) -> str | None:
    peer = getattr(session, "peer", None)
    return peer[0] if isinstance(peer, tuple) else peer


_ENHANCED = re.compile(r"\d{3} [245]\.\d{1,3}\.\d{1,3}( |$)")


class Guarded:
    """Limits shared by the SMTP and LMTP sessions (mixed in before the aiosmtpd class)."""

    # RFC 5321 §4.5.3.1.6 allows 1000 octets a line, but real clients send longer lines (and
    # bare LF line ends, which make a whole message one "line"); refusing them loses mail.
    line_length_limit = 1024 * 1024
    _junk = 0
    _since: float | None = None  # when the session began or last delivered a mail

    def connection_made(self, transport):
        if self._since is None:  # not again after STARTTLS: the same session goes on
            self._since = self.event_handler.clock()
        super().connection_made(transport)

    def _left(self) -> float:
        return self._since + self.event_handler.limits.idle_timeout - self.event_handler.clock()

    def _reset_timeout(self, duration=None):
        # aiosmtpd restarts its timer at every command; the session's deadline caps it.
        super()._reset_timeout(max(min(duration or self._timeout_duration, self._left()), 0.01))

    def _timeout_cb(self):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(TOO_IDLE.encode() + b"\r\n")  # RFC 5321 §4.2.5: 421, then close
        event_log("smtp.refused", peer=_peer(self.session), reason=repr(TOO_IDLE))
        super()._timeout_cb()

    async def _handle_client(self):
        doorman, peer = self.event_handler, _peer(self.session)
        refusal = None
        if doorman.connections >= doorman.limits.max_connections:
            refusal = TOO_MANY_CONNECTIONS
        elif (not isinstance(self, LMTP)  # behind an MTA, every connection is the MTA's
              and doorman.per_client.get(peer, 0) >= doorman.limits.max_connections_per_client):
            refusal = TOO_MANY_FROM_CLIENT
        if refusal is not None:
            await self.push(refusal)
            self.transport.close()
            return
        doorman.connections += 1
        doorman.per_client[peer] = doorman.per_client.get(peer, 0) + 1
        try:
            await super()._handle_client()
        finally:
            doorman.connections -= 1
            doorman.per_client[peer] -= 1
            if not doorman.per_client[peer]:
                del doorman.per_client[peer]

    async def push(self, status):
        status = str(status)
        # Refusals answered here or by aiosmtpd itself (552 for an oversized message), one line.
        if status in (TOO_MANY_CONNECTIONS, TOO_MANY_FROM_CLIENT, TOO_MUCH_JUNK, TOO_IDLE) \
                or status.startswith("552"):
            event_log("smtp.refused", peer=_peer(self.session), reason=repr(status))
        # ENHANCEDSTATUSCODES (RFC 2034 §3): aiosmtpd's own replies ("250 OK", "503 Error: need
        # MAIL command") get the class's generic code; the greeting, 354 and EHLO lines none.
        if (status[3:4] == " " and status[:3] not in ("220", "354") and status != EHLO_LAST
                and not _ENHANCED.match(status)):
            status = f"{status[:3]} {status[0]}.0.0 {status[4:]}"
        await super().push(status)

    async def _count_junk(self) -> bool:
        self._junk += 1
        if self._junk <= JUNK_LIMIT and self._left() > 0:
            return False
        await self.push(TOO_MUCH_JUNK if self._junk > JUNK_LIMIT else TOO_IDLE)
        self.transport.close()
        return True

    async def smtp_NOOP(self, arg):
        if not await self._count_junk():
            await super().smtp_NOOP(arg)

    async def smtp_RSET(self, arg):
        if not await self._count_junk():
            await super().smtp_RSET(arg)

    async def smtp_VRFY(self, arg):
        if not await self._count_junk():
            await super().smtp_VRFY(arg)

    async def smtp_DATA(self, arg):
        # The message itself gets the whole timeout (aiosmtpd does not restart it per line),
        # even when it starts near the session's deadline; a delivered mail renews the session.
        if self.envelope.rcpt_tos:  # else it is answered 503 at once
            SMTP._reset_timeout(self)
        await super().smtp_DATA(arg)

    def delivered(self):
        """A session that delivers mail is no idler (called before the 250 goes out)."""
        self._junk, self._since = 0, self.event_handler.clock()


# A client speaking the other protocol is a configuration slip of the MTA in front: answered
# 421 (temporary, RFC 5321 §4.2.5), so the MTA keeps the mail queued instead of bouncing it as a
# 500 would make it do, and its log says what to fix.
WRONG_PROTOCOL = "421 4.3.5 This is an {0} listener: set [smtp] protocol = \"{1}\" or use {0}"


class GuardedSMTP(Guarded, SMTP):
    async def smtp_LHLO(self, arg):
        await self.push(WRONG_PROTOCOL.format("SMTP", "lmtp"))
        self.transport.close()


class GuardedLMTP(Guarded, LMTP):
    async def smtp_EHLO(self, arg):
        await self.push(WRONG_PROTOCOL.format("LMTP", "smtp"))
        self.transport.close()

    smtp_HELO = smtp_EHLO


class Listener(Controller):
    def __init__(self, handler, protocol: str = "smtp", **kwargs):
        self.protocol_class = GuardedLMTP if protocol == "lmtp" else GuardedSMTP
        super().__init__(handler, **kwargs)

    def factory(self):
        return self.protocol_class(self.handler, **self.SMTP_kwargs)


def listener(app, on_stored=None) -> Controller:
    """The SMTP server; ``on_stored(inbox_id)`` is called after each 250 (tests wake intake)."""
    # aiosmtpd logs every SMTP command at INFO; at our volume that is most of the listener's CPU.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    cfg = app.config.smtp
    return Listener(
        Doorman(app, on_stored), protocol=cfg.protocol, hostname=cfg.host, port=cfg.port,
        # A fixed name: no DNS look-up per connection.
        server_hostname=app.config.bot.domain, ident="mailbot",
        data_size_limit=cfg.max_message_size, enable_SMTPUTF8=True, decode_data=False,
        timeout=cfg.idle_timeout, tls_context=tls_context(cfg),
    )


def tls_context(cfg) -> ssl.SSLContext | None:
    """STARTTLS for a listener that faces the internet. Offered, never required: a public MX
    must take mail in clear text too (RFC 3207 §4)."""
    if not cfg.cert_file:
        return None
    private_files.read(cfg.key_file, "[smtp] key_file")  # refused if others can read it
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cfg.cert_file, cfg.key_file)
    return context
