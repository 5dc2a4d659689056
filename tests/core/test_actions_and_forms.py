"""The links each party is offered (one function, checked against the tables), SPEC §4's checks
of a merchant's answer as a table, and the mail names derived from recipient and kind."""

from __future__ import annotations

from decimal import Decimal

import pytest

from builders import A, AB, AM, AMOUNT, B, C, CLOSED, ESC, TZ, case, protection
from mailbot.core.case import decision_problems, merchant_answer, refund_amount
from mailbot.core.decide import actions_for, decide
from mailbot.core.effects import Mail, Result
from mailbot.core.events import BuyerAction, MerchantDecision
from mailbot.core.model import (
    Action as Act, Escalation, OPERATOR_COMMAND_LINES, OPERATOR_COMMANDS, Outcome, Plan,
    ProtectionState as P, Reason, RefundChoice as R, Role, Variant,
)

FIVE = (Act.ALL_FINE, Act.NOT_RECEIVED, Act.NO_REFUND, Act.EXTEND, Act.OTHER)
ANSWERS = (Act.REFUND_FULL, Act.REFUND_AFTER_RETURN, Act.REFUND_NONE)


@pytest.mark.parametrize("state, buyer, merchant", [
    (protection(), FIVE, ()),
    (protection(Plan.BASIC), FIVE, ()),  # extending answers with the PLUS plan
    (protection(extended=True), (Act.ALL_FINE, Act.NOT_RECEIVED, Act.NO_REFUND, Act.OTHER), ()),
    (protection(state=P.ENDED), (), ()),
    (protection(state=P.EXPIRED), (), ()),
    (case(AM), (Act.WITHDRAW,), ANSWERS),
    (case(AB, A), (Act.REFUND_RECEIVED, Act.REFUND_NOT_RECEIVED), ()),
    (case(AB, B), (Act.REFUND_RECEIVED, Act.REFUND_NOT_RECEIVED, Act.REJECT_PARTIAL), ()),
    (case(AB, C), (Act.ACCEPT, Act.DISAGREE), ()),
    (case(ESC), (), ()),
    (case(CLOSED), (), ()),
])
def test_open_actions(state, buyer, merchant):
    assert actions_for(state, Role.BUYER) == buyer
    assert actions_for(state, Role.MERCHANT) == merchant
    assert actions_for(state, Role.OPERATOR) == ()


@pytest.mark.parametrize("state", [
    protection(), protection(Plan.BASIC), protection(extended=True), protection(state=P.ENDED),
    case(AM), case(AB, A), case(AB, B), case(AB, C), case(ESC)])
@pytest.mark.parametrize("action", [a for a in Act if a not in ANSWERS])  # the merchant's links
def test_a_link_is_offered_exactly_when_the_table_takes_it(state, action):  # are decisions
    """Offered links change something (or, for "extend" on the basic plan, explain the upgrade);
    every other buyer link is answered "not open" or "no longer active"."""
    d = decide(state, BuyerAction(action, "x"), state.case.opened_at if state.case else
               state.protection.ends_at.replace(day=20), TZ)
    offered = action in actions_for(state, Role.BUYER)
    taken = d.result is Result.APPLIED or d.mails[0].kind == "extend_needs_plus"
    # "other" is taken in every open state (a message on the case) but offered only with the
    # protection's five actions; an extended protection still explains "extend" once more.
    if action is Act.OTHER and state.case is not None:
        assert taken
    elif action is Act.EXTEND and state.protection.extended:
        assert not offered and d.mails[0].kind == "extend_used"
    else:
        assert offered == taken, d


def _answer(choice, amount=None, text=None, message="uitleg"):
    return MerchantDecision(choice, message, Decimal(amount) if amount else None, text)


@pytest.mark.parametrize("event, problems", [
    (_answer(R.YES), ()),
    (_answer(R.YES, "50.00", "50,00"), ()),
    (_answer(R.YES, "0.01", "0,01"), ()),
    (_answer(R.NO, "0.00", "0"), ()),
    (_answer(R.NO, "-1.00", "-1"), ()),
    (_answer(None), ("choice_missing",)),
    (_answer(R.YES, None, "twaalf"), ("amount_unreadable",)),
    (_answer(R.NO, None, "twaalf"), ("amount_unreadable",)),
    (_answer(R.YES, "0.00", "0"), ("amount_not_positive",)),
    (_answer(R.YES_AFTER_RETURN, "-5.00", "-5"), ("amount_not_positive",)),
    (_answer(R.YES, "50.01", "50,01"), ("amount_too_high",)),
    (_answer(R.NO, "50.01", "50,01"), ("amount_too_high",)),
    (_answer(R.YES, message=" \n "), ("message_missing",)),
    (_answer(None, None, "?", message=""), ("choice_missing", "amount_unreadable",
                                             "message_missing")),
])
def test_decision_problems(event, problems):
    assert decision_problems(event, AMOUNT) == problems


@pytest.mark.parametrize("event, reason, picked, amount", [
    (_answer(R.YES), Reason.NOT_RECEIVED, Variant.A, AMOUNT),
    (_answer(R.YES_AFTER_RETURN, "50.00", "50"), Reason.NO_REFUND, Variant.A, AMOUNT),
    (_answer(R.YES, "49.99", "49,99"), Reason.NOT_RECEIVED, Variant.B, Decimal("49.99")),
    (_answer(R.NO), Reason.NOT_RECEIVED, Variant.C, Decimal("0.00")),
    (_answer(R.NO, "10.00", "10"), Reason.NOT_RECEIVED, Variant.C, Decimal("0.00")),
    (_answer(R.NO), Reason.NO_REFUND, Escalation.MERCHANT_REFUSED_REFUND, Decimal("0.00")),
    (_answer(R.YES, "0.00", "0"), Reason.NOT_RECEIVED, None, Decimal("0.00")),
])
def test_merchant_answer_picks_the_variant(event, reason, picked, amount):
    assert merchant_answer(case(AM, reason=reason), event) is picked
    assert refund_amount(event, AMOUNT) == amount


def test_mail_names_say_the_recipient_once():
    assert Mail(Role.BUYER, "case_closed").template == "buyer.case_closed"
    with pytest.raises(ValueError, match="names no recipient: 'merchant.case_closed'"):
        Mail(Role.BUYER, "merchant.case_closed")
    with pytest.raises(ValueError):
        Mail(Role.OPERATOR, "operator.digest")
    with pytest.raises(ValueError):
        Mail(Role.BUYER, "buyer.case.closed")  # a kind has no dot


def test_operator_commands_are_one_table():
    assert OPERATOR_COMMANDS == {
        "decide": (Outcome.REFUNDED_BY_MERCHANT, Outcome.COMPENSATED, Outcome.CLAIM_REJECTED),
        "request-documents": (Role.BUYER, Role.MERCHANT),
        "message": (Role.BUYER, Role.MERCHANT)}  # beyond SPEC: ops12a, the team's message
    assert OPERATOR_COMMAND_LINES == (
        "decide refunded_by_merchant", "decide compensated", "decide claim_rejected",
        "request-documents buyer", "request-documents merchant", "message buyer",
        "message merchant")
