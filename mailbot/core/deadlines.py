"""Calendar arithmetic for deadlines: days are counted on the wall clock of the configured zone.

Adding N calendar days keeps the local time of day across a DST change (a deadline set at 14:30
falls at 14:30 five days later, whatever the UTC offset did), which is what a person reading the
date in a mail expects.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

PROTECTION_DAYS = 30
REMINDER_BEFORE_END_DAYS = 7
EXTENSION_DAYS = 30
MERCHANT_NUDGE_DAYS = 3
MERCHANT_ANSWER_DAYS = 5
BUYER_REACTION_DAYS = 20


def add_days(instant: datetime, days: int, tz: ZoneInfo) -> datetime:
    """``instant`` moved by ``days`` calendar days in ``tz``, as an aware UTC datetime."""
    local = instant.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=tz).astimezone(timezone.utc)


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of ``day`` in ``tz``, as UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(timezone.utc)


def protection_end(order_date: date, tz: ZoneInfo) -> datetime:
    """Day 0 is the order date; the protection is active until the start of day 30."""
    return start_of(order_date + timedelta(days=PROTECTION_DAYS), tz)


def reminder_at(ends_at: datetime, tz: ZoneInfo) -> datetime:
    return add_days(ends_at, -REMINDER_BEFORE_END_DAYS, tz)
