"""``mailbot verify-export FILE.zip``: is this case file the one mailbot wrote?

It checks, and names what fails: every file against the SHA-256 the manifest gives it (a changed,
missing or added file), the timeline's hash chain in ``case.json`` (``store/chain.check``: which
entry was changed, removed or inserted), each document against the hash its timeline entry
names, and the chain's head against the manifest's. The manifest itself is not signed: whoever
rewrites a file, its manifest line and the whole chain after it is caught only by comparing the
head with one noted when the file was made (the operator's log, or the other party's copy).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from ..store import chain
from .export import FORMAT, MANIFEST


def verify(path: str | Path) -> tuple[list[str], dict]:
    """(findings, manifest); no findings: the file is as mailbot wrote it."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: not a readable zip ({exc})"], {}
    with zf:
        try:
            manifest = json.loads(zf.read(MANIFEST))
        except (KeyError, ValueError):
            return [f"{MANIFEST}: missing or not JSON"], {}
        if manifest.get("format") != FORMAT:
            return [f"{MANIFEST}: not a {FORMAT} file"], manifest
        listed = manifest.get("files", {})
        present = {n for n in zf.namelist() if n != MANIFEST}
        found = [f"{name}: missing" for name in sorted(set(listed) - present)]
        found += [f"{name}: not in the manifest (added)" for name in sorted(present - set(listed))]
        found += [f"{name}: changed (SHA-256 differs from the manifest)"
                  for name in sorted(present & set(listed))
                  if hashlib.sha256(zf.read(name)).hexdigest() != listed[name]]
        if "case.json" in present:
            found += _timeline(zf, manifest)
    return found, manifest


def _timeline(zf: zipfile.ZipFile, manifest: dict) -> list[str]:
    try:
        entries = json.loads(zf.read("case.json"))["timeline"]
    except (ValueError, KeyError, TypeError):
        return ["case.json: not a case file"]
    found = [f"case.json: {f}" for f in chain.check(entries)]
    head = entries[-1]["chain_sha256"] if entries else chain.GENESIS
    if head != manifest.get("chain_head"):
        found.append("case.json: the timeline's last entry is not the manifest's chain head "
                     "(entries removed or added at the end)")
    names = set(zf.namelist())
    for number, e in enumerate(entries, 1):
        for d in e["attachments"]:
            name = f"documents/{d['sha256']}"
            if name in names and hashlib.sha256(zf.read(name)).hexdigest() != d["sha256"]:
                found.append(f"{name}: not the document timeline entry {number} names")
    return found


def run(path: str, out) -> int:
    found, manifest = verify(path)
    for line in found:
        print(f"CHANGED {line}", file=out)
    if found:
        print(f"{path}: {len(found)} problem(s); this is not the case file mailbot wrote", file=out)
        return 1
    print(f"{path}: OK, {len(manifest['files'])} files match the manifest, timeline chain "
          f"intact (head {manifest['chain_head']})", file=out)
    return 0
