"""SPEC §3 and §4: a case from opening to closing, as one transition table.

``CASE_TABLE`` holds every row of the table in SPEC §3 once, in SPEC's order, keyed by (state,
variant, event) with SPEC's conditions as named guards -- but for the merchant's answer, one row
whose step reads the answer once and picks SPEC's row (or §4's answer to a bad form); then the
few rules SPEC states in prose ("another request" and a late decision as messages, an outcome
that is not the operators'). An event no row takes is "not open": it changes nothing and the party is
told the case's state and the actions that are open. Each step says who is told and why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .deadlines import (
    MERCHANT_ANSWER_DAYS, OPERATOR_PAYMENT_DAYS, buyer_due, deadline, merchant_dates, replies_until,
    team_replies_until,
)
from .effects import Decision, Entry, Mail, Result
from .events import (
    BuyerAction, Event, MerchantDecision, MerchantInsolvent, OperatorCorrect, OperatorDecide,
    OperatorMessage, OperatorPaid, OperatorRequest, PartyMessage, TimerFired, TimerKind,
)
from .model import (
    Action, Case, CaseState, EndReason, Escalation, OPERATOR_OUTCOMES, Outcome,
    ProtectionState, Reason, RefundChoice, Role, State, Variant,
)
from .table import ANY, Row, find

AM, AB, ESC = CaseState.AWAITING_MERCHANT, CaseState.AWAITING_BUYER, CaseState.ESCALATED
OPEN = (AM, AB, ESC)
A, B, C = Variant.A, Variant.B, Variant.C

# Who is told of an escalation or a closing.
EVERYONE = (Role.BUYER, Role.MERCHANT, Role.OPERATOR)
BOTH_PARTIES = (Role.BUYER, Role.MERCHANT)
# An insolvent shop is not told, whatever the case's state: the case is taken from it, the
# service team deals with its administrator directly, and the mail's news would be "the shop is
# insolvent", addressed to the shop.
ALL_BUT_THE_SHOP = (Role.BUYER, Role.OPERATOR)


def open_case(state: State, reason: Reason, text: str, attachments: tuple,
              now: datetime, tz: ZoneInfo) -> Decision:
    """SPEC §3 "Mails on opening"; with an insolvent merchant the case goes straight to the
    service team."""
    case = Case(reason=reason, opened_at=now, merchant_due=merchant_dates(now, tz).due)
    state = replace(state, case=case,
                    protection=replace(state.protection, state=ProtectionState.IN_CASE))
    opened = Entry("buyer", "case.opened", text, attachments)
    if state.merchant_insolvent:
        return _escalate(state, Escalation.MERCHANT_INSOLVENT, opened, tell=ALL_BUT_THE_SHOP)
    return Decision(
        state,
        mails=(Mail(Role.BUYER, "case_opened"),
               Mail(Role.MERCHANT, "case_opened", {"text": text, "attachments": attachments})),
        timeline=(opened,),
    )


def decide_case(state: State, event: Event, now: datetime, tz: ZoneInfo) -> Decision:
    case = state.case
    awaited = payment_awaited(state, event, now, tz) or (
        case.state is CaseState.CLOSED and team_awaits_reply(state, event, now, tz))
    rows = PAYMENT_AWAITED_TABLE if awaited else CASE_TABLE
    found = find(rows, case.state, case.variant, state, event, now)
    if found is None:
        return _not_open(state, event)
    return found.then(state, event, now, tz)


def payment_awaited(state: State, event: Event, now: datetime, tz: ZoneInfo) -> bool:
    """Beyond SPEC: a closing that promises a payment (the shop's refund or our compensation,
    decided by the operators) asks the buyer to reply if the money does not arrive, so until 14
    days after its pay-by date a party's message on the closed case still goes to the service
    team (``_relay``) instead of being refused; the case stays closed."""
    case = state.case  # only a closed case has an outcome
    return (case.outcome in PAID_OUTCOMES
            and isinstance(event, PartyMessage) and event.role is not Role.OPERATOR
            and now < replies_until(case.closed_at, tz))


def team_awaits_reply(state: State, event: Event, now: datetime, tz: ZoneInfo) -> bool:
    """Beyond SPEC: the team wrote to a party (``_team_message``), whose mail says "reply to this
    e-mail": until TEAM_REPLY_DAYS after it a party's message goes to the team (``_relay``),
    whatever the case's state, a closed one included (it stays closed)."""
    wrote_at = state.case.team_wrote_at
    return (wrote_at is not None and isinstance(event, PartyMessage)
            and event.role is not Role.OPERATOR and now < team_replies_until(wrote_at, tz))


