"""The case file's ``dispute_outcome``: what was paid back is the operators' amount when the
operators decided (a correction's included), not the shop's earlier answer."""

from __future__ import annotations

from decimal import Decimal

from builders import AMOUNT, CLOSED, case
from mailbot.casefile.case_json import dispute_outcome
from mailbot.core.model import Outcome, RefundChoice


def entry(kind: str, text: str) -> dict:
    return {"kind": kind, "text": text}


def test_the_operators_amount_is_what_was_refunded_the_shop_answer_stays_its_choice():
    refused = dict(refund_choice=RefundChoice.NO, refund_amount=Decimal("0.00"))
    decided = case(CLOSED, outcome=Outcome.COMPENSATED, **refused)
    entries = [entry("operator.amount", "120.00"), entry("operator.amount", "35.50")]
    assert dispute_outcome(decided, entries) == {
        "outcome_code": "compensated", "refund_choice": "no",
        "amount_refunded": {"currency_code": "EUR", "value": "35.50"}}
    rejected = case(CLOSED, outcome=Outcome.CLAIM_REJECTED, **refused)
    assert dispute_outcome(rejected, entries)["amount_refunded"] is None
    purged = [entry("operator.amount", "")]  # purge blanks operators' texts
    assert dispute_outcome(decided, purged)["amount_refunded"] is None
    # Not the operators' outcome: the shop's answer is what was refunded.
    agreed = case(CLOSED, outcome=Outcome.REFUND_RECEIVED, refund_choice=RefundChoice.YES,
                  refund_amount=AMOUNT)
    assert dispute_outcome(agreed, entries)["amount_refunded"] == {"currency_code": "EUR",
                                                            "value": str(AMOUNT)}
