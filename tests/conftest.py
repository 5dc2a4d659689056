"""Shared fixtures: a real app on a temporary SQLite file (or, with ``--store postgresql``, a fresh
database on a real PostgreSQL server the session starts), a real SMTP listener on loopback, the
Maildir it delivers to, and helpers that click links and reply the way a mail client would."""

from __future__ import annotations

import email
import email.policy
import itertools
import smtplib
import socket
import time
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

SMTP_POLICY = email.policy.SMTP
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from mailbot import config as config_mod
from mailbot import imports, jobs, wiring
from mailbot.serve.worker import IntakeWorker
from mailbot.inbound.smtp import listener

MERCHANTS = """id,name,emails,locale
shop-nl,Fietsen BV,info@fietsen.example;sales@fietsen.example,nl
shop-fr,Boutique Rive,contact@rive.example,fr
shop-it,Negozio Sole,ordini@sole.example,it
"""
# Ordered 23 days ago: the reminders are due today, and intake runs on the real clock.
ORDER_DATE = (date.today() - timedelta(days=23)).isoformat()
ORDERS = f"""shop_id,order_number,order_date,amount,currency,buyer_email,buyer_locale,plan
shop-nl,NL-1,{ORDER_DATE},49.95,EUR,jan@buyer.example,nl,plus
shop-fr,FR-1,{ORDER_DATE},120.00,EUR,marie@buyer.example,fr,basic
shop-it,IT-1,{ORDER_DATE},80.00,EUR,luca@buyer.example,it,single
"""
OPERATOR = "team@service.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_addoption(parser):
    parser.addoption("--store", default="sqlite", choices=("sqlite", "postgresql"),
                     help="the store every app of the tests runs on (tests that are about the "
                          "SQLite file itself are marked sqlite_only and skipped on postgresql)")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about the SQLite file itself")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--store") == "postgresql":
        skip = pytest.mark.skip(reason="about the SQLite file itself")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


class PostgresServer:
    """A real PostgreSQL server for the session (``pgserver``: no system installation, works as
    root), one fresh database per app."""

    def __init__(self, folder: Path):
        import pgserver
        self.server = pgserver.get_server(str(folder), cleanup_mode="stop")
        self.socket_dir = str(folder)
        self._names = itertools.count(1)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@/{name}?host={self.socket_dir}"

    def fresh(self) -> str:
        import psycopg
        name = f"mailbot_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self):
        self.server.cleanup()


