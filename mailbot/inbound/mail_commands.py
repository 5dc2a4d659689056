"""The operators' commands on one stored mail, given on the command line (``outbox resend N``,
``inbox release N``) or by mail (``resend N``, ``release N`` in a reply to an operators' mail
about the order): one implementation for both, each change in its own transaction.

- ``resend``: a dead or bounced mail is queued again, to the party's address as it is now (a
  correction or an import may have fixed it since).
- ``release``: a mail held because its From was not the party's address runs through intake as
  if it were (an operator vouched for the sender); its event applies once, as for any mail.
- ``buyer_email``: the buyer's address of an order with an open case corrected (``order correct
  --buyer-email``, ``buyer-email NEW`` by mail), on the case's timeline, and every mail the buyer
  did not receive sent again to it. The case's deadlines do not move: the mails sent again state
  the same dates, and the team says so (a later deadline would be a new promise to the shop).

By mail the command reaches only mail of the order its reply is about (``order_id``): a reply on
one order never acts on another's mail.
"""

from __future__ import annotations

from datetime import datetime

from .. import addresses
from ..core.effects import Entry
from ..core.model import Role
from ..outbound.compose import recipients
from ..store import admin, inbox_rows, records
from ..store import corrections as stored
from ..store.db import transaction
from . import intake
from .disposition import Disposition, Ending

RESENT = ("dead", "bounced")  # the outbox states a mail is resent from


class Refused(Exception):
    """The command does not apply; the message says why in one line, ``why`` in a word for the
    operators' mail ("none": no such mail of this order; "state": not in a state it acts on),
    ``status`` the mail's state then and ``mail`` what the mail is, for the operators' answer
    to name it (an outbox mail's ``template``, ``recipients`` and ``sent_at``; an inbox mail's
    ``sender``)."""

    def __init__(self, message: str, why: str = "state", status: str | None = None,
                 mail: dict | None = None):
        super().__init__(message)
        self.why, self.status, self.mail = why, status, mail or {}


def resend(app, outbox_id: int, now: datetime, order_id: int | None = None) -> dict:
    """Queues a dead or bounced mail again; what it was and where it goes now: its ``status``
    before, ``template``, ``was`` (its recipients then) and ``to`` (now)."""
    db = app.db()
    with transaction(db):
        found = db.execute("SELECT template, sent_at FROM outbox WHERE id = ?",
                           [outbox_id]).fetchone()
        row = admin.outbox_mail(db, outbox_id)
        if row is None or (order_id is not None and row["order_id"] != order_id):
            raise Refused(f"no outbox mail {outbox_id}" + (" about this order" if order_id
                                                          else ""), "none")
        if row["status"] not in RESENT:
            raise Refused(f"outbox mail {outbox_id} is {row['status']}: only dead or bounced "
                          "mail is resent", status=row["status"], mail={
                              "template": found[0], "recipients": row["recipients"],
                              "sent_at": records.parse_dt(found[1])})
        state = merchant = None
        if row["order_id"] is not None:
            state = records.load(db, row["order_id"])
            merchant = records.merchant(db, state.order.shop_id)
        now_to = list(recipients(app, state, Role(row["role"]), merchant).addresses)
        admin.resend(db, outbox_id, now, now_to if now_to != row["recipients"] else None)
    return {"status": row["status"], "template": found[0], "was": row["recipients"],
            "to": now_to}


def release(app, inbox_id: int, now: datetime, order_id: int | None = None) -> dict:
    """Runs a mail held for its sender through intake as the party's own: its ``sender``, its
    new ``disposition`` and what it ``did``: the case file's entries it added (a dispute, a
    message, documents), for the team to see what the vouched-for mail changed."""
    db = app.db()
    row = processed(db, inbox_id, order_id)
    sender = row["sender"] or row["mail_from"]
    if row["disposition"] != Ending.SENDER_MISMATCH:
        raise Refused(f"inbox {inbox_id} is {row['disposition']}: only mail held for its "
                      "sender (sender_mismatch) is released; `inbox replay` runs other mail "
                      "again", status=row["disposition"], mail={"sender": sender})
    before = len(records.timeline(db, row["order_id"])) if row["order_id"] else 0
    disposition = str(again(app, row, now, trusted_sender=True))
    did = records.timeline(db, row["order_id"])[before:] if row["order_id"] else []
    return {"sender": sender, "disposition": disposition, "did": did}


def processed(db, inbox_id: int, order_id: int | None = None) -> dict:
    row = inbox_rows.load(db, inbox_id)
    if row is None or (order_id is not None and row["order_id"] != order_id):
        raise Refused(f"no inbox mail {inbox_id}" + (" about this order" if order_id else ""),
                      "none")
    if row["processed_at"] is None:
        raise Refused(f"inbox {inbox_id} is not processed yet", status="pending")
    return row


def again(app, row: dict, now: datetime, trusted_sender: bool) -> Disposition:
    if not stored.reopen_inbox(app.db(), row["id"], row["disposition"]):
        raise Refused(f"inbox {row['id']} changed meanwhile; look again")
    return intake.process(app, row["id"], now, trusted_sender=trusted_sender)


def buyer_email(app, order_id: int, address: str, now: datetime, by: str) -> dict:
    """Corrects the buyer's address of an order with an open case and resends what the buyer
    missed: the address ``was`` and is now (``to``), the outbox ids ``resent``."""
    new, why = addresses.normal(address)
    if new is None:
        raise Refused(f"bad buyer address {address!r}: {why}", "address")
    db = app.db()
    with transaction(db):
        state = records.load(db, order_id)
        if state.case is None or not state.case.open:
            raise Refused("the order has no open case: `order correct` corrects it as imported",
                          "no_case")
        old = state.order.buyer_email
        if addresses.comparable(new) == addresses.comparable(old):
            raise Refused(f"the buyer's address is {old} already", "same")
        db.execute("UPDATE orders SET buyer_email = ? WHERE id = ?", [new, order_id])
        records.add_timeline(db, order_id, now, Entry("operator", "operator.buyer_email",
                                                      f"{old} -> {new}", by=by))
        missed = [row[0] for row in db.execute(
            "SELECT id FROM outbox WHERE order_id = ? AND role = ? AND status IN (?, ?) "
            "ORDER BY id", [order_id, str(Role.BUYER), *RESENT]).fetchall()]
        for outbox_id in missed:
            resend(app, outbox_id, now, order_id)
    return {"was": old, "to": new, "resent": missed}
