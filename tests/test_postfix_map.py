"""``mailbot postfix-map``: Postfix's socketmap protocol spoken over loopback, as Postfix does."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailbot.outbound.return_path import return_path
from mailbot.serve.socketmap import MapServer, netstring
from mailbot.tokens import Token

from conftest import free_port, write_config

MAILBOT = Path(sys.executable).parent / "mailbot"


class Client:
    """One socketmap connection kept open for many lookups, like Postfix's."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)

    def ask(self, key: str, name: str = "recipients") -> str:
        self.sock.sendall(netstring(f"{name} {key}"))
        return self.read()

    def read(self) -> str:
        head = b""
        while not head.endswith(b":"):
            chunk = self.sock.recv(1)
            if not chunk:
                return ""
            head += chunk
        data = b""
        while len(data) < int(head[:-1]) + 1:
            data += self.sock.recv(int(head[:-1]) + 1 - len(data))
        assert data.endswith(b",")
        return data[:-1].decode()


@pytest.fixture
def server(app):
    running = MapServer(app, "127.0.0.1", 0).start()
    yield running
    running.stop()


def test_answers_ok_for_our_addresses_and_notfound_for_the_rest(app, server):
    order_id = app.db().execute("SELECT id FROM orders LIMIT 1").fetchone()[0]
    buyer = app.signer.address(Token("buyer", order_id))
    client = Client(server.port)
    assert client.ask(buyer) == "OK mailbot"
    assert client.ask(buyer.upper()) == "OK mailbot"  # MTAs may change the case
    assert client.ask("bot@bot.example") == "OK mailbot"
    assert client.ask("postmaster@bot.example") == "OK mailbot"
    forged = buyer[:10] + ("a" if buyer[10] != "a" else "b") + buyer[11:]
    assert client.ask(forged) == "NOTFOUND "
    assert client.ask(app.signer.address(Token("buyer", 999_999))) == "NOTFOUND "  # no order
    assert client.ask("bot+nonsense@bot.example") == "NOTFOUND "
    assert client.ask("someone@bot.example") == "NOTFOUND "
    assert client.ask(buyer.replace("bot.example", "other.example")) == "NOTFOUND "
    assert client.ask("@bot.example") == "NOTFOUND "  # Postfix's domain-wide lookup form


def test_a_bounce_address_is_ok_only_while_its_mail_exists(app, server):
    db = app.db()
    db.execute("INSERT INTO outbox (message_id, role, template, recipients, raw, created_at) "
               "VALUES ('<m@x>', 'buyer', 't', '[\"a@x.example\", \"b@x.example\"]', ?, "
               "'2026-01-01T00:00:00+00:00')", [b"\0"])
    outbox_id = db.execute("SELECT max(id) FROM outbox").fetchone()[0]
    client = Client(server.port)
    assert client.ask(return_path(app.signer, outbox_id, 1)) == "OK mailbot"
    assert client.ask(return_path(app.signer, outbox_id + 1, 0)) == "NOTFOUND "


@pytest.mark.sqlite_only
def test_temp_when_the_database_cannot_be_read(app, tmp_path):
    storage = dataclasses.replace(app.config.storage, database=str(tmp_path / "gone" / "x.db"))
    broken = dataclasses.replace(app, config=dataclasses.replace(app.config, storage=storage))
    running = MapServer(broken, "127.0.0.1", 0).start()
    try:
        client = Client(running.port)
        assert client.ask("bot@bot.example").startswith("TEMP ")
        assert client.ask(app.signer.address(Token("buyer", 1))).startswith("TEMP ")
    finally:
        running.stop()


def test_a_malformed_request_closes_the_connection(server):
    client = Client(server.port)
    client.sock.sendall(b"99999999:recipients x,")
    assert client.read() == ""
    client = Client(server.port)
    client.sock.sendall(b"5:abcdeX")  # no comma after the data
    assert client.read() == ""


