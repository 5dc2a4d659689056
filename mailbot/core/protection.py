"""SPEC §2: the protection of one order and the buyer's five actions while it is active.

``PROTECTION_TABLE`` reads like SPEC §2: the reminder described above its table, each row of the
table in SPEC's order, keyed by (protection state, plan, event) with SPEC's conditions as named
guards, then the rules SPEC states in prose (any action on an ended or expired protection; free
text, SPEC §5). ``decide_protection`` takes every event while the order has no open case; the
opening of a case itself is built by ``case.open_case`` so that §3's rules stay in one module.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from . import case as case_rules
from .deadlines import extended_end
from .effects import Decision, Entry, Mail, Result
from .events import BuyerAction, Event, PartyMessage, TimerFired, TimerKind
from .model import BUYER_ACTIONS, Action, EndReason, Plan, ProtectionState, Reason, Role, State
from .table import ANY, Row, find

ACTIVE, ENDED, EXPIRED = ProtectionState.ACTIVE, ProtectionState.ENDED, ProtectionState.EXPIRED
PAID = (Plan.PLUS, Plan.SINGLE)


def decide_protection(state: State, event: Event, now: datetime, tz: ZoneInfo) -> Decision:
    p = state.protection
    found = find(PROTECTION_TABLE, p.state, state.order.plan, state, event, now)
    if found is None:
        return _not_open(state, event)
    return found.then(state, event, now, tz)


# --- the guards ---------------------------------------------------------------------------------

def _reminder_due(state, event, now):
    """Once per end date, and never once the protection has run out."""
    return not state.protection.reminder_sent and now < state.protection.ends_at


def _not_extended(state, event, now):
    return not state.protection.extended


def _extended(state, event, now):
    return state.protection.extended


def _ends_at_passed(state, event, now):
    return now >= state.protection.ends_at


def _from_buyer(state, event, now):
    return not isinstance(event, PartyMessage) or event.role is Role.BUYER


# --- the steps ------------------------------------------------------------------------------------

def _remind(state, event, now, tz):
    p = replace(state.protection, reminder_sent=True)
    return Decision(replace(state, protection=p),
                    mails=(Mail(Role.BUYER, "reminder", {"ends_at": p.ends_at}),),
                    timeline=(Entry("timer", "protection.reminder"),))


def _all_fine(state, event, now, tz):
    p = replace(state.protection, state=ENDED, ended_at=now, end_reason=EndReason.BUYER_CONFIRMED)
    return Decision(replace(state, protection=p),
                    mails=(Mail(Role.BUYER, "protection_ended"),),
                    timeline=(Entry("buyer", "protection.ended", EndReason.BUYER_CONFIRMED),))


def _extend(state, event, now, tz):
    """30 days more; the reminder moves to the new end and may be sent again."""
    ends_at = extended_end(state.protection.ends_at, tz)
    p = replace(state.protection, ends_at=ends_at, extended=True, reminder_sent=False)
    return Decision(replace(state, protection=p),
                    mails=(Mail(Role.BUYER, "extended", {"ends_at": ends_at}),),
                    timeline=(Entry("buyer", "protection.extended", ends_at.isoformat()),))


def _extend_needs_plus(state, event, now, tz):
    """The mail that says extending needs PLUS offers every other action, not "extend" again."""
    others = tuple(a for a in BUYER_ACTIONS if a is not Action.EXTEND)
    return Decision(state, Result.NOT_OPEN, mails=(
        Mail(Role.BUYER, "extend_needs_plus", {"ends_at": state.protection.ends_at}, others),))


def _extend_used(state, event, now, tz):
    return Decision(state, Result.NOT_OPEN, mails=(
        Mail(Role.BUYER, "extend_used", {"ends_at": state.protection.ends_at}),))


def _other_request(state, event: BuyerAction, now, tz):
    """Forwarded to the service team; the buyer gets an acknowledgement."""
    return Decision(
        state,
        mails=(Mail(Role.OPERATOR, "other_request",
                    {"text": event.text, "attachments": event.attachments}),
               Mail(Role.BUYER, "other_received")),
        timeline=(Entry("buyer", "request.other", event.text, event.attachments),),
    )


def _open_case(state, event: BuyerAction, now, tz):
    return case_rules.open_case(state, Reason(event.action.value), event.text,
                                event.attachments, now, tz)


def _expire(state, event, now, tz):
    p = replace(state.protection, state=EXPIRED, ended_at=state.protection.ends_at)
    return Decision(replace(state, protection=p),
                    timeline=(Entry("timer", "protection.expired"),))


def _not_active(state, event, now, tz):
    """A polite mail saying since when the protection is no longer active."""
    p = state.protection
    return Decision(state, Result.NOT_ACTIVE, mails=(
        Mail(Role.BUYER, "not_active", {"since": p.ended_at or p.ends_at, "state": p.state}),))


def _choose_action(state, event, now, tz):
    """Free text with no recognisable request: answered with what the buyer can do."""
    return Decision(state, Result.NOT_OPEN, mails=(Mail(Role.BUYER, "choose_action"),))


# --- the table ------------------------------------------------------------------------------------

PROTECTION_TABLE = (
    # state, plan, event,                                 step,                guard   SPEC §2
    Row(ACTIVE, ANY, TimerKind.REMINDER,                   _remind,             _reminder_due),
    Row(ACTIVE, ANY, Action.ALL_FINE,                      _all_fine),
    Row(ACTIVE, PAID, Action.EXTEND,                       _extend,             _not_extended),
    Row(ACTIVE, Plan.BASIC, Action.EXTEND,                 _extend_needs_plus),
    Row(ACTIVE, PAID, Action.EXTEND,                       _extend_used,        _extended),
    Row(ACTIVE, ANY, Action.OTHER,                         _other_request),
    Row(ACTIVE, ANY, (Action.NOT_RECEIVED, Action.NO_REFUND), _open_case),
    Row(ACTIVE, ANY, TimerKind.EXPIRY,                     _expire,             _ends_at_passed),
    # SPEC in prose
    Row((ENDED, EXPIRED), ANY, (*Action, PartyMessage),    _not_active,         _from_buyer),
    Row(ACTIVE, ANY, PartyMessage,                         _choose_action,      _from_buyer),  # §5
)


def _not_open(state: State, event: Event) -> Decision:
    """The fall-through: nothing changes. A buyer's link that does not apply (a case's link with
    no case) gets the state and the open actions; a timer that no longer applies is ignored."""
    if isinstance(event, TimerFired):
        return Decision(state, Result.IGNORED)
    mails = ()
    if isinstance(event, BuyerAction):
        mails = (Mail(Role.BUYER, "not_open",
                      {"asked": event.action, "state": state.protection.state}),)
    return Decision(state, Result.NOT_OPEN, mails=mails)
