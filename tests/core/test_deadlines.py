"""The one deadline rule (a deadline ends at 23:59:59 local time of the stated day), the day counts
of SPEC §2-§3, and the timers a state implies, with the dates written out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from builders import (
    A, AB, AM, ANSWERED, BUYER_DUE, CLOSED, ENDS_AT, ESC, EXTENDED_END, EXTENDED_REMINDER_AT,
    MERCHANT_DUE, NUDGE_AT, OPENED, ORDER_DATE, REMINDER_AT, TZ, UTC, case, protection,
)
from mailbot.core import deadlines
from mailbot.core.decide import timers
from mailbot.core.events import TimerKind as T
from mailbot.core.model import ProtectionState as P


def local(instant: datetime) -> datetime:
    return instant.astimezone(TZ)


def test_the_stated_day_is_the_last_full_day():
    for due in (ENDS_AT, EXTENDED_END, MERCHANT_DUE, BUYER_DUE):
        assert local(due).time() == time(23, 59, 59)
        # One second later is the next day: nothing of the stated day is cut off.
        assert local(due + timedelta(seconds=1)).time() == time(0, 0)


def test_protection_ends_on_day_30():
    assert deadlines.protection_end(ORDER_DATE, TZ) == ENDS_AT
    assert local(ENDS_AT).date() == ORDER_DATE + timedelta(days=30)
    # In winter the offset is +1: the rule is local, not UTC.
    assert deadlines.protection_end(date(2026, 1, 1), TZ) == datetime(
        2026, 1, 31, 22, 59, 59, tzinfo=UTC)


def test_reminder_on_day_23_at_the_start_of_the_day():
    assert deadlines.reminder_at(ENDS_AT, TZ) == REMINDER_AT
    assert local(REMINDER_AT).date() == ORDER_DATE + timedelta(days=23)
    assert local(REMINDER_AT).time() == time(0, 0)


def test_extension_adds_30_calendar_days_and_moves_the_reminder():
    assert deadlines.extended_end(ENDS_AT, TZ) == EXTENDED_END
    assert local(EXTENDED_END).date() == ORDER_DATE + timedelta(days=60)
    assert deadlines.reminder_at(EXTENDED_END, TZ) == EXTENDED_REMINDER_AT


def test_merchant_dates_nudge_after_3_days_due_at_the_end_of_day_5():
    dates = deadlines.merchant_dates(OPENED, TZ)
    assert (dates.nudge, dates.due) == (NUDGE_AT, MERCHANT_DUE)
    assert local(NUDGE_AT).time() == local(OPENED).time()  # the time of day is kept
    assert local(MERCHANT_DUE).date() == local(OPENED).date() + timedelta(days=5)


def test_a_case_opened_late_in_the_evening_counts_from_its_local_day():
    # 23:30 CET on 24 March is 22:30 UTC: still the 24th where the buyer lives.
    opened = datetime(2026, 3, 24, 22, 30, tzinfo=UTC)
    assert deadlines.merchant_dates(opened, TZ).due == MERCHANT_DUE
    # 00:30 CET on the 25th is still the 24th in UTC: counted from the 25th.
    opened = datetime(2026, 3, 24, 23, 30, tzinfo=UTC)
    assert deadlines.merchant_dates(opened, TZ).due == MERCHANT_DUE + timedelta(days=1)


def test_buyer_due_20_days_after_the_answer():
    assert deadlines.buyer_due(ANSWERED, TZ) == BUYER_DUE
    assert local(BUYER_DUE).date() == local(ANSWERED).date() + timedelta(days=20)


def test_add_days_keeps_the_local_time_across_dst():
    # 27 March 2026 12:00 CET + 5 days = 1 April 12:00 CEST (the clocks moved on 29 March).
    opened = datetime(2026, 3, 27, 11, 0, tzinfo=UTC)
    moved = deadlines.add_days(opened, 5, TZ)
    assert moved == datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
    assert moved.tzinfo is UTC


def test_day_boundaries_are_utc_instants():
    assert deadlines.start_of(date(2026, 3, 29), TZ) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert deadlines.end_of(date(2026, 3, 29), TZ) == datetime(
        2026, 3, 29, 21, 59, 59, tzinfo=UTC)
    assert deadlines.deadline(OPENED, 0, TZ) == datetime(2026, 3, 24, 22, 59, 59, tzinfo=UTC)
    for instant in (deadlines.start_of(ORDER_DATE, TZ), deadlines.end_of(ORDER_DATE, TZ),
                    deadlines.reminder_at(ENDS_AT, TZ), *deadlines.merchant_dates(OPENED, TZ),
                    deadlines.buyer_due(ANSWERED, TZ), deadlines.protection_end(ORDER_DATE, TZ)):
        assert instant.tzinfo is UTC  # stored and compared as UTC


def test_days_are_counted_in_the_configured_zone_not_in_utc():
    # West of UTC the local day ends after the UTC day: 23:59:59 EST is 04:59:59 UTC next day.
    new_york = ZoneInfo("America/New_York")
    ends_at = deadlines.protection_end(date(2026, 1, 1), new_york)
    assert ends_at == datetime(2026, 2, 1, 4, 59, 59, tzinfo=UTC)
    assert deadlines.reminder_at(ends_at, new_york) == datetime(2026, 1, 24, 5, 0, tzinfo=UTC)
    opened = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)  # 22:00 on the 9th in New York
    assert deadlines.merchant_dates(opened, new_york) == deadlines.MerchantDates(
        nudge=datetime(2026, 1, 13, 3, 0, tzinfo=UTC),
        due=datetime(2026, 1, 15, 4, 59, 59, tzinfo=UTC))
    assert deadlines.buyer_due(opened, new_york) == datetime(2026, 1, 30, 4, 59, 59, tzinfo=UTC)


def test_the_nudge_keeps_the_local_time_across_dst():
    opened = datetime(2026, 3, 27, 11, 0, tzinfo=UTC)  # Friday 12:00 CET
    nudge = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)  # Monday 12:00 CEST
    assert deadlines.merchant_dates(opened, TZ).nudge == nudge
    s = case(AM)
    s = replace(s, case=replace(s.case, opened_at=opened))
    assert timers(s, TZ)[0] == (T.MERCHANT_NUDGE, nudge)


def test_day_counts_are_the_spec_ones():
    assert (deadlines.PROTECTION_DAYS, deadlines.REMINDER_BEFORE_END_DAYS,
            deadlines.EXTENSION_DAYS, deadlines.MERCHANT_NUDGE_DAYS,
            deadlines.MERCHANT_ANSWER_DAYS, deadlines.BUYER_REACTION_DAYS) == (30, 7, 30, 3, 5, 20)


@pytest.mark.parametrize("state, expected", [
    (protection(), [(T.REMINDER, REMINDER_AT), (T.EXPIRY, ENDS_AT)]),
    (protection(reminder_sent=True), [(T.EXPIRY, ENDS_AT)]),
    (protection(reminder_sent=True, extended=True, ends_at=EXTENDED_END),
     [(T.EXPIRY, EXTENDED_END)]),
    (protection(extended=True, ends_at=EXTENDED_END),
     [(T.REMINDER, EXTENDED_REMINDER_AT), (T.EXPIRY, EXTENDED_END)]),
    (protection(state=P.ENDED), []),
    (protection(state=P.EXPIRED), []),
    (case(AM), [(T.MERCHANT_NUDGE, NUDGE_AT), (T.MERCHANT_DUE, MERCHANT_DUE)]),
    (case(AM, nudged=True), [(T.MERCHANT_DUE, MERCHANT_DUE)]),
    (case(AB, A), [(T.BUYER_DUE, BUYER_DUE)]),
    (case(ESC), []),
    (case(CLOSED), []),
])
def test_timers_follow_from_the_state(state, expected):
    assert timers(state, TZ) == expected


def test_the_nudge_timer_comes_from_the_opening_not_the_stored_due():
    # merchant_due is stored; the nudge is derived from opened_at by the same function.
    s = case(AM)
    s = replace(s, case=replace(s.case, merchant_due=MERCHANT_DUE + timedelta(days=9)))
    assert dict(timers(s, TZ))[T.MERCHANT_NUDGE] == NUDGE_AT
