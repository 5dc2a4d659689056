"""What every child process of ``serve`` does first and how it hears from the supervisor.

``begin`` is the shared start: SIGTERM only sets the returned event (no lock is taken that the
interrupted code may hold), SIGINT is ignored (the supervisor decides, and sends SIGTERM),
logging is set up as configured, the CPU priority is lowered (accepting mail goes first) and the
process builds its own ``App``. ``listen`` follows the supervisor's pipe on a thread: each byte
wakes the child's work, and the end of the file (the supervisor is gone) stops the child.
"""

from __future__ import annotations

import os
import signal
import threading

from .. import logs, wiring


def begin(config):
    """(the child's ``App``, the event SIGTERM sets)."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup(config)
    os.nice(10)
    return wiring.build(config), stopping


def listen(pipe, wake, stopping: threading.Event, name: str) -> None:
    threading.Thread(target=_relay_wakes, args=(pipe.fileno(), wake, stopping), name=name,
                     daemon=True).start()


def _relay_wakes(fd: int, wake, stopping: threading.Event) -> None:
    while True:
        try:
            data = os.read(fd, 4096)
        except InterruptedError:
            continue
        if not data:
            stopping.set()
            return
        wake()
