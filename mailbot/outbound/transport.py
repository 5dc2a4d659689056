"""Handing finished mail to the world: a Maildir (the default) or an SMTP relay.

Both take the exact bytes stored in the outbox plus the envelope: the recipients and, per
recipient, a VERP return path (``return_path(index)``), so that a bounce names the one address
that failed. The bytes are DKIM-signed here when ``[dkim]`` is set. The SMTP transport keeps one
connection open for a whole delivery run, speaks STARTTLS or implicit TLS and AUTH when the relay
wants them, checking the relay's certificate against ``[relay] ca_file`` (or the system's CAs).
A relay that sends no greeting within ``GREETING_SECONDS`` is named in one line (most often
STARTTLS set against an implicit-TLS port) rather than waited for until the 30 s timeout. Errors
are sorted into permanent (5xx: dead for that recipient) and temporary (anything else: retried);
``send_verp`` says what became of each recipient, so that a recipient refused for now is tried
again later without the mail going twice to one who took it.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .. import private_files

if TYPE_CHECKING:
    from .dkim import Signer as DkimSigner

# RFC 5321 §4.5.3.2.1 lets a client wait 5 minutes for the greeting, but a relay that is up
# greets at once; silence means it waits for us, as an implicit-TLS port waits for a ClientHello.
GREETING_SECONDS = 10


class PermanentError(Exception):
    """The relay refused the mail for good (SMTP 5xx)."""


class TemporaryError(Exception):
    """Worth another try later (4xx, connection refused or dropped)."""


class RelayUnavailable(TemporaryError):
    """The relay cannot be reached, refused our login or dropped the connection: no recipient
    can be tried now."""


class Transport:
    dkim: DkimSigner | None = None
    last_reply = ""  # after send: what the receiving side said (logged with delivery.sent)

    def send_verp(self, return_path: Callable[[int], str], recipients: list[tuple[int, str]],
                  raw: bytes) -> dict[int, Exception | None]:
        """One SMTP transaction per recipient (its index in the mail's recipients, and its
        address), each with its own return path. Returns what became of each: None when the
        relay took the mail, else the ``PermanentError`` or ``TemporaryError``. Once the relay
        is unavailable the recipients not tried yet get that error too."""
        if self.dkim is not None:
            raw = self.dkim.sign(raw)
        results: dict[int, Exception | None] = {}
        for index, recipient in recipients:
            try:
                self.send(return_path(index), [recipient], raw)
                results[index] = None
            except RelayUnavailable as exc:
                results.update({i: exc for i, _ in recipients if i not in results})
                break
            except (PermanentError, TemporaryError) as exc:
                results[index] = exc
        return results


class MaildirTransport(Transport):
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

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> None:
        # A delivery agent records the envelope sender as Return-Path (RFC 5322 §3.6.7).
        message = mailbox.MaildirMessage(b"Return-Path: <" + envelope_from.encode() + b">\r\n" + raw)
        try:
            self.last_reply = f"stored as {self._box.add(message)}"
        except OSError as exc:
            raise TemporaryError(str(exc)) from exc

    def send_verp(self, return_path, recipients, raw) -> dict[int, Exception | None]:
        # A Maildir is a sink, not a delivery: one copy of the mail, as the first recipient's.
        if self.dkim is not None:
            raw = self.dkim.sign(raw)
        try:
            self.send(return_path(recipients[0][0]), [a for _, a in recipients], raw)
        except TemporaryError as exc:
            return {index: exc for index, _ in recipients}
        return {index: None for index, _ in recipients}


class _KeepsDataReply:
    """Keeps the relay's answer to DATA, which names its queue id (``250 2.0.0 Ok: queued as
    4F3A2B``); ``sendmail`` drops it."""
    data_reply = b""

    def data(self, msg):
        code, self.data_reply = super().data(msg)
        return code, self.data_reply


class _SMTP(_KeepsDataReply, smtplib.SMTP):
    pass


class _SMTP_SSL(_KeepsDataReply, smtplib.SMTP_SSL):
    pass


class SmtpTransport(Transport):
    def __init__(self, host: str, port: int, local_hostname: str, timeout: float = 30, *,
                 starttls: bool = False, tls: bool = False, username: str = "",
                 password: str = "",
                 make_tls_context: Callable[[], ssl.SSLContext] = ssl.create_default_context,
                 greeting_timeout: float = GREETING_SECONDS):
        self.host, self.port, self.local_hostname, self.timeout = host, port, local_hostname, timeout
        self.greeting_timeout = min(greeting_timeout, timeout)
        self.starttls, self.tls, self.username, self.password = starttls, tls, username, password
        # Made when a connection is opened, not with the transport: loading the CA bundle costs
        # ~25 ms of CPU, and a transport is made for every delivery run (every 2 s, and after
        # each intake that queued mail), most of which send nothing or go to a plain relay.
        self.make_tls_context = make_tls_context
        self._smtp: smtplib.SMTP | None = None
        self._refused_auth: TemporaryError | None = None  # once per run, not once per mail

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
        if self._refused_auth is not None:
            raise self._refused_auth
        if self._smtp is None:
            context = None
            if self.tls or self.starttls:
                try:
                    context = self.make_tls_context()
                except OSError as exc:  # a [relay] ca_file that is missing or no certificate
                    raise RelayUnavailable(f"relay {self.host}:{self.port}: no TLS context: "
                                         f"{exc}") from exc
            try:
                self._smtp = self._open(context)
            except smtplib.SMTPAuthenticationError as exc:
                # A wrong password stays wrong; but the mail is not at fault: retried until
                # the retry period ends, while operators fix the configuration.
                self._refused_auth = RelayUnavailable(f"relay {self.host}:{self.port} refused "
                                                    f"AUTH: {exc.smtp_code} {exc.smtp_error!r}")
                raise self._refused_auth from exc
            except (OSError, smtplib.SMTPException) as exc:
                raise RelayUnavailable(f"relay {self.host}:{self.port} unreachable: "
                                       f"{exc}") from exc
        return self._smtp

    def noop(self) -> str:
        """Connects as a delivery would (TLS, AUTH) and asks NOOP: ``mailbot check``."""
        code, text = self._connection().noop()
        if code != 250:
            raise TemporaryError(f"relay {self.host}:{self.port} answered NOOP with {code} "
                                 f"{text.decode(errors='replace')}")
        return f"{code} {text.decode(errors='replace')}"

    def _open(self, tls_context: ssl.SSLContext | None) -> smtplib.SMTP:
        try:
            if self.tls:
                smtp = _SMTP_SSL(self.host, self.port, local_hostname=self.local_hostname,
                                 timeout=self.greeting_timeout, context=tls_context)
            else:
                smtp = _SMTP(self.host, self.port, local_hostname=self.local_hostname,
                             timeout=self.greeting_timeout)
        except smtplib.SMTPServerDisconnected as exc:
            if not isinstance(exc.__context__, TimeoutError):  # smtplib's name for a timeout
                raise
            hint = "; is it an implicit-TLS port? set tls = true, not starttls" \
                if not self.tls else ""
            raise RelayUnavailable(f"relay {self.host}:{self.port} sent no SMTP greeting in "
                                 f"{self.greeting_timeout:g} s{hint}") from None
        smtp.timeout = self.timeout
        smtp.sock.settimeout(self.timeout)
        try:
            if self.starttls:
                # Required, never opportunistic: a relay that stops offering STARTTLS (or an
                # attacker stripping it) must not get the password or the mail in clear text.
                smtp.starttls(context=tls_context)
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> None:
        """Raises ``PermanentError`` or ``TemporaryError`` unless the relay took the mail
        (``send_verp`` gives it one recipient at a time, so one answer is about one address)."""
        smtp = self._connection()
        # RFC 6531: an address beyond ASCII needs SMTPUTF8; without it the mail cannot go.
        utf8 = not all(a.isascii() for a in [envelope_from, *recipients])
        try:
            if utf8:
                smtp.ehlo_or_helo_if_needed()
                if not smtp.has_extn("smtputf8"):
                    wide = ", ".join(a for a in recipients if not a.isascii())
                    raise PermanentError(f"the relay does not offer SMTPUTF8 (RFC 6531), needed "
                                         f"for {wide}")
            smtp.sendmail(envelope_from, recipients, raw,
                          mail_options=["SMTPUTF8"] if utf8 else [])
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
            said = "; ".join(_reply(*answer) if len(refused) == 1 else f"{address}: {_reply(*answer)}"
                             for address, answer in refused.items())
            self._reset()
            if all(code >= 500 for code, _ in refused.values()):
                raise PermanentError(said) from exc
            raise TemporaryError(said) from exc
        except smtplib.SMTPResponseException as exc:
            self._reset()
            if exc.smtp_code >= 500:
                raise PermanentError(_reply(exc.smtp_code, exc.smtp_error)) from exc
            raise TemporaryError(_reply(exc.smtp_code, exc.smtp_error)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise RelayUnavailable(str(exc)) from exc
        self.last_reply = "250 " + smtp.data_reply.decode(errors="replace")

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


def _reply(code: int, text: bytes | str) -> str:
    """An SMTP reply as the server wrote it ("550 5.1.1 <a@b>: User unknown"): it is stored
    and shown to the operators, and smtplib hands its text over as bytes."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"


