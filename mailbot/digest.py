"""The operators' daily digest (SPEC §7): what happened since the last one and what needs a look.

``collect`` reads the figures (SQL in ``store.reports``); ``templates/digest.j2`` lays them out,
so the same digest prints in a terminal (the text part) and reads in a mail client (both parts).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .core.effects import Mail
from .core.model import Role
from .inbound.disposition import SHOWN_TO_OPERATORS
from .outbound.compose import compose, context
from .store import reports
from .store.db import transaction


# The timeline kind of each operator's command, as the command is spelled (mail and CLI).
COMMANDS = {"operator.decision": "decide", "operator.request_documents": "request-documents",
            "operator.correction": "correct"}


def collect(db, now: datetime, since: timedelta) -> dict:
    start = now - since
    deadlines = reports.merchant_deadlines(db, now + timedelta(hours=24), now)
    # What needs a person: every case with the service team, and every shop past its deadline
    # (the timer escalates it at the next tick, but the team should know now).
    attention = reports.escalated_cases(db, now) + [
        {**d, "why": "overdue", "age_days": (now - d["merchant_due"]).days,
         "escalation_reason": None} for d in deadlines if d["overdue"]]
    return {"since": start, "now": now, "period_days": round(since / timedelta(days=1), 2),
            "opened": reports.opened_since(db, start),
            "escalated": reports.timeline_counts(db, "case.escalated", start),
            "closed": reports.timeline_counts(db, "case.closed", start),
            "deadlines": deadlines, "attention": attention,
            "other": reports.other_requests(db, start),
            "commands": [dict(c, command=COMMANDS[c["kind"]])
                         for c in reports.operator_commands(db, start, tuple(COMMANDS))],
            "failed": reports.failed_deliveries(db, start),
            "held": reports.held_inbound(db, start, SHOWN_TO_OPERATORS),
            "case_states": reports.state_counts(db, "cases"),
            "protection_states": reports.state_counts(db, "orders")}


def text(app, now: datetime, since: timedelta) -> str:
    db = app.db()
    mail = Mail(Role.OPERATOR, "digest", collect(db, now, since))
    text = app.renderer.render(mail.template, app.config.operators.locale,
                               context(app, db, None, mail, Role.OPERATOR)).text
    # In a terminal the mail's footer (below the RFC 3676 "-- " separator) has no place.
    return text.split("\n-- \n")[0].rstrip() + "\n"


def send(app, now: datetime, since: timedelta = timedelta(days=1)) -> None:
    db = app.db()
    data = collect(db, now, since)
    with transaction(db):
        compose(app, db, None, Mail(Role.OPERATOR, "digest", data), now)
