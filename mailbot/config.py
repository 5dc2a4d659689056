"""Configuration: frozen dataclasses whose defaults are the embedded defaults of SPEC §9.

A TOML file (``--config PATH`` or ``MAILBOT_CONFIG``) is layered over the defaults section by
section; an unknown section or key, and a value that cannot work (a port outside 1-65535, an
operator "address" that is not one, a negative size), is refused in one line so that a typo never
silently falls back to a default or fails later. All data lives under one directory,
``[storage] root``: relative paths of the database, the attachments and the Maildir resolve against
it, and a relative root against the config file's folder (without a file: the working directory).
``load`` returns the config with those paths made absolute. ``config.example.toml`` documents
exactly these keys (a test keeps the two in step).

Releases before ``root`` read those paths against the working directory (default
``var/mailbot.db``). A file without ``root`` whose database is found only where such a release kept
it is refused in one line naming both places and the ``root`` that keeps the data: starting on a
new, empty database would lose every case and make every address already sent a forged token.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from . import addresses, private_files
from .core.model import LOCALES


class ConfigError(ValueError):
    """The configuration file cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Bot:
    domain: str = "mailbot.localhost"
    address_prefix: str = "bot"
    from_address: str = ""  # empty: {address_prefix}@{domain}
    name: str = "Buyer protection"
    timezone: str = "Europe/Amsterdam"
    # Shown in mails only when set: an empty link is left out, so no placeholder reaches a buyer.
    upgrade_url: str = ""
    brand: str = ""  # the company behind the service, atop every mail
    help_url: str = ""  # the help centre, linked at the foot of every mail
    legal_footer: str = ""  # company name, address, registration, at the foot of every mail

    @property
    def sender(self) -> str:
        return self.from_address or f"{self.address_prefix}@{self.domain}"


@dataclass(frozen=True)
class Smtp:
    host: str = "127.0.0.1"
    port: int = 8025
    max_message_size: int = 10 * 1024 * 1024
    protocol: str = "smtp"  # "lmtp" behind an MTA's lmtp: transport (RFC 2033)
    max_connections: int = 50
    # SMTP only (in LMTP every connection comes from the MTA in front): one address cannot take
    # all the connections; Postfix's smtpd_client_connection_count_limit does the same.
    max_connections_per_client: int = 10
    # Seconds a session may go without delivering a mail (RFC 5321 §4.5.3.2.7: 5 minutes);
    # NOOP, RSET, EHLO do not extend it.
    idle_timeout: int = 300
    max_recipients: int = 20
    # Mail with no token address (only the bare bot address): smaller, a few per hour from one
    # envelope sender, and a ceiling for all of them together (the disk stays bounded).
    anonymous_max_size: int = 1024 * 1024
    anonymous_per_hour: int = 20
    anonymous_total_per_hour: int = 1000
    # STARTTLS (RFC 3207) for an internet-facing listener: PEM certificate chain and its key.
    cert_file: str = ""
    key_file: str = ""


@dataclass(frozen=True)
class Relay:
    transport: str = "maildir"
    maildir: str = "sent"
    host: str = "127.0.0.1"
    port: int = 25
    retry_hours: int = 48
    starttls: bool = False
    tls: bool = False  # implicit TLS (RFC 8314), usually port 465
    username: str = ""
    password_file: str = ""
    # CA bundle (PEM) the relay's certificate is checked against; empty: the system's CAs.
    ca_file: str = ""
    verify: bool = True  # false: TLS without checking the certificate (a lab relay only)


@dataclass(frozen=True)
class Dkim:
    selector: str = ""  # empty: no signing
    key_file: str = ""


@dataclass(frozen=True)
class Inbound:
    authserv_id: str = ""  # empty: Authentication-Results are not read


@dataclass(frozen=True)
class Postfix:
    socketmap: str = "127.0.0.1:8026"  # where `mailbot postfix-map` listens


@dataclass(frozen=True)
class Storage:
    # Empty or "sqlite:": the embedded SQLite file below; "postgresql://…": a shared server.
    url: str = ""
    root: str = "var"
    database: str = "mailbot.db"
    attachments: str = "attachments"
    # Default of `mailbot purge`: personal data of protections and cases closed this long ago.
    retention_days: int = 730


@dataclass(frozen=True)
class Operators:
    addresses: tuple[str, ...] = ("operators@mailbot.localhost",)
    locale: str = "nl"
    digest_time: str = "08:00"
    # Beyond SPEC §9: the team's own promise. An escalated case's parties are told they hear from
    # the team (its decision, or a request for documents) within this many calendar days, and
    # the digest marks a case the team has kept longer. 0: no date is promised.
    decision_days: int = 0


