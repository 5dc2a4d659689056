"""The pure core, table-driven: every row of SPEC §2 and §3 as (state, event) -> (result, state,
mails). No database, no mail, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mailbot.core.decide import decide, timers
from mailbot.core.deadlines import add_days, protection_end
from mailbot.core.events import (
    BuyerAction, MerchantDecision, MerchantInsolvent, OperatorDecide, OperatorRequest,
    PartyMessage, TimerFired, TimerKind,
)
from mailbot.core.model import (
    Action as A, Case, CaseState, Order, Outcome, Plan, Protection, ProtectionState as P,
    Reason, RefundChoice as R, Role, State, Variant,
)

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 3, 24, 10, 0, tzinfo=timezone.utc)


def state(plan=Plan.PLUS, protection=P.ACTIVE, extended=False, case=None, insolvent=False):
    order = Order(1, "s", "1", date(2026, 3, 1), Decimal("50.00"), "EUR", "b@x", "nl", plan)
    return State(order, Protection(protection, protection_end(order.order_date, TZ),
                                   extended=extended), case, insolvent)


def with_case(case_state, variant=None, reason=Reason.NOT_RECEIVED):
    case = Case(reason, NOW - timedelta(days=1), case_state, id=1, variant=variant,
                merchant_due=NOW + timedelta(days=4), buyer_due=NOW + timedelta(days=19))
    return state(protection=P.IN_CASE, case=case)


def mails(decision):
    return sorted(m.template for m in decision.mails)


PROTECTION_ROWS = [
    # (state, event, result, protection state after, mail templates)
    (state(), BuyerAction(A.ALL_FINE), "applied", P.ENDED, ["buyer.protection_ended"]),
    (state(), BuyerAction(A.EXTEND), "applied", P.ACTIVE, ["buyer.extended"]),
    (state(Plan.SINGLE), BuyerAction(A.EXTEND), "applied", P.ACTIVE, ["buyer.extended"]),
    (state(Plan.BASIC), BuyerAction(A.EXTEND), "not_open", P.ACTIVE, ["buyer.extend_needs_plus"]),
    (state(extended=True), BuyerAction(A.EXTEND), "not_open", P.ACTIVE, ["buyer.extend_used"]),
    (state(), BuyerAction(A.OTHER, "q"), "applied", P.ACTIVE,
     ["buyer.other_received", "operator.other_request"]),
    (state(), BuyerAction(A.NOT_RECEIVED), "applied", P.IN_CASE,
     ["buyer.case_opened", "merchant.case_opened"]),
    (state(), BuyerAction(A.NO_REFUND), "applied", P.IN_CASE,
     ["buyer.case_opened", "merchant.case_opened"]),
    (state(insolvent=True), BuyerAction(A.NO_REFUND), "applied", P.IN_CASE,
     ["buyer.case_escalated", "operator.case_escalated"]),
    (state(protection=P.ENDED), BuyerAction(A.ALL_FINE), "not_active", P.ENDED,
     ["buyer.not_active"]),
    (state(protection=P.EXPIRED), BuyerAction(A.NOT_RECEIVED), "not_active", P.EXPIRED,
     ["buyer.not_active"]),
    (state(), BuyerAction(A.ACCEPT), "not_open", P.ACTIVE, ["buyer.not_open"]),
    (state(), PartyMessage(Role.BUYER, "hm"), "not_open", P.ACTIVE, ["buyer.choose_action"]),
]


@pytest.mark.parametrize("before, event, result, after, templates", PROTECTION_ROWS)
def test_protection_rows(before, event, result, after, templates):
    decision = decide(before, event, NOW, TZ)
    assert (str(decision.result), decision.state.protection.state, mails(decision)) == (
        result, after, templates)


def test_extension_moves_end_and_reminder():
    s = replace(state(), protection=replace(state().protection, reminder_sent=True))
    d = decide(s, BuyerAction(A.EXTEND), NOW, TZ)
    assert d.state.protection.ends_at == add_days(s.protection.ends_at, 30, TZ)
    due = dict(timers(d.state, TZ))
    assert due[TimerKind.REMINDER] == add_days(d.state.protection.ends_at, -7, TZ)


def test_timers_reminder_then_expiry_without_mail():
    s = state()
    due = dict(timers(s, TZ))
    assert due[TimerKind.REMINDER].astimezone(TZ).date() == date(2026, 3, 24)
    d = decide(s, TimerFired(TimerKind.REMINDER), due[TimerKind.REMINDER], TZ)
    assert mails(d) == ["buyer.reminder"] and d.state.protection.reminder_sent
    d2 = decide(d.state, TimerFired(TimerKind.EXPIRY), s.protection.ends_at, TZ)
    assert d2.state.protection.state is P.EXPIRED and d2.mails == ()


def test_deadlines_keep_local_time_across_dst():
    # 27 March 2026 12:00 CET + 5 days = 1 April 12:00 CEST (the clocks moved on 29 March).
    opened = datetime(2026, 3, 27, 11, 0, tzinfo=timezone.utc)
    due = add_days(opened, 5, TZ)
    assert due.astimezone(TZ).hour == 12 and due - opened == timedelta(days=5, hours=-1)


def decision(choice, amount=None, message="uitleg"):
    return MerchantDecision(choice, message, Decimal(amount) if amount else None,
                            amount if amount else None)


CASE_ROWS = [
    (with_case(CaseState.AWAITING_MERCHANT), TimerFired(TimerKind.MERCHANT_NUDGE),
     "awaiting_merchant", None, ["merchant.nudge"]),
    (with_case(CaseState.AWAITING_MERCHANT), decision(R.YES), "awaiting_buyer", Variant.A,
     ["buyer.decision", "merchant.decision_recorded"]),
    (with_case(CaseState.AWAITING_MERCHANT), decision(R.YES_AFTER_RETURN, "50.00"),
     "awaiting_buyer", Variant.A, ["buyer.decision", "merchant.decision_recorded"]),
    (with_case(CaseState.AWAITING_MERCHANT), decision(R.YES, "12.50"), "awaiting_buyer",
     Variant.B, ["buyer.decision", "merchant.decision_recorded"]),
    (with_case(CaseState.AWAITING_MERCHANT), decision(R.NO), "awaiting_buyer", Variant.C,
     ["buyer.decision", "merchant.decision_recorded"]),
    (with_case(CaseState.AWAITING_MERCHANT, reason=Reason.NO_REFUND), decision(R.NO),
     "escalated", None, ["buyer.case_escalated", "merchant.case_escalated",
                         "merchant.decision_recorded", "operator.case_escalated"]),
    (with_case(CaseState.AWAITING_MERCHANT), BuyerAction(A.WITHDRAW), "closed", None,
     ["buyer.case_closed", "merchant.case_closed"]),
    (with_case(CaseState.AWAITING_BUYER, Variant.A), BuyerAction(A.REFUND_RECEIVED), "closed",
     Variant.A, ["buyer.case_closed", "merchant.case_closed"]),
    (with_case(CaseState.AWAITING_BUYER, Variant.A), BuyerAction(A.REFUND_NOT_RECEIVED),
     "escalated", Variant.A,
     ["buyer.case_escalated", "merchant.case_escalated", "operator.case_escalated"]),
    (with_case(CaseState.AWAITING_BUYER, Variant.B), BuyerAction(A.REJECT_PARTIAL), "escalated",
     Variant.B, ["buyer.case_escalated", "merchant.case_escalated", "operator.case_escalated"]),
    (with_case(CaseState.AWAITING_BUYER, Variant.A), BuyerAction(A.REJECT_PARTIAL),
     "awaiting_buyer", Variant.A, ["buyer.not_open"]),
    (with_case(CaseState.AWAITING_BUYER, Variant.C), BuyerAction(A.ACCEPT), "closed", Variant.C,
     ["buyer.case_closed", "merchant.case_closed"]),
    (with_case(CaseState.AWAITING_BUYER, Variant.C), BuyerAction(A.DISAGREE), "escalated",
     Variant.C, ["buyer.case_escalated", "merchant.case_escalated", "operator.case_escalated"]),
    (with_case(CaseState.ESCALATED), OperatorRequest(Role.BUYER, "docs"), "escalated", None,
     ["buyer.documents_requested"]),
    (with_case(CaseState.ESCALATED), OperatorDecide(Outcome.CLAIM_REJECTED, "nee"), "closed",
     None, ["buyer.case_closed", "merchant.case_closed"]),
    (with_case(CaseState.AWAITING_BUYER, Variant.A), MerchantInsolvent(), "escalated",
     Variant.A, ["buyer.case_escalated", "merchant.case_escalated", "operator.case_escalated"]),
    (with_case(CaseState.AWAITING_MERCHANT), PartyMessage(Role.BUYER, "foto"),
     "awaiting_merchant", None, ["buyer.message_received", "merchant.message_relayed"]),
    (with_case(CaseState.AWAITING_MERCHANT), BuyerAction(A.OTHER, "nog iets"),
     "awaiting_merchant", None, ["buyer.message_received", "merchant.message_relayed"]),
    (with_case(CaseState.ESCALATED), PartyMessage(Role.MERCHANT, "bewijs"), "escalated", None,
     ["merchant.message_received", "operator.message_relayed"]),
]


@pytest.mark.parametrize("before, event, case_state, variant, templates", CASE_ROWS)
def test_case_rows(before, event, case_state, variant, templates):
    d = decide(before, event, NOW, TZ)
    assert (d.state.case.state, d.state.case.variant, mails(d)) == (case_state, variant,
                                                                      templates)
    if case_state == "closed":
        assert d.state.protection.state is P.ENDED


def test_deadline_timers_close_and_escalate():
    s = with_case(CaseState.AWAITING_BUYER, Variant.A)
    d = decide(s, TimerFired(TimerKind.BUYER_DUE), s.case.buyer_due, TZ)
    assert d.state.case.outcome is Outcome.NO_REACTION
    s = with_case(CaseState.AWAITING_MERCHANT)
    early = decide(s, TimerFired(TimerKind.MERCHANT_DUE), NOW, TZ)
    assert str(early.result) == "ignored"
    d = decide(s, TimerFired(TimerKind.MERCHANT_DUE), s.case.merchant_due, TZ)
    assert d.state.case.escalation_reason == "merchant_no_response"
