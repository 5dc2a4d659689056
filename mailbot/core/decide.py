"""The entry points of the core: ``decide(state, event, now, tz) -> Decision``, the actions open to
each party, and the timers a state implies.

Timers are derived from the state rather than stored beside it, so that a saved state and its
timer rows can never disagree: after every decision the shell replaces the order's timer rows
with ``timers(state)``. Likewise the links a mail offers are the actions open in the state the
decision leaves (``actions_for``), so no step lists them by hand.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .case import decide_case, payment_awaited, team_awaits_reply
from .deadlines import merchant_dates, reminder_at
from .effects import Decision
from .events import BuyerAction, Event, PartyMessage, TimerFired, TimerKind
from .model import (
    Action, BUYER_ACTIONS, CaseState, MERCHANT_ACTIONS, ProtectionState, Role, State,
    VARIANT_ACTIONS,
)
from .protection import decide_protection


def decide(state: State, event: Event, now: datetime, tz: ZoneInfo) -> Decision:
    """An open case takes every event; after it closes, the merchant's and the operators' mail
    still concerns the case, and so does the buyer's while a payment or a reply to the team is
    awaited; otherwise the buyer is told the protection has ended."""
    if state.case is not None and (state.case.open or not _from_buyer_or_timer(event)
                                   or payment_awaited(state, event, now, tz)
                                   or team_awaits_reply(state, event, now, tz)):
        return decide_case(state, event, now, tz)
    return decide_protection(state, event, now, tz)


def _from_buyer_or_timer(event: Event) -> bool:
    if isinstance(event, PartyMessage):
        return event.role is Role.BUYER
    return isinstance(event, (BuyerAction, TimerFired))


def actions_for(state: State, role: Role) -> tuple[Action, ...]:
    """The actions a party may take now, offered as links in every mail to them: the buyer's five
    while the protection is active (extending only until it has been extended), then those of
    the case's state and variant; the merchant's three answers while the case awaits them."""
    p, case = state.protection, state.case
    if case is not None and case.open:
        if role is Role.BUYER and case.state is CaseState.AWAITING_MERCHANT:
            return (Action.WITHDRAW,)
        if role is Role.BUYER and case.state is CaseState.AWAITING_BUYER:
            return VARIANT_ACTIONS[case.variant]
        if role is Role.MERCHANT and case.state is CaseState.AWAITING_MERCHANT:
            return MERCHANT_ACTIONS
        return ()
    if role is Role.BUYER and p.state is ProtectionState.ACTIVE:
        return tuple(a for a in BUYER_ACTIONS if not (a is Action.EXTEND and p.extended))
    return ()


def timers(state: State, tz: ZoneInfo) -> list[tuple[TimerKind, datetime]]:
    p, case = state.protection, state.case
    due = []
    if p.state is ProtectionState.ACTIVE:
        if not p.reminder_sent:
            due.append((TimerKind.REMINDER, reminder_at(p.ends_at, tz)))
        due.append((TimerKind.EXPIRY, p.ends_at))
    if case is not None and case.state is CaseState.AWAITING_MERCHANT:
        if not case.nudged:
            due.append((TimerKind.MERCHANT_NUDGE, merchant_dates(case.opened_at, tz).nudge))
        due.append((TimerKind.MERCHANT_DUE, case.merchant_due))
    if case is not None and case.state is CaseState.AWAITING_BUYER:
        due.append((TimerKind.BUYER_DUE, case.buyer_due))
    return due