def test_the_command_serves_the_map_until_sigterm(app, tmp_path):
    port = free_port()
    path = _config_with_map(app, tmp_path, port)
    process = subprocess.Popen([str(MAILBOT), "--config", str(path), "postfix-map"],
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = Client(port)
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "never listened"
                time.sleep(0.05)
        order_id = app.db().execute("SELECT id FROM orders LIMIT 1").fetchone()[0]
        assert client.ask(app.signer.address(Token("merchant", order_id))) == "OK mailbot"
        assert client.ask("nobody@bot.example") == "NOTFOUND "
        client.sock.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        process.stderr.close()


def _config_with_map(app, tmp_path, port: int) -> Path:
    return write_config(tmp_path, app.config, postfix={"socketmap": f"127.0.0.1:{port}"})


def test_a_taken_port_is_one_line(app, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([str(MAILBOT), "--config", str(_config_with_map(app, tmp_path,
                                                                                 port)),
                                 "postfix-map"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"mailbot: [postfix] socketmap 127.0.0.1:{port}: " \
                            "Address already in use\n"


def test_sigterm_with_connections_open_mid_request_exits_cleanly(app, tmp_path):
    port = free_port()
    process = subprocess.Popen([str(MAILBOT), "--config", str(_config_with_map(app, tmp_path,
                                                                               port)),
                                "postfix-map"], stderr=subprocess.PIPE, text=True)
    clients = []
    try:
        deadline = time.monotonic() + 30
        while not clients:
            try:
                clients.append(Client(port))
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "never listened"
                time.sleep(0.05)
        assert clients[0].ask("nobody@bot.example") == "NOTFOUND "
        for _ in range(20):  # half a request each, as a stalled client leaves it
            clients.append(Client(port))
            clients[-1].sock.sendall(b"30:recipients x")
        assert clients[0].ask("bot@bot.example") == "OK mailbot"  # all of them are taken in
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
        errors = process.stderr.read()
        for client in clients:
            client.sock.close()
    assert code == 0 and "Traceback" not in errors and "Error" not in errors, errors


def test_connections_are_bounded_and_the_flood_is_logged_once(app, caplog):
    server = MapServer(app, "127.0.0.1", 0, max_connections=20).start()
    fds = len(os.listdir("/proc/self/fd"))
    flood = []
    try:
        with caplog.at_level("WARNING", logger="mailbot.socketmap"):
            for _ in range(300):  # half-open: connected, nothing sent
                flood.append(socket.create_connection(("127.0.0.1", server.port)))
            closed = 0
            for sock in flood[20:]:
                sock.settimeout(5)
                closed += sock.recv(1) == b""
            # Ours: 300 client sockets; the server's: at most its 20 connections.
            assert len(os.listdir("/proc/self/fd")) <= fds + 300 + 20 + 2
            assert Client(server.port).read() == ""  # still full: closed at once
            for sock in flood[:20]:
                sock.close()
            deadline = time.monotonic() + 10
            while True:  # the server sees those ends in its own time
                client = Client(server.port)
                client.sock.sendall(netstring("recipients bot@bot.example"))
                if client.read() == "OK mailbot":
                    break
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        for sock in flood:
            sock.close()
        server.stop()
    assert closed == 280
    full = [r for r in caplog.records if "socketmap.full" in r.getMessage()]
    assert len(full) == 1, [r.getMessage() for r in caplog.records]


@pytest.mark.skipif(shutil.which("postmap", path=os.environ.get("PATH", "") + ":/usr/sbin")
                    is None, reason="Postfix is not installed (postmap)")
def test_postmap_q_tests_the_map_as_the_readme_says(server):
    table = f"socketmap:inet:127.0.0.1:{server.port}:recipients"
    postmap = shutil.which("postmap", path=os.environ.get("PATH", "") + ":/usr/sbin")
    found = subprocess.run([postmap, "-q", "bot@bot.example", table], capture_output=True,
                           text=True, timeout=30)
    missing = subprocess.run([postmap, "-q", "nobody@bot.example", table], capture_output=True,
                             text=True, timeout=30)
    assert (found.returncode, found.stdout) == (0, "mailbot\n")
    assert (missing.returncode, missing.stdout) == (1, "")
