"""The SQL of orders by mail: shops' intake addresses and the confirmations they received.

The rules live in ``orders_by_mail/``; the socketmap asks ``active`` whether an intake token's
row is the shop's current address.
"""

from __future__ import annotations

from datetime import datetime

from .records import iso


def current(db, shop_id: str) -> dict | None:
    return _row(db, "SELECT * FROM intake_addresses WHERE shop_id = ? AND retired_at IS NULL "
                    "ORDER BY id DESC LIMIT 1", [shop_id])


def by_id(db, intake_id: int) -> dict | None:
    return _row(db, "SELECT * FROM intake_addresses WHERE id = ?", [intake_id])


def active(db, intake_id: int) -> bool:
    return db.execute("SELECT 1 FROM intake_addresses WHERE id = ? AND retired_at IS NULL",
                      [intake_id]).fetchone() is not None


def create(db, shop_id: str, plan: str, now: datetime) -> int:
    """A new current address of the shop; the one before it (if any) is retired."""
    db.execute("UPDATE intake_addresses SET retired_at = ? WHERE shop_id = ? "
               "AND retired_at IS NULL", [iso(now), shop_id])
    return db.execute("INSERT INTO intake_addresses (shop_id, plan, created_at) VALUES (?, ?, ?) "
                      "RETURNING id", [shop_id, plan, iso(now)]).fetchone()[0]


def mark_held_notice(db, intake_id: int, now: datetime) -> bool:
    """True the first time only: the shop is told once per address that mail was held."""
    return db.execute("UPDATE intake_addresses SET held_notice_at = ? WHERE id = ? "
                      "AND held_notice_at IS NULL", [iso(now), intake_id]).rowcount == 1


def record(db, shop_id: str, inbox_id: int, now: datetime, outcome: str, *,
           order_number: str | None = None, order_id: int | None = None, subject: str = "",
           detail: str = "") -> None:
    db.execute("INSERT INTO mail_orders (shop_id, inbox_id, received_at, outcome, order_number, "
               "order_id, subject, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [shop_id, inbox_id, iso(now), outcome, order_number, order_id, subject[:200],
                detail[:500]])


def untold(db, outcome: str) -> dict[str, list[dict]]:
    """Per shop, the confirmations of ``outcome`` it was not told about yet, oldest first."""
    out: dict[str, list[dict]] = {}
    for row in _rows(db, "SELECT * FROM mail_orders WHERE outcome = ? AND told_at IS NULL "
                         "ORDER BY id", [outcome]):
        out.setdefault(row["shop_id"], []).append(row)
    return out


def last_told(db, shop_id: str, outcome: str) -> str | None:
    row = db.execute("SELECT max(told_at) FROM mail_orders WHERE shop_id = ? AND outcome = ?",
                     [shop_id, outcome]).fetchone()
    return row[0]


def mark_told(db, ids: list[int], now: datetime) -> None:
    if not ids:
        return  # and PostgreSQL refuses an empty IN ()
    db.execute(f"UPDATE mail_orders SET told_at = ? WHERE id IN ({','.join('?' * len(ids))})",
               [iso(now), *ids])


def since(db, start: datetime, end: datetime) -> dict[str, list[dict]]:
    """Per shop, every confirmation received in [start, end), with the sender of its mail (the
    weekly report lists the ones that could not be read by date, subject and sender)."""
    out: dict[str, list[dict]] = {}
    for row in _rows(db, "SELECT mail_orders.*, inbox.sender AS sender FROM mail_orders "
                         "LEFT JOIN inbox ON inbox.id = mail_orders.inbox_id "
                         "WHERE mail_orders.received_at >= ? AND mail_orders.received_at < ? "
                         "ORDER BY mail_orders.id", [iso(start), iso(end)]):
        out.setdefault(row["shop_id"], []).append(row)
    return out


def _rows(db, sql: str, params: list) -> list[dict]:
    cur = db.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _row(db, sql: str, params: list) -> dict | None:
    rows = _rows(db, sql, params)
    return rows[0] if rows else None
