"""The orders table as ``mailbot import`` sees it: an existing order by its key, and the update
of one that a shop exported again with other values.

An order may change only while nothing has been built on it: its protection still ``active``
(no case), and for a new order date also not extended and not reminded yet (the protection's end
follows from the date).
"""

from __future__ import annotations

from datetime import datetime

from .records import iso

UPDATABLE = ("order_date", "amount", "currency", "buyer_email", "buyer_locale", "plan")


def existing(db, shop_id: str, order_number: str) -> dict | None:
    rows = list(db.query(
        "SELECT id, state, extended, reminder_sent, " + ", ".join(UPDATABLE) +
        " FROM orders WHERE shop_id = ? AND order_number = ?", [shop_id, order_number]))
    return rows[0] if rows else None


def why_not_updatable(row: dict, new_date: bool) -> str | None:
    if row["state"] != "active":
        return f"the protection is {row['state']}"
    if new_date and (row["extended"] or row["reminder_sent"]):
        return "the protection was extended or reminded already; its end cannot move"
    return None


def update(db, order_id: int, values: dict[str, str]) -> None:
    names = [k for k in values if k in UPDATABLE]
    db.execute(f"UPDATE orders SET {', '.join(f'{k} = ?' for k in names)} "
               "WHERE id = ? AND state = 'active'", [values[k] for k in names] + [order_id])


def set_ends_at(db, order_id: int, ends_at: datetime) -> None:
    db.execute("UPDATE orders SET ends_at = ? WHERE id = ?", [iso(ends_at), order_id])
