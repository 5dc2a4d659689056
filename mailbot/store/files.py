"""Documents parties send, kept content-addressed on disk: the same file stored twice is one file.

Files are named by their SHA-256 and written atomically (temporary file, then rename), so a crash
never leaves a half-written document under a valid name. They hold personal data: files are 0600
(``mkstemp``) in 0700 folders. Storing a file that exists touches it, so that ``purge`` (which only
removes files untouched for a while) never removes one that a mail being processed just stored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class AttachmentStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def save(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._path(sha256)
        try:
            os.utime(path)
            return sha256
        except FileNotFoundError:
            pass
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return sha256

    def read(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256).read_bytes()
        except OSError:
            return None

    def stored(self):
        """(sha256, path) of every stored file."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/*"):
            if len(path.name) == 64 and path.is_file():
                yield path.name, path

    def remove(self, sha256: str, untouched_since: float, dry_run: bool = False) -> bool:
        """Removes the file unless it was stored or touched at or after ``untouched_since``
        (a POSIX time); True if it was removed (or, ``dry_run``, would be)."""
        path = self._path(sha256)
        try:
            if path.stat().st_mtime >= untouched_since:
                return False
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            return False
        return True