# --- SPEC §4: the merchant's answer -----------------------------------------------------------

def decision_problems(event: MerchantDecision, order_amount: Decimal) -> tuple[str, ...]:
    """What is wrong with a merchant's answer (SPEC §4), in the order the mail lists it."""
    problems = []
    if event.choice is None:
        problems.append("choice_missing")
    if event.amount_text is not None:
        if event.amount is None:
            problems.append("amount_unreadable")
        elif event.amount <= 0 and event.choice is not RefundChoice.NO:
            problems.append("amount_not_positive")
        elif event.amount > order_amount:
            problems.append("amount_too_high")
    if not event.message.strip():
        problems.append("message_missing")
    return tuple(problems)


def refund_amount(event: MerchantDecision, order_amount: Decimal) -> Decimal:
    """No refund is 0.00; a refund without an amount is the order amount (SPEC §4)."""
    if event.choice is RefundChoice.NO:
        return Decimal("0.00")
    return order_amount if event.amount_text is None else event.amount


def merchant_answer(state: State, event: MerchantDecision) -> Variant | Escalation | None:
    """Which of SPEC §3's four decision rows an answer takes: variant A, B or C, the escalation of
    a refused refund, or None when the answer is not valid."""
    order_amount = state.order.amount
    if decision_problems(event, order_amount):
        return None
    if event.choice is RefundChoice.NO:
        if state.case.reason is Reason.NO_REFUND:
            return Escalation.MERCHANT_REFUSED_REFUND
        return C
    return A if refund_amount(event, order_amount) == order_amount else B


# --- the guards ---------------------------------------------------------------------------------

def _before_merchant_due(state, event, now):
    """A nudge whose deadline has passed is never sent (after downtime the escalation follows)."""
    return not state.case.nudged and now < state.case.merchant_due


def _merchant_due_passed(state, event, now):
    return now >= state.case.merchant_due


def _buyer_due_passed(state, event, now):
    return now >= state.case.buyer_due


def _operator_outcome(state, event, now):
    return event.outcome in OPERATOR_OUTCOMES


def _corrects_an_operator_decision(state, event, now):
    """Only an outcome the operators decided is theirs to correct, and only into another one."""
    return (state.case.outcome in OPERATOR_OUTCOMES and event.outcome in OPERATOR_OUTCOMES
            and event.outcome != state.case.outcome)


def payment_owed(state, event, now):
    """A closed case whose outcome promises a payment that nobody has recorded as made since the
    amount was last decided; a correction decides a new amount, owed anew."""
    return state.case.outcome in PAID_OUTCOMES and not state.case.payment_recorded


def _not_escalated_yet(state, event, now):
    return state.case.state is not ESC  # an escalated case is with the service team already


# --- the steps ------------------------------------------------------------------------------------

def _nudge(state, event, now, tz):
    """Reminder to the merchant with tips (seeds 003/004); the merchant alone is told."""
    return Decision(replace(state, case=replace(state.case, nudged=True)),
                    mails=(Mail(Role.MERCHANT, "nudge"),),
                    timeline=(Entry("timer", "merchant.nudged"),))


def _merchant_decision(state, event: MerchantDecision, now, tz):
    """SPEC §3's four decision rows and §4's bad form, told apart by one reading of the answer
    (``merchant_answer``): no row depends on the order of the others."""
    answer = merchant_answer(state, event)
    if answer is None:
        return _bad_decision(state, event)
    if answer is Escalation.MERCHANT_REFUSED_REFUND:
        return _merchant_refused(state, event)
    return _merchant_answered(state, event, answer, now, tz)


def _merchant_answered(state, event: MerchantDecision, variant: Variant, now, tz):
    """Variant A, B or C: the buyer gets the decision and the merchant an acknowledgement."""
    case = replace(_answered(state, event).case, state=AB, variant=variant,
                   buyer_due=buyer_due(now, tz))
    data = {"message": event.message, "attachments": event.attachments}
    return Decision(replace(state, case=case),
                    mails=(Mail(Role.BUYER, "decision", data),
                           Mail(Role.MERCHANT, "decision_recorded", data)),
                    timeline=(_decision_entry(event),))


