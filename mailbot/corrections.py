"""Operators' ways back from a mistake, each one change that ``rehearsal.carry_out`` can rehearse.

- ``delete_order``: an order imported by mistake, while it has no case (a case is a dispute and is
  decided, never deleted). Its timers, timeline and mails go; nobody is mailed.
- ``declare_solvent``: the merchant's insolvency flag is cleared, so new cases go to the shop
  again. Cases escalated meanwhile stay with the service team (their buyers were told so), where
  ``request-documents merchant`` and ``decide`` reach the shop again. Nobody is mailed.
- ``release``: a mail held because its From was not the party's address, processed as if it were
  (an operator checked it); the event applies once and its mails go out as for any mail. It is
  ``inbound/mail_commands.py``'s, which operators also give by mail.
- ``replay``: a stored mail that applied nothing (held, unmatched, refused, quarantined...) runs
  through intake again after a fix. Applied mail, orders taken by mail and duplicates are never
  replayed: their event has been applied once already.
- Correcting an operator's decision is the core's ``OperatorCorrect`` (``case ID correct``).
"""

from __future__ import annotations

from datetime import datetime

from .core.effects import Result
from .inbound import mail_commands
from .inbound.disposition import Disposition, Ending
from .inbound.mail_commands import Refused
from .store import corrections


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
    return mail_commands.release(app, inbox_id, now)["disposition"]


def replay(app, inbox_id: int, now: datetime) -> Disposition:
    row = mail_commands.processed(app.db(), inbox_id)
    if row["disposition"] in NEVER_REPLAYED:
        raise Refused(f"inbox {inbox_id} is {row['disposition']}: its event was applied once "
                      "already and is never applied again")
    return mail_commands.again(app, row, now, trusted_sender=False)
