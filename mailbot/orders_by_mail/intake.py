"""A confirmation mail to a shop's intake address: held, unread, or the start of a protection.

Only the shop's own mail may start a protection (a leaked intake address must not): the address
must be the shop's current one, the From domain one of the shop's registered addresses' domains
(at a public mailbox provider such as Gmail: the registered address itself), and the trusted MTA
(``[inbound] authserv_id``) must say DMARC, or a DKIM signature aligned with that domain, passed
(``authentication.passed_for``). Without a trusted MTA, intake by mail is off and every
confirmation is held. A held mail starts nothing; the shop is told once per intake
address (``intake_held``). A mail from the shop that lacks the order number, the buyer or the
amount starts nothing either and is listed in the shop's daily mail (``notices.daily``). Else the
protection starts as an imported order's would; a resent confirmation (same shop and order
number) changes nothing. Each outcome is one transaction with the mail's disposition.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from ..core.deadlines import protection_end
from ..core.effects import Entry
from ..core.model import Order, Plan, Protection, ProtectionState, State
from ..inbound import authentication, inbox
from ..inbound.disposition import Ending
from ..inbound.parse import Parsed
from ..logs import event_log
from ..store import mail_intake, records
from ..store.db import transaction
from . import extract, notices

# Mailbox providers anyone can open an account at: a shop that registered an address there is
# vouched for by that address alone, never by its domain (else any account there would pass).
PUBLIC_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com",
    "gmx.net", "gmx.de", "web.de", "mail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl",
    "live.nl", "telenet.be", "skynet.be", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr",
    "laposte.net", "hotmail.fr", "yahoo.fr", "libero.it", "virgilio.it", "alice.it", "tiscali.it",
    "hotmail.it", "yahoo.it", "bluewin.ch"})
# An order date from the confirmation's Date header within this window; else the day it came.
DATE_WINDOW = (timedelta(days=14), timedelta(days=1))


def take(app, inbox_id: int, mail: Parsed, intake_id: int, key: str, now: datetime):
    db = app.db()
    address = mail_intake.by_id(db, intake_id)
    shop = records.merchant(db, address["shop_id"]) if address else None
    sender = authentication.sender_of(mail.headers)
    sender = None if isinstance(sender, authentication.Refusal) else sender
    ending = dict(key=key, sender=sender, subject=mail.subject)
    if shop is None:
        return _end(app, inbox_id, Ending.UNMATCHED, now, None, "no such intake address",
                    **ending)
    why = _not_the_shop(app, address, shop, mail, sender)
    if why:
        return _end(app, inbox_id, Ending.ORDER_HELD, now, shop, why, intake=address,
                    **ending)
    own = {a.lower() for a in shop["emails"]} | (_domains(shop) - PUBLIC_MAIL)
    reading = extract.read(mail, own | {app.config.bot.domain.lower()})
    if reading.missing:
        return _end(app, inbox_id, Ending.ORDER_UNREAD, now, shop,
                    "not read: " + ", ".join(reading.missing),
                    order_number=reading.order_number, **ending)
    order = Order(0, shop["id"], reading.order_number, _order_date(app, mail, now),
                  reading.amount, reading.currency, reading.buyer,
                  reading.locale or shop["locale"], Plan(address["plan"]))
    return _end(app, inbox_id, Ending.ORDER_TAKEN, now, shop, "", order=order, **ending)


def _not_the_shop(app, address, shop, mail, sender) -> str | None:
    """Why this is not known to be the shop's own mail, as "reason: detail" (the reason word is
    what the shop's mails explain), or None."""
    if not app.config.inbound.authserv_id:
        return "off: intake by mail is off: no trusted MTA ([inbound] authserv_id)"
    if address["retired_at"]:
        return "rotated: this intake address was replaced"
    if sender is None:
        return "sender: no single From address"
    domain = sender.rpartition("@")[2]
    registered = {a.lower() for a in shop["emails"]}
    if sender not in registered and (domain not in _domains(shop) or domain in PUBLIC_MAIL):
        return f"domain: From {sender} is not at a domain of the shop's registered addresses"
    if not authentication.passed_for(mail.headers, app.config.inbound.authserv_id, domain):
        return f"unauthenticated: neither DMARC nor a DKIM signature aligned with {domain} passed"
    return None


def _domains(shop: dict) -> set[str]:
    return {a.rpartition("@")[2].lower() for a in shop["emails"]}


def _order_date(app, mail: Parsed, now: datetime):
    try:
        sent = parsedate_to_datetime(str(mail.headers.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        sent = None
    if sent is None or sent.tzinfo is None or not (
            now - DATE_WINDOW[0] <= sent <= now + DATE_WINDOW[1]):
        sent = now
    return sent.astimezone(app.tz).date()


def _end(app, inbox_id, disposition, now, shop, detail, *, key, sender, subject, intake=None,
         order=None, order_number=None):
    db = app.db()
    order_id = None
    with transaction(db):
        if order is not None:
            order_id, detail = _start(app, db, order, now)
            order_number = order.order_number
        if shop is not None:
            outcome = {Ending.ORDER_TAKEN: "taken" if not detail else "known",
                       Ending.ORDER_UNREAD: "unread",
                       Ending.ORDER_HELD: "held"}[disposition]
            mail_intake.record(db, shop["id"], inbox_id, now, outcome, order_number=order_number,
                               order_id=order_id, subject=subject, detail=detail)
        if intake is not None and mail_intake.mark_held_notice(db, intake["id"], now):
            why = detail.partition(":")[0]
            notices.queue(app, db, shop, "intake_held",
                          {"why": why, "sender": sender or "", "subject": subject}, now)
        inbox.finish(db, inbox_id, disposition, now, order_id=order_id, dedupe_key=key,
                     sender=sender, detail=detail or None)
    event_log(f"inbound.{disposition}", inbox_id=inbox_id, order_id=order_id, detail=detail)
    return disposition


def _start(app, db, order: Order, now: datetime) -> tuple[int, str]:
    """(order id, "" when its protection started now, else why nothing changed)."""
    protection = Protection(ProtectionState.ACTIVE, protection_end(order.order_date, app.tz))
    new_id = records.insert_order(db, order, protection)
    if new_id is None:
        return (records.order_id(db, order.shop_id, order.order_number),
                f"order {order.order_number} exists already: nothing changed")
    records.write_timers(db, State(replace(order, id=new_id), protection), app.tz)
    records.add_timeline(db, new_id, now, Entry("merchant", "order.by_mail"))
    return new_id, ""