def _merchant_refused(state, event: MerchantDecision):
    """Refused refund of a "no refund" case: escalated, and everyone is told (SPEC §3). The
    merchant's escalation mail records their answer and explanation: one mail, not an
    acknowledgement beside it in the same second."""
    return _escalate(_answered(state, event), Escalation.MERCHANT_REFUSED_REFUND,
                     _decision_entry(event), tell=EVERYONE)


def _answered(state: State, event: MerchantDecision) -> State:
    """The merchant's refund choice and amount, kept on the case (shown to operators too)."""
    return replace(state, case=replace(state.case, refund_choice=event.choice,
                                       refund_amount=refund_amount(event, state.order.amount)))


def _decision_entry(event: MerchantDecision) -> Entry:
    return Entry("merchant", "merchant.decision", event.message, event.attachments)


def _bad_decision(state, event: MerchantDecision):
    """SPEC §4: bad input changes nothing; the merchant is told what to correct."""
    return Decision(state, Result.BAD_FORM, mails=(
        Mail(Role.MERCHANT, "bad_decision",
             {"problems": decision_problems(event, state.order.amount),
              "amount_text": event.amount_text}),))


def _merchant_silent(state, event, now, tz):
    return _escalate(state, Escalation.MERCHANT_NO_RESPONSE,
                     Entry("timer", "merchant.no_response"), tell=EVERYONE)


def _withdrawn(state, event: BuyerAction, now, tz):
    return _close(state, Outcome.WITHDRAWN, _buyer_entry("case.withdrawn", event), now,
                  tell=BOTH_PARTIES)


def _refund_received(state, event: BuyerAction, now, tz):
    return _close(state, Outcome.REFUND_RECEIVED, _buyer_entry("buyer.refund_received", event),
                  now, tell=BOTH_PARTIES)


def _buyer_accepted(state, event: BuyerAction, now, tz):
    return _close(state, Outcome.BUYER_ACCEPTED, _buyer_entry("buyer.accepted", event), now,
                  tell=BOTH_PARTIES)


def _buyer_disputes(state, event: BuyerAction, now, tz):
    return _escalate(state, Escalation.BUYER_DISPUTES, _buyer_entry(f"buyer.{event.action}", event),
                     tell=EVERYONE)


def _buyer_entry(kind: str, event: BuyerAction) -> Entry:
    return Entry("buyer", kind, event.text, event.attachments)


def _buyer_silent(state, event, now, tz):
    return _close(state, Outcome.NO_REACTION, Entry("timer", "buyer.no_reaction"), now,
                  tell=BOTH_PARTIES)


def _documents_requested(state, event: OperatorRequest, now, tz):
    """The request goes to the party named; their reply is a message, relayed to operators. The
    team is told it went out, so that whoever sent the command knows and nobody sends it twice,
    with the date the party's mail asks a reply by (compose: a shop's time to answer a case)."""
    return Decision(
        state,
        mails=(Mail(event.party, "documents_requested", {"message": event.message}),
               _command_done(f"request-documents {event.party}", event, party=event.party,
                             reply_by=deadline(now, MERCHANT_ANSWER_DAYS, tz))),
        timeline=(Entry("operator", "operator.request_documents",
                        f"{event.party}: {event.message}", by=event.by),),
    )


def _team_message(state, event: OperatorMessage, now, tz):
    """Beyond SPEC: the team's own message to one party, on a case in any state (a question on
    a closed case, about a payment, is answered too). Nothing changes and no deadline moves;
    the message goes out from the case's address, so it is in the case file and the party's
    reply comes back to the bot and then to the team (``team_awaits_reply``); the team is told
    it went out, as for every command."""
    return Decision(
        replace(state, case=replace(state.case, team_wrote_at=now)),
        mails=(Mail(event.party, "team_message", {"message": event.message}),
               _command_done(f"message {event.party}", event, party=event.party)),
        timeline=(Entry("operator", "operator.message", f"{event.party}: {event.message}",
                        by=event.by),),
    )


