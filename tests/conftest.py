"""Shared fixtures: a real app on a temporary SQLite file (or, with ``--store postgresql``, a fresh
database on a real PostgreSQL server the session starts), a real SMTP listener on loopback, the
Maildir it delivers to, and helpers that click links and reply the way a mail client would. Also
the one config writer, the shared corpus, and the marks that split the tests by speed."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import itertools
import json
import shutil
import smtplib
import socket
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

SMTP_POLICY = email.policy.SMTP
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from aiosmtpd.controller import Controller
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
MAILBOT = Path(sys.executable).parent / "mailbot"  # the installed command, as operators run it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- tests by speed -------------------------------------------------------------------------------
# ``pytest -m unit`` runs the pure tests in seconds, ``-m e2e`` the rest. A test is ``unit`` when
# every fixture it uses, directly or through another, is one of these or a parameter: a database,
# a listener, files and processes all come through other fixtures (tmp_path, app, box, serve,
# smtp_sink ...), so a new fixture makes its tests e2e until it is added here. A test that does
# I/O with none of them says so with ``@pytest.mark.e2e``.
# (``store`` is autouse and does its I/O, if any, before the test's body.)
UNIT_FIXTURES = {"request", "corpus", "capsys", "caplog", "monkeypatch", "recwarn", "store"}


def pytest_collection_modifyitems(config, items):
    on_postgresql = config.getoption("--store") == "postgresql"
    for item in items:
        callspec = getattr(item, "callspec", None)  # a parametrized test's own arguments
        params = set(callspec.params) if callspec else set()
        pure = set(item.fixturenames) <= UNIT_FIXTURES | params
        item.add_marker("unit" if pure and not item.get_closest_marker("e2e") else "e2e")
        if on_postgresql and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="about the SQLite file itself"))


# -- the store: SQLite by default, PostgreSQL with --store postgresql ----------------------------

def pytest_addoption(parser):
    parser.addoption("--store", default="sqlite", choices=("sqlite", "postgresql"),
                     help="the store every app of the tests runs on (tests that are about the "
                          "SQLite file itself are marked sqlite_only and skipped on postgresql)")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about the SQLite file itself")


class PostgresServer:
    """A real PostgreSQL server for the session (``pgserver``: no system installation, works as
    root), one fresh database per SQLite file a test would have used: configs that name the same
    file share one database, as they would share the file."""

    def __init__(self):
        import pgserver
        # Not under pytest's basetemp: a second pytest session resets that folder's mode to
        # 0700, and the server runs as pgserver's own user, not root.
        self.folder = Path(tempfile.mkdtemp(prefix="mailbot-pg-"))
        self.server = pgserver.get_server(str(self.folder), cleanup_mode="stop")
        self.socket_dir = str(self.folder)
        self._names = itertools.count(1)
        self._databases: dict[str, str] = {}

    def url(self, name: str) -> str:
        return f"postgresql://postgres@/{name}?host={self.socket_dir}"

    def database_for(self, sqlite_file: str) -> str:
        if sqlite_file not in self._databases:
            self._databases[sqlite_file] = self.fresh()
        return self._databases[sqlite_file]

    def fresh(self) -> str:
        import psycopg
        name = f"mailbot_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self):
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


_STORE: dict = {"server": None}


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def store(request):
    """Which store ``config_data`` gives an app: ``--store`` (SQLite by default)."""
    kind = request.config.getoption("--store")
    _STORE["server"] = request.getfixturevalue("postgres") if kind == "postgresql" else None
    yield kind


class UnitTestDidIO(RuntimeError):
    """A test marked unit reached a socket, a database or a process (it belongs in e2e)."""


# What a unit test must not do, as Python's audit events (PEP 578) name it.
UNIT_FORBIDS = {"socket.bind", "socket.connect", "sqlite3.connect", "subprocess.Popen", "os.fork",
                "os.posix_spawn", "os.system", "os.exec"}
_unit_thread: int | None = None  # the thread running a unit test's body, while it runs


def _forbid_io_in_unit_tests(event: str, args) -> None:
    if event in UNIT_FORBIDS and _unit_thread == threading.get_ident():
        raise UnitTestDidIO(f"{event} in a unit test: give it the fixture it needs (tmp_path, "
                            "app, smtp_sink ...) or mark it e2e")


sys.addaudithook(_forbid_io_in_unit_tests)  # hooks cannot be removed; it checks one integer


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    global _unit_thread
    if item.get_closest_marker("unit"):
        _unit_thread = threading.get_ident()
    try:
        yield
    finally:
        _unit_thread = None


# -- configuration: every test's settings come from here ---------------------------------------

def config_data(tmp_path: Path, **sections) -> dict:
    """The tests' settings: all data under ``tmp_path``, a free loopback port, outbound mail to a
    Maildir, one operator; ``sections`` set single keys over them (``relay={"port": 2525}``)."""
    data = {
        "bot": {"domain": "bot.example", "timezone": "Europe/Amsterdam"},
        "smtp": {"host": "127.0.0.1", "port": free_port(), "max_message_size": 200_000},
        "relay": {"transport": "maildir", "maildir": str(tmp_path / "sent")},
        "storage": {"root": str(tmp_path), "database": str(tmp_path / "mailbot.db"),
                    "attachments": str(tmp_path / "attachments")},
        "operators": {"addresses": [OPERATOR], "locale": "nl", "digest_time": "08:00"},
    }
    data = _over(data, sections)
    if _STORE["server"] is not None and "url" not in sections.get("storage", {}):
        data["storage"]["url"] = _STORE["server"].database_for(data["storage"]["database"])
    return data


def _over(data: dict, sections: dict) -> dict:
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


def make_config(tmp_path: Path, **sections) -> config_mod.Config:
    """The tests' settings (``config_data``) as the app reads them."""
    return config_mod.from_dict(config_data(tmp_path, **sections))


