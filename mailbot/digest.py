"""The operators' daily digest (SPEC §7): what happened since the last one and what needs a look.

``collect`` reads the figures; the ``operator.digest`` template lays them out, so the same digest
prints in a terminal (the text part) and reads in a mail client (both parts).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from .core.effects import Mail
from .core.model import Role
from .inbound.bounces import failed_deliveries
from .inbound.disposition import SHOWN_TO_OPERATORS
from .outbound.compose import compose, context
from .store.db import transaction
from .store.records import iso, parse_dt

HELD = tuple(str(d) for d in SHOWN_TO_OPERATORS)


def collect(db, now: datetime, since: timedelta) -> dict:
    start = iso(now - since)

    def rows(sql, args=()):
        return list(db.query(sql, list(args)))

    opened = rows("SELECT count(*) AS n FROM cases WHERE opened_at > ?", [start])[0]["n"]
    escalated = Counter(r["text"] for r in rows(
        "SELECT text FROM timeline WHERE kind = 'case.escalated' AND at > ?", [start]))
    closed = Counter(r["text"] for r in rows(
        "SELECT text FROM timeline WHERE kind = 'case.closed' AND at > ?", [start]))
    deadlines = rows(
        "SELECT c.id AS case_id, o.shop_id, m.name AS shop, o.order_number, c.merchant_due "
        "FROM cases c JOIN orders o ON o.id = c.order_id JOIN merchants m ON m.id = o.shop_id "
        "WHERE c.state = 'awaiting_merchant' AND c.merchant_due <= ? ORDER BY c.merchant_due",
        [iso(now + timedelta(hours=24))])
    for row in deadlines:
        row["merchant_due"] = parse_dt(row["merchant_due"])
        row["overdue"] = row["merchant_due"] <= now
    failed = failed_deliveries(db, now - since)
    held = Counter(r["disposition"] for r in rows(
        "SELECT disposition FROM inbox WHERE processed_at > ? AND disposition IN (%s)"
        % ",".join("?" * len(HELD)), [start, *HELD]))
    case_states = {r["state"]: r["n"] for r in rows(
        "SELECT state, count(*) AS n FROM cases GROUP BY state")}
    protection_states = {r["state"]: r["n"] for r in rows(
        "SELECT state, count(*) AS n FROM orders GROUP BY state")}
    return {"since": now - since, "now": now, "opened": opened,
            "escalated": dict(escalated), "closed": dict(closed), "deadlines": deadlines,
            "failed": failed, "held": dict(held), "case_states": case_states,
            "protection_states": protection_states}


def text(app, now: datetime, since: timedelta) -> str:
    db = app.db()
    mail = Mail(Role.OPERATOR, "operator.digest", collect(db, now, since))
    text = app.renderer.render(mail.template, app.config.operators.locale,
                               context(app, db, None, mail, Role.OPERATOR)).text
    # In a terminal the mail's footer (below the RFC 3676 "-- " separator) has no place.
    return text.split("\n-- \n")[0].rstrip() + "\n"


def send(app, now: datetime, since: timedelta = timedelta(days=1)) -> None:
    db = app.db()
    data = collect(db, now, since)
    with transaction(db):
        compose(app, db, None, Mail(Role.OPERATOR, "operator.digest", data), now)
