"""Deadlines and timer moments, on the wall clock of the configured zone.

One rule for every deadline a mail states — the merchant's answer, the buyer's reaction, the end
of a protection: **a deadline ends at 23:59:59 local time of the stated day**, because a person
who reads "answer by 16 December" may answer on the 16th. Periods are counted in calendar days
from the local date of the moment that starts them (opened on the 11th + 5 days: due at the end of
the 16th), so a change of UTC offset never moves a deadline to another day. Moments at which the
bot writes (the merchant's nudge, the buyer's reminder) are not deadlines; they fall at a time of
day, and a nudge is only sent while the deadline it announces is still ahead (``core.case``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

PROTECTION_DAYS = 30
REMINDER_BEFORE_END_DAYS = 7
EXTENSION_DAYS = 30
MERCHANT_NUDGE_DAYS = 3
MERCHANT_ANSWER_DAYS = 5
BUYER_REACTION_DAYS = 20
OPERATOR_PAYMENT_DAYS = 14  # an operator's decision: the refund or compensation is paid by then
# The closing mail asks the buyer to reply if the money has not arrived by the pay-by date: such
# replies reach the service team for this long after it.
REPLIES_AFTER_PAYMENT_DAYS = 14
# The team's own message to a party (``message buyer|merchant``) is answered by a reply: the
# parties' messages reach the team for this long after it, whatever the case's state.
TEAM_REPLY_DAYS = 14
END_OF_DAY = time(23, 59, 59)


def add_days(instant: datetime, days: int, tz: ZoneInfo) -> datetime:
    """``instant`` moved by ``days`` calendar days in ``tz`` at the same local time, as UTC."""
    local = instant.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=tz).astimezone(timezone.utc)


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight at the start of ``day`` in ``tz``, as UTC."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc)


def end_of(day: date, tz: ZoneInfo) -> datetime:
    """23:59:59 local time of ``day`` in ``tz``, as UTC: the end of a deadline stated as ``day``."""
    return datetime.combine(day, END_OF_DAY, tzinfo=tz).astimezone(timezone.utc)


def deadline(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The end of the local day ``days`` calendar days after the local date of ``start``."""
    return end_of(start.astimezone(tz).date() + timedelta(days=days), tz)


def protection_end(order_date: date, tz: ZoneInfo) -> datetime:
    """Day 0 is the order date; day 30, the stated end date, is the last full day (SPEC §2)."""
    return end_of(order_date + timedelta(days=PROTECTION_DAYS), tz)


def extended_end(ends_at: datetime, tz: ZoneInfo) -> datetime:
    return deadline(ends_at, EXTENSION_DAYS, tz)


def reminder_at(ends_at: datetime, tz: ZoneInfo) -> datetime:
    """The start of the day 7 days before the end date (day 23 of 30)."""
    return start_of(ends_at.astimezone(tz).date() - timedelta(days=REMINDER_BEFORE_END_DAYS), tz)


class MerchantDates(NamedTuple):
    """The merchant's two moments of a case: the reminder (a time of day) and the deadline."""

    nudge: datetime
    due: datetime


def merchant_dates(opened_at: datetime, tz: ZoneInfo) -> MerchantDates:
    """The nudge 3 days after opening, the answer due at the end of the 5th calendar day (SPEC
    §3), of a case opened at ``opened_at``."""
    return MerchantDates(nudge=add_days(opened_at, MERCHANT_NUDGE_DAYS, tz),
                         due=deadline(opened_at, MERCHANT_ANSWER_DAYS, tz))


def replies_until(closed_at: datetime, tz: ZoneInfo) -> datetime:
    """The end of the day 14 days after the pay-by date of an operator's decision made at
    ``closed_at``: until then a case closed with a payment still to come takes the parties' mail."""
    return deadline(closed_at, OPERATOR_PAYMENT_DAYS + REPLIES_AFTER_PAYMENT_DAYS, tz)


def team_replies_until(wrote_at: datetime, tz: ZoneInfo) -> datetime:
    """The end of the day TEAM_REPLY_DAYS after the team's last message to a party."""
    return deadline(wrote_at, TEAM_REPLY_DAYS, tz)


def word_promised_by(escalated_at: datetime, days: int, tz: ZoneInfo) -> datetime | None:
    """The day an escalated case's parties were promised word from the team (its decision or a
    request for documents): ``days`` ([operators] decision_days) after the escalation; None
    where no day is promised (0)."""
    return deadline(escalated_at, days, tz) if days else None


def buyer_due(answered_at: datetime, tz: ZoneInfo) -> datetime:
    """The buyer's reaction is due at the end of the 20th day after the merchant's answer."""
    return deadline(answered_at, BUYER_REACTION_DAYS, tz)
