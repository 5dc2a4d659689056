"""SPEC §3 and §4: a case from opening to closing, as one transition table.

``TRANSITIONS`` reads row for row like the table of SPEC §3: (state, what happened) -> handler.
A pair that is not in the table is not an error; it yields ``Result.NOT_OPEN`` and a mail that
says what the case's state is now and which actions are open.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .deadlines import BUYER_REACTION_DAYS, MERCHANT_ANSWER_DAYS, add_days
from .effects import Decision, Entry, Mail, Result
from .events import (
    BuyerAction, Event, MerchantDecision, MerchantInsolvent, OperatorDecide, OperatorRequest,
    PartyMessage, TimerFired, TimerKind,
)
from .model import (
    Action, Case, CaseState, EndReason, Escalation, MERCHANT_ACTIONS, OPERATOR_OUTCOMES, Outcome,
    ProtectionState, Reason, RefundChoice, Role, State, VARIANT_ACTIONS, Variant,
)

AM, AB, ESC = CaseState.AWAITING_MERCHANT, CaseState.AWAITING_BUYER, CaseState.ESCALATED


def open_actions(case: Case, role: Role) -> tuple[Action, ...]:
    """The links a party may click in the case's current state."""
    if role is Role.BUYER:
        if case.state is AM:
            return (Action.WITHDRAW,)
        if case.state is AB:
            return VARIANT_ACTIONS[case.variant]
    if role is Role.MERCHANT and case.state is AM:
        return MERCHANT_ACTIONS
    return ()


def open_case(state: State, reason: Reason, text: str, attachments: tuple,
              now: datetime, tz: ZoneInfo) -> Decision:
    case = Case(reason=reason, opened_at=now,
                merchant_due=add_days(now, MERCHANT_ANSWER_DAYS, tz))
    state = replace(state, case=case,
                    protection=replace(state.protection, state=ProtectionState.IN_CASE))
    opened = Entry("buyer", "case.opened", text, attachments)
    if state.merchant_insolvent:
        return _escalate(state, Escalation.MERCHANT_INSOLVENT, opened)
    return Decision(
        state,
        mails=(
            Mail(Role.BUYER, "buyer.case_opened", actions=open_actions(case, Role.BUYER)),
            Mail(Role.MERCHANT, "merchant.case_opened",
                 {"text": text, "attachments": attachments},
                 actions=open_actions(case, Role.MERCHANT)),
        ),
        timeline=(opened,),
    )


def decide_case(state: State, event: Event, now: datetime, tz: ZoneInfo) -> Decision:
    case = state.case
    if isinstance(event, MerchantInsolvent):
        # Any open state: the service team takes over.
        if case.state in (AM, AB):
            return _escalate(state, Escalation.MERCHANT_INSOLVENT,
                             Entry("operator", "merchant.insolvent"))
        return Decision(state, Result.IGNORED)
    if isinstance(event, PartyMessage):
        return _message(state, event)
    key = _key(event)
    handler = TRANSITIONS.get((case.state, key))
    if handler is None:
        if isinstance(event, TimerFired):
            return Decision(state, Result.IGNORED)
        return _not_open(state, event)
    return handler(state, event, now, tz)


def _key(event: Event):
    if isinstance(event, BuyerAction):
        return event.action
    if isinstance(event, TimerFired):
        return event.kind
    return type(event)


def _not_open(state: State, event: Event) -> Decision:
    role = Role.MERCHANT if isinstance(event, MerchantDecision) else Role.BUYER
    if isinstance(event, (OperatorDecide, OperatorRequest)):
        return Decision(state, Result.NOT_OPEN)
    asked = event.action if isinstance(event, BuyerAction) else "decision"
    return Decision(state, Result.NOT_OPEN, mails=(
        Mail(role, f"{role}.not_open", {"asked": asked, "state": state.case.state},
             actions=open_actions(state.case, role)),))


# --- the rows of SPEC §3 --------------------------------------------------------------------

def _nudge(state, event, now, tz):
    if state.case.nudged:
        return Decision(state, Result.IGNORED)
    case = replace(state.case, nudged=True)
    return Decision(
        replace(state, case=case),
        mails=(Mail(Role.MERCHANT, "merchant.nudge", actions=open_actions(case, Role.MERCHANT)),),
        timeline=(Entry("timer", "merchant.nudged"),),
    )


