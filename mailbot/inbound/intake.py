"""Processing one stored inbound mail into exactly one recorded, named disposition.

parse -> dedupe -> screen (bounce, auto-reply) -> match (token, else thread headers) -> sender
check -> rate limit -> read the reply (action, form, command or free text) -> ``service.handle``.
``DISPOSITIONS`` lists every ending; only those reached through ``service.handle`` (or a held
mail's confirmation request) ever cause a reply.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from ..core.effects import Mail
from ..core.events import (
    BuyerAction, MerchantDecision, OperatorDecide, OperatorRequest, PartyMessage,
)
from ..core.decide import actions_for
from ..core.model import ACTION_CHOICE, MERCHANT_ACTIONS, CaseState, Outcome, Role
from ..outbound import outbox
from ..outbound.compose import compose
from ..store import records
from ..store.db import transaction
from ..wiring import event_log
from . import authentication, bounces, forms, inbox, intent, screening
from .documents import screen as screen_documents
from .parse import parse
from .reply import new_text
from .. import service

log = logging.getLogger("mailbot.intake")

CONFIRMATIONS_PER_HOUR = 3

# Endings that are not a domain result (those are core.effects.Result values).
DISPOSITIONS = {
    "unparseable": "the message could not be read at all",
    "duplicate": "a message with this Message-ID (or these exact bytes) was processed before",
    "bounce": "a delivery failure report; marks our mail as failed when it names one",
    "auto_reply": "automatic mail (RFC 3834, bulk, list, out-of-office): never answered",
    "bad_from": "not exactly one From header with one address: the author is unknown",
    "unmatched": "no token address and no known thread: shown to operators",
    "sender_mismatch": "valid token from another address: held, the registered party asked",
    "rate_limited": "too many mails from this sender in the last hour: recorded, not answered",
    "operator_help": "an operator's mail without a command: answered with the commands",
}


def process(app, inbox_id: int, now: datetime) -> str:
    try:
        return _process(app, inbox_id, now)
    except inbox.AlreadyProcessed:
        return "done"


def _process(app, inbox_id: int, now: datetime) -> str:
    db = app.db()
    row = inbox.load(db, inbox_id)
    if row is None or row["processed_at"] is not None:
        return "done"
    raw = row["raw"]
    try:
        mail = parse(raw)
    except Exception as exc:  # broken beyond reading: keep it, say so, never crash intake
        return _finish(app, inbox_id, "unparseable", now, detail=str(exc)[:200])
    key = mail.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    if inbox.seen(db, key, inbox_id):
        return _finish(app, inbox_id, "duplicate", now, dedupe_key=key)
    if screening.is_bounce(row["mail_from"], mail.headers, mail.subject):
        return _bounce(app, inbox_id, row, key, now)
    if screening.is_auto_reply(mail.headers, mail.subject):
        return _finish(app, inbox_id, "auto_reply", now, dedupe_key=key, sender=mail.sender)
    mail.sender = authentication.sender_of(mail.headers)
    if isinstance(mail.sender, authentication.Refusal):
        return _finish(app, inbox_id, "bad_from", now, dedupe_key=key, detail=mail.sender.reason)

    token = _token(app, row["rcpt_tos"] + mail.recipients)
    if token is not None and token.kind != "bounce":
        order_id, role, action = token.id, Role(token.kind), token.action
    else:
        found = outbox.find_message(db, mail.in_reply_to)
        if found is None:
            return _finish(app, inbox_id, "unmatched", now, dedupe_key=key, sender=mail.sender)
        (order_id, role), action = (found[0], Role(found[1])), None
    state = records.load(db, order_id)
    if state is None:
        return _finish(app, inbox_id, "unmatched", now, dedupe_key=key, sender=mail.sender)

    if (mail.sender not in _party_addresses(app, db, state, role)
            or authentication.authentication_failed(mail.headers, app.config.inbound.authserv_id)):
        return _hold(app, inbox_id, state, role, action, key, mail.sender, now)
    if inbox.recent_from(db, mail.sender, now) >= app.config.bot.replies_per_hour:
        return _finish(app, inbox_id, "rate_limited", now, order_id=order_id, dedupe_key=key,
                       sender=mail.sender)

    text = new_text(mail.text)
    documents, refused = screen_documents(mail.attachments, app.attachments.save)
    if role is Role.BUYER and action is None:
        # SPEC §5: free text may open a case or dispute a decision when it is unambiguous.
        action = intent.detect(text, actions_for(state, role))
    event = _event(role, action, text, documents)
    if role is Role.OPERATOR and (event is None or state.case is None
                                  or state.case.state is not CaseState.ESCALATED):
        # Operators act on escalated cases only; anything else gets the commands back.
        return _operator_help(app, inbox_id, state, key, mail.sender, now)
    notices = ()
    if refused and role is not Role.OPERATOR:
        notices = (Mail(role, f"{role}.documents_refused",
                        {"refused": tuple((r.name, r.why) for r in refused)}),)
    result = service.handle(app, order_id, event, now, inbox_id=inbox_id, dedupe_key=key,
                            sender=mail.sender, notices=notices)
    return str(result.result)


def _event(role: Role, action, text: str, documents):
    if role is Role.BUYER:
        if action is not None:
            return BuyerAction(action, text, documents)
        return PartyMessage(Role.BUYER, text, documents)
    if role is Role.MERCHANT:
        form = forms.read_decision(text)
        if action in MERCHANT_ACTIONS or form.choice is not None or form.labels_found >= 2:
            choice = form.choice or ACTION_CHOICE.get(action)
            amount = forms.parse_amount(form.amount_text) if form.amount_text else None
            return MerchantDecision(choice, form.message, amount, form.amount_text, documents)
        return PartyMessage(Role.MERCHANT, text, documents)
    command = forms.read_command(text)
    if command is None or not command.message:
        return None  # a command always carries its message to the parties
    if command.verb == "decide" and command.argument in tuple(Outcome):
        return OperatorDecide(Outcome(command.argument), command.message)
    if command.verb == "request-documents" and command.argument in ("buyer", "merchant"):
        return OperatorRequest(Role(command.argument), command.message)
    return None


def _token(app, addresses):
    for address in addresses:
        token = app.signer.parse(address)
        if token is not None:
            return token
    return None


def _party_addresses(app, db, state, role: Role) -> set[str]:
    if role is Role.BUYER:
        return {state.order.buyer_email.lower()}
    if role is Role.MERCHANT:
        return {a.lower() for a in records.merchant(db, state.order.shop_id)["emails"]}
    return {a.lower() for a in app.config.operators.addresses}


def _finish(app, inbox_id, disposition, now, **fields) -> str:
    if disposition not in DISPOSITIONS:
        raise ValueError(f"unknown disposition {disposition!r}")
    db = app.db()
    with transaction(db):
        inbox.finish(db, inbox_id, disposition, now, **fields)
    event_log(f"inbound.{disposition}", inbox_id=inbox_id, order_id=fields.get("order_id"))
    return disposition


def _bounce(app, inbox_id, row, key, now) -> str:
    """Delivery reports, to the VERP address of the recipient that failed (SPEC §6)."""
    db = app.db()
    reports = bounces.read(db, app.signer, row["rcpt_tos"], row["raw"])
    with transaction(db):
        detail = bounces.record(db, reports, inbox_id, now)
        inbox.finish(db, inbox_id, "bounce", now, dedupe_key=key, detail=detail)
    event_log("inbound.bounce", inbox_id=inbox_id, reports=len(reports))
    return "bounce"


def _hold(app, inbox_id, state, role, action, key, sender, now) -> str:
    """SPEC §5: the mail is kept, and only the registered address is asked to confirm."""
    db = app.db()
    template = f"{role}.confirm_sender"
    with transaction(db):
        actions = (action,) if action is not None else tuple(actions_for(state, role))
        # A forger must not be able to flood the real party with requests to confirm.
        asked = outbox.recent(db, state.order.id, template, now)
        if role is not Role.OPERATOR and asked < CONFIRMATIONS_PER_HOUR:
            compose(app, db, state, Mail(role, template, {}, actions=actions), now)
        inbox.finish(db, inbox_id, "sender_mismatch", now, order_id=state.order.id,
                     dedupe_key=key, sender=sender)
    event_log("inbound.sender_mismatch", inbox_id=inbox_id, order_id=state.order.id, role=role)
    return "sender_mismatch"


def _operator_help(app, inbox_id, state, key, sender, now) -> str:
    db = app.db()
    with transaction(db):
        compose(app, db, state, Mail(Role.OPERATOR, "operator.command_help"), now)
        inbox.finish(db, inbox_id, "operator_help", now, order_id=state.order.id,
                     dedupe_key=key, sender=sender)
    return "operator_help"
