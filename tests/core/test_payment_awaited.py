"""Beyond SPEC (review items 1-2): a case closed with a payment still to come — the shop's refund
or our compensation, decided by the operators — keeps taking the parties' messages until 14 days
after the pay-by date; they go to the service team and the case stays closed. After that window,
and for every other closing, the rules of a closed case apply. No database, no mail, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from builders import CLOSED, DOCS, TZ, case
from mailbot.core.decide import decide
from mailbot.core.deadlines import replies_until
from mailbot.core.effects import Decision, Entry, Mail, Result
from mailbot.core.events import BuyerAction, PartyMessage
from mailbot.core.model import Action, Document, Outcome, ProtectionState, Role

BUYER, MERCHANT, OPERATOR = Role.BUYER, Role.MERCHANT, Role.OPERATOR
UTC = timezone.utc
# Decided on Monday 20 April 2026 at 12:00 CEST: paid by Monday 4 May, replies taken until the
# end of Monday 18 May (23:59:59 CEST).
DECIDED = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
UNTIL = datetime(2026, 5, 18, 21, 59, 59, tzinfo=UTC)
LAST_SECOND = UNTIL - timedelta(seconds=1)
EARLIER = (Document("factuur.pdf", "cd" * 32, "application/pdf", 99),)


def closed(outcome: Outcome):
    before = case(CLOSED, outcome=outcome, closed_at=DECIDED)
    return replace(before, protection=replace(before.protection, state=ProtectionState.ENDED,
                                              ended_at=DECIDED))


def relayed(before, role: Role, text: str, attachments=(), earlier=()) -> Decision:
    data = {"from_role": role, "text": text, "attachments": attachments}
    if earlier:
        data["earlier"] = earlier
    return Decision(before, mails=(Mail(OPERATOR, "message_relayed", data),
                                   Mail(role, "message_received", {"to_role": OPERATOR})),
                    timeline=(Entry(str(role), "message", text, attachments),))


def test_the_window_ends_14_days_after_the_pay_by_date():
    assert replies_until(DECIDED, TZ) == UNTIL
    # Decided late in the evening: the local date counts, not UTC's.
    assert replies_until(datetime(2026, 4, 20, 22, 30, tzinfo=UTC), TZ) == UNTIL + timedelta(days=1)


@pytest.mark.parametrize("outcome", [Outcome.REFUNDED_BY_MERCHANT, Outcome.COMPENSATED])
@pytest.mark.parametrize("role", [BUYER, MERCHANT])
def test_a_message_while_the_payment_is_awaited_goes_to_the_service_team(outcome, role):
    before = closed(outcome)
    for now in (DECIDED + timedelta(minutes=5), LAST_SECOND):
        assert decide(before, PartyMessage(role, "Nog niets ontvangen.", DOCS), now, TZ) == (
            relayed(before, role, "Nog niets ontvangen.", DOCS))
    # Documents already in the case file are named, not attached again.
    message = PartyMessage(role, "Zie bijlage.", (), EARLIER)
    assert decide(before, message, LAST_SECOND, TZ) == relayed(before, role, "Zie bijlage.",
                                                                earlier=EARLIER)


@pytest.mark.parametrize("outcome", [Outcome.REFUNDED_BY_MERCHANT, Outcome.COMPENSATED])
def test_after_the_window_the_closed_case_takes_no_message(outcome):
    before = closed(outcome)
    assert decide(before, PartyMessage(BUYER, "Nog niets."), UNTIL, TZ) == Decision(
        before, Result.NOT_ACTIVE, mails=(
            Mail(BUYER, "not_active", {"since": DECIDED, "state": ProtectionState.ENDED}),))
    assert decide(before, PartyMessage(MERCHANT, "Betaald."), UNTIL, TZ) == Decision(
        before, Result.NOT_OPEN,
        mails=(Mail(MERCHANT, "case_closed_already", {"outcome": outcome}),))


@pytest.mark.parametrize("outcome", [o for o in Outcome
                                     if o not in (Outcome.REFUNDED_BY_MERCHANT,
                                                  Outcome.COMPENSATED)])
def test_a_closing_that_promises_no_payment_takes_no_message(outcome):
    before = closed(outcome)
    assert decide(before, PartyMessage(BUYER, "Nog iets."), LAST_SECOND, TZ).result is (
        Result.NOT_ACTIVE)
    assert decide(before, PartyMessage(MERCHANT, "Nog iets."), LAST_SECOND, TZ).result is (
        Result.NOT_OPEN)


def test_only_the_parties_messages_are_taken_while_the_payment_is_awaited():
    before = closed(Outcome.COMPENSATED)
    # An operator's stray message gets no mail; a link of an old mail is answered as before.
    assert decide(before, PartyMessage(OPERATOR, "x"), LAST_SECOND, TZ) == Decision(
        before, Result.NOT_OPEN)
    assert decide(before, BuyerAction(Action.OTHER, "Nog niets."), LAST_SECOND, TZ) == Decision(
        before, Result.NOT_ACTIVE, mails=(
            Mail(BUYER, "not_active", {"since": DECIDED, "state": ProtectionState.ENDED}),))
