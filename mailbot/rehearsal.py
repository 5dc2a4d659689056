"""Operators' changes made once, or rehearsed: ``carry_out(db, work, dry_run)``.

The whole change runs in one transaction. A dry run makes exactly the same change and rolls it
back, so what it shows (the change's own summary and the mails it would queue) is what the real
run does, never a second, hand-written prediction that can drift from it. Its event lines are
logged once it has ended (``logs.holding``): as for serve's changes after the commit, at DEBUG
marked ``dry_run`` after a rehearsal, not at all after a failure. Only files written
outside the database (attachments of a replayed mail) stay behind a dry run; they are kept by
content hash, so the real run finds them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import logs
from .store import admin
from .store.db import transaction


@dataclass(frozen=True)
class Done:
    """What ``work`` returned, and the mails it queued (``admin.queued_after`` rows)."""

    value: object
    mails: list[dict]
    dry_run: bool


class _RollBack(Exception):
    pass


def carry_out(db, work: Callable[[], object], dry_run: bool) -> Done:
    last = admin.last_outbox_id(db)
    done = None
    with logs.holding(dry_run):
        try:
            with transaction(db):
                value = work()
                done = Done(value, admin.queued_after(db, last), dry_run)
                if dry_run:
                    raise _RollBack
        except _RollBack:
            pass
    return done


def mail_lines(done: Done) -> list[str]:
    """One line per mail: ``mailed jan@buyer.example: buyer.case_closed``."""
    verb = "would mail" if done.dry_run else "mailed"
    return [f"  {verb} {', '.join(m['recipients'])}: {m['template']}"
            for m in done.mails]
