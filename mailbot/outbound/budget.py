"""The answer budget and the relay cap: how often the bot may write because someone wrote to it
(SPEC §5's loop and abuse guard; issue 16 §2 and §4).

An *answer* is a reply to an inbound mail that changes nothing ("no longer open", "choose an
action", "bad form", the operators' command help, the open orders of a buyer who wrote to the
bare address, a request to confirm). Answers are counted from the outbox (``answer_to``), per
budget and hour: at most ``answers_per_address_per_hour`` inbound mails answered, and at most one
*identical* answer -- the same mail: the same template and the same words, so a second form with
a different mistake is still answered (Discourse sends one rejection per address and template a
day; we count by content, which is stricter about loops and fairer to people). Mail that did not
pass the token and sender checks is counted on a budget of its own (``unverified``), so a forger
never uses up a registered party's answers.

A *relay* passes a party's words on to someone else (a message on a case, a buyer's "other"
request to the service team). Relays carry an applied change, but two auto-responders that ignore
RFC 3834 answer each other's relays for ever, so at most ``relays_per_order_per_hour`` go out per
order; the rest stay in the case file, and the operators are told once a day that a case is
capped. Every other mail carries an applied change to someone and always goes out.
"""

from __future__ import annotations

import email
import hashlib
from datetime import datetime, timedelta

from ..store import outbox_rows
from . import outbox

WINDOW = timedelta(hours=1)
TOLD_HOURS = 24  # operators hear of a capped case at most once in this many hours
# The kinds of mail that pass a party's words on.
RELAYS = ("buyer.message_relayed", "merchant.message_relayed", "operator.message_relayed",
          "operator.other_request")
CAPPED = "relays_held"  # the kind of the operators' notice


def key(address: str, verified: bool = True) -> str:
    address = address.lower()
    return address if verified else f"unverified:{address}"


def fingerprint(template: str, raw: bytes) -> str:
    """What makes two answers identical: the template and the words of the text part. Headers
    (Message-ID, Date, thread) and MIME boundaries differ in every mail we compose."""
    msg = email.message_from_bytes(raw)
    text = next((part.get_payload(decode=True) for part in msg.walk()
                 if part.get_content_type() == "text/plain"), b"")
    return hashlib.sha256(template.encode() + b"\0" + text).hexdigest()


def allows(app, db, answer_to: str, answers, now: datetime) -> bool:
    """Whether the ``answers`` (``compose.Outgoing``) to one inbound mail may go out now."""
    rows = outbox_rows.answers_since(db, answer_to, now - WINDOW)
    if len({inbox_id for inbox_id, _, _ in rows}) >= app.config.limits.answers_per_address_per_hour:
        return False
    sent = {fingerprint(template, raw) for _, template, raw in rows}
    return not sent.intersection(fingerprint(m.template, m.raw) for m in answers)


def confirmations_allowed(app, db, order_id: int, templates, now: datetime) -> bool:
    """Requests to confirm go to the registered party; per order, a forger who changes the From
    of each mail cannot flood them either."""
    limit = app.config.limits.confirmations_per_order_per_hour
    return all(outbox.recent(db, order_id, t, now) < limit for t in templates)


def is_relay(template: str) -> bool:
    return template in RELAYS


def relays_allowed(app, db, order_id: int, now: datetime) -> bool:
    sent = sum(outbox.recent(db, order_id, template, now) for template in RELAYS)
    return sent < app.config.limits.relays_per_order_per_hour


def operators_told(db, order_id: int, now: datetime) -> bool:
    """Whether the operators heard in the last ``TOLD_HOURS`` that this order's relays are held."""
    return outbox.recent(db, order_id, f"operator.{CAPPED}", now, hours=TOLD_HOURS) > 0