def _merchant_due(state, event, now, tz):
    if now < state.case.merchant_due:
        return Decision(state, Result.IGNORED)
    return _escalate(state, Escalation.MERCHANT_NO_RESPONSE, Entry("timer", "merchant.no_response"))


def _merchant_decided(state, event: MerchantDecision, now, tz):
    """Validates the answer (SPEC §4), then picks variant A, B or C, or escalates."""
    order_amount = state.order.amount
    amount = event.amount if event.amount_text is not None else order_amount
    problems = []
    if event.choice is None:
        problems.append("choice_missing")
    if event.amount_text is not None and event.amount is None:
        problems.append("amount_unreadable")
    elif amount is not None and amount <= 0 and event.choice is not RefundChoice.NO:
        problems.append("amount_not_positive")
    elif amount is not None and amount > order_amount:
        problems.append("amount_too_high")
    if not event.message.strip():
        problems.append("message_missing")
    if problems:
        return Decision(state, Result.BAD_FORM, mails=(
            Mail(Role.MERCHANT, "merchant.bad_decision",
                 {"problems": tuple(problems), "amount_text": event.amount_text},
                 actions=open_actions(state.case, Role.MERCHANT)),))

    if event.choice is RefundChoice.NO:
        amount = Decimal("0.00")
    case = replace(state.case, refund_choice=event.choice, refund_amount=amount)
    entry = Entry("merchant", "merchant.decision",
                  event.message, event.attachments)
    decision_data = {"message": event.message, "attachments": event.attachments}
    if event.choice is RefundChoice.NO and case.reason is Reason.NO_REFUND:
        return _escalate(replace(state, case=case), Escalation.MERCHANT_REFUSED_REFUND, entry,
                         merchant_ack=decision_data)
    if event.choice is RefundChoice.NO:
        variant = Variant.C
    elif amount == order_amount:
        variant = Variant.A
    else:
        variant = Variant.B
    case = replace(case, state=AB, variant=variant,
                   buyer_due=add_days(now, BUYER_REACTION_DAYS, tz))
    return Decision(
        replace(state, case=case),
        mails=(
            Mail(Role.BUYER, "buyer.decision", decision_data,
                 actions=open_actions(case, Role.BUYER)),
            Mail(Role.MERCHANT, "merchant.decision_recorded", decision_data),
        ),
        timeline=(entry,),
    )


def _withdraw(state, event, now, tz):
    return _close(state, Outcome.WITHDRAWN, Entry("buyer", "case.withdrawn", event.text), now)


def _refund_received(state, event, now, tz):
    return _close(state, Outcome.REFUND_RECEIVED,
                  Entry("buyer", "buyer.refund_received", event.text), now)


def _buyer_accepts(state, event, now, tz):
    return _close(state, Outcome.BUYER_ACCEPTED, Entry("buyer", "buyer.accepted", event.text), now)


def _buyer_disputes(state, event, now, tz):
    return _escalate(state, Escalation.BUYER_DISPUTES,
                     Entry("buyer", f"buyer.{event.action}", event.text, event.attachments))


def _variant_only(variants, handler):
    def guarded(state, event, now, tz):
        if state.case.variant not in variants:
            return _not_open(state, event)
        return handler(state, event, now, tz)
    return guarded


def _buyer_due(state, event, now, tz):
    if now < state.case.buyer_due:
        return Decision(state, Result.IGNORED)
    return _close(state, Outcome.NO_REACTION, Entry("timer", "buyer.no_reaction"), now)


def _other_request(state, event: BuyerAction, now, tz):
    """"Another request" during a case is a message on the case."""
    return _message(state, PartyMessage(Role.BUYER, event.text, event.attachments))


def _late_decision(state, event: MerchantDecision, now, tz):
    """A decision after escalation is no longer the merchant's to take; it is evidence for the
    operators, so it is relayed to them like any other message."""
    return _message(state, PartyMessage(Role.MERCHANT, event.message, event.attachments))


def _operator_request(state, event: OperatorRequest, now, tz):
    return Decision(
        state,
        mails=(Mail(event.party, f"{event.party}.documents_requested",
                    {"message": event.message}),),
        timeline=(Entry("operator", "operator.request_documents",
                        f"{event.party}: {event.message}"),),
    )


