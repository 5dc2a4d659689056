"""Configuration: frozen dataclasses whose defaults are the embedded defaults of SPEC §9.

A TOML file (``--config PATH`` or ``MAILBOT_CONFIG``) is layered over the defaults section by
section; an unknown section or key is refused so that a typo never silently falls back to a
default. ``config.example.toml`` documents exactly these keys (a test keeps the two in step).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """The configuration file cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Bot:
    domain: str = "mailbot.localhost"
    address_prefix: str = "bot"
    from_address: str = ""  # empty: {address_prefix}@{domain}
    name: str = "Buyer protection"
    timezone: str = "Europe/Amsterdam"
    upgrade_url: str = "https://mailbot.localhost/plus"

    @property
    def sender(self) -> str:
        return self.from_address or f"{self.address_prefix}@{self.domain}"


@dataclass(frozen=True)
class Smtp:
    host: str = "127.0.0.1"
    port: int = 8025
    max_message_size: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class Relay:
    transport: str = "maildir"
    maildir: str = "var/sent"
    host: str = "127.0.0.1"
    port: int = 25
    retry_hours: int = 48


@dataclass(frozen=True)
class Storage:
    database: str = "var/mailbot.db"
    attachments: str = "var/attachments"


@dataclass(frozen=True)
class Operators:
    addresses: tuple[str, ...] = ("operators@mailbot.localhost",)
    locale: str = "nl"
    digest_time: str = "08:00"


@dataclass(frozen=True)
class Limits:
    """Loop and abuse guards. They cap what the bot sends, never what a verified party does."""

    answers_per_address_per_hour: int = 3
    confirmations_per_order_per_hour: int = 3


@dataclass(frozen=True)
class Log:
    level: str = "INFO"
    format: str = "text"


@dataclass(frozen=True)
class Config:
    bot: Bot = field(default_factory=Bot)
    smtp: Smtp = field(default_factory=Smtp)
    relay: Relay = field(default_factory=Relay)
    storage: Storage = field(default_factory=Storage)
    operators: Operators = field(default_factory=Operators)
    limits: Limits = field(default_factory=Limits)
    log: Log = field(default_factory=Log)


def load(path: str | os.PathLike | None = None) -> Config:
    """Build the config from ``path``, else ``$MAILBOT_CONFIG``, else the embedded defaults."""
    path = path or os.environ.get("MAILBOT_CONFIG")
    if not path:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    return from_dict(data)


def from_dict(data: dict) -> Config:
    sections = {}
    for f in dataclasses.fields(Config):
        sections[f.name] = _section(f.name, f.default_factory(), data.pop(f.name, {}))
    if data:
        raise ConfigError(f"unknown config section(s): {', '.join(sorted(data))}")
    config = Config(**sections)
    _validate(config)
    return config


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
    if config.relay.transport not in ("maildir", "smtp"):
        raise ConfigError('[relay] transport must be "maildir" or "smtp"')
    if config.operators.locale not in ("nl", "fr", "it"):
        raise ConfigError("[operators] locale must be nl, fr or it")
    hh, _, mm = config.operators.digest_time.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ConfigError("[operators] digest_time must be HH:MM")
    if config.log.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("[log] level must be DEBUG, INFO, WARNING or ERROR")
    if config.log.format not in ("text", "json"):
        raise ConfigError('[log] format must be "text" or "json"')
    if config.bot.from_address and "@" not in config.bot.from_address:
        raise ConfigError("[bot] from_address must be an email address")
