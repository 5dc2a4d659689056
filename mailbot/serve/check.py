"""``mailbot check``: is this installation working? One line per check, exit 1 if one failed.

Checks the database (opened read-only, never created; schema migrations applied), the way out
(the relay takes a connection opened as delivery opens it, TLS and AUTH included, and answers
NOOP; or the Maildir is writable) and ``serve`` (the pid in ``serve.pid`` runs and its processing
side touched the file recently, see ``pidfile``). Behind Postfix it also asks ``postfix-map``
for the bot's own address, and reads Postfix's settings with ``postconf``: a bot domain that is
also in ``mydestination`` (Postfix then takes it as a local domain and every token address is
refused, silently for mailbot), a ``message_size_limit`` above ``[smtp] max_message_size`` (mail
in between would be refused after Postfix's queue: a bounce) and a ``relay_recipient_maps``
that does not ask the map are warnings (``WARN``: reported, exit code unchanged). A check that
does not apply here says ``skipped``. It also says whether orders by mail are on (they need a
trusted MTA, ``[inbound] authserv_id``). For a monitoring probe or a person after a deploy; it
changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

from . import pidfile
from .socketmap import netstring
from .. import private_files
from ..outbound.transport import TemporaryError, open_transport
from ..store import datadir
from ..store.db import migrations, open_store, where


OK, FAIL, WARN, SKIPPED = "ok", "FAIL", "WARN", "skipped"


def run(config, out) -> int:
    failed = 0
    for name, check in (("database", _database), ("relay", _relay), ("serve", _serve),
                        ("postfix-map", _postfix_map), ("postfix", _postfix),
                        ("orders by mail", _orders_by_mail)):
        try:
            status, detail = check(config)
        except Exception as exc:  # a check that breaks is a failed check, named
            status, detail = False, f"{type(exc).__name__}: {exc}"
        if isinstance(status, bool):
            status = OK if status else FAIL
        print(f"{name}: {status}: {detail}", file=out)
        failed += status == FAIL
    return 1 if failed else 0


def _database(config) -> tuple[bool, str]:
    try:
        db = open_store(config.storage, readonly=True)
    except datadir.StorageError as exc:
        return False, str(exc)
    try:
        pending = [m.name for m in migrations.pending(db)]
    finally:
        db.close()
    if pending:
        return False, (f"{where(config.storage)}: migrations not applied: "
                       f"{', '.join(pending)} (start serve once)")
    return True, f"{where(config.storage)}, schema current"


def _relay(config) -> tuple[bool, str]:
    relay = config.relay
    if relay.transport == "smtp":
        where = f"{relay.host}:{relay.port}"
        try:
            with open_transport(config) as transport:
                reply = transport.noop()
        except (TemporaryError, OSError, private_files.UnprotectedFile) as exc:
            return False, str(exc)
        return True, f"relay {where} answers NOOP: {reply}"
    if config.dkim.key_file:
        try:
            private_files.read(config.dkim.key_file, "[dkim] key_file")
        except (OSError, private_files.UnprotectedFile) as exc:
            return False, str(exc)
    folder = Path(relay.maildir)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        return False, f"Maildir {folder}: {existing} is not writable"
    return True, f"Maildir {folder} writable"


def _serve(config) -> tuple[bool, str]:
    return pidfile.status(config)


def _orders_by_mail(config) -> tuple[bool, str]:
    # Off is a working setting, not a failure: without a trusted MTA no sender can be verified.
    if not config.inbound.authserv_id:
        return True, ("off: [inbound] authserv_id is empty, so confirmations to intake "
                      "addresses are held")
    return True, ("on: senders checked by the Authentication-Results of "
                  f"{config.inbound.authserv_id}")


def _postfix_map(config) -> tuple[str, str]:
    """Asks the map for the bot's own address, as Postfix does at RCPT."""
    where = config.postfix.socketmap
    host, _, port = where.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as sock:
            sock.sendall(netstring(f"recipients {config.bot.sender}"))
            reply = b""
            while not reply.endswith(b",") and len(reply) < 1000:
                if not (chunk := sock.recv(1000)):
                    break
                reply += chunk
    except (OSError, ValueError) as exc:
        if config.smtp.protocol != "lmtp":
            return SKIPPED, f"nothing answers at {where} (needed behind Postfix only)"
        return FAIL, (f"nothing answers at {where} ({exc}): Postfix cannot check recipients; "
                      "start `mailbot postfix-map`")
    answer = reply.partition(b":")[2][:-1].decode(errors="replace")
    if not answer.startswith("OK"):
        return FAIL, f"{where} answered {answer!r} for {config.bot.sender}"
    return OK, f"{where} answers {answer!r} for {config.bot.sender}"


def _postfix(config) -> tuple[str, str]:
    """Postfix's settings that silently break mailbot behind it (``postconf -xh``)."""
    postconf = shutil.which("postconf", path=os.environ.get("PATH", "") + ":/usr/sbin")
    if postconf is None:
        return SKIPPED, "postconf not found (no Postfix on this host)"
    names = ("mydestination", "message_size_limit", "relay_recipient_maps")
    done = subprocess.run([postconf, "-xh", *names], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        return FAIL, f"postconf failed: {done.stderr.strip()[:200]}"
    values = dict(zip(names, done.stdout.splitlines()))
    domain, warnings = config.bot.domain.lower(), []
    if domain in re.split(r"[\s,]+", values.get("mydestination", "").lower()):
        warnings.append(f"{domain} is in Postfix's mydestination: Postfix takes it as a local "
                        "domain and refuses every token address; list it in relay_domains "
                        "instead (README: Running behind Postfix)")
    size = values.get("message_size_limit", "0")
    if size.isdigit() and int(size) > config.smtp.max_message_size:
        warnings.append(f"Postfix's message_size_limit {size} is above [smtp] max_message_size "
                        f"{config.smtp.max_message_size}: mail in between is refused after "
                        "Postfix queued it, and bounced")
    if (config.smtp.protocol == "lmtp"
            and f"socketmap:inet:{config.postfix.socketmap}:" not in
            values.get("relay_recipient_maps", "")):
        warnings.append(f"relay_recipient_maps does not ask socketmap:inet:"
                        f"{config.postfix.socketmap}:recipients: forged token addresses get "
                        "past Postfix")
    if warnings:
        return WARN, "; ".join(warnings)
    return OK, (f"{domain} not in mydestination, message_size_limit {size} within "
                f"max_message_size")
