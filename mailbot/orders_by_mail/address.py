"""A shop's intake address: a signed token address (``tokens.py``, kind ``intake``) that names
the shop's row in ``intake_addresses``. It is as unguessable as any reply address (an 80-bit
HMAC) and rotating it retires the row, so the old address is refused by the socketmap and holds
whatever still reaches the listener."""

from __future__ import annotations

from datetime import datetime

from ..core.model import Plan
from ..store import mail_intake
from ..store.db import transaction
from ..tokens import Token


def intake_address(app, shop_id: str, now: datetime, rotate: bool = False,
                   plan: Plan = Plan.BASIC) -> tuple[str, str, bool]:
    """(address, plan, made now): the shop's current address, made on first use or when
    ``rotate`` asks for a new one. ``plan``: the protection plan of the orders it takes."""
    db = app.db()
    with transaction(db):
        row = mail_intake.current(db, shop_id)
        made = row is None or rotate
        if made:
            mail_intake.create(db, shop_id, str(plan), now)
            row = mail_intake.current(db, shop_id)
    return app.signer.address(Token("intake", row["id"])), row["plan"], made
