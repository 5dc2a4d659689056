"""States and moments for the core's tests, with the expected deadlines written out by hand.

One order, placed on Sunday 1 March 2026 in Amsterdam (CET, UTC+1); the clocks move to CEST
(UTC+2) on Sunday 29 March, inside the periods counted here, so every deadline below also checks
that days are counted on the local calendar.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from mailbot.core.model import (
    Case, CaseState, Document, Order, Plan, Protection, ProtectionState, Reason, RefundChoice,
    State, Variant,
)

TZ = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
ORDER_DATE = date(2026, 3, 1)
AMOUNT = Decimal("50.00")

# Protection: day 30 (Tuesday 31 March, CEST) is the last full day.
ENDS_AT = datetime(2026, 3, 31, 21, 59, 59, tzinfo=UTC)  # 23:59:59 CEST
REMINDER_AT = datetime(2026, 3, 23, 23, 0, tzinfo=UTC)  # 00:00 CET on day 23, Tue 24 March
EXTENDED_END = datetime(2026, 4, 30, 21, 59, 59, tzinfo=UTC)  # day 60, 23:59:59 CEST
EXTENDED_REMINDER_AT = datetime(2026, 4, 22, 22, 0, tzinfo=UTC)  # 00:00 CEST, Thu 23 April

# A case opened on Tuesday 24 March at 11:00 CET.
OPENED = datetime(2026, 3, 24, 10, 0, tzinfo=UTC)
NUDGE_AT = datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # opened + 3 days, 11:00 CET
MERCHANT_DUE = datetime(2026, 3, 29, 21, 59, 59, tzinfo=UTC)  # Sun 29 March 23:59:59 CEST
# The merchant answers on Thursday 26 March at 10:00 CET.
ANSWERED = datetime(2026, 3, 26, 9, 0, tzinfo=UTC)
BUYER_DUE = datetime(2026, 4, 15, 21, 59, 59, tzinfo=UTC)  # Wed 15 April 23:59:59 CEST

DOCS = (Document("bon.pdf", "ab" * 32, "application/pdf", 1234),)


def order(plan=Plan.PLUS) -> Order:
    return Order(1, "shop", "NL-1", ORDER_DATE, AMOUNT, "EUR", "b@x.example", "nl", plan)


def protection(plan=Plan.PLUS, state=ProtectionState.ACTIVE, **changes) -> State:
    return State(order(plan), replace(Protection(state, ENDS_AT), **changes))


def case(case_state=CaseState.AWAITING_MERCHANT, variant=None, reason=Reason.NOT_RECEIVED,
         insolvent=False, **changes) -> State:
    c = Case(reason, OPENED, case_state, id=1, variant=variant, merchant_due=MERCHANT_DUE)
    if case_state is CaseState.AWAITING_BUYER:
        c = replace(c, buyer_due=BUYER_DUE, refund_choice=RefundChoice.YES, refund_amount=AMOUNT)
    return State(order(), Protection(ProtectionState.IN_CASE, ENDS_AT), replace(c, **changes),
                 insolvent)


AM = CaseState.AWAITING_MERCHANT
AB = CaseState.AWAITING_BUYER
ESC = CaseState.ESCALATED
CLOSED = CaseState.CLOSED
A, B, C = Variant.A, Variant.B, Variant.C
