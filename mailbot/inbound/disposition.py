"""Every ending of an inbound mail, and what the bot answers for each: one enum, one table.

A stored mail ends in exactly one ``Disposition``, recorded on its inbox row. ``REPLIES`` maps
each disposition to the template of the answer it gets, to ``CORE`` (the core's decision says
which mails go out: the event went through ``service.handle``), or to ``None``: silence (never
answer robots, strangers or mail we could not read; Discourse's ``handle_failure`` returns nil
for those). ``intake.finish`` is the one place that records, logs and queues an ending; answers
pass the answer budget (``outbound/budget.py``) first.
"""

from __future__ import annotations

from enum import StrEnum

from ..core.effects import Result


class Disposition(StrEnum):
    # Through service.handle: the core decided (core.effects.Result).
    APPLIED = "applied"  # the event changed the order or case, or was relayed
    NOT_OPEN = "not_open"  # the action is not open in the current state: answered why
    NOT_ACTIVE = "not_active"  # the protection has ended: answered since when
    BAD_FORM = "bad_form"  # a decision form with problems: the merchant is told which
    # Decided by intake before any event.
    DUPLICATE = "duplicate"  # this Message-ID (or these exact bytes) was processed before
    BOUNCE = "bounce"  # a delivery failure report; marks our mail bounced when it names one
    AUTO_REPLY = "auto_reply"  # RFC 3834 automatic, bulk or list mail, out-of-office notes
    UNPARSEABLE = "unparseable"  # the message could not be read at all
    BAD_FROM = "bad_from"  # not exactly one From address (RFC 5322, DMARC): author unknown
    UNMATCHED = "unmatched"  # no token, no known thread, no known buyer: shown to operators
    ORDERS_OFFERED = "orders_offered"  # a registered buyer wrote to the bare address
    SENDER_MISMATCH = "sender_mismatch"  # valid token from another address: held
    RATE_LIMITED = "rate_limited"  # the answer was over the answer budget: recorded, held
    OPERATOR_HELP = "operator_help"  # an operator's mail without a valid, open command
    QUARANTINED = "quarantined"  # processing failed or never finished twice: set aside
    # A shop's confirmation to its intake address (orders_by_mail/): the shop is told itself.
    ORDER_TAKEN = "order_taken"  # read: the protection started (or the order existed already)
    ORDER_UNREAD = "order_unread"  # a field could not be read: listed in the shop's daily mail
    ORDER_HELD = "order_held"  # not vouched for as the shop's own mail: nothing started

    @classmethod
    def of(cls, result: Result) -> Disposition:
        return _OF_RESULT[result]


CORE = "core"  # the core's decision carries the mails

# What each ending answers: the kind of mail sent to the party it was matched to (see ``To``).
REPLIES: dict[Disposition, str | None] = {
    Disposition.APPLIED: CORE,
    Disposition.NOT_OPEN: CORE,
    Disposition.NOT_ACTIVE: CORE,
    Disposition.BAD_FORM: CORE,
    Disposition.DUPLICATE: None,
    Disposition.BOUNCE: None,  # never answer a bounce
    Disposition.AUTO_REPLY: None,  # RFC 3834 §2: never answer automatic mail
    Disposition.UNPARSEABLE: None,
    Disposition.BAD_FROM: None,  # whom would we answer? the author is unknown
    Disposition.UNMATCHED: None,  # a stranger: no backscatter
    Disposition.ORDERS_OFFERED: "choose_action",  # to the buyer, one per open order
    Disposition.SENDER_MISMATCH: "confirm_sender",  # to the registered address only
    Disposition.RATE_LIMITED: None,
    Disposition.OPERATOR_HELP: "command_help",
    Disposition.QUARANTINED: None,
    Disposition.ORDER_TAKEN: None,
    Disposition.ORDER_UNREAD: None,
    Disposition.ORDER_HELD: None,
}

# Shown to operators in the digest's "held or rejected" counts and by ``mailbot inbox``.
SHOWN_TO_OPERATORS = (
    Disposition.SENDER_MISMATCH, Disposition.UNMATCHED, Disposition.UNPARSEABLE,
    Disposition.BAD_FROM,
    Disposition.RATE_LIMITED, Disposition.BAD_FORM, Disposition.OPERATOR_HELP,
    Disposition.QUARANTINED,
)

_OF_RESULT = {
    Result.APPLIED: Disposition.APPLIED,
    Result.NOT_OPEN: Disposition.NOT_OPEN,
    Result.NOT_ACTIVE: Disposition.NOT_ACTIVE,
    Result.BAD_FORM: Disposition.BAD_FORM,
    Result.IGNORED: Disposition.NOT_OPEN,  # only timers are ignored; a mail is "not open"
}
