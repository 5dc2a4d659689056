"""SPEC §3 row by row: for each row the whole decision — next state, variant, reason or outcome,
deadlines, refund, every mail with its data, every timeline entry — is written out, so a changed
rule, a lost mail or a lost timeline line fails here. No database, no mail, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from builders import (
    A, AB, AM, AMOUNT, ANSWERED, B, BUYER_DUE, C, CLOSED, DOCS, ESC, MERCHANT_DUE, NUDGE_AT,
    OPENED, TZ, case,
)
from mailbot.core.case import CASE_TABLE
from mailbot.core.deadlines import MERCHANT_ANSWER_DAYS, OPERATOR_PAYMENT_DAYS, deadline
from mailbot.core.decide import decide
from mailbot.core.effects import Decision, Entry, Mail, Result
from mailbot.core.events import (
    BuyerAction, MerchantDecision, MerchantInsolvent, OperatorCorrect, OperatorDecide,
    OperatorMessage, OperatorPaid, OperatorRequest, PartyMessage, TimerFired, TimerKind as T,
)
from mailbot.core.model import (
    Action as Act, EndReason, Escalation as Esc, Outcome, ProtectionState, Reason,
    RefundChoice as R, Role, Variant,
)
from mailbot.core.table import ANY
from mailbot.money import parse_amount

BUYER, MERCHANT, OPERATOR = Role.BUYER, Role.MERCHANT, Role.OPERATOR
LATER = ANSWERED + timedelta(days=2)


def answer(choice, amount_text=None, message="Het pakket is onderweg.", docs=DOCS):
    amount = parse_amount(amount_text) if amount_text is not None else None
    return MerchantDecision(choice, message, amount, amount_text, docs)


def escalated(before, reason, entry, tell=(BUYER, MERCHANT, OPERATOR), **case):
    mails = tuple(Mail(role, "case_escalated", {"reason": reason}) for role in tell)
    after = replace(before, case=replace(before.case, state=ESC, escalation_reason=reason, **case))
    return Decision(after, mails=mails,
                    timeline=(entry, Entry("bot", "case.escalated", reason)))


def closed(before, outcome, entry, now, message=""):
    after = replace(
        before,
        case=replace(before.case, state=CLOSED, outcome=outcome, closed_at=now),
        protection=replace(before.protection, state=ProtectionState.ENDED, ended_at=now,
                           end_reason=EndReason.CASE_CLOSED))
    data = {"outcome": outcome, "message": message}
    return Decision(after, mails=(Mail(BUYER, "case_closed", data),
                                  Mail(MERCHANT, "case_closed", data)),
                    timeline=(entry, Entry("bot", "case.closed", outcome)))


def done(decision, command, message, **decided):
    """The team is told a command was carried out (a mail to every operator), with what was
    ``decided``."""
    return replace(decision, mails=decision.mails + (
        Mail(OPERATOR, "command_done",
             {"command": command, "message": message, "by": "", **decided}),))


def to_buyer(before, variant, choice, amount, message="Het pakket is onderweg."):
    data = {"message": message, "attachments": DOCS}
    after = replace(before, case=replace(before.case, state=AB, variant=variant,
                                         refund_choice=choice, refund_amount=amount,
                                         buyer_due=BUYER_DUE))
    return Decision(after, mails=(Mail(BUYER, "decision", data),
                                  Mail(MERCHANT, "decision_recorded", data)),
                    timeline=(Entry("merchant", "merchant.decision", message, DOCS),))


said = "Ik heb het nagekeken."
am, am_refund = case(AM), case(AM, reason=Reason.NO_REFUND)
ab = {v: case(AB, v) for v in Variant}
esc = case(ESC, escalation_reason=Esc.MERCHANT_NO_RESPONSE)


def buyer(action):
    return BuyerAction(action, said, DOCS)


SPEC_ROWS = [
    # (SPEC row, before, event, now, expected decision), in SPEC §3's order
    ("AM nudge", am, TimerFired(T.MERCHANT_NUDGE), NUDGE_AT, Decision(
        replace(am, case=replace(am.case, nudged=True)),
        mails=(Mail(MERCHANT, "nudge"),), timeline=(Entry("timer", "merchant.nudged"),))),
    ("AM decision A: yes", am, answer(R.YES), ANSWERED,
     to_buyer(am, A, R.YES, AMOUNT)),
    ("AM decision A: yes, amount = order amount", am, answer(R.YES, "€ 50,00"), ANSWERED,
     to_buyer(am, A, R.YES, AMOUNT)),
    ("AM decision A: after return", am, answer(R.YES_AFTER_RETURN, "50"), ANSWERED,
     to_buyer(am, A, R.YES_AFTER_RETURN, AMOUNT)),
    ("AM decision B: 0 < amount < order", am, answer(R.YES, "49,99"), ANSWERED,
     to_buyer(am, B, R.YES, Decimal("49.99"))),
    ("AM decision B: one cent", am, answer(R.YES_AFTER_RETURN, "0,01"), ANSWERED,
     to_buyer(am, B, R.YES_AFTER_RETURN, Decimal("0.01"))),
    ("AM decision C: no, not received", am, answer(R.NO), ANSWERED,
     to_buyer(am, C, R.NO, Decimal("0.00"))),
    ("AM decision C: no, amount ignored", am, answer(R.NO, "0"), ANSWERED,
     to_buyer(am, C, R.NO, Decimal("0.00"))),
    ("AM decision no, no refund: escalated", am_refund, answer(R.NO), ANSWERED, escalated(
        am_refund, Esc.MERCHANT_REFUSED_REFUND,
        Entry("merchant", "merchant.decision", "Het pakket is onderweg.", DOCS),
        refund_choice=R.NO, refund_amount=Decimal("0.00"))),
    ("AM merchant_due", am, TimerFired(T.MERCHANT_DUE), MERCHANT_DUE, escalated(
        am, Esc.MERCHANT_NO_RESPONSE, Entry("timer", "merchant.no_response"))),
    ("AM withdraw", am, buyer(Act.WITHDRAW), ANSWERED, closed(
        am, Outcome.WITHDRAWN, Entry("buyer", "case.withdrawn", said, DOCS), ANSWERED)),
    ("AB A refund_received", ab[A], buyer(Act.REFUND_RECEIVED), LATER, closed(
        ab[A], Outcome.REFUND_RECEIVED, Entry("buyer", "buyer.refund_received", said, DOCS),
        LATER)),
    ("AB A refund_not_received", ab[A], buyer(Act.REFUND_NOT_RECEIVED), LATER, escalated(
        ab[A], Esc.BUYER_DISPUTES, Entry("buyer", "buyer.refund_not_received", said, DOCS))),
    ("AB B refund_received", ab[B], buyer(Act.REFUND_RECEIVED), LATER, closed(
        ab[B], Outcome.REFUND_RECEIVED, Entry("buyer", "buyer.refund_received", said, DOCS),
        LATER)),
    ("AB B refund_not_received", ab[B], buyer(Act.REFUND_NOT_RECEIVED), LATER, escalated(
        ab[B], Esc.BUYER_DISPUTES, Entry("buyer", "buyer.refund_not_received", said, DOCS))),
    ("AB B reject_partial", ab[B], buyer(Act.REJECT_PARTIAL), LATER, escalated(
        ab[B], Esc.BUYER_DISPUTES, Entry("buyer", "buyer.reject_partial", said, DOCS))),
    ("AB C accept", ab[C], buyer(Act.ACCEPT), LATER, closed(
        ab[C], Outcome.BUYER_ACCEPTED, Entry("buyer", "buyer.accepted", said, DOCS), LATER)),
    ("AB C disagree", ab[C], buyer(Act.DISAGREE), LATER, escalated(
        ab[C], Esc.BUYER_DISPUTES, Entry("buyer", "buyer.disagree", said, DOCS))),
    *[(f"AB {v} buyer_due", ab[v], TimerFired(T.BUYER_DUE), BUYER_DUE, closed(
        ab[v], Outcome.NO_REACTION, Entry("timer", "buyer.no_reaction"), BUYER_DUE))
      for v in Variant],
    *[(f"ESC request_documents {party}", esc, OperatorRequest(party, "Stuur de bon."), LATER,
       Decision(esc, mails=(Mail(party, "documents_requested", {"message": "Stuur de bon."}),
                            Mail(OPERATOR, "command_done",
                                 {"command": f"request-documents {party}",
                                  "message": "Stuur de bon.", "by": "", "party": party,
                                  "reply_by": deadline(LATER, MERCHANT_ANSWER_DAYS, TZ)})),
                timeline=(Entry("operator", "operator.request_documents",
                                f"{party}: Stuur de bon."),)))
      for party in (BUYER, MERCHANT)],
    # The paid outcomes carry an amount: test_an_operator_decision_states_amount_and_date.
    ("ESC decide claim_rejected", esc, OperatorDecide(Outcome.CLAIM_REJECTED, "Zo besloten."),
     LATER, done(closed(esc, Outcome.CLAIM_REJECTED,
                        Entry("operator", "operator.decision", "Zo besloten."), LATER,
                        message="Zo besloten."), "decide claim_rejected", "Zo besloten.",
          outcome=Outcome.CLAIM_REJECTED, to_buyer="", to_merchant="")),
    # Any open state, merchant insolvent: the shop itself is not told (see core.case).
    ("AM insolvent", am, MerchantInsolvent(), LATER, escalated(
        am, Esc.MERCHANT_INSOLVENT, Entry("operator", "merchant.insolvent"),
        tell=(BUYER, OPERATOR))),
    *[(f"AB {v} insolvent", ab[v], MerchantInsolvent(), LATER, escalated(
        ab[v], Esc.MERCHANT_INSOLVENT, Entry("operator", "merchant.insolvent"),
        tell=(BUYER, OPERATOR))) for v in Variant],
    # Any open state, a party writes without an action: relayed to whoever acts next.
    ("AM buyer writes", am, PartyMessage(BUYER, said, DOCS), LATER, Decision(
        am, mails=(Mail(MERCHANT, "message_relayed",
                        {"from_role": BUYER, "text": said, "attachments": DOCS}),
                   Mail(BUYER, "message_received", {"to_role": MERCHANT})),
        timeline=(Entry("buyer", "message", said, DOCS),))),
    ("AB merchant writes", ab[A], PartyMessage(MERCHANT, said, DOCS), LATER, Decision(
        ab[A], mails=(Mail(BUYER, "message_relayed",
                           {"from_role": MERCHANT, "text": said, "attachments": DOCS}),
                      Mail(MERCHANT, "message_received", {"to_role": BUYER})),
        timeline=(Entry("merchant", "message", said, DOCS),))),
    ("ESC buyer writes", esc, PartyMessage(BUYER, said, DOCS), LATER, Decision(
        esc, mails=(Mail(OPERATOR, "message_relayed",
                         {"from_role": BUYER, "text": said, "attachments": DOCS}),
                    Mail(BUYER, "message_received", {"to_role": OPERATOR})),
        timeline=(Entry("buyer", "message", said, DOCS),))),
]


@pytest.mark.parametrize("before, event, now, expected",
                         [row[1:] for row in SPEC_ROWS], ids=[row[0] for row in SPEC_ROWS])
def test_spec_rows(before, event, now, expected):
    assert decide(before, event, now, TZ) == expected


# --- rules SPEC states outside its table ------------------------------------------------------

def test_another_request_during_a_case_is_a_message_on_the_case():
    for before, to in ((am, MERCHANT), (ab[B], MERCHANT), (esc, OPERATOR)):
        d = decide(before, BuyerAction(Act.OTHER, said, DOCS), LATER, TZ)
        assert d == Decision(before, mails=(
            Mail(to, "message_relayed", {"from_role": BUYER, "text": said, "attachments": DOCS}),
            Mail(BUYER, "message_received", {"to_role": to})),
            timeline=(Entry("buyer", "message", said, DOCS),))


def test_a_document_of_the_case_file_sent_again_is_named_not_attached():
    again = PartyMessage(BUYER, said, (), DOCS)
    d = decide(am, again, LATER, TZ)
    assert d.mails[0] == Mail(MERCHANT, "message_relayed", {
        "from_role": BUYER, "text": said, "attachments": (), "earlier": DOCS})
    assert d.timeline == (Entry("buyer", "message", said, ()),)


def test_a_late_decision_is_evidence_for_the_operators():
    d = decide(esc, answer(R.YES, "50"), LATER, TZ)
    assert d == Decision(esc, mails=(
        Mail(OPERATOR, "message_relayed",
             {"from_role": MERCHANT, "text": "Het pakket is onderweg.", "attachments": DOCS}),
        Mail(MERCHANT, "message_received", {"to_role": OPERATOR})),
        timeline=(Entry("merchant", "message", "Het pakket is onderweg.", DOCS),))


def test_an_outcome_that_is_not_the_operators_gets_the_commands():
    d = decide(esc, OperatorDecide(Outcome.WITHDRAWN, "klaar"), LATER, TZ)
    assert d == Decision(esc, Result.BAD_FORM, mails=(
        Mail(OPERATOR, "command_help", {"asked": "decide withdrawn"}),))


def test_a_bad_answer_changes_nothing_and_says_what_to_correct():
    d = decide(am, answer(R.YES, "60,00", message=" "), ANSWERED, TZ)
    assert d == Decision(am, Result.BAD_FORM, mails=(
        Mail(MERCHANT, "bad_decision", {"problems": ("amount_too_high", "message_missing"),
                                        "amount_text": "60,00"}),))


# --- timers that no longer apply, and not-open -------------------------------------------------

@pytest.mark.parametrize("before, kind, now", [
    (am, T.MERCHANT_NUDGE, MERCHANT_DUE),  # after downtime: the escalation, never the nudge
    (am, T.MERCHANT_NUDGE, MERCHANT_DUE + timedelta(days=1)),
    (case(AM, nudged=True), T.MERCHANT_NUDGE, NUDGE_AT),  # sent once
    (am, T.MERCHANT_DUE, MERCHANT_DUE - timedelta(seconds=1)),  # early
    (ab[A], T.BUYER_DUE, BUYER_DUE - timedelta(seconds=1)),
    (ab[A], T.MERCHANT_DUE, MERCHANT_DUE),  # the merchant has answered
    (esc, T.BUYER_DUE, BUYER_DUE),
    (case(CLOSED, outcome=Outcome.WITHDRAWN), T.MERCHANT_DUE, MERCHANT_DUE),
])
def test_timers_that_do_not_apply_are_ignored(before, kind, now):
    assert decide(before, TimerFired(kind), now, TZ) == Decision(before, Result.IGNORED)


def test_a_nudge_is_sent_until_the_last_second_before_the_deadline():
    d = decide(am, TimerFired(T.MERCHANT_NUDGE), MERCHANT_DUE - timedelta(seconds=1), TZ)
    assert d.mails == (Mail(MERCHANT, "nudge"),) and d.state.case.nudged


def test_catch_up_after_downtime_escalates_without_the_nudge():
    now = MERCHANT_DUE + timedelta(hours=3)
    state, mails = am, []
    for kind in (T.MERCHANT_NUDGE, T.MERCHANT_DUE):
        d = decide(state, TimerFired(kind), now, TZ)
        state, mails = d.state, mails + [m.template for m in d.mails]
    assert mails == ["buyer.case_escalated", "merchant.case_escalated",
                     "operator.case_escalated"]


def test_insolvency_of_an_escalated_case_changes_nothing():
    assert decide(esc, MerchantInsolvent(), LATER, TZ) == Decision(esc, Result.IGNORED)


@pytest.mark.parametrize("before, event, role, asked", [
    (ab[A], buyer(Act.REJECT_PARTIAL), BUYER, Act.REJECT_PARTIAL),  # a link of another variant
    (ab[A], buyer(Act.ACCEPT), BUYER, Act.ACCEPT),
    (ab[C], buyer(Act.REFUND_RECEIVED), BUYER, Act.REFUND_RECEIVED),
    (ab[B], buyer(Act.WITHDRAW), BUYER, Act.WITHDRAW),
    (am, buyer(Act.REFUND_RECEIVED), BUYER, Act.REFUND_RECEIVED),
    (esc, buyer(Act.DISAGREE), BUYER, Act.DISAGREE),
    (am, buyer(Act.REFUND_FULL), BUYER, Act.REFUND_FULL),  # the merchant's link, from the buyer
    (ab[A], answer(R.YES), MERCHANT, "decision"),  # a second answer
    (case(CLOSED, outcome=Outcome.WITHDRAWN), answer(R.YES), MERCHANT, "decision"),
])
def test_actions_not_open_change_nothing_and_say_the_state(before, event, role, asked):
    assert decide(before, event, LATER, TZ) == Decision(before, Result.NOT_OPEN, mails=(
        Mail(role, "not_open", {"asked": asked, "state": before.case.state}),))


@pytest.mark.parametrize("event", [OperatorDecide(Outcome.COMPENSATED, "x"),
                                   OperatorCorrect(Outcome.COMPENSATED, "x"),
                                   OperatorRequest(Role.BUYER, "x")])
@pytest.mark.parametrize("before", [am, ab[A], case(CLOSED, outcome=Outcome.WITHDRAWN)])
def test_operator_commands_act_on_escalated_cases_only(before, event):
    assert decide(before, event, LATER, TZ) == Decision(before, Result.NOT_OPEN)


@pytest.mark.parametrize("event", [buyer(Act.REFUND_RECEIVED), buyer(Act.WITHDRAW),
                                   PartyMessage(BUYER, "nog iets")])
def test_the_buyer_after_the_close_is_told_the_protection_has_ended(event):
    before = case(CLOSED, outcome=Outcome.NO_REACTION)
    before = replace(before, protection=replace(before.protection, state=ProtectionState.ENDED,
                                                ended_at=LATER))
    assert decide(before, event, LATER + timedelta(days=1), TZ) == Decision(
        before, Result.NOT_ACTIVE, mails=(
            Mail(BUYER, "not_active", {"since": LATER, "state": ProtectionState.ENDED}),))
    assert decide(before, TimerFired(T.BUYER_DUE), BUYER_DUE, TZ) == Decision(
        before, Result.IGNORED)


def test_the_merchant_writing_after_the_close_is_told_how_it_closed():
    before = case(CLOSED, outcome=Outcome.NO_REACTION)
    assert decide(before, PartyMessage(MERCHANT, "nog iets"), LATER, TZ) == Decision(
        before, Result.NOT_OPEN,
        mails=(Mail(MERCHANT, "case_closed_already", {"outcome": Outcome.NO_REACTION}),))
    # An operator's stray message on a closed case gets no mail.
    assert decide(before, PartyMessage(OPERATOR, "x"), LATER, TZ) == Decision(
        before, Result.NOT_OPEN)


@pytest.mark.parametrize("outcome", [Outcome.REFUNDED_BY_MERCHANT, Outcome.COMPENSATED])
def test_an_operator_decision_states_amount_and_date(outcome):
    from mailbot.core.case import operator_amount_problem
    from mailbot.core.deadlines import deadline
    order_amount = esc.order.amount
    d = decide(esc, OperatorDecide(outcome, "", by="anna", amount=Decimal("10.00"),
                                   to_buyer="Voor u.", to_merchant="Voor de winkel."), LATER, TZ)
    (buyer_mail, merchant_mail, team) = d.mails
    paid = {"outcome": outcome, "amount": Decimal("10.00"), "whole_order": False,
            "paid_by": deadline(LATER, 14, TZ)}
    assert buyer_mail == Mail(BUYER, "case_closed", dict(paid, message="Voor u."))
    assert merchant_mail == Mail(MERCHANT, "case_closed", dict(paid, message="Voor de winkel."))
    assert team.data["message"] == "buyer: Voor u.\nmerchant: Voor de winkel."
    # The team's confirmation states the same, and each party's message on its own.
    assert team.data == dict(paid, command=f"decide {outcome}", by="anna",
                             message="buyer: Voor u.\nmerchant: Voor de winkel.",
                             to_buyer="Voor u.", to_merchant="Voor de winkel.")
    assert [e.kind for e in d.timeline] == ["operator.decision", "operator.amount", "case.closed"]
    assert d.timeline[1] == Entry("operator", "operator.amount", "10.00", by="anna")
    # SPEC §9's form, without an amount: the order's amount, and the mail says so.
    whole = decide(esc, OperatorDecide(outcome, "Zo."), LATER, TZ).mails[0].data
    assert (whole["amount"], whole["whole_order"]) == (order_amount, True)
    assert operator_amount_problem(esc, outcome, order_amount + 1, None).startswith(
        f"{order_amount + 1} is more than the order's amount")
    assert operator_amount_problem(esc, outcome, Decimal("0"), None).startswith(
        "the amount must be more than zero")
    capped = operator_amount_problem(esc, outcome, None, Decimal("5"))
    assert (capped is None) is (outcome is Outcome.REFUNDED_BY_MERCHANT)
    assert operator_amount_problem(esc, Outcome.CLAIM_REJECTED, Decimal("1"), None) == \
        "claim_rejected takes no amount"
    assert operator_amount_problem(esc, Outcome.CLAIM_REJECTED, None, None) is None
    # The bounds themselves are allowed: one cent above zero, one euro, the cover, the order.
    for amount in (Decimal("0.01"), Decimal("1"), order_amount):
        assert operator_amount_problem(esc, outcome, amount, None) is None
    assert operator_amount_problem(esc, outcome, Decimal("5"), Decimal("5")) is None
    assert operator_amount_problem(esc, outcome, Decimal("-1"), None) == \
        "the amount must be more than zero, not -1"
    assert operator_amount_problem(esc, outcome, order_amount + 1, None) == \
        f"{order_amount + 1} is more than the order's amount of {order_amount}"
    if outcome is Outcome.COMPENSATED:
        plan = esc.order.plan
        assert capped == (f"the order's amount {order_amount} is more than the {plan} plan's "
                          "cover of 5: give an amount within it")
        assert operator_amount_problem(esc, outcome, Decimal("6"), Decimal("5")) == (
            f"6 is more than the {plan} plan's cover of 5: give an amount within it")
    whole_decision = decide(esc, OperatorDecide(outcome, "Zo.", by="piet"), LATER, TZ)
    assert whole_decision.timeline == (
        Entry("operator", "operator.decision", "Zo.", by="piet"),
        Entry("operator", "operator.amount", str(order_amount), by="piet"),
        Entry("bot", "case.closed", outcome))
    assert whole_decision.mails[-1] == Mail(OPERATOR, "command_done", {
        "command": f"decide {outcome}", "message": "Zo.", "by": "piet", "outcome": outcome,
        "amount": order_amount, "whole_order": True, "paid_by": deadline(LATER, 14, TZ),
        "to_buyer": "", "to_merchant": ""})


def test_an_operator_decision_is_corrected_into_another_and_both_parties_are_told():
    before = case(CLOSED, outcome=Outcome.COMPENSATED)
    d = decide(before, OperatorCorrect(Outcome.CLAIM_REJECTED, "Toch afgewezen."), LATER, TZ)
    assert d.result is Result.APPLIED
    assert (d.state.case.state, d.state.case.outcome) == (CLOSED, Outcome.CLAIM_REJECTED)
    assert d.state.protection == before.protection and d.state.case.closed_at == \
        before.case.closed_at
    data = {"outcome": Outcome.CLAIM_REJECTED, "message": "Toch afgewezen.", "corrected": True,
            "previous": Outcome.COMPENSATED}
    assert d.mails[:2] == (Mail(BUYER, "case_closed", data), Mail(MERCHANT, "case_closed", data))
    assert d.mails[2].to is OPERATOR
    assert d.timeline[0] == Entry("operator", "operator.correction",
                                  "compensated -> claim_rejected: Toch afgewezen.")
    # Into a refund: the amount (the order's unless named) and the day, each party its words.
    paid = decide(before, OperatorCorrect(Outcome.REFUNDED_BY_MERCHANT, "", by="anna",
                                          amount=Decimal("12.50"), to_buyer="Je krijgt het.",
                                          to_merchant="Betaal terug."), LATER, TZ)
    data = {"outcome": Outcome.REFUNDED_BY_MERCHANT, "amount": Decimal("12.50"),
            "whole_order": False, "paid_by": deadline(LATER, OPERATOR_PAYMENT_DAYS, TZ),
            "corrected": True}
    previous = {"previous": Outcome.COMPENSATED}
    assert paid.mails[:2] == (
        Mail(BUYER, "case_closed", dict(data, message="Je krijgt het.", **previous)),
        Mail(MERCHANT, "case_closed", dict(data, message="Betaal terug.", **previous)))
    assert paid.mails[2].data["message"] == "buyer: Je krijgt het.\nmerchant: Betaal terug."
    assert paid.mails[2].data == dict(data, command="correct refunded_by_merchant", by="anna",
                                      message="buyer: Je krijgt het.\nmerchant: Betaal terug.",
                                      to_buyer="Je krijgt het.", to_merchant="Betaal terug.")
    assert paid.timeline[1] == Entry("operator", "operator.amount", "12.50", by="anna")
    whole = decide(before, OperatorCorrect(Outcome.REFUNDED_BY_MERCHANT, "Toch."), LATER, TZ)
    assert whole.mails[0].data["amount"] == before.order.amount
    assert whole.mails[0].data["whole_order"] is True
    same = OperatorCorrect(Outcome.COMPENSATED, "x")
    assert decide(before, same, LATER, TZ) == Decision(before, Result.NOT_OPEN)
    by = decide(before, OperatorCorrect(Outcome.CLAIM_REJECTED, "Toch.", by="anna"), LATER, TZ)
    assert by.timeline == (
        Entry("operator", "operator.correction", "compensated -> claim_rejected: Toch.",
              by="anna"),
        Entry("bot", "case.closed", Outcome.CLAIM_REJECTED))
    assert by.mails[2] == Mail(OPERATOR, "command_done", {
        "command": "correct claim_rejected", "message": "Toch.", "by": "anna",
        "outcome": Outcome.CLAIM_REJECTED, "corrected": True, "to_buyer": "", "to_merchant": ""})


def test_an_operator_request_records_who_asked():
    d = decide(esc, OperatorRequest(BUYER, "Stuur de factuur.", by="anna"), LATER, TZ)
    assert d.timeline[0] == Entry("operator", "operator.request_documents",
                                  "buyer: Stuur de factuur.", by="anna")


# --- the table itself ------------------------------------------------------------------------------

def test_the_table_reads_like_spec_section_3():
    keys = [(r.state, r.variant, r.on) for r in CASE_TABLE]
    assert keys == [
        (AM, ANY, T.MERCHANT_NUDGE),
        (AM, ANY, MerchantDecision),  # A, B, C, refused refund, and §4's bad form
        (AM, ANY, T.MERCHANT_DUE),
        (AM, ANY, Act.WITHDRAW),
        (AB, A, Act.REFUND_RECEIVED),
        (AB, A, Act.REFUND_NOT_RECEIVED),
        (AB, B, Act.REFUND_RECEIVED),
        (AB, B, Act.REFUND_NOT_RECEIVED),
        (AB, B, Act.REJECT_PARTIAL),
        (AB, C, Act.ACCEPT),
        (AB, C, Act.DISAGREE),
        (AB, ANY, T.BUYER_DUE),
        (ESC, ANY, OperatorRequest),
        (ESC, ANY, OperatorDecide),
        ((AM, AB, ESC), ANY, MerchantInsolvent),
        ((AM, AB, ESC), ANY, PartyMessage),
        ((AM, AB, ESC), ANY, Act.OTHER),
        (ESC, ANY, MerchantDecision),
        (ESC, ANY, OperatorDecide),
        (CLOSED, ANY, OperatorCorrect),  # beyond SPEC: issue 19
        (CLOSED, ANY, OperatorPaid),  # beyond SPEC: issue 20, a payment recorded
        ((AM, AB, ESC, CLOSED), ANY, OperatorMessage),  # beyond SPEC: ops12a, the team writes
    ]


def test_the_merchants_answer_is_read_once_by_one_row():
    """One row for the merchant's answer, whose step picks SPEC's row from one reading of it:
    no guard recomputes the answer, so no row's place in the table decides the outcome."""
    rows = [r for r in CASE_TABLE if r.state == AM and r.on is MerchantDecision]
    assert len(rows) == 1 and rows[0].when is None


def test_the_decision_mail_deadline_follows_the_answer_day():
    # Answered at 23:30 local on 26 March: still 20 days from the 26th, not from the 27th.
    late_evening = ANSWERED.replace(hour=22, minute=30)
    d = decide(am, answer(R.YES), late_evening, TZ)
    assert d.state.case.buyer_due == BUYER_DUE
    assert OPENED < ANSWERED < MERCHANT_DUE