def _operator_decide(state, event: OperatorDecide, now, tz):
    if event.outcome not in OPERATOR_OUTCOMES:
        return Decision(state, Result.BAD_FORM)
    return _close(state, event.outcome, Entry("operator", "operator.decision", event.message),
                  now, message=event.message)


A_B = (Variant.A, Variant.B)

TRANSITIONS = {
    (AM, TimerKind.MERCHANT_NUDGE): _nudge,
    (AM, MerchantDecision): _merchant_decided,
    (AM, TimerKind.MERCHANT_DUE): _merchant_due,
    (AM, Action.WITHDRAW): _withdraw,
    (AB, Action.REFUND_RECEIVED): _variant_only(A_B, _refund_received),
    (AB, Action.REFUND_NOT_RECEIVED): _variant_only(A_B, _buyer_disputes),
    (AB, Action.REJECT_PARTIAL): _variant_only((Variant.B,), _buyer_disputes),
    (AB, Action.ACCEPT): _variant_only((Variant.C,), _buyer_accepts),
    (AB, Action.DISAGREE): _variant_only((Variant.C,), _buyer_disputes),
    (AB, TimerKind.BUYER_DUE): _buyer_due,
    (AM, Action.OTHER): _other_request,
    (AB, Action.OTHER): _other_request,
    (ESC, Action.OTHER): _other_request,
    (ESC, MerchantDecision): _late_decision,
    (ESC, OperatorRequest): _operator_request,
    (ESC, OperatorDecide): _operator_decide,
}


# --- shared steps ---------------------------------------------------------------------------

def _escalate(state: State, reason: Escalation, entry: Entry, merchant_ack=None) -> Decision:
    case = replace(state.case, state=ESC, escalation_reason=reason)
    mails = [Mail(Role.BUYER, "buyer.case_escalated", {"reason": reason})]
    if merchant_ack is not None:
        mails.append(Mail(Role.MERCHANT, "merchant.decision_recorded", merchant_ack))
    if reason is not Escalation.MERCHANT_INSOLVENT or state.case.state is not AM:
        mails.append(Mail(Role.MERCHANT, "merchant.case_escalated", {"reason": reason}))
    mails.append(Mail(Role.OPERATOR, "operator.case_escalated", {"reason": reason}))
    return Decision(replace(state, case=case), mails=tuple(mails),
                    timeline=(entry, Entry("bot", "case.escalated", reason)))


def _close(state: State, outcome: Outcome, entry: Entry, now: datetime,
           message: str = "") -> Decision:
    """Closing a case ends the protection (SPEC §2: "when the case closes ... ended")."""
    case = replace(state.case, state=CaseState.CLOSED, outcome=outcome, closed_at=now)
    protection = replace(state.protection, state=ProtectionState.ENDED, ended_at=now,
                         end_reason=EndReason.CASE_CLOSED)
    data = {"outcome": outcome, "message": message}
    return Decision(
        replace(state, case=case, protection=protection),
        mails=(Mail(Role.BUYER, "buyer.case_closed", data),
               Mail(Role.MERCHANT, "merchant.case_closed", data)),
        timeline=(entry, Entry("bot", "case.closed", outcome)),
    )


def _message(state: State, event: PartyMessage) -> Decision:
    """Text or documents without an action: kept on the case, relayed to whoever acts next."""
    case = state.case
    if not case.open:
        mails = ()
        if event.role in (Role.BUYER, Role.MERCHANT):
            mails = (Mail(event.role, f"{event.role}.case_closed_already",
                          {"outcome": case.outcome}),)
        return Decision(state, Result.NOT_OPEN, mails=mails)
    if case.state is ESC:
        to = Role.OPERATOR
    else:
        to = Role.MERCHANT if event.role is Role.BUYER else Role.BUYER
    data = {"from_role": event.role, "text": event.text, "attachments": event.attachments}
    return Decision(
        state,
        mails=(
            Mail(to, f"{to}.message_relayed", data, actions=open_actions(case, to)),
            Mail(event.role, f"{event.role}.message_received", {"to_role": to},
                 actions=open_actions(case, event.role)),
        ),
        timeline=(Entry(str(event.role), "message", event.text, event.attachments),),
    )
