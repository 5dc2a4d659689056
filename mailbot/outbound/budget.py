"""The answer budget: how often the bot may answer one address (SPEC §5's loop and abuse guard).

An *answer* is a reply to an inbound mail that changes nothing ("no longer open", "choose an
action", "bad form", the operators' command help, the open orders of a buyer who wrote to the
bare address). Mails that carry an applied action's effects are never counted or held back: a
verified party's action is always applied and always told. Answers are counted from the outbox
(``answer_to``), per address and hour: at most ``answers_per_address_per_hour`` inbound mails
answered, and at most one answer with the same template (Discourse sends one rejection per
address and template a day). Mail that did not pass the token and sender checks is counted on a
budget of its own (``unverified``), so a forger never uses up a registered party's answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..store import outbox_rows
from . import outbox

WINDOW = timedelta(hours=1)


def key(address: str, verified: bool = True) -> str:
    address = address.lower()
    return address if verified else f"unverified:{address}"


def allows(app, db, answer_to: str, templates, now: datetime) -> bool:
    """Whether the answers ``templates`` to one inbound mail may go out now."""
    answered, sent = outbox_rows.answers_since(db, answer_to, now - WINDOW)
    return (answered < app.config.limits.answers_per_address_per_hour
            and not sent.intersection(templates))


def queue(db, outgoing, now: datetime, answer_to: str, inbox_id: int) -> None:
    for mail in outgoing:
        outbox.enqueue(db, mail, now, answer_to=answer_to, inbox_id=inbox_id)