PAID_OUTCOMES = (Outcome.REFUNDED_BY_MERCHANT, Outcome.COMPENSATED)


def paid_days(state: State, on: date, today: date, tz: ZoneInfo) -> tuple[date, date] | None:
    """The days a payment may be recorded as made on, from the decision's day to today, when
    ``on`` lies outside them; None when it lies inside or the case owes no payment (answered
    apart). A day before the decision or after today would put a false day in the audit trail."""
    case = state.case
    if case is None or case.closed_at is None or case.outcome not in PAID_OUTCOMES:
        return None
    first = case.closed_at.astimezone(tz).date()
    return None if first <= on <= today else (first, today)


def operator_amount_problem(state: State, outcome: Outcome, amount: Decimal | None,
                            cover: Decimal | None) -> str | None:
    """Why an operator's amount cannot be decided (one line), or None. A refund or compensation
    is more than zero and at most the order's amount; a compensation also at most the plan's
    ``cover`` (None: no cap); without an amount the order's amount must fit the same bounds."""
    if outcome not in PAID_OUTCOMES:
        return None if amount is None else f"{outcome} takes no amount"
    paid = state.order.amount if amount is None else amount
    if paid <= 0:
        return f"the amount must be more than zero, not {paid}"
    if paid > state.order.amount:
        return f"{paid} is more than the order's amount of {state.order.amount}"
    if outcome is Outcome.COMPENSATED and cover is not None and paid > cover:
        said = "the order's amount " if amount is None else ""
        return (f"{said}{paid} is more than the {state.order.plan} plan's cover of {cover}: "
                "give an amount within it")
    return None


def _operator_decided(state, event: OperatorDecide, now, tz):
    """Both parties are told the outcome, each with their message; for a refund or compensation
    also how much (``_paid``)."""
    text, data, entries = _operator_said(state, event, now, tz)
    entries = (Entry("operator", "operator.decision", text, by=event.by),) + entries
    closed = _close(state, event.outcome, entries[0], now, tell=())
    command = _command_done(f"decide {event.outcome}", event, text, **_as_decided(event, data))
    # The amount goes right after the decision, before the closing the decision made.
    return replace(closed, mails=_to_both_parties(event, data) + (command,),
                   timeline=closed.timeline[:1] + entries[1:] + closed.timeline[1:])


def _operator_corrected(state, event: OperatorCorrect, now, tz):
    """The case stays closed with the corrected outcome; both parties get the closing mail again,
    saying it corrects the earlier one, which it names (``previous``), with the amount and day
    of a refund or compensation, as a decision has; and the team is told it went out."""
    text, data, paid = _operator_said(state, event, now, tz)
    case = replace(state.case, outcome=event.outcome)
    return Decision(
        replace(state, case=case),
        mails=_to_both_parties(event, dict(data, corrected=True, previous=state.case.outcome))
        + (_command_done(f"correct {event.outcome}", event, text,
                         **_as_decided(event, data), corrected=True),),
        timeline=(Entry("operator", "operator.correction",
                        f"{state.case.outcome} -> {event.outcome}: {text}", by=event.by),)
        + paid + (Entry("bot", "case.closed", event.outcome),),
    )


def _operator_said(state, event, now, tz) -> tuple[str, dict, tuple]:
    """An operator's outcome: its text for the timeline (one message, or one per party), the
    mails' data, and the timeline's amount entry of a refund or compensation: how much (the
    order's amount when the operator named none, and the mail says so) and the day it is paid
    by."""
    text = event.message or f"buyer: {event.to_buyer}\nmerchant: {event.to_merchant}"
    data, amount = {"outcome": event.outcome}, ()
    if event.outcome in PAID_OUTCOMES:
        paid = state.order.amount if event.amount is None else event.amount
        data.update(amount=paid, whole_order=event.amount is None,
                    paid_by=deadline(now, OPERATOR_PAYMENT_DAYS, tz))
        amount = (Entry("operator", "operator.amount", str(paid), by=event.by),)
    return text, data, amount


def _to_both_parties(event, data: dict) -> tuple[Mail, ...]:
    return tuple(Mail(role, "case_closed", dict(data, message=said))
                 for role, said in ((Role.BUYER, event.to_buyer or event.message),
                                    (Role.MERCHANT, event.to_merchant or event.message)))


