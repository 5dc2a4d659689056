"""SPEC §2: the protection of one order and the buyer's five actions while it is active.

``decide_protection`` handles every event that arrives while the order has no open case; the
opening of a case itself is built by ``case.open_case`` so that §3's rules stay in one module.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from . import case as case_rules
from .deadlines import EXTENSION_DAYS, add_days
from .effects import Decision, Entry, Mail, Result
from .events import BuyerAction, Event, PartyMessage, TimerFired, TimerKind
from .model import (
    Action, BUYER_ACTIONS, EndReason, Plan, ProtectionState, Reason, Role, State,
)


def decide_protection(state: State, event: Event, now: datetime, tz: ZoneInfo) -> Decision:
    p = state.protection
    if isinstance(event, TimerFired):
        return _timer(state, event.kind, now)
    if p.state is not ProtectionState.ACTIVE:
        if isinstance(event, (BuyerAction, PartyMessage)) and _from_buyer(event):
            since = p.ended_at or p.ends_at
            return Decision(state, Result.NOT_ACTIVE, mails=(
                Mail(Role.BUYER, "buyer.not_active", {"since": since, "state": p.state}),))
        return Decision(state, Result.NOT_OPEN)
    if isinstance(event, PartyMessage):
        # Free text with no recognisable request: answer with what the buyer can do.
        if event.role is Role.BUYER:
            return Decision(state, Result.NOT_OPEN, mails=(
                Mail(Role.BUYER, "buyer.choose_action", actions=BUYER_ACTIONS),))
        return Decision(state, Result.NOT_OPEN)
    if not isinstance(event, BuyerAction) or event.action not in BUYER_ACTIONS:
        return _not_open(state, event)
    handler = _ACTIVE[event.action]
    return handler(state, event, now, tz)


def _from_buyer(event) -> bool:
    return isinstance(event, BuyerAction) or event.role is Role.BUYER


def _not_open(state: State, event: Event) -> Decision:
    mails = ()
    if isinstance(event, BuyerAction):
        mails = (Mail(Role.BUYER, "buyer.not_open",
                      {"asked": event.action, "state": state.protection.state},
                      actions=open_buyer_actions(state)),)
    return Decision(state, Result.NOT_OPEN, mails=mails)


def open_buyer_actions(state: State):
    if state.protection.state is ProtectionState.ACTIVE:
        return BUYER_ACTIONS
    if state.case is not None and state.case.open:
        return case_rules.open_actions(state.case, Role.BUYER)
    return ()


def _all_fine(state, event, now, tz):
    p = replace(state.protection, state=ProtectionState.ENDED, ended_at=now,
                end_reason=EndReason.BUYER_CONFIRMED)
    return Decision(
        replace(state, protection=p),
        mails=(Mail(Role.BUYER, "buyer.protection_ended"),),
        timeline=(Entry("buyer", "protection.ended", EndReason.BUYER_CONFIRMED),),
    )


def _extend(state, event, now, tz):
    p = state.protection
    if state.order.plan is Plan.BASIC:
        return Decision(state, Result.NOT_OPEN, mails=(
            Mail(Role.BUYER, "buyer.extend_needs_plus", {"ends_at": p.ends_at},
                 actions=BUYER_ACTIONS),))
    if p.extended:
        return Decision(state, Result.NOT_OPEN, mails=(
            Mail(Role.BUYER, "buyer.extend_used", {"ends_at": p.ends_at},
                 actions=BUYER_ACTIONS),))
    ends_at = add_days(p.ends_at, EXTENSION_DAYS, tz)
    # The reminder moves to the new end and may be sent again.
    p = replace(p, ends_at=ends_at, extended=True, reminder_sent=False)
    return Decision(
        replace(state, protection=p),
        mails=(Mail(Role.BUYER, "buyer.extended", {"ends_at": ends_at}, actions=BUYER_ACTIONS),),
        timeline=(Entry("buyer", "protection.extended", ends_at.isoformat()),),
    )


def _other(state, event, now, tz):
    return Decision(
        state,
        mails=(
            Mail(Role.OPERATOR, "operator.other_request", {"text": event.text,
                                                            "attachments": event.attachments}),
            Mail(Role.BUYER, "buyer.other_received", actions=BUYER_ACTIONS),
        ),
        timeline=(Entry("buyer", "request.other", event.text, event.attachments),),
    )


def _open(state, event, now, tz):
    return case_rules.open_case(state, Reason(event.action.value), event.text,
                                event.attachments, now, tz)


_ACTIVE = {
    Action.ALL_FINE: _all_fine,
    Action.EXTEND: _extend,
    Action.OTHER: _other,
    Action.NOT_RECEIVED: _open,
    Action.NO_REFUND: _open,
}


def _timer(state: State, kind: TimerKind, now: datetime) -> Decision:
    p = state.protection
    if p.state is not ProtectionState.ACTIVE:
        return Decision(state, Result.IGNORED)
    if kind is TimerKind.EXPIRY and now >= p.ends_at:
        p = replace(p, state=ProtectionState.EXPIRED, ended_at=p.ends_at)
        return Decision(replace(state, protection=p),
                        timeline=(Entry("timer", "protection.expired"),))
    if kind is TimerKind.REMINDER and not p.reminder_sent and now < p.ends_at:
        p = replace(p, reminder_sent=True)
        return Decision(
            replace(state, protection=p),
            mails=(Mail(Role.BUYER, "buyer.reminder", {"ends_at": p.ends_at},
                        actions=BUYER_ACTIONS),),
            timeline=(Entry("timer", "protection.reminder"),),
        )
    return Decision(state, Result.IGNORED)