@dataclass(frozen=True)
class Limits:
    """Loop and abuse guards. They cap what the bot sends, never what a verified party does."""

    answers_per_address_per_hour: int = 3
    confirmations_per_order_per_hour: int = 3
    relays_per_order_per_hour: int = 10  # a party's words passed on (outbound/budget.py)
    storage_per_order_mb: int = 50  # inbound mail kept per order (inbound/intake.py)


@dataclass(frozen=True)
class Cover:
    """The most ``decide compensated`` pays per order of each plan, in whole units of the order's
    currency; 0: no cap but the order's amount."""

    basic: int = 0
    plus: int = 0
    single: int = 0

    def of(self, plan: str) -> Decimal | None:
        cap = getattr(self, str(plan))
        return Decimal(cap) if cap else None


@dataclass(frozen=True)
class Processing:
    # Intake worker processes of `serve`: one takes party mail only, one strangers and robots
    # first, then party mail; more take party mail only (serve/pool.py).
    workers: int = 2
    # Seconds one mail of each lane may take before its worker is killed (the try counts).
    party_seconds: int = 60
    stranger_seconds: int = 5
    robot_seconds: int = 5


@dataclass(frozen=True)
class Log:
    level: str = "INFO"
    format: str = "text"
    file: str = ""  # empty: serve to stderr, other commands' changes to syslog (mailbot/logs.py)


@dataclass(frozen=True)
class Config:
    bot: Bot = field(default_factory=Bot)
    smtp: Smtp = field(default_factory=Smtp)
    relay: Relay = field(default_factory=Relay)
    storage: Storage = field(default_factory=Storage)
    operators: Operators = field(default_factory=Operators)
    limits: Limits = field(default_factory=Limits)
    log: Log = field(default_factory=Log)
    processing: Processing = field(default_factory=Processing)
    cover: Cover = field(default_factory=Cover)
    dkim: Dkim = field(default_factory=Dkim)
    inbound: Inbound = field(default_factory=Inbound)
    postfix: Postfix = field(default_factory=Postfix)


def load(path: str | os.PathLike | None = None) -> Config:
    """Build the config from ``path``, else ``$MAILBOT_CONFIG``, else the embedded defaults."""
    path = path or os.environ.get("MAILBOT_CONFIG")
    if not path:
        return from_dict({})
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    config = from_dict(data, base=Path(path).resolve().parent)
    _refuse_earlier_layout(path, data.get("storage", {}), config, Path.cwd())
    return config


# Where releases before ``[storage] root`` kept the database when the file did not say.
EARLIER_DATABASE = "var/mailbot.db"


def _refuse_earlier_layout(path, storage: dict, config: Config, cwd: Path) -> None:
    """``ConfigError`` when the database is missing where this config puts it but present where
    an earlier release, reading the same file from the working directory, kept it."""
    if not isinstance(storage, dict) or "root" in storage:
        return
    earlier = (cwd / storage.get("database", EARLIER_DATABASE)).absolute()
    now = Path(config.storage.database)
    if earlier == now or now.exists() or not earlier.is_file():
        return
    raise ConfigError(
        f"no database at {now}, but an earlier release's is at {earlier} (it read {path}'s "
        f"paths from the working directory): add root = \"{cwd.absolute()}\" to [storage] "
        f"to keep using it, or move the database, attachments and maildir to "
        f"{config.storage.root}")


def from_dict(data: dict, base: Path | None = None) -> Config:
    """The config of ``data`` over the defaults, its paths resolved against ``[storage] root``
    (a relative root against ``base``, by default the working directory)."""
    data = dict(data)
    sections = {}
    for f in dataclasses.fields(Config):
        sections[f.name] = _section(f.name, f.default_factory(), data.pop(f.name, {}))
    if data:
        raise ConfigError(f"unknown config section(s): {', '.join(sorted(data))}")
    config = Config(**sections)
    _validate(config)
    return _resolve(config, base or Path.cwd())


def _resolve(config: Config, base: Path) -> Config:
    root = (base / config.storage.root).absolute()
    storage = dataclasses.replace(config.storage, root=str(root),
                                  database=str(root / config.storage.database),
                                  attachments=str(root / config.storage.attachments))
    relay = dataclasses.replace(config.relay, maildir=str(root / config.relay.maildir))
    log = dataclasses.replace(config.log, file=str(root / config.log.file)) \
        if config.log.file else config.log
    return dataclasses.replace(config, storage=storage, relay=relay, log=log)


def _section(name: str, default, values: dict):
    if not isinstance(values, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in dataclasses.fields(default)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
    changes = {}
    for key, value in values.items():
        want = type(getattr(default, key))
        if want is tuple:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"[{name}] {key} must be a list of strings")
            value = tuple(value)
        elif not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise ConfigError(f"[{name}] {key} must be {want.__name__}")
        changes[key] = value
    return dataclasses.replace(default, **changes)