def _as_decided(event, data: dict) -> dict:
    """What the team's confirmation of an operator's outcome states: the parties' ``data``
    (outcome, amount, pay-by date) and each party's own message, if the operator wrote two."""
    return dict(data, to_buyer=event.to_buyer, to_merchant=event.to_merchant)


def _command_done(command: str, event, message: str | None = None, **decided) -> Mail:
    """To the whole team: which command went out, given by whom, with its message; for a
    decision or correction also what was ``decided`` (``_as_decided``)."""
    return Mail(Role.OPERATOR, "command_done", {
        "command": command, "message": event.message if message is None else message,
        "by": event.by, **decided})


def _payment_recorded(state, event: OperatorPaid, now, tz):
    """Beyond SPEC: the team records that the refund or compensation was paid (on the day the
    operator names); the parties are not told, the team is, so that nobody pays it twice. The
    digest then no longer lists the case among the payments to check."""
    payer = "merchant" if state.case.outcome is Outcome.REFUNDED_BY_MERCHANT else "protection"
    return Decision(
        replace(state, case=replace(state.case, payment_recorded=True)),
        mails=(_command_done("paid", event, "", paid={"amount": event.amount, "payer": payer,
                                                       "on": event.on}),),
        timeline=(Entry("operator", "operator.paid", f"{event.amount} {payer} {event.on}",
                        by=event.by),),
    )


def _not_an_operator_outcome(state, event: OperatorDecide, now, tz):
    """``decide withdrawn``: changes nothing, and the operators get the command list back."""
    return Decision(state, Result.BAD_FORM, mails=(
        Mail(Role.OPERATOR, "command_help", {"asked": f"decide {event.outcome}"}),))


def _merchant_insolvent(state, event, now, tz):
    return _escalate(state, Escalation.MERCHANT_INSOLVENT, Entry("operator", "merchant.insolvent"),
                     tell=ALL_BUT_THE_SHOP)


def _relay(state, event, now, tz):
    """Text or documents without an action: kept on the case and relayed to whoever acts next —
    the service team once escalated or closed (``payment_awaited``) or while it awaits a reply
    to its own message (``team_awaits_reply``), else the other party; the
    sender gets an acknowledgement.
    Documents of the case file sent again are named, not attached again."""
    role, text, attachments = _said(event)
    if state.case.state in (ESC, CaseState.CLOSED) or team_awaits_reply(state, event, now, tz):
        to = Role.OPERATOR
    else:
        to = Role.MERCHANT if role is Role.BUYER else Role.BUYER
    relayed = {"from_role": role, "text": text, "attachments": attachments}
    if isinstance(event, PartyMessage) and event.earlier:
        relayed["earlier"] = event.earlier
    return Decision(
        state,
        mails=(Mail(to, "message_relayed", relayed),
               Mail(role, "message_received", {"to_role": to})),
        timeline=(Entry(str(role), "message", text, attachments),),
    )


def _said(event) -> tuple[Role, str, tuple]:
    """Who wrote, what, and with which documents, for any event that carries a party's words."""
    if isinstance(event, MerchantDecision):
        return Role.MERCHANT, event.message, event.attachments
    if isinstance(event, BuyerAction):
        return Role.BUYER, event.text, event.attachments
    return event.role, event.text, event.attachments


# --- the table ------------------------------------------------------------------------------------

