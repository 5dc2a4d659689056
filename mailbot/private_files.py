"""Secrets kept in files (the DKIM key, the relay password, the listener's TLS key) are read only
when nobody but their owner can read them, as ssh refuses a private key with "UNPROTECTED PRIVATE
KEY FILE": a key that others can read may already be someone else's, and using it silently hides
that. The refusal names the file, its mode and the fix in one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnprotectedFile(ValueError):
    """A secret file that group or others may read or write; the message is the one line."""


def check(path: str | Path, what: str) -> None:
    """Refuses ``path`` if it exists and is not private (at start, before anything runs)."""
    try:
        _refuse_open(Path(path), os.stat(path).st_mode, what)
    except FileNotFoundError:
        pass  # said when it is read


def read(path: str | Path, what: str) -> bytes:
    """The bytes of ``path`` (``what`` names the setting in the refusal), if it is private."""
    path = Path(path)
    with path.open("rb") as file:  # the mode of the file read, not of a path swapped meanwhile
        _refuse_open(path, os.fstat(file.fileno()).st_mode, what)
        return file.read()


def _refuse_open(path: Path, mode: int, what: str) -> None:
    mode = stat.S_IMODE(mode)
    if mode & 0o077:
        raise UnprotectedFile(f"{what} {path} is accessible by others (mode {mode:04o}): "
                              f"run chmod 600 {path}")
