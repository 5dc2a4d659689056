"""The domain's nouns: orders, protections and cases as frozen values, and the names of SPEC §2-§4.

States, reasons, outcomes and actions are ``StrEnum`` members spelled exactly as in the SPEC, so
they go to SQLite and JSON unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


LOCALES = ("nl", "fr", "it")  # every mail exists in these languages (SPEC §6)


class Role(StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"
    OPERATOR = "operator"


class Plan(StrEnum):
    BASIC = "basic"
    PLUS = "plus"
    SINGLE = "single"


class ProtectionState(StrEnum):
    ACTIVE = "active"
    IN_CASE = "in_case"
    ENDED = "ended"
    EXPIRED = "expired"


class CaseState(StrEnum):
    AWAITING_MERCHANT = "awaiting_merchant"
    AWAITING_BUYER = "awaiting_buyer"
    ESCALATED = "escalated"
    CLOSED = "closed"


class Variant(StrEnum):
    A = "A"  # full refund promised
    B = "B"  # partial refund promised
    C = "C"  # no refund, the goods were "not received"


class Reason(StrEnum):
    NOT_RECEIVED = "not_received"
    NO_REFUND = "no_refund"


class RefundChoice(StrEnum):
    YES = "yes"
    YES_AFTER_RETURN = "yes_after_return"
    NO = "no"


class Escalation(StrEnum):
    MERCHANT_REFUSED_REFUND = "merchant_refused_refund"
    MERCHANT_NO_RESPONSE = "merchant_no_response"
    BUYER_DISPUTES = "buyer_disputes"
    MERCHANT_INSOLVENT = "merchant_insolvent"


class Outcome(StrEnum):
    WITHDRAWN = "withdrawn"
    REFUND_RECEIVED = "refund_received"
    BUYER_ACCEPTED = "buyer_accepted"
    NO_REACTION = "no_reaction"
    REFUNDED_BY_MERCHANT = "refunded_by_merchant"
    COMPENSATED = "compensated"
    CLAIM_REJECTED = "claim_rejected"


OPERATOR_OUTCOMES = (Outcome.REFUNDED_BY_MERCHANT, Outcome.COMPENSATED, Outcome.CLAIM_REJECTED)

# The operators' commands (SPEC §3, §9), the same words by mail and on the command line:
# verb -> the arguments it takes. Replies, the CLI and the command list in mails read this table.
OPERATOR_COMMANDS = {
    "decide": OPERATOR_OUTCOMES,
    "request-documents": (Role.BUYER, Role.MERCHANT),
    # Beyond SPEC: the team's message to one party, on any case (core.case: _team_message).
    "message": (Role.BUYER, Role.MERCHANT),
}
MESSAGE_COMMAND = "message"
OPERATOR_COMMAND_LINES = tuple(f"{verb} {argument}" for verb, arguments in OPERATOR_COMMANDS.items()
                               for argument in arguments)
# Beyond SPEC: the team records that the refund or compensation a closed case owes was paid, by
# mail (a reply whose first line is "paid", or "paid YYYY-MM-DD") and on the command line
# (``case ID paid``). Apart from OPERATOR_COMMANDS: it acts on a closed case, not an escalated one.
PAID_COMMAND = "paid"


class EndReason(StrEnum):
    BUYER_CONFIRMED = "buyer_confirmed"
    CASE_CLOSED = "case_closed"


class Action(StrEnum):
    """The ``data-action`` names of SPEC §9: what a link in a mail asks for."""

    ALL_FINE = "all_fine"
    NOT_RECEIVED = "not_received"
    NO_REFUND = "no_refund"
    EXTEND = "extend"
    OTHER = "other"
    WITHDRAW = "withdraw"
    REFUND_FULL = "refund_full"
    REFUND_AFTER_RETURN = "refund_after_return"
    REFUND_NONE = "refund_none"
    REFUND_RECEIVED = "refund_received"
    REFUND_NOT_RECEIVED = "refund_not_received"
    REJECT_PARTIAL = "reject_partial"
    ACCEPT = "accept"
    DISAGREE = "disagree"


BUYER_ACTIONS = (Action.ALL_FINE, Action.NOT_RECEIVED, Action.NO_REFUND, Action.EXTEND, Action.OTHER)
MERCHANT_ACTIONS = (Action.REFUND_FULL, Action.REFUND_AFTER_RETURN, Action.REFUND_NONE)
VARIANT_ACTIONS = {
    Variant.A: (Action.REFUND_RECEIVED, Action.REFUND_NOT_RECEIVED),
    Variant.B: (Action.REFUND_RECEIVED, Action.REFUND_NOT_RECEIVED, Action.REJECT_PARTIAL),
    Variant.C: (Action.ACCEPT, Action.DISAGREE),
}
ACTION_CHOICE = {
    Action.REFUND_FULL: RefundChoice.YES,
    Action.REFUND_AFTER_RETURN: RefundChoice.YES_AFTER_RETURN,
    Action.REFUND_NONE: RefundChoice.NO,
}


@dataclass(frozen=True)
class Document:
    """A file a party sent, stored content-addressed; ``name`` is the safe display name."""

    name: str
    sha256: str
    content_type: str = "application/octet-stream"
    size: int = 0


@dataclass(frozen=True)
class Order:
    id: int
    shop_id: str
    order_number: str
    order_date: date
    amount: Decimal
    currency: str
    buyer_email: str
    buyer_locale: str
    plan: Plan


@dataclass(frozen=True)
class Protection:
    state: ProtectionState
    ends_at: datetime
    extended: bool = False
    reminder_sent: bool = False
    ended_at: datetime | None = None
    end_reason: EndReason | None = None


@dataclass(frozen=True)
class Case:
    reason: Reason
    opened_at: datetime
    state: CaseState = CaseState.AWAITING_MERCHANT
    id: int | None = None
    variant: Variant | None = None
    outcome: Outcome | None = None
    escalation_reason: Escalation | None = None
    merchant_due: datetime | None = None
    nudged: bool = False
    buyer_due: datetime | None = None
    refund_choice: RefundChoice | None = None
    refund_amount: Decimal | None = None
    closed_at: datetime | None = None
    # The payment the last decided amount owes has been recorded (``paid``): loaded from the
    # timeline, whose ``operator.paid`` entry is the record.
    payment_recorded: bool = False
    # Beyond SPEC: when the team last wrote to a party (``message``): loaded from the timeline,
    # whose ``operator.message`` entry is the record; the reply is for the team (core.case).
    team_wrote_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state is not CaseState.CLOSED


@dataclass(frozen=True)
class State:
    """Everything a decision about one order needs: the order, its protection and its case."""

    order: Order
    protection: Protection
    case: Case | None = None
    merchant_insolvent: bool = False
