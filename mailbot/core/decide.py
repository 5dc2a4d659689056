"""The one entry point of the core: ``decide(state, event, now, tz) -> Decision``, and the timers
a state implies.

Timers are derived from the state rather than stored beside it, so that a saved state and its
timer rows can never disagree: after every decision the shell replaces the order's timer rows
with ``timers(state)``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .case import decide_case, open_actions
from .deadlines import MERCHANT_NUDGE_DAYS, add_days, reminder_at
from .effects import Decision
from .events import BuyerAction, Event, PartyMessage, TimerFired, TimerKind
from .model import CaseState, ProtectionState, Role, State
from .protection import decide_protection, open_buyer_actions


def decide(state: State, event: Event, now: datetime, tz: ZoneInfo) -> Decision:
    """An open case takes every event; after it closes, the merchant's and the operators' mail
    still concerns the case, while the buyer is told the protection has ended."""
    if state.case is not None and (state.case.open or not _from_buyer_or_timer(event)):
        return decide_case(state, event, now, tz)
    return decide_protection(state, event, now, tz)


def _from_buyer_or_timer(event: Event) -> bool:
    if isinstance(event, PartyMessage):
        return event.role is Role.BUYER
    return isinstance(event, (BuyerAction, TimerFired))


def actions_for(state: State, role: Role):
    """The actions a party may take now, offered as links in every mail to them."""
    if role is Role.BUYER:
        return open_buyer_actions(state)
    if role is Role.MERCHANT and state.case is not None:
        return open_actions(state.case, role)
    return ()


def timers(state: State, tz: ZoneInfo) -> list[tuple[TimerKind, datetime]]:
    p, case = state.protection, state.case
    due = []
    if p.state is ProtectionState.ACTIVE:
        if not p.reminder_sent and reminder_at(p.ends_at, tz) < p.ends_at:
            due.append((TimerKind.REMINDER, reminder_at(p.ends_at, tz)))
        due.append((TimerKind.EXPIRY, p.ends_at))
    if case is not None and case.state is CaseState.AWAITING_MERCHANT:
        if not case.nudged:
            due.append((TimerKind.MERCHANT_NUDGE, add_days(case.opened_at, MERCHANT_NUDGE_DAYS, tz)))
        due.append((TimerKind.MERCHANT_DUE, case.merchant_due))
    if case is not None and case.state is CaseState.AWAITING_BUYER:
        due.append((TimerKind.BUYER_DUE, case.buyer_due))
    return due
