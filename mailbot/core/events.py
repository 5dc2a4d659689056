"""Domain events: what a party, an operator or a timer asks of one order, in the domain's words.

Every state change enters through ``service.plan`` as one of these, whatever its origin (a
mail, a command line, a timer row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .model import Action, Document, Outcome, RefundChoice, Role


class TimerKind(StrEnum):
    REMINDER = "reminder"
    EXPIRY = "expiry"
    MERCHANT_NUDGE = "merchant_nudge"
    MERCHANT_DUE = "merchant_due"
    BUYER_DUE = "buyer_due"


@dataclass(frozen=True)
class BuyerAction:
    action: Action
    text: str = ""
    attachments: tuple[Document, ...] = ()


@dataclass(frozen=True)
class MerchantDecision:
    """A merchant's answer. ``amount_text`` is what they typed; ``amount`` is None if unreadable."""

    choice: RefundChoice | None
    message: str = ""
    amount: Decimal | None = None
    amount_text: str | None = None
    attachments: tuple[Document, ...] = ()


@dataclass(frozen=True)
class PartyMessage:
    """Text and documents a party sent without asking for an action. ``earlier``: documents it
    carried that are in the case file already (passed on before: named, not attached again)."""

    role: Role
    text: str = ""
    attachments: tuple[Document, ...] = ()
    earlier: tuple[Document, ...] = ()


@dataclass(frozen=True)
class OperatorDecide:
    """``amount``: what the merchant refunds or the service pays (None: the order's amount, for
    those two outcomes); the shell checks it against the order and the plan's cover
    (``case.operator_amount_problem``). ``to_buyer``/``to_merchant``: a message for one party in
    place of ``message``."""

    outcome: Outcome
    message: str
    by: str = ""  # who gave the command: the From of the operator's mail, or the CLI's --as
    amount: Decimal | None = None
    to_buyer: str = ""
    to_merchant: str = ""


@dataclass(frozen=True)
class OperatorCorrect:
    """An operator's correction of the outcome an operator decided on a case now closed; the
    amount and the messages per party as for ``OperatorDecide``."""

    outcome: Outcome
    message: str
    by: str = ""
    amount: Decimal | None = None
    to_buyer: str = ""
    to_merchant: str = ""


@dataclass(frozen=True)
class OperatorRequest:
    party: Role
    message: str
    by: str = ""


@dataclass(frozen=True)
class OperatorMessage:
    """Beyond SPEC: the team's own words to one party (``message buyer|merchant``), sent by the
    bot from the case's address so that they are in the case file and the party's reply comes
    back to the bot."""

    party: Role
    message: str
    by: str = ""


@dataclass(frozen=True)
class OperatorPaid:
    """An operator's record that the payment a closed case owes was made, on the day ``on``:
    ``amount``, the last amount decided (the shell reads it from the timeline), and who paid it
    follow from the case."""

    on: date
    amount: Decimal
    by: str = ""


@dataclass(frozen=True)
class MerchantInsolvent:
    pass


@dataclass(frozen=True)
class TimerFired:
    kind: TimerKind


Event = (
    BuyerAction | MerchantDecision | PartyMessage | OperatorDecide | OperatorCorrect
    | OperatorRequest | OperatorMessage | OperatorPaid | MerchantInsolvent | TimerFired
)
