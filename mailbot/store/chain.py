"""The timeline's hash chain: each entry of an order is linked to the one before it.

An entry's personal content (its text and documents, which ``purge`` may blank) is hashed on its
own into ``content_sha256``; the chain hash is SHA-256 over the previous entry's chain hash and the
canonical JSON of the entry's order, time, actor, kind and content hash. So changing, inserting or
deleting an entry (other than the newest) breaks every later link, while purging personal data
keeps the content hashes and the chain still verifies. Canonical JSON: sorted keys, no spaces,
UTF-8 (the same bytes on every platform, and in the exported case file, ``casefile/verify``).
The hashed head is versioned by the entry's ``chain_version``: version 1 (entries written before
it existed) hashes the fields above; version 2 also the operator who gave the command
(``done_by``) and the version itself, so that neither can be changed, nor an entry passed off
as version 1, without breaking its link.
"""

from __future__ import annotations

import hashlib
import json

GENESIS = "0" * 64  # the "previous hash" of an order's first entry
VERSION = 2  # of the head new entries are linked with (see ``link``)


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(text: str, attachments: list) -> str:
    """``attachments`` as stored: a list of dicts (name, sha256, size, content type)."""
    return hashlib.sha256(canonical({"text": text, "attachments": attachments})).hexdigest()


def link(previous: str, order_id: int, at: str, actor: str, kind: str, content: str,
         done_by: str = "", version: int = 1) -> str:
    """The chain hash of an entry; ``done_by`` is hashed from version 2 on."""
    head = {"order_id": order_id, "at": at, "actor": actor, "kind": kind, "content": content}
    if version >= 2:
        head.update(done_by=done_by, version=version)
    return hashlib.sha256(previous.encode() + canonical(head)).hexdigest()


def last_link(db, order_id: int) -> str:
    """The chain hash of the order's newest entry, read inside the writer's transaction (so two
    writers cannot both extend the same entry: ``BEGIN IMMEDIATE`` serialises them)."""
    row = db.execute("SELECT chain_sha256 FROM timeline WHERE order_id = ? "
                     "AND chain_sha256 IS NOT NULL ORDER BY id DESC LIMIT 1", [order_id]).fetchone()
    return row[0] if row else GENESIS


def check(entries: list[dict]) -> list[str]:
    """What is wrong with an order's entries (oldest first), each as stored: order_id, at, actor,
    kind, text, attachments (a list), content_sha256, chain_sha256, done_by and chain_version
    (both missing in case files exported before version 2: version 1). Each link is checked against
    the stored hash before it, so a change is reported at the entry it touched: an edited entry
    fails its own link, a removed or inserted one fails the link of the entry after it. A blanked
    entry (no text, no documents) whose content hash differs was purged: not a finding."""
    found, previous = [], GENESIS
    for number, e in enumerate(entries, 1):
        name = f"timeline entry {number} ({e['kind']} at {e['at']})"
        if not e.get("chain_sha256") or not e.get("content_sha256"):
            found.append(f"{name}: has no hash")
            continue
        blank = e["text"] == "" and e["attachments"] == []
        if content_hash(e["text"], e["attachments"]) != e["content_sha256"] and not blank:
            found.append(f"{name}: text or documents changed")
        if link(previous, e["order_id"], e["at"], e["actor"], e["kind"], e["content_sha256"],
                e.get("done_by", ""), e.get("chain_version", 1)) != e["chain_sha256"]:
            found.append(f"{name}: entry changed, or an entry before it was removed or inserted")
        previous = e["chain_sha256"]
    return found


def entries(db, order_id: int) -> list[dict]:
    """The order's entries as ``check`` takes them, oldest first."""
    cur = db.execute("SELECT order_id, at, actor, kind, text, attachments, content_sha256, "
                     "chain_sha256, done_by, chain_version FROM timeline WHERE order_id = ? "
                     "ORDER BY id", [order_id])
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row)) for row in cur.fetchall()]
    for row in rows:
        row["attachments"] = json.loads(row["attachments"])
    return rows
