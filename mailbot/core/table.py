"""The shape of the core's transition tables: rows keyed by (state, variant, event), read in order.

A row applies to one state or several, to one variant (of a case; the plan, for a protection) or
several or ``ANY``, and to one event key or several; ``when`` is the row's named guard, the
condition SPEC writes in the row ("not yet extended", "amount = order amount"). The first row
whose key matches and whose guard holds decides; an event no row takes is the caller's
fall-through ("not open").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .effects import Decision
from .events import BuyerAction, Event, TimerFired
from .model import State

ANY = None  # a row for every variant

Step = Callable[[State, Event, datetime, ZoneInfo], Decision]
Guard = Callable[[State, Event, datetime], bool]


def key(event: Event):
    """What a row names an event by: the action of a link, the kind of a timer, else its class."""
    if isinstance(event, BuyerAction):
        return event.action
    if isinstance(event, TimerFired):
        return event.kind
    return type(event)


class Row(NamedTuple):
    """One row. ``state``, ``variant`` and ``on`` are one value or a tuple of values."""

    state: object
    variant: object
    on: object
    then: Step
    when: Guard | None = None

    def takes(self, state, variant, event_key, guard_args) -> bool:
        return (state in _many(self.state)
                and (self.variant is ANY or variant in _many(self.variant))
                and event_key in _many(self.on)
                and (self.when is None or self.when(*guard_args)))


def _many(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def find(rows: tuple[Row, ...], state, variant, s: State, event: Event,
         now: datetime) -> Row | None:
    """The first row that takes ``event`` in ``state``/``variant``, or None (not open)."""
    event_key = key(event)
    for candidate in rows:
        if candidate.takes(state, variant, event_key, (s, event, now)):
            return candidate
    return None
