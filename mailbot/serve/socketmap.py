"""``mailbot postfix-map``: the recipient check of an MTA, over Postfix's socketmap protocol.

Postfix accepts mail for the bot's domain only if this map says the address exists, so a forged
or mistyped token address is refused at RCPT by Postfix itself and no bounce goes to a forged
sender (backscatter). A request is a netstring ``name key``; the answer a netstring ``OK value``,
``NOTFOUND `` or ``TEMP reason`` (socketmap_table(5)). OK: a verified token address of an order
or a mail that exists, the bot's own address, ``postmaster``; NOTFOUND: anything else; TEMP: the
database cannot be read, so that Postfix answers 4xx and the sender tries again. The map is its
own process (not a part of ``serve``): it only reads, through a read-only connection, and keeps
answering (TEMP) while the database or the listener is down. Connections are bounded: past
``MAX_CONNECTIONS`` a new one is closed at once (logged once, not once per connection), an idle
one ends after ``IDLE_SECONDS``, so a flood of half-open connections costs neither file
descriptors nor log lines; at stop the open connections are closed, not killed mid-read. A shop's
intake address (orders by mail) is OK while it is the shop's current one, NOTFOUND once rotated.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from ..outbound.return_path import outbox_and_index
from ..store import bounce_rows, mail_intake
from ..store.datadir import StorageError
from ..store.db import open_store
from ..store.dialect import database_errors

log = logging.getLogger("mailbot.socketmap")

MAX_REQUEST = 10_000  # Postfix's own limit for a socketmap reply is 100,000; keys are short
IDLE_SECONDS = 60  # Postfix closes idle socketmap connections after 10 s (socketmap_max_idle)
# Postfix opens one connection per process that looks up (smtpd, cleanup...), at most
# default_process_limit (100) of each; far below the 1,024 file descriptors of a service.
MAX_CONNECTIONS = 200


def netstring(text: str) -> bytes:
    data = text.encode("utf-8")
    return b"%d:%s," % (len(data), data)


class Lookup:
    """Answers one key; holds a read-only connection, reopened after an error."""

    def __init__(self, app):
        self.app = app
        self.domain = app.config.bot.domain.lower()
        self.own = app.config.bot.sender.lower()
        self._db = None

    def answer(self, key: str) -> str:
        address = key.strip().lower()
        local, _, domain = address.rpartition("@")
        if domain != self.domain or not local:
            return "NOTFOUND "
        try:
            found = self._exists(address, local)
        except (StorageError, *database_errors()) as exc:
            self.close()
            log.warning("socketmap.temp error=%s", exc)
            return "TEMP database unavailable"
        return "OK mailbot" if found else "NOTFOUND "

    def _exists(self, address: str, local: str) -> bool:
        db = self._connection()
        bounce_rows.readable(db)  # or TEMP
        if address == self.own or local == "postmaster":
            return True
        token = self.app.signer.parse(address)
        if token is None:
            return False
        if token.kind == "bounce":
            return bounce_rows.exists(db, "outbox", outbox_and_index(token)[0])
        if token.kind == "intake":  # a shop's current address for orders by mail
            return mail_intake.active(db, token.id)
        return bounce_rows.exists(db, "orders", token.id)

    def _connection(self):
        if self._db is None:
            self._db = open_store(self.app.config.storage, readonly=True)
        return self._db

    def close(self):
        if self._db is not None:
            self._db.close()
            self._db = None


async def _read_netstring(reader: asyncio.StreamReader) -> bytes | None:
    """One netstring (``len:data,``), or None at the end of the connection or on bad input."""
    head = await reader.readuntil(b":")
    if len(head) > 7 or not head[:-1].isdigit() or int(head[:-1]) > MAX_REQUEST:
        return None
    data = await reader.readexactly(int(head[:-1]) + 1)
    return data[:-1] if data.endswith(b",") else None


class MapServer:
    """The socketmap server on its own event loop thread; ``start()`` / ``stop()``."""

    def __init__(self, app, host: str, port: int, max_connections: int = MAX_CONNECTIONS):
        self.lookup, self.host, self.port = Lookup(app), host, port
        self.max_connections = max_connections
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(_one_line)
        self._thread = threading.Thread(target=self._loop.run_forever, name="socketmap",
                                        daemon=True)
        self._server: asyncio.Server | None = None
        self._clients: dict[asyncio.StreamWriter, asyncio.Task] = {}
        self._full = False  # said so in the log, until the connections fall below half

    def start(self) -> "MapServer":
        """Listens; raises OSError (the port is taken, say) with nothing left running."""
        self._thread.start()
        try:
            self._server = asyncio.run_coroutine_threadsafe(
                asyncio.start_server(self._client, self.host, self.port), self._loop).result()
        except OSError:
            self._end_loop()
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self):
        async def close():
            self._server.close()
            for writer in list(self._clients):  # Postfix keeps connections open; end them too
                writer.transport.abort()
            await asyncio.gather(*self._clients.values(), return_exceptions=True)
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._end_loop()

    def _end_loop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self.lookup.close()

    async def _client(self, reader, writer):
        if len(self._clients) >= self.max_connections:
            if not self._full:
                log.warning("socketmap.full connections=%d: new connections are closed until "
                            "some end", len(self._clients))
                self._full = True
            writer.transport.abort()
            return
        self._clients[writer] = asyncio.current_task()
        try:
            while True:
                request = await asyncio.wait_for(_read_netstring(reader), IDLE_SECONDS)
                if request is None:
                    break
                name, _, key = request.decode("utf-8", "replace").partition(" ")
                writer.write(netstring(self.lookup.answer(key)))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ConnectionError):
            pass
        finally:
            del self._clients[writer]
            if len(self._clients) < self.max_connections // 2:
                self._full = False
            writer.close()


def _one_line(loop, context):
    """asyncio's own troubles (an accept that failed) as one line each, without a traceback."""
    log.warning("socketmap.loop_error %s: %s", context.get("message"),
                context.get("exception", ""))
