"""The composition root: ``build(config) -> App`` picks store, signer, renderer and transport
(the only caller of ``open_transport``: jobs send through ``app.transport()``).

There are no module-level singletons: everything the shell needs hangs off one ``App``. SQLite
connections are per thread (the SMTP loop, the intake worker and the scheduler each get their own).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from . import config as config_mod
from .outbound.transport import open_transport
from .store import db as dbmod
from .store import admin, datadir, records
from .store.files import AttachmentStore
from .tokens import Signer

if TYPE_CHECKING:
    from .outbound.render import Renderer


@dataclass
class App:
    config: config_mod.Config
    tz: ZoneInfo
    signer: Signer
    attachments: AttachmentStore
    transport: Callable  # () -> a transport as a context manager (outbound/transport.py)
    readonly: bool = False  # read-only commands: never create or write the database
    _renderer: Renderer | None = None
    _local: threading.local = field(default_factory=threading.local)

    @property
    def renderer(self) -> Renderer:
        # Built, and Jinja and Babel imported, on first use: commands that send no mail (status,
        # cases) start faster without it, and serve's listener never carries it.
        if self._renderer is None:
            from .outbound.render import Renderer
            self._renderer = Renderer(self.tz)
        return self._renderer

    def db(self):
        """This thread's connection."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = self._local.db = _open(self.config, self.readonly)
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "db", None)
        if conn is not None:
            conn.close()
            self._local.db = None


def _open(config: config_mod.Config, readonly: bool):
    db = dbmod.open_store(config.storage, readonly)
    if readonly and (pending := dbmod.migrations.pending(db)):
        db.close()
        raise datadir.StorageError(
            f"database {dbmod.where(config.storage)} needs migrating ({pending[0].name}): "
            "run `mailbot serve` or `mailbot deliver` once")
    return db


def build(config: config_mod.Config, readonly: bool = False) -> App:
    db = _open(config, readonly)
    # SPEC §9: a secret generated once and kept in the database.
    if readonly:
        secret = admin.setting(db, "secret")
        if secret is None:
            raise datadir.StorageError(f"database {dbmod.where(config.storage)} has no secret yet")
    else:
        secret = records.setting(db, "secret", lambda: secrets.token_hex(32))
    app = App(
        config=config,
        tz=ZoneInfo(config.bot.timezone),
        signer=Signer(bytes.fromhex(secret), config.bot.address_prefix, config.bot.domain),
        attachments=AttachmentStore(config.storage.attachments),
        transport=partial(open_transport, config),
        readonly=readonly,
    )
    app._local.db = db
    return app
