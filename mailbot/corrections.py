"""Operators' ways back from a mistake, each one change that ``rehearsal.carry_out`` can rehearse.

- ``delete_order``: an order imported by mistake, while it has no case (a case is a dispute and is
  decided, never deleted). Its timers, timeline and mails go; nobody is mailed.
- ``declare_solvent``: the merchant's insolvency flag is cleared, so new cases go to the shop
  again. Cases escalated meanwhile stay with the service team (their buyers were told so), where
  ``request-documents merchant`` and ``decide`` reach the shop again. Nobody is mailed.
- ``release``: a mail held because its From was not the party's address, processed as if it were
  (an operator checked it); the event applies once and its mails go out as for any mail.
- ``replay``: a stored mail that applied nothing (held, unmatched, refused, quarantined...) runs
  through intake again after a fix. Applied mail, orders taken by mail and duplicates are never
  replayed: their event has been applied once already.
- Correcting an operator's decision is the core's ``OperatorCorrect`` (``case ID correct``).
"""

from __future__ import annotations

from datetime import datetime

from .inbound import intake
from .core.effects import Result
from .inbound.disposition import Disposition, Ending
from .store import corrections, inbox_rows


class Refused(Exception):
    """The correction does not apply; the message says why in one line."""


# Their event applied (an order taken by mail is one too), or their body is gone (over the
# order's storage quota): never again.
NEVER_REPLAYED = (Result.APPLIED, Ending.DUPLICATE, Ending.ORDER_TAKEN, Ending.OVER_QUOTA)


def delete_order(db, order_id: int, case_id: int | None) -> dict[str, int]:
    deleted = None if case_id is not None else corrections.delete_order(db, order_id)
    if deleted is None:  # a case, or one opened since the order was read
        raise Refused("the order has a case: a case is decided, never deleted")
    return deleted


def declare_solvent(db, shop_id: str) -> None:
    if not corrections.set_solvent(db, shop_id):
        raise Refused(f"merchant {shop_id} is not declared insolvent")


def release(app, inbox_id: int, now: datetime) -> Disposition:
    row = _processed(app.db(), inbox_id)
    if row["disposition"] != Ending.SENDER_MISMATCH:
        raise Refused(f"inbox {inbox_id} is {row['disposition']}: only mail held for its sender "
                      "(sender_mismatch) is released; `inbox replay` runs other mail again")
    return _again(app, row, now, trusted_sender=True)


def replay(app, inbox_id: int, now: datetime) -> Disposition:
    row = _processed(app.db(), inbox_id)
    if row["disposition"] in NEVER_REPLAYED:
        raise Refused(f"inbox {inbox_id} is {row['disposition']}: its event was applied once "
                      "already and is never applied again")
    return _again(app, row, now, trusted_sender=False)


def _processed(db, inbox_id: int) -> dict:
    row = inbox_rows.load(db, inbox_id)
    if row is None:
        raise Refused(f"no inbox mail {inbox_id}")
    if row["processed_at"] is None:
        raise Refused(f"inbox {inbox_id} is not processed yet")
    return row


def _again(app, row: dict, now: datetime, trusted_sender: bool) -> Disposition:
    if not corrections.reopen_inbox(app.db(), row["id"], row["disposition"]):
        raise Refused(f"inbox {row['id']} changed meanwhile; look again")
    return intake.process(app, row["id"], now, trusted_sender=trusted_sender)
