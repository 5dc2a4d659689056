"""``mailbot purge``: personal data is kept only as long as needed (GDPR art. 5(1)(e)).

For every protection that ended or expired before the cut-off (with its case closed, if it had
one) the personal data goes: the buyer's address (replaced by an address in ``.invalid``, RFC 2606,
that can neither match a sender nor receive mail), the parties' texts and documents in the
timeline, the raw inbound mail, the exact bytes and recipients of outbound mail about it and the
delivery reports on that mail. Raw mail that never matched an order (unmatched, bounces,
strangers), delivery reports and the subjects of shops' order confirmations (orders by mail) go
once they are older than the cut-off. What stays is anonymous: order numbers, dates, amounts,
plans, states, reasons, outcomes, timeline kinds and times, dispositions; the timeline's hash
chain still verifies, as blanked entries keep their content hashes (``store/chain.py``).
Attachment files no longer named by any timeline entry are removed (once untouched for ``GRACE``
— a mail being processed may have just stored one), and so is every file of the outbound Maildir
(``[relay] maildir``, the default way out: copies of sent mail, with addresses and the parties'
texts) written before the cut-off. Running it twice changes nothing the second time.
``secure_delete`` overwrites the freed pages, so the removed text does not linger in the
database file. ``NOT_COVERED`` names what purge cannot reach.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

from .db import transaction
from .files import AttachmentStore
from .records import iso

PURGED_ADDRESS = "purged@purged.invalid"
GRACE_SECONDS = 3600
NOT_COVERED = ("not covered: backups, the logs of serve (they name envelope senders and "
               "recipients; keep them no longer, e.g. journald MaxRetentionSec=) and the MTA's "
               "logs and queue")

_CLOSED = ("SELECT o.id FROM orders o LEFT JOIN cases c ON c.order_id = o.id "
           "WHERE o.state IN ('ended', 'expired') AND o.ended_at < :cut "
           "AND (c.id IS NULL OR (c.state = 'closed' AND c.closed_at < :cut))")


@dataclass
class Purged:
    orders: int = 0
    texts: int = 0
    inbound: int = 0
    outbound: int = 0
    bounces: int = 0
    files: int = 0
    maildir: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name}" for f in fields(self))


class _Rehearsed(Exception):
    """Ends a dry run's transaction: everything counted, nothing kept."""


def purge(db, attachments: AttachmentStore, cutoff: datetime,
          maildir: str | Path | None = None, dry_run: bool = False) -> Purged:
    """Blanks the personal data of protections closed before ``cutoff``; ``dry_run`` counts
    what would go (the same statements, rolled back; files only looked at)."""
    done, named = Purged(), set()
    try:
        _purge_rows(db, cutoff, done, named, dry_run)
    except _Rehearsed:
        pass
    else:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the old page versions leave the WAL too
    untouched_since = time.time() - GRACE_SECONDS
    for sha256, _ in list(attachments.stored()):
        if sha256 not in named and attachments.remove(sha256, untouched_since, dry_run):
            done.files += 1
    if maildir is not None:
        done.maildir = _purge_maildir(Path(maildir), cutoff.timestamp(), dry_run)
    return done


def _purge_rows(db, cutoff: datetime, done: Purged, named: set, dry_run: bool) -> None:
    """The rows, in one transaction; ``named``: the documents the timeline still refers to
    after it (read inside it, so that a dry run sees them as the real run would)."""
    params = {"cut": iso(cutoff), "blank": PURGED_ADDRESS, "none": b""}
    db.execute("PRAGMA secure_delete = ON")
    with transaction(db):
        done.orders = db.execute(
            f"UPDATE orders SET buyer_email = :blank WHERE id IN ({_CLOSED}) "
            "AND buyer_email != :blank", params).rowcount
        # The bot's and the timers' entries hold only anonymous facts (an escalation reason,
        # an outcome, a template name) that the digest counts: they stay.
        done.texts = db.execute(
            f"UPDATE timeline SET text = '', attachments = '[]' WHERE order_id IN ({_CLOSED}) "
            "AND actor NOT IN ('bot', 'timer') AND (text != '' OR attachments != '[]')",
            params).rowcount
        old_mail = ("SELECT id FROM inbox WHERE processed_at IS NOT NULL AND (order_id IN "
                    f"({_CLOSED}) OR (order_id IS NULL AND received_at < :cut))")
        done.inbound = db.execute(
            f"UPDATE inbox_raw SET raw = :none WHERE inbox_id IN ({old_mail}) "
            "AND length(raw) > 0", params).rowcount
        db.execute("UPDATE inbox SET mail_from = '', rcpt_tos = '[]', sender = NULL, "
                   f"detail = NULL, last_error = NULL WHERE id IN ({old_mail})", params)
        # A confirmation's subject may name the buyer ("Jan, thank you for your order").
        done.inbound += db.execute(
            "UPDATE mail_orders SET subject = '' WHERE subject != '' AND received_at < :cut",
            params).rowcount
        done.outbound = db.execute(
            "UPDATE outbox SET raw = :none, recipients = '[]', last_error = NULL, "
            "answer_to = NULL WHERE status != 'queued' AND length(raw) > 0 "
            f"AND (order_id IN ({_CLOSED}) OR (order_id IS NULL AND created_at < :cut))",
            params).rowcount
        # Delivery reports name the recipient and quote the remote server about them.
        done.bounces = db.execute(
            "UPDATE bounces SET recipient = '', diagnostic = '' WHERE recipient != '' "
            "AND (received_at < :cut OR outbox_id IN (SELECT id FROM outbox "
            f"WHERE order_id IN ({_CLOSED})))", params).rowcount
        for (documents,) in db.execute(
                "SELECT attachments FROM timeline WHERE attachments != '[]'"):
            named.update(d["sha256"] for d in json.loads(documents))
        if dry_run:
            raise _Rehearsed


def _purge_maildir(folder: Path, before: float, dry_run: bool) -> int:
    """Maildir files written before ``before``; a Maildir has no index to update."""
    removed = 0
    for sub in ("new", "cur", "tmp"):
        for path in (folder / sub).glob("*") if (folder / sub).is_dir() else ():
            try:
                if path.is_file() and path.stat().st_mtime < before:
                    if not dry_run:
                        path.unlink()
                    removed += 1
            except FileNotFoundError:  # a mail reader moved it from new/ to cur/ meanwhile
                continue
    return removed
