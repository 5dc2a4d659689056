"""The orders table as ``mailbot import`` sees it: an existing order by its key, and the update
of one that a shop exported again with other values.

An order may change only while nothing has been built on it: its protection still ``active``, or
``expired`` by its timer (no case either way: a misread date may have expired it at once), and for
a new order date also not extended and not reminded yet (the protection's end follows from the
date).
"""

from __future__ import annotations

from datetime import datetime

from .records import iso

CHANGEABLE = ("active", "expired")
UPDATABLE = ("order_date", "amount", "currency", "buyer_email", "buyer_locale", "plan")


def existing(db, shop_id: str, order_number: str) -> dict | None:
    rows = list(db.query(
        "SELECT id, state, extended, reminder_sent, " + ", ".join(UPDATABLE) +
        " FROM orders WHERE shop_id = ? AND order_number = ?", [shop_id, order_number]))
    return rows[0] if rows else None


def why_not_updatable(row: dict, new_date: bool) -> str | None:
    if row["state"] not in CHANGEABLE:
        return f"the protection is {row['state']}"
    if new_date and (row["extended"] or row["reminder_sent"]):
        return "the protection was extended or reminded already; its end cannot move"
    return None


def update(db, order_id: int, values: dict[str, str]) -> None:
    names = [k for k in values if k in UPDATABLE]
    db.execute(f"UPDATE orders SET {', '.join(f'{k} = ?' for k in names)} "
               "WHERE id = ? AND state IN ('active', 'expired')",
               [values[k] for k in names] + [order_id])


def set_protection(db, order_id: int, state: str, ends_at: datetime) -> None:
    """The protection's end moved with a corrected order date; ``active`` again clears the end
    that the expiry had recorded."""
    db.execute("UPDATE orders SET state = ?, ends_at = ?, ended_at = CASE WHEN ? = 'active' "
               "THEN NULL ELSE ended_at END WHERE id = ?",
               [str(state), iso(ends_at), str(state), order_id])
