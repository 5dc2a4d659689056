"""The operators' daily digest (SPEC §7): what happened since the last one and what needs a look.

``collect`` reads the figures (SQL in ``store.reports``); ``templates/digest.j2`` lays them out,
so the same digest prints in a terminal (the text part) and reads in a mail client (both parts).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .core.deadlines import word_promised_by
from .core.effects import Mail
from .core.model import Role
from .inbound.disposition import SHOWN_TO_OPERATORS, Ending
from .outbound import failures
from .outbound.compose import compose, context
from .store import reports
from .store.db import transaction
from .tokens import Token


# The timeline kind of each operator's command, as the command is spelled (mail and CLI).
COMMANDS = {"operator.decision": "decide", "operator.request_documents": "request-documents",
            "operator.correction": "correct", "operator.paid": "paid",
            "operator.message": "message"}

# What an operator can do with a held mail: a sender held for confirmation is vouched for
# (``inbox release``); a mail about no known order, held by the answer limit or set aside after
# failed tries is run through intake again after a fix (``inbox replay``). Any other would end
# the same way again (unreadable, no single From, a form with errors, an operator's mail
# without a command: each sender was told) or is refused by replay (over quota: not kept).
ACTIONS = {str(Ending.SENDER_MISMATCH): "release", str(Ending.UNMATCHED): "replay",
           str(Ending.RATE_LIMITED): "replay", str(Ending.QUARANTINED): "replay"}

# Whom a held mail may claim to be: the party of the order's address it was sent to.
PARTIES = (str(Role.BUYER), str(Role.MERCHANT))
# Held mail listed one by one (with its inbox id); past this many the digest says how many more.
HELD_SHOWN = 30
# Payments to check listed one by one, the earliest pay-by date first; past this many, how many more.
PAYMENTS_SHOWN = 30
# The scheduler escalates a shop past its deadline at its next tick (every few minutes): one
# still waiting this long after its deadline means the timer may not be running.
TICK_LATE = timedelta(hours=1)


def collect(db, now: datetime, since: timedelta, tz: ZoneInfo = ZoneInfo("UTC"),
            decision_days: int = 0) -> dict:
    """The digest's figures at ``now`` for the period ``since`` long; ``tz`` is the zone the
    pay-by and reply-by dates are counted in (the bot's); ``decision_days`` the team's promise
    to an escalated case's parties ([operators] decision_days, 0: none)."""
    start = now - since
    deadlines = [dict(d, stalled=now - d["merchant_due"] > TICK_LATE)
                 for d in reports.merchant_deadlines(db, now + timedelta(hours=24), now)]
    # What needs a person: every case with the service team. A shop past its deadline is not
    # with the team yet (a command by mail is refused until the next tick escalates it): it is
    # listed with the shops' deadlines only.
    attention = reports.escalated_cases(db, now, tz)
    # The day the parties were promised word from the team (compose: ``hear_by``); a request
    # for documents is word from it, so a case that waits for one keeps its promise.
    for case in attention:
        case["promised"] = word_promised_by(case["since"], decision_days, tz)
        case["promise_broken"] = bool(case["promised"] and now > case["promised"]
                                      and not case["asked"])
    held_mail, held_total = reports.held_mail(db, start, SHOWN_TO_OPERATORS, HELD_SHOWN)
    payments, payments_total = reports.payments_owed(db, now, tz, PAYMENTS_SHOWN)
    # A compensation is paid into the account the buyer sends: until it has come the payment
    # waits on the buyer; past its date it is late all the same (the buyer was promised that
    # date), listed apart with a way to ask the buyer again.
    payments = [dict(p, waiting=p["payer"] == "protection" and p["bank_details"] is None)
                for p in payments]
    # What the team must see before anything else, first in the mail and counted in its
    # subject: the system's own alerts (a shop's deadline passed an hour ago and no tick has
    # escalated it: the scheduler may be down) and payments past their pay-by date.
    stalled = [d["case_id"] for d in deadlines if d["stalled"]]
    return {"since": start, "now": now, "period_days": round(since / timedelta(days=1), 2),
            "opened": reports.opened_since(db, start),
            "escalated": reports.timeline_counts(db, "case.escalated", start),
            "closed": reports.timeline_counts(db, "case.closed", start),
            "deadlines": deadlines, "attention": attention,
            "alerts": {"scheduler": stalled} if stalled else {},
            "late": [p for p in payments if p["overdue"]],
            "payments": payments, "payments_more": payments_total - len(payments),
            "other": reports.other_requests(db, start),
            "commands": [dict(c, command=COMMANDS[c["kind"]])
                         for c in reports.operator_commands(db, start, tuple(COMMANDS))],
            "failed": [dict(f, why=failures.kind(f["detail"] or ""))
                       for f in reports.failed_deliveries(db, start)],
            "held": reports.held_inbound(db, start, SHOWN_TO_OPERATORS),
            "held_mail": [dict(h, command=ACTIONS.get(h["disposition"]))
                          for h in held_mail],
            "held_more": held_total - len(held_mail),
            "case_states": reports.state_counts(db, "cases"),
            "protection_states": reports.state_counts(db, "orders")}


def _addressed(app, data: dict) -> dict:
    """Each case line with the case's own command address (its commands by mail); each held
    mail of an order with it too (``release N`` by mail) and the party it claims to be from:
    the party whose address of the order it was sent to (its token), else none known."""
    for row in data["attention"] + data["deadlines"] + data["payments"]:
        row["address"] = app.signer.address(Token(str(Role.OPERATOR), row["order_id"]))
    for row in data["held_mail"]:
        if row.get("order_id") is None:
            continue
        row["address"] = app.signer.address(Token(str(Role.OPERATOR), row["order_id"]))
        tokens = [app.signer.parse(address) for address in row.get("rcpt_tos", ())]
        row["party"] = next((t.kind for t in tokens if t is not None and t.kind in PARTIES
                             and t.id == row["order_id"]), None)
    return data


def text(app, now: datetime, since: timedelta) -> str:
    db = app.db()
    data = collect(db, now, since, app.tz, app.config.operators.decision_days)
    mail = Mail(Role.OPERATOR, "digest", _addressed(app, data))
    text = app.renderer.render(mail.template, app.config.operators.locale,
                               context(app, db, None, mail, Role.OPERATOR)).text
    # In a terminal the mail's footer (below the RFC 3676 "-- " separator) has no place.
    return text.split("\n-- \n")[0].rstrip() + "\n"


def send(app, now: datetime, since: timedelta = timedelta(days=1)) -> None:
    db = app.db()
    data = _addressed(app, collect(db, now, since, app.tz,
                                   app.config.operators.decision_days))
    with transaction(db):
        compose(app, db, None, Mail(Role.OPERATOR, "digest", data), now)