def _validate(config: Config) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(config.bot.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[bot] timezone: unknown time zone {config.bot.timezone!r}") from None
    for key in ("upgrade_url", "help_url"):
        url = getattr(config.bot, key)
        if url and not url.startswith("https://"):
            raise ConfigError(f"[bot] {key} must be an https:// address or empty")
    if config.relay.transport not in ("maildir", "smtp"):
        raise ConfigError('[relay] transport must be "maildir" or "smtp"')
    if config.smtp.protocol not in ("smtp", "lmtp"):
        raise ConfigError('[smtp] protocol must be "smtp" or "lmtp"')
    if config.relay.starttls and config.relay.tls:
        raise ConfigError("[relay] starttls and tls exclude each other")
    if config.relay.username and not config.relay.password_file:
        raise ConfigError("[relay] username needs password_file")
    for what, path in (("[relay] password_file", config.relay.password_file),
                       ("[dkim] key_file", config.dkim.key_file),
                       ("[smtp] key_file", config.smtp.key_file)):
        if not path:
            continue
        try:  # refused at start, in one line, rather than at every delivery run
            private_files.check(path, what)
        except private_files.UnprotectedFile as exc:
            raise ConfigError(str(exc)) from None
    if bool(config.smtp.cert_file) != bool(config.smtp.key_file):
        raise ConfigError("[smtp] cert_file and key_file go together")
    if config.relay.starttls and config.relay.port == 465:
        # RFC 8314 §7.3: 465 speaks TLS from the first byte; STARTTLS there waits for a greeting
        # that never comes.
        raise ConfigError("[relay] port 465 is implicit TLS: set tls = true, not starttls")
    if bool(config.dkim.selector) != bool(config.dkim.key_file):
        raise ConfigError("[dkim] selector and key_file go together")
    if config.operators.locale not in LOCALES:
        raise ConfigError("[operators] locale must be nl, fr or it")
    hh, _, mm = config.operators.digest_time.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ConfigError("[operators] digest_time must be HH:MM")
    if config.log.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("[log] level must be DEBUG, INFO, WARNING or ERROR")
    if config.log.format not in ("text", "json"):
        raise ConfigError('[log] format must be "text" or "json"')
    for section in dataclasses.fields(config):
        values = getattr(config, section.name)
        for f in dataclasses.fields(values):
            value = getattr(values, f.name)
            if isinstance(value, int) and value < 0:
                raise ConfigError(f"[{section.name}] {f.name} must not be negative: {value}")
    for name, port in (("smtp", config.smtp.port), ("relay", config.relay.port)):
        if not 1 <= port <= 65535:
            raise ConfigError(f"[{name}] port must be 1-65535, not {port}")
    if config.smtp.idle_timeout < 10:
        raise ConfigError("[smtp] idle_timeout must be at least 10 seconds")
    if config.smtp.max_message_size < 1024:
        raise ConfigError("[smtp] max_message_size must be at least 1024 bytes")
    if config.relay.retry_hours < 1:
        raise ConfigError("[relay] retry_hours must be at least 1")
    if config.storage.retention_days < 1:
        raise ConfigError("[storage] retention_days must be at least 1")
    for key in ("workers", "party_seconds", "stranger_seconds", "robot_seconds"):
        if getattr(config.processing, key) < 1:
            raise ConfigError(f"[processing] {key} must be at least 1")
    if config.storage.url.split(":", 1)[0] not in ("", "sqlite", "postgresql", "postgres"):
        raise ConfigError("[storage] url must be empty, sqlite: or postgresql://…")
    for key in ("root", "database", "attachments"):
        if not getattr(config.storage, key).strip():
            raise ConfigError(f"[storage] {key} must not be empty")
    if not config.relay.maildir.strip():
        raise ConfigError("[relay] maildir must not be empty")
    if not addresses.valid(f"{config.bot.address_prefix}@{config.bot.domain}"):
        what = "domain" if not config.bot.domain.strip() or "." not in config.bot.domain \
            else "address_prefix"
        raise ConfigError(f"[bot] {what} does not make a valid address: "
                          f"{config.bot.address_prefix!r}@{config.bot.domain!r}")
    if "+" in config.bot.address_prefix:
        raise ConfigError("[bot] address_prefix must not contain '+' (it separates the token)")
    if config.bot.from_address and not addresses.valid(config.bot.from_address):
        raise ConfigError(f"[bot] from_address is not an email address: "
                          f"{config.bot.from_address!r}")
    if not config.operators.addresses:
        raise ConfigError("[operators] addresses must name at least one address")
    for address in config.operators.addresses:
        if not addresses.valid(address):
            raise ConfigError(f"[operators] addresses: not an email address: {address!r}")