CASE_TABLE = (
    # state, variant, event,                     step,                 guard          SPEC §3
    Row(AM, ANY, TimerKind.MERCHANT_NUDGE,        _nudge,               _before_merchant_due),
    Row(AM, ANY, MerchantDecision,                _merchant_decision),  # A, B, C, refused; §4
    Row(AM, ANY, TimerKind.MERCHANT_DUE,          _merchant_silent,     _merchant_due_passed),
    Row(AM, ANY, Action.WITHDRAW,                 _withdrawn),
    Row(AB, A, Action.REFUND_RECEIVED,            _refund_received),
    Row(AB, A, Action.REFUND_NOT_RECEIVED,        _buyer_disputes),
    Row(AB, B, Action.REFUND_RECEIVED,            _refund_received),  # "as for A"
    Row(AB, B, Action.REFUND_NOT_RECEIVED,        _buyer_disputes),   # "as for A"
    Row(AB, B, Action.REJECT_PARTIAL,             _buyer_disputes),
    Row(AB, C, Action.ACCEPT,                     _buyer_accepted),
    Row(AB, C, Action.DISAGREE,                   _buyer_disputes),
    Row(AB, ANY, TimerKind.BUYER_DUE,             _buyer_silent,        _buyer_due_passed),
    Row(ESC, ANY, OperatorRequest,                _documents_requested),
    Row(ESC, ANY, OperatorDecide,                 _operator_decided,    _operator_outcome),
    Row(OPEN, ANY, MerchantInsolvent,             _merchant_insolvent,  _not_escalated_yet),
    Row(OPEN, ANY, PartyMessage,                  _relay),
    # SPEC in prose
    Row(OPEN, ANY, Action.OTHER,                  _relay),  # another request: a message
    Row(ESC, ANY, MerchantDecision,               _relay),  # late: evidence for the operators
    Row(ESC, ANY, OperatorDecide,                 _not_an_operator_outcome),
    # Beyond SPEC: an operator's decision corrected after the close (``case ID correct``)
    Row(CaseState.CLOSED, ANY, OperatorCorrect,   _operator_corrected,
        _corrects_an_operator_decision),
    # Beyond SPEC: the payment a decision promised, recorded as made (``case ID paid``)
    Row(CaseState.CLOSED, ANY, OperatorPaid,      _payment_recorded,    payment_owed),
    # Beyond SPEC: the team's message to a party, on any case (``message buyer|merchant``)
    Row((*OPEN, CaseState.CLOSED), ANY, OperatorMessage, _team_message),
)

# Beyond SPEC: a closed case while its payment is awaited (``payment_awaited``) takes only this.
PAYMENT_AWAITED_TABLE = (
    Row(CaseState.CLOSED, ANY, PartyMessage,      _relay),
)


# --- shared steps ---------------------------------------------------------------------------------

def _escalate(state: State, reason: Escalation, entry: Entry, *,
              tell: tuple[Role, ...]) -> Decision:
    case = replace(state.case, state=ESC, escalation_reason=reason)
    mails = tuple(Mail(role, "case_escalated", {"reason": reason}) for role in tell)
    return Decision(replace(state, case=case), mails=mails,
                    timeline=(entry, Entry("bot", "case.escalated", reason)))


def _close(state: State, outcome: Outcome, entry: Entry, now: datetime, *,
           tell: tuple[Role, ...], message: str = "") -> Decision:
    """Closing a case ends the protection (SPEC §2: "when the case closes ... ended")."""
    case = replace(state.case, state=CaseState.CLOSED, outcome=outcome, closed_at=now)
    protection = replace(state.protection, state=ProtectionState.ENDED, ended_at=now,
                         end_reason=EndReason.CASE_CLOSED)
    data = {"outcome": outcome, "message": message}
    return Decision(replace(state, case=case, protection=protection),
                    mails=tuple(Mail(role, "case_closed", data) for role in tell),
                    timeline=(entry, Entry("bot", "case.closed", outcome)))


def _not_open(state: State, event: Event) -> Decision:
    """The fall-through: nothing changes. A party that asked is told the case's state (its mail
    lists the actions open now); a timer or a declaration that no longer applies is ignored."""
    case = state.case
    if isinstance(event, (TimerFired, MerchantInsolvent)):
        return Decision(state, Result.IGNORED)
    if isinstance(event, (OperatorDecide, OperatorCorrect, OperatorRequest, OperatorPaid)):
        return Decision(state, Result.NOT_OPEN)  # the CLI and intake answer operators
    if isinstance(event, PartyMessage):  # only a closed case takes no message
        mails = ()
        if event.role is not Role.OPERATOR:
            mails = (Mail(event.role, "case_closed_already", {"outcome": case.outcome}),)
        return Decision(state, Result.NOT_OPEN, mails=mails)
    role, asked = ((Role.BUYER, event.action) if isinstance(event, BuyerAction)
                   else (Role.MERCHANT, "decision"))
    return Decision(state, Result.NOT_OPEN, mails=(
        Mail(role, "not_open", {"asked": asked, "state": case.state}),))