def rendered_samples(folder: Path, keep=lambda sample: True) -> list:
    """[(sample, ctx, locale, Rendered)] for every sample ``keep`` accepts, in each locale,
    rendered as compose renders it, on an app in ``folder`` that is closed again."""
    from mailbot.outbound import samples
    from mailbot.outbound.render import LOCALES
    app = wiring.build(make_config(folder))
    try:
        return [(s, ctx, locale, app.renderer.render(s.name, locale, ctx)) for locale in LOCALES
                for s, ctx in samples.contexts(app, app.db(), locale) if keep(s)]
    finally:
        app.close()


def write_config(tmp_path: Path, config: config_mod.Config | None = None, **sections) -> Path:
    """``tmp_path/mailbot.toml`` for the ``mailbot`` command: the tests' settings, or ``config``
    (a running app's own), with ``sections`` over them. Written as given, not checked, so that a
    test can also hand mailbot a value it must refuse."""
    data = dataclasses.asdict(config) if config else config_data(tmp_path)
    lines = []
    for name, values in _over(data, sections).items():
        lines.append(f"[{name}]")
        # JSON's strings, numbers, booleans and arrays are TOML's too.
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}"
                  for key, value in values.items()]
    path = tmp_path / "mailbot.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# -- the shared corpus: mail nobody here wrote ---------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus`` beside the checkout; without it every test that reads it is skipped
    with this reason (``pytest -rs`` prints it) and the rest of the suite still runs."""
    if not CORPUS.is_dir():
        pytest.skip(f"no mail corpus at {CORPUS} (../shared/corpus beside the checkout)")
    return CORPUS


# -- a real app and its mailbox ------------------------------------------------------------------

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


class SmtpSink:
    """A relay on loopback: answers every DATA with ``answer`` and keeps what it accepted."""

    def __init__(self, answer: str):
        self.answer, self.messages, self.port = answer, [], 0

    async def handle_DATA(self, server, session, envelope):
        if self.answer.startswith("250"):
            self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return self.answer


@pytest.fixture
def smtp_sink():
    """Starts sinks (aiosmtpd) on a free loopback port or the one given; stops them all after."""
    servers = []

    def start(answer: str = "250 OK", port: int | None = None) -> SmtpSink:
        sink = SmtpSink(answer)
        server = Controller(sink, hostname="127.0.0.1", port=port or free_port())
        server.start()
        servers.append(server)
        sink.port = server.port
        return sink

    yield start
    for server in servers:
        server.stop()


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
