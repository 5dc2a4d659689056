"""The SQL of operators' corrections: deleting an order imported by mistake, clearing a
merchant's insolvency, and opening a stored inbound mail for intake again.

Each statement names the state it expects (no case; the disposition seen), so a correction that
races the service changes nothing instead of something else.
"""

from __future__ import annotations

TABLES_OF_AN_ORDER = ("timers", "timeline", "outbox")


def delete_order(db, order_id: int) -> dict[str, int] | None:
    """Deletes an order without a case, with its timers, timeline and mails (and their delivery
    reports); inbound mail about it is kept, unlinked. Returns the rows deleted per table, or
    None if the order has a case (or is gone)."""
    if db.execute("SELECT 1 FROM cases WHERE order_id = ?", [order_id]).fetchone():
        return None
    counts = {"bounces": db.execute(
        "DELETE FROM bounces WHERE outbox_id IN (SELECT id FROM outbox WHERE order_id = ?)",
        [order_id]).rowcount}
    for table in TABLES_OF_AN_ORDER:
        counts[table] = db.execute(f"DELETE FROM {table} WHERE order_id = ?",
                                   [order_id]).rowcount
    for table in ("inbox", "mail_orders"):  # the mail stays, as mail about no order
        db.execute(f"UPDATE {table} SET order_id = NULL WHERE order_id = ?", [order_id])
    counts["orders"] = db.execute("DELETE FROM orders WHERE id = ?", [order_id]).rowcount
    return counts


def set_solvent(db, shop_id: str) -> bool:
    """Clears the insolvency flag; False if it was not set."""
    return bool(db.execute("UPDATE merchants SET insolvent = 0 WHERE id = ? AND insolvent = 1",
                           [shop_id]).rowcount)


def reopen_inbox(db, inbox_id: int, disposition: str) -> bool:
    """Makes a processed mail unprocessed again, if it still has ``disposition``; its tries start
    from zero. The next ``intake.process`` records its new ending over the old one."""
    return bool(db.execute(
        "UPDATE inbox SET processed_at = NULL, disposition = NULL, detail = NULL, attempts = 0, "
        "started_at = NULL, last_error = NULL WHERE id = ? AND disposition = ?",
        [inbox_id, disposition]).rowcount)
