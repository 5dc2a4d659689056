"""Every ending of an inbound mail, and what the bot answers for each.

A stored mail ends in exactly one disposition, recorded on its inbox row: either the core's
``Result`` (the mail became an event; the core's decision says which mails go out) or one of
intake's own ``Ending``s, for mail that never became an event or whose event changed nothing and
is answered by intake (an operator's command that is not open, an answer over the budget).
``REPLIES`` maps each ``Ending`` to the kind of mail it answers with, or to ``None``: silence
(never answer robots, strangers or mail we could not read; Discourse's ``handle_failure`` returns
nil for those). ``intake.finish`` is the one place that records, logs and queues an ending;
answers pass the answer budget (``outbound/budget.py``) there, once.
"""

from __future__ import annotations

from enum import StrEnum

from ..core.effects import Result


class Ending(StrEnum):
    """Intake's own endings; the core's are ``Result``'s (a mail is never ``IGNORED``: only a
    timer or a declaration that no longer applies is)."""

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
    OPERATOR_DONE = "operator_done"  # an operator's ``resend N`` / ``release N`` carried out
    OVER_QUOTA = "over_quota"  # the order's storage quota is used up: not kept, sender told
    QUARANTINED = "quarantined"  # processing failed or never finished twice: set aside
    # A shop's confirmation to its intake address (orders_by_mail/): the shop is told itself.
    ORDER_TAKEN = "order_taken"  # read: the protection started (or the order existed already)
    ORDER_UNREAD = "order_unread"  # a field could not be read: listed in the shop's daily mail
    ORDER_HELD = "order_held"  # not vouched for as the shop's own mail: nothing started


Disposition = Result | Ending

# Every value an inbox row may record (``mailbot inbox --disposition``).
DISPOSITIONS: tuple[str, ...] = tuple(r for r in Result if r is not Result.IGNORED) + tuple(Ending)

# What each ending answers: the kind of mail sent to the party it was matched to (see ``To``).
REPLIES: dict[Ending, str | None] = {
    Ending.DUPLICATE: None,
    Ending.BOUNCE: None,  # never answer a bounce
    Ending.AUTO_REPLY: None,  # RFC 3834 §2: never answer automatic mail
    Ending.UNPARSEABLE: None,
    Ending.BAD_FROM: None,  # whom would we answer? the author is unknown
    Ending.UNMATCHED: None,  # a stranger: no backscatter
    Ending.ORDERS_OFFERED: "choose_action",  # to the buyer, one per open order
    Ending.SENDER_MISMATCH: "confirm_sender",  # to the registered address only
    Ending.RATE_LIMITED: None,
    Ending.OPERATOR_HELP: "command_help",
    Ending.OPERATOR_DONE: "command_done",
    Ending.OVER_QUOTA: "storage_full",  # SPEC §8: a clear answer why the mail was not kept
    Ending.QUARANTINED: None,
    Ending.ORDER_TAKEN: None,
    Ending.ORDER_UNREAD: None,
    Ending.ORDER_HELD: None,
}

# The timeline kind of a party's words that the bot answered without acting on them (a mail to
# a closed case, a form with a mistake, free text with no request in it): kept, with its
# documents, so that operators see what was said. Never an event, and never sent on to the
# other party.
WORDS_ANSWERED = "message.answered"

# Shown to operators in the digest's "held or rejected" counts and by ``mailbot inbox``.
SHOWN_TO_OPERATORS = (
    Ending.SENDER_MISMATCH, Ending.UNMATCHED, Ending.UNPARSEABLE, Ending.BAD_FROM,
    Ending.RATE_LIMITED, Result.BAD_FORM, Ending.OPERATOR_HELP, Ending.OVER_QUOTA,
    Ending.QUARANTINED,
)
