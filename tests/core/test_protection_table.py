"""SPEC §2 row by row, with the whole decision written out: the protection's state and dates, the
mail and its data, the timeline entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from builders import (
    DOCS, ENDS_AT, EXTENDED_END, MERCHANT_DUE, OPENED, REMINDER_AT, TZ, protection,
)
from mailbot.core.decide import decide
from mailbot.core.effects import Decision, Entry, Mail, Result
from mailbot.core.events import (
    BuyerAction, MerchantDecision, OperatorDecide, PartyMessage, TimerFired, TimerKind as T,
)
from mailbot.core.model import (
    Action as Act, Case, EndReason, Escalation, Outcome, Plan, ProtectionState as P, Reason,
    RefundChoice, Role,
)
from mailbot.core.protection import PROTECTION_TABLE
from mailbot.core.table import ANY

BUYER = Role.BUYER
NOW = OPENED
said = "Alles goed gekomen."
active = protection()


def ended(since=NOW):
    return protection(state=P.ENDED, ended_at=since, end_reason=EndReason.BUYER_CONFIRMED)


def expired():
    return protection(state=P.EXPIRED, ended_at=ENDS_AT)


def opened(reason, insolvent=False):
    state = replace(active, merchant_insolvent=insolvent)
    return replace(state, case=Case(reason, NOW, merchant_due=MERCHANT_DUE),
                   protection=replace(active.protection, state=P.IN_CASE))


SPEC_ROWS = [
    ("reminder at ends_at - 7 days", active, TimerFired(T.REMINDER), REMINDER_AT, Decision(
        protection(reminder_sent=True),
        mails=(Mail(BUYER, "reminder", {"ends_at": ENDS_AT}),),
        timeline=(Entry("timer", "protection.reminder"),))),
    ("all_fine", active, BuyerAction(Act.ALL_FINE, said, DOCS), NOW, Decision(
        ended(), mails=(Mail(BUYER, "protection_ended"),),
        timeline=(Entry("buyer", "protection.ended", EndReason.BUYER_CONFIRMED),))),
    *[(f"extend, {plan}, not yet extended", protection(plan, reminder_sent=True),
       BuyerAction(Act.EXTEND), NOW, Decision(
           replace(protection(plan), protection=replace(
               active.protection, ends_at=EXTENDED_END, extended=True, reminder_sent=False)),
           mails=(Mail(BUYER, "extended", {"ends_at": EXTENDED_END}),),
           timeline=(Entry("buyer", "protection.extended", "2026-04-30T21:59:59+00:00"),)))
      for plan in (Plan.PLUS, Plan.SINGLE)],
    ("extend, basic", protection(Plan.BASIC), BuyerAction(Act.EXTEND), NOW, Decision(
        protection(Plan.BASIC), Result.NOT_OPEN,
        mails=(Mail(BUYER, "extend_needs_plus", {"ends_at": ENDS_AT},
                    (Act.ALL_FINE, Act.NOT_RECEIVED, Act.NO_REFUND, Act.OTHER)),))),
    *[(f"extend, {plan}, already extended", protection(plan, extended=True),
       BuyerAction(Act.EXTEND), NOW, Decision(
           protection(plan, extended=True), Result.NOT_OPEN,
           mails=(Mail(BUYER, "extend_used", {"ends_at": ENDS_AT}),)))
      for plan in (Plan.PLUS, Plan.SINGLE)],
    ("other", active, BuyerAction(Act.OTHER, said, DOCS), NOW, Decision(
        active, mails=(Mail(Role.OPERATOR, "other_request", {"text": said, "attachments": DOCS}),
                       Mail(BUYER, "other_received")),
        timeline=(Entry("buyer", "request.other", said, DOCS),))),
    *[(f"{reason}: case opened", active, BuyerAction(Act(reason), said, DOCS), NOW, Decision(
        opened(reason),
        mails=(Mail(BUYER, "case_opened"),
               Mail(Role.MERCHANT, "case_opened", {"text": said, "attachments": DOCS})),
        timeline=(Entry("buyer", "case.opened", said, DOCS),)))
      for reason in Reason],
    ("insolvent merchant: straight to the service team", replace(active, merchant_insolvent=True),
     BuyerAction(Act.NO_REFUND, said, DOCS), NOW, Decision(
         replace(opened(Reason.NO_REFUND, insolvent=True), case=replace(
             opened(Reason.NO_REFUND).case, state="escalated",
             escalation_reason=Escalation.MERCHANT_INSOLVENT)),
         mails=(Mail(BUYER, "case_escalated", {"reason": Escalation.MERCHANT_INSOLVENT}),
                Mail(Role.OPERATOR, "case_escalated",
                     {"reason": Escalation.MERCHANT_INSOLVENT})),
         timeline=(Entry("buyer", "case.opened", said, DOCS),
                   Entry("bot", "case.escalated", Escalation.MERCHANT_INSOLVENT)))),
    ("timer ends_at: expired, no mail", active, TimerFired(T.EXPIRY), ENDS_AT, Decision(
        expired(), timeline=(Entry("timer", "protection.expired"),))),
    ("ended: any action gets the polite mail", ended(), BuyerAction(Act.NOT_RECEIVED), NOW,
     Decision(ended(), Result.NOT_ACTIVE, mails=(
         Mail(BUYER, "not_active", {"since": NOW, "state": P.ENDED}),))),
    ("expired: since the end", expired(), BuyerAction(Act.ALL_FINE), NOW, Decision(
        expired(), Result.NOT_ACTIVE, mails=(
            Mail(BUYER, "not_active", {"since": ENDS_AT, "state": P.EXPIRED}),))),
    ("expired: a stale case link too", expired(), BuyerAction(Act.REFUND_RECEIVED), NOW, Decision(
        expired(), Result.NOT_ACTIVE, mails=(
            Mail(BUYER, "not_active", {"since": ENDS_AT, "state": P.EXPIRED}),))),
    ("ended: free text", ended(), PartyMessage(BUYER, "hallo"), NOW, Decision(
        ended(), Result.NOT_ACTIVE, mails=(
            Mail(BUYER, "not_active", {"since": NOW, "state": P.ENDED}),))),
    ("active: free text gets the five actions", active, PartyMessage(BUYER, "hm"), NOW, Decision(
        active, Result.NOT_OPEN, mails=(Mail(BUYER, "choose_action"),))),
]


@pytest.mark.parametrize("before, event, now, expected",
                         [row[1:] for row in SPEC_ROWS], ids=[row[0] for row in SPEC_ROWS])
def test_spec_rows(before, event, now, expected):
    assert decide(before, event, now, TZ) == expected


@pytest.mark.parametrize("before, kind, now", [
    (protection(reminder_sent=True), T.REMINDER, REMINDER_AT),  # once
    (active, T.REMINDER, ENDS_AT),  # after downtime past the end: no reminder
    (active, T.EXPIRY, ENDS_AT - timedelta(seconds=1)),  # the last second is still protected
    (ended(), T.EXPIRY, ENDS_AT),
    (ended(), T.REMINDER, REMINDER_AT),
    (active, T.MERCHANT_DUE, MERCHANT_DUE),  # no case
])
def test_timers_that_do_not_apply_are_ignored(before, kind, now):
    assert decide(before, TimerFired(kind), now, TZ) == Decision(before, Result.IGNORED)


def test_a_reminder_up_to_the_last_second():
    d = decide(active, TimerFired(T.REMINDER), ENDS_AT - timedelta(seconds=1), TZ)
    assert d.mails == (Mail(BUYER, "reminder", {"ends_at": ENDS_AT}),)


def test_a_case_link_without_a_case_is_not_open():
    assert decide(active, BuyerAction(Act.ACCEPT), NOW, TZ) == Decision(
        active, Result.NOT_OPEN, mails=(
            Mail(BUYER, "not_open", {"asked": Act.ACCEPT, "state": P.ACTIVE}),))


@pytest.mark.parametrize("before", [active, ended(), expired()])
@pytest.mark.parametrize("event", [
    PartyMessage(Role.MERCHANT, "x"), MerchantDecision(RefundChoice.YES, "x"),
    OperatorDecide(Outcome.COMPENSATED, "x")])
def test_others_without_a_case_get_no_mail(before, event):
    assert decide(before, event, NOW, TZ) == Decision(before, Result.NOT_OPEN)


def test_the_table_reads_like_spec_section_2():
    keys = [(r.state, r.variant, r.on) for r in PROTECTION_TABLE]
    assert keys == [
        (P.ACTIVE, ANY, T.REMINDER),
        (P.ACTIVE, ANY, Act.ALL_FINE),
        (P.ACTIVE, (Plan.PLUS, Plan.SINGLE), Act.EXTEND),
        (P.ACTIVE, Plan.BASIC, Act.EXTEND),
        (P.ACTIVE, (Plan.PLUS, Plan.SINGLE), Act.EXTEND),
        (P.ACTIVE, ANY, Act.OTHER),
        (P.ACTIVE, ANY, (Act.NOT_RECEIVED, Act.NO_REFUND)),
        (P.ACTIVE, ANY, T.EXPIRY),
        ((P.ENDED, P.EXPIRED), ANY, (*Act, PartyMessage)),
        (P.ACTIVE, ANY, PartyMessage),
    ]
