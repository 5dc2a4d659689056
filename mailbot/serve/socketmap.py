"""``mailbot postfix-map``: the recipient check of an MTA, over Postfix's socketmap protocol.

Postfix accepts mail for the bot's domain only if this map says the address exists, so a forged
or mistyped token address is refused at RCPT by Postfix itself and no bounce goes to a forged
sender (backscatter). A request is a netstring ``name key``; the answer a netstring ``OK value``,
``NOTFOUND `` or ``TEMP reason`` (socketmap_table(5)). OK: a verified token address of an order
or a mail that exists, the bot's own address, ``postmaster``; NOTFOUND: anything else; TEMP: the
database cannot be read, so that Postfix answers 4xx and the sender tries again. The map is its
own process (not a part of ``serve``): it only reads, through a read-only connection, and keeps
answering (TEMP) while the database or the listener is down.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from ..outbound.return_path import outbox_and_index
from ..store import bounce_rows
from ..store.datadir import StorageError
from ..store.db import open_store
from ..store.dialect import DATABASE_ERRORS

log = logging.getLogger("mailbot.socketmap")

MAX_REQUEST = 10_000  # Postfix's own limit for a socketmap reply is 100,000; keys are short
IDLE_SECONDS = 300  # Postfix closes idle socketmap connections after 10 s (socketmap_max_idle)


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
        except (StorageError, *DATABASE_ERRORS) as exc:
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

    def __init__(self, app, host: str, port: int):
        self.lookup, self.host, self.port = Lookup(app), host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="socketmap",
                                        daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> "MapServer":
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, self.host, self.port), self._loop).result()
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self):
        async def close():
            self._server.close()
            clients = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in clients:  # Postfix keeps connections open; end them too
                task.cancel()
            await asyncio.gather(*clients, return_exceptions=True)
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self.lookup.close()

    async def _client(self, reader, writer):
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
            writer.close()