_STORE: dict = {"kind": "sqlite", "server": None}


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    server = PostgresServer(tmp_path_factory.mktemp("pg"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def store(request):
    """Which store ``make_config`` gives an app: ``--store`` (SQLite by default)."""
    kind = request.config.getoption("--store")
    _STORE["kind"] = kind
    _STORE["server"] = request.getfixturevalue("postgres") if kind == "postgresql" else None
    yield kind


def make_config(tmp_path: Path, **sections) -> config_mod.Config:
    data = {
        "bot": {"domain": "bot.example", "timezone": "Europe/Amsterdam"},
        "smtp": {"host": "127.0.0.1", "port": free_port(), "max_message_size": 200_000},
        "relay": {"transport": "maildir", "maildir": str(tmp_path / "sent")},
        "storage": {"database": str(tmp_path / "mailbot.db"),
                    "attachments": str(tmp_path / "attachments")},
        "operators": {"addresses": [OPERATOR], "locale": "nl", "digest_time": "08:00"},
    }
    if _STORE["server"] is not None and "url" not in sections.get("storage", {}):
        data["storage"]["url"] = _STORE["server"].fresh()
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return config_mod.from_dict(data)


def config_file(app, tmp_path: Path) -> Path:
    """The app's settings as a TOML file, for the ``mailbot`` command in tests."""
    cfg = app.config
    path = tmp_path / "mailbot.toml"
    path.write_text(f"""
[bot]
domain = "{cfg.bot.domain}"
[relay]
maildir = "{cfg.relay.maildir}"
[storage]
url = "{cfg.storage.url}"
database = "{cfg.storage.database}"
attachments = "{cfg.storage.attachments}"
[operators]
addresses = {list(cfg.operators.addresses)!r}
""".replace("'", '"'))
    return path


@pytest.fixture
def app(tmp_path):
    application = wiring.build(make_config(tmp_path))
    (tmp_path / "m.csv").write_text(MERCHANTS)
    (tmp_path / "o.csv").write_text(ORDERS)
    imports.import_merchants(application.db(), str(tmp_path / "m.csv"))
    imports.import_orders(application.db(), str(tmp_path / "o.csv"), application.tz)
    yield application
    application.close()


class Mailbox:
    """The bot's SMTP listener plus its Maildir, driven like a person's mail client would."""

    def __init__(self, app):
        self.app = app
        self.worker = IntakeWorker(app, lambda: None)
        self.server = listener(app, self.worker.wake)
        self.seen: set[str] = set()

    def start(self):
        self.worker.start()
        self.server.start()

    def stop(self):
        self.server.stop()
        self.worker.stop()

    # -- sending ------------------------------------------------------------------------------
    def send(self, message: EmailMessage | bytes, mail_from: str, rcpt: list[str]) -> None:
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=SMTP_POLICY)
        before = self._count()
        with smtplib.SMTP(self.app.config.smtp.host, self.app.config.smtp.port) as smtp:
            smtp.sendmail(mail_from, rcpt, raw)
        self.wait_processed(before + 1)

    def _count(self) -> int:
        return self.app.db().execute("SELECT count(*) FROM inbox").fetchone()[0]

    def wait_processed(self, count: int, timeout: float = 15) -> None:
        """Waits for the intake worker (asynchronous by design) to finish processing."""
        deadline = time.monotonic() + timeout
        db = self.app.db()
        while time.monotonic() < deadline:
            done = db.execute("SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL"
                              ).fetchone()[0]
            if done >= count:
                return
            time.sleep(0.02)
        raise AssertionError("intake did not process the message in time")

    def last_disposition(self) -> str:
        return self.app.db().execute(
            "SELECT disposition FROM inbox ORDER BY id DESC LIMIT 1").fetchone()[0]

    # -- reading ------------------------------------------------------------------------------
    def deliver(self) -> list[EmailMessage]:
        """Runs delivery and returns the mails that arrived since the last call."""
        jobs.deliver(self.app, datetime.now(timezone.utc))
        return self.new_mail()

    def new_mail(self) -> list[EmailMessage]:
        folder = Path(self.app.config.relay.maildir) / "new"
        fresh = []
        for path in sorted(folder.glob("*"), key=lambda p: p.stat().st_mtime_ns) \
                if folder.exists() else []:
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            fresh.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        return fresh


def to(mails, address):
    return [m for m in mails if address in m["To"]]


def only(mails, address) -> EmailMessage:
    found = to(mails, address)
    assert len(found) == 1, f"expected one mail to {address}, got {[m['Subject'] for m in found]}"
    return found[0]


def html(msg: EmailMessage) -> str:
    return msg.get_body(("html",)).get_content()


def text(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def actions(msg: EmailMessage) -> dict[str, str]:
    soup = BeautifulSoup(html(msg), "html.parser")
    return {a["data-action"]: a["href"] for a in soup.find_all("a", attrs={"data-action": True})}


def click(box: Mailbox, msg: EmailMessage, action: str, sender: str, body: str | None = None,
          attachments=()) -> None:
    """What a mail client does with a mailto link: a new mail to that address, prefilled."""
    href = actions(msg)[action]
    parts = urlsplit(href)
    query = parse_qs(parts.query)
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = unquote(parts.path)
    reply["Subject"] = query.get("subject", [""])[0]
    reply["Message-ID"] = email.utils.make_msgid(domain="client.example")
    reply.set_content(body if body is not None else query.get("body", [""])[0])
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        reply.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    box.send(reply, sender, [unquote(parts.path)])


def reply(box: Mailbox, msg: EmailMessage, sender: str, body: str, quote: bool = True,
          to_address: str | None = None) -> None:
    """A plain reply: to the Reply-To, quoting the original under a quote header."""
    answer = EmailMessage()
    answer["From"] = sender
    answer["To"] = to_address or msg["Reply-To"]
    answer["Subject"] = "Re: " + msg["Subject"]
    answer["In-Reply-To"] = msg["Message-ID"]
    answer["References"] = msg["Message-ID"]
    answer["Message-ID"] = email.utils.make_msgid(domain="client.example")
    quoted = "\n".join("> " + line for line in text(msg).splitlines())
    answer.set_content(body + ("\n\nOn Tue, 24 Mar 2026 at 09:00, Bot wrote:\n" + quoted
                               if quote else ""))
    box.send(answer, sender, [answer["To"]])


@pytest.fixture
def box(app):
    mailbox = Mailbox(app)
    mailbox.start()
    yield mailbox
    mailbox.stop()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
