"""``serve.pid`` in the data directory (``[storage] root``): who is serving, and whether the processing side is alive.

The supervisor writes its pid when the listener is up and removes the file when it stops; the
processing child touches the file every ``HEARTBEAT_SECONDS`` while its jobs
run, so the file's age tells ``mailbot check`` that mail is being processed, not only accepted.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

HEARTBEAT_SECONDS = 10
STALE_SECONDS = 6 * HEARTBEAT_SECONDS


def path(config) -> Path:
    return Path(config.storage.root) / "serve.pid"


class Taken(Exception):
    """Another ``serve`` holds this data directory; the message says which, in one line."""


def lock(config) -> int:
    """One ``serve`` per data directory: an exclusive lock on ``serve.lock`` beside the pid
    file, held (the returned descriptor kept open) until the process ends -- the kernel drops it
    even on SIGKILL, so a crash never leaves a stale lock behind."""
    target = path(config).with_name("serve.lock")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        try:
            holder = f"pid {int(path(config).read_text().strip())}"
        except (OSError, ValueError):
            holder = "another process"
        raise Taken(f"another serve ({holder}) runs on {target.parent}; stop it first, or give "
                    "this one its own [storage] root") from None
    return fd


def write(config) -> None:
    target = path(config)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"{os.getpid()}\n")


def beat(config) -> None:
    try:
        os.utime(path(config))
    except OSError:
        pass  # removed by an operator or a stopping supervisor: check will say so


def remove(config) -> None:
    try:
        path(config).unlink()
    except FileNotFoundError:
        pass


def status(config) -> tuple[bool, str]:
    """(alive, one line): the pid in the file runs and the heartbeat is recent."""
    target = path(config)
    try:
        pid, age = int(target.read_text().strip()), time.time() - target.stat().st_mtime
    except (OSError, ValueError):
        return False, f"not running (no {target})"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False, f"not running (pid {pid} in {target} is gone)"
    except PermissionError:
        pass  # runs as another user: alive all the same
    if age > STALE_SECONDS:
        return False, f"pid {pid} runs but processing is stuck (heartbeat {age:.0f} s ago)"
    return True, f"pid {pid}, processing heartbeat {age:.0f} s ago"
