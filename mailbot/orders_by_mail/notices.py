"""The mails a shop gets about its orders by mail: a held confirmation (once per intake address),
the daily list of confirmations that could not be read, with the markup that fixes it (written
in the template), and the weekly report of orders taken and refused.

They are about no order, so they are rendered here (``compose.context`` with no state) and go to
every registered address of the shop, in the shop's language; Reply-To is the bot's own address.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta

from ..core.effects import Mail
from ..core.model import Role
from ..outbound import compose, outbox
from ..store import mail_intake, records
from ..store.db import transaction
from ..store.records import parse_dt

DAY = timedelta(hours=23)  # "once a day", whatever minute the job runs at
WEEK = timedelta(days=7)
HELD_LISTED = 20  # held confirmations the weekly report names one by one; the rest are counted


def queue(app, db, shop: dict, kind: str, data: dict, now: datetime) -> None:
    """Renders a mail of ``kind`` to the shop and queues it; inside the caller's transaction."""
    mail = Mail(Role.MERCHANT, kind, data)
    rcpt = compose.Recipients(tuple(shop["emails"]), shop["locale"])
    ctx = compose.context(app, db, None, mail, Role.MERCHANT)
    rendered = app.renderer.render(mail.template, rcpt.locale, ctx)
    message_id = f"<{secrets.token_hex(16)}@{app.config.bot.domain}>"
    raw = compose.build(app, rendered, rcpt, app.config.bot.sender, message_id, [], now)
    outbox.enqueue(db, compose.Outgoing(message_id, None, str(Role.MERCHANT), mail.template,
                                        rcpt.addresses, raw), now)


def daily(app, now: datetime) -> int:
    """One mail to each shop with confirmations not read since its last such mail (at most one
    a day); returns how many shops were written to."""
    db = app.db()
    sent = 0
    with transaction(db):
        for shop_id, rows in mail_intake.untold(db, "unread").items():
            last = mail_intake.last_told(db, shop_id, "unread")
            shop = records.merchant(db, shop_id)
            if shop is None or (last and parse_dt(last) > now - DAY):
                continue
            unread = [{"number": r["order_number"] or "", "subject": r["subject"],
                       "missing": _missing(r)}
                      for r in rows]
            queue(app, db, shop, "intake_unread", {"unread": unread}, now)
            mail_intake.mark_told(db, [r["id"] for r in rows], now)
            sent += 1
    return sent


def _missing(row) -> list[str]:
    """What an unread confirmation lacked, as intake recorded it ("not read: amount, buyer")."""
    return row["detail"].removeprefix("not read: ").split(", ")


def weekly(app, now: datetime) -> int:
    """The week's report to each shop that sent confirmations in it; returns how many."""
    db = app.db()
    sent = 0
    with transaction(db):
        for shop_id, rows in mail_intake.since(db, now - WEEK, now).items():
            shop = records.merchant(db, shop_id)
            if shop is None:
                continue
            outcomes = Counter(r["outcome"] for r in rows)
            held = [r for r in rows if r["outcome"] == "held"]
            queue(app, db, shop, "intake_report", {
                "shop": shop["name"],
                "since": now - WEEK, "now": now, "taken": outcomes["taken"],
                "known": outcomes["known"], "unread": outcomes["unread"],
                "held": sorted(Counter(r["detail"].partition(":")[0] for r in held).items()),
                # The held confirmations themselves, so that the shop can find each one.
                "held_mail": [{"at": parse_dt(r["received_at"]), "subject": r["subject"],
                               "why": r["detail"].partition(":")[0]} for r in held[:HELD_LISTED]],
                # And the ones that could not be read, so that the shop can find and fix each.
                "unread_mail": [{"at": parse_dt(r["received_at"]), "subject": r["subject"],
                                 "sender": r["sender"] or "", "missing": _missing(r)}
                                for r in rows if r["outcome"] == "unread"][:HELD_LISTED],
                }, now)
            sent += 1
    return sent