def tls_context(relay) -> ssl.SSLContext:
    """How the relay's certificate is checked: against ``ca_file`` (a private CA, as Mailman's
    ``smtp_verify_cert`` and ``smtp_cafile`` allow) or the system's CAs; or, with ``verify =
    false``, not at all (encrypted, but anyone in the middle may answer)."""
    context = ssl.create_default_context(cafile=relay.ca_file or None)
    if not relay.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def open_transport(config):
    relay = config.relay
    if relay.transport == "smtp":
        password = ""
        if relay.password_file:
            text = private_files.read(relay.password_file, "[relay] password_file")
            password = (text.decode("utf-8").splitlines() or [""])[0]
        transport = SmtpTransport(relay.host, relay.port, local_hostname=config.bot.domain,
                                  starttls=relay.starttls, tls=relay.tls,
                                  username=relay.username, password=password,
                                  make_tls_context=partial(tls_context, relay))
    else:
        transport = MaildirTransport(relay.maildir)
    if config.dkim.selector:
        # Imported only when signing: ``cryptography`` is about 10 MB of memory in each process
        # of serve that sends mail.
        from .dkim import Signer as DkimSigner
        transport.dkim = DkimSigner(config.bot.domain, config.dkim.selector, config.dkim.key_file)
    return transport
