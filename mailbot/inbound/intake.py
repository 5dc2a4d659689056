"""Processing one stored inbound mail into exactly one recorded ``Disposition``.

Cheap checks come first, on headers only, so that a stranger's mail costs no more than reading
its headers: dedupe -> robots (bounce, auto-reply) -> match (token, else thread headers, else a
registered buyer's address) -> sender check. Only a mail that passed them is read in full (its
text, HTML turned into text, reply trimming, attachments) and becomes one domain event for
``service.handle``. Each try of a mail is counted before it starts; a mail that fails, or never
finishes, ``inbox.MAX_ATTEMPTS`` times is quarantined and the worker moves on.
``finish`` records, logs and queues every ending decided here; ``disposition.REPLIES`` says what
each one answers.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import NamedTuple

from ..core.decide import actions_for
from ..core.effects import Mail
from ..core.events import (
    BuyerAction, MerchantDecision, OperatorDecide, OperatorRequest, PartyMessage,
)
from ..core.model import (
    ACTION_CHOICE, MERCHANT_ACTIONS, CaseState, Outcome, Role, State,
)
from ..logs import event_log
from ..money import parse_amount
from ..outbound import budget, outbox
from ..outbound.compose import compose, prepare
from ..store import records
from ..store.db import OPERATIONAL_ERRORS, transaction
from . import authentication, bounces, forms, inbox, intent, screening
from .disposition import CORE, REPLIES, Disposition
from .documents import screen as screen_documents
from .parse import parse
from .reply import new_text
from .. import addresses, service
from ..orders_by_mail import intake as confirmation

log = logging.getLogger("mailbot.intake")

OPEN_ORDERS_ANSWERED = 5  # a buyer writing to the bare address gets the newest five orders


def process(app, inbox_id: int, now: datetime, trusted_sender: bool = False) -> Disposition:
    """Processes one stored mail; returns its disposition (the recorded one if it was processed
    already). Raises when a try fails and the mail has tries left: it stays unprocessed.
    ``trusted_sender``: an operator vouched for the From (``inbox release``), no sender check."""
    db = app.db()
    try:
        attempts = inbox.begin(db, inbox_id, now)
    except inbox.AlreadyProcessed:
        return _recorded(db, inbox_id)
    row = inbox.load(db, inbox_id)
    if attempts > inbox.MAX_ATTEMPTS:
        # The earlier tries never recorded an end: they hung or took the worker down with them.
        return finish(app, inbox_id, Disposition.QUARANTINED, now,
                      detail=f"not finished in {inbox.MAX_ATTEMPTS} tries; last error: "
                             f"{row['last_error'] or 'none recorded'}")
    try:
        return _process(app, row, now, trusted_sender)
    except inbox.AlreadyProcessed:
        return _recorded(db, inbox_id)
    except OPERATIONAL_ERRORS as exc:  # the database's fault, not the mail's: not counted
        inbox.failed(db, inbox_id, f"{type(exc).__name__}: {exc}", counted=False)
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        inbox.failed(db, inbox_id, error)
        if attempts < inbox.MAX_ATTEMPTS:
            raise
        log.exception("inbound.quarantined inbox_id=%s", inbox_id)
        return finish(app, inbox_id, Disposition.QUARANTINED, now,
                      detail=f"failed {attempts} times: {error}")


def _recorded(db, inbox_id: int) -> Disposition:
    row = inbox.load(db, inbox_id)
    return Disposition(row["disposition"])


def _process(app, row: dict, now: datetime, trusted_sender: bool = False) -> Disposition:
    db, inbox_id, raw = app.db(), row["id"], row["raw"]
    try:
        mail = parse(raw)
    except Exception as exc:  # broken beyond reading: keep it, say so
        return finish(app, inbox_id, Disposition.UNPARSEABLE, now, detail=str(exc)[:200])
    key = mail.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    if inbox.seen(db, key, inbox_id):
        return finish(app, inbox_id, Disposition.DUPLICATE, now, key=key)
    if screening.is_bounce(row["mail_from"], mail.headers, mail.subject):
        return _bounce(app, inbox_id, row, key, now)
    token = _token(app, row["rcpt_tos"] + mail.recipients)
    if token is not None and token.kind == "intake":
        # A shop's order confirmation (orders by mail), before the robot screening: it is
        # automatic mail by design.
        return confirmation.take(app, inbox_id, mail, token.id, key, now)
    if screening.is_auto_reply(mail.headers, mail.subject):
        return finish(app, inbox_id, Disposition.AUTO_REPLY, now, key=key, sender=mail.sender)
    mail.sender = authentication.sender_of(mail.headers)
    if isinstance(mail.sender, authentication.Refusal):
        # RFC 5322 and DMARC: exactly one From with one address, or the author is unknown.
        return finish(app, inbox_id, Disposition.BAD_FROM, now, key=key,
                      detail=mail.sender.reason)
    ending = dict(key=key, sender=mail.sender)

    if token is not None and token.kind != "bounce":
        order_id, role, action = token.id, Role(token.kind), token.action
    else:
        found = outbox.find_message(db, mail.in_reply_to)
        if found is None:
            return _fresh_mail(app, inbox_id, mail.sender, now, ending)
        (order_id, role), action = (found[0], Role(found[1])), None
    state = records.load(db, order_id)
    if state is None:
        return finish(app, inbox_id, Disposition.UNMATCHED, now, **ending)
    unverified = None
    if trusted_sender:
        pass  # an operator vouched for the From (``inbox release``)
    elif mail.sender not in _party_addresses(app, db, state, role):
        unverified = f"From {mail.sender} is not the {role}'s address"
    elif authentication.authentication_failed(mail.headers, app.config.inbound.authserv_id):
        unverified = "the front MTA's Authentication-Results say the From is forged"
    if unverified:
        # SPEC §5: kept, and only the registered address is asked to confirm.
        actions = (action,) if action is not None else tuple(actions_for(state, role))
        to = [To(state, role, actions)] if role is not Role.OPERATOR else []
        return finish(app, inbox_id, Disposition.SENDER_MISMATCH, now, answers=to,
                      order_id=order_id, detail=unverified, **ending)

    # Verified: only now is the mail read in full (text, trimming, attachments).
    text = new_text(mail.text)
    documents, refused = screen_documents(mail.attachments, app.attachments.save,
                                          mail.parts_skipped)
    if role is Role.BUYER and action is None:
        # SPEC §5: free text may open a case or dispute a decision when it is unambiguous.
        action = intent.detect(text, actions_for(state, role))
    event = _event(role, action, text, documents)
    if role is Role.OPERATOR and (event is None or state.case is None
                                  or state.case.state is not CaseState.ESCALATED):
        # Operators act on escalated cases only; anything else gets the commands back.
        help_ = To(state, Role.OPERATOR, data={"closest": forms.closest_command(text),
                                               "asked": forms.asked_command(text)})
        return finish(app, inbox_id, Disposition.OPERATOR_HELP, now, order_id=order_id,
                      answers=[help_], answer_to=mail.sender, **ending)
    notices = ()
    if refused and role is not Role.OPERATOR:
        notices = (Mail(role, "documents_refused",
                        {"refused": tuple((r.name, r.why) for r in refused)}),)
    ended = []

    def record(db, planned):
        disposition, detail, queued = _answers_within_budget(app, db, inbox_id, planned,
                                                             mail.sender, role, now)
        inbox.finish(db, inbox_id, disposition, now, order_id=order_id, dedupe_key=key,
                     sender=mail.sender, detail=detail)
        ended[:] = [disposition, detail]
        return queued

    service.handle(app, order_id, event, now, notices=notices, inbound=record)
    event_log(f"inbound.{ended[0]}", inbox_id=inbox_id, order_id=order_id, detail=ended[1])
    return ended[0]


def _answers_within_budget(app, db, inbox_id, planned, sender, role, now):
    """An answer is a mail back to the sender from a decision that changed nothing ("not open",
    "choose an action", the receipt of a message relayed on a case): answers pass the sender's
    budget. Every other mail carries an applied change to someone and always goes out, so a
    robot that answers our receipts is stopped while its messages are still relayed."""
    result = planned.decision.result
    disposition, detail = Disposition.of(result), None
    changed = planned.decision.state != planned.before
    answers = [] if changed else [m for m in planned.mails if m.role == str(role)]
    queued = [(m, {}) for m in planned.mails if m not in answers]
    if not answers:
        return disposition, detail, queued
    answer_to = budget.key(sender)
    templates = {m.template for m in answers}
    if budget.allows(app, db, answer_to, templates, now):
        return disposition, detail, queued + [
            (m, {"answer_to": answer_to, "inbox_id": inbox_id}) for m in answers]
    detail = f"{result}: answer {', '.join(sorted(templates))} held back (answer budget of " \
             f"{sender})"
    return (disposition if queued else Disposition.RATE_LIMITED), detail, queued


class To(NamedTuple):
    """One answer of an ending: the order it is about, who gets it, what it offers."""

    state: State
    role: Role
    actions: tuple = ()
    data: dict | None = None


def finish(app, inbox_id: int, disposition: Disposition, now: datetime, *, answers=(),
           answer_to: str | None = None, key: str | None = None, sender: str | None = None,
           order_id: int | None = None, detail: str | None = None, effect=None) -> Disposition:
    """Ends a mail that no event came from: records its disposition, queues the answer of
    ``REPLIES`` to each ``To`` of ``answers`` and logs one line, in one
    transaction. ``answer_to``: the address whose answer budget the answers count against (None:
    the answers are requests to confirm, capped per order instead). ``effect(db)``: what the
    ending changes besides (a bounce marks our delivery failed), written in the same
    transaction; it returns the detail to record."""
    template = REPLIES[disposition]
    if template is CORE:
        raise ValueError(f"{disposition} is decided by the core, through service.handle")
    db = app.db()
    with transaction(db):
        if effect is not None:
            detail = effect(db)
        if template is not None and answers:
            mails = [(to.state, Mail(to.role, template, to.data or {},
                                         to.actions))
                     for to in answers]
            if answer_to is None:
                detail = _confirm(app, db, mails, now) or detail
            elif budget.allows(app, db, answer_to, {m.template for _, m in mails}, now):
                outgoing = [prepare(app, db, state, m, now) for state, m in mails]
                budget.queue(db, [o for o in outgoing if o], now, answer_to, inbox_id)
            else:
                detail = f"{disposition}: answer {template} held back (answer budget of {sender})"
                disposition = Disposition.RATE_LIMITED
        inbox.finish(db, inbox_id, disposition, now, order_id=order_id, dedupe_key=key,
                     sender=sender, detail=detail)
    event_log(f"inbound.{disposition}", inbox_id=inbox_id, order_id=order_id, detail=detail)
    return disposition


def _confirm(app, db, mails, now) -> str | None:
    """Requests to confirm go to the registered party; a forger must not be able to flood them."""
    limit = app.config.limits.confirmations_per_order_per_hour
    for state, mail in mails:
        if outbox.recent(db, state.order.id, mail.template, now) >= limit:
            return f"no request to confirm: {limit} sent for this order in the last hour"
        compose(app, db, state, mail, now)
    return None


def _fresh_mail(app, inbox_id, sender, now, ending) -> Disposition:
    """A mail with no token and no known thread. A registered buyer gets the actions of their
    open orders (links to their own address, so a forged From only reaches the real buyer);
    anyone else's mail is kept for operators, unanswered (no backscatter)."""
    db = app.db()
    states = [records.load(db, order_id)
              for order_id in records.open_orders_of_buyer(db, sender, OPEN_ORDERS_ANSWERED)]
    answers = [To(state, Role.BUYER, actions) for state in states
               if (actions := tuple(actions_for(state, Role.BUYER)))]
    if not answers:
        return finish(app, inbox_id, Disposition.UNMATCHED, now, **ending)
    return finish(app, inbox_id, Disposition.ORDERS_OFFERED, now, answers=answers,
                  answer_to=budget.key(sender, verified=False), **ending)


def _event(role: Role, action, text: str, documents):
    if role is Role.BUYER:
        if action is not None:
            return BuyerAction(action, text, documents)
        return PartyMessage(Role.BUYER, text, documents)
    if role is Role.MERCHANT:
        form = forms.read_decision(text)
        if action in MERCHANT_ACTIONS or form.choice is not None or form.labels_found >= 2:
            choice = form.choice or ACTION_CHOICE.get(action)
            amount = parse_amount(form.amount_text) if form.amount_text else None
            return MerchantDecision(choice, form.message, amount, form.amount_text, documents)
        return PartyMessage(Role.MERCHANT, text, documents)
    command = forms.read_command(text)  # only the operators' commands: ``decide withdrawn`` is not
    if command is None or not command.message:
        return None  # answered with the help; a command always carries its message to the parties
    if command.verb == "decide":
        return OperatorDecide(Outcome(command.argument), command.message)
    return OperatorRequest(Role(command.argument), command.message)


def _token(app, candidates):
    for address in candidates:
        token = app.signer.parse(address)
        if token is not None:
            return token
    return None


def _party_addresses(app, db, state, role: Role) -> set[str]:
    if role is Role.BUYER:
        registered = [state.order.buyer_email]
    elif role is Role.MERCHANT:
        registered = records.merchant(db, state.order.shop_id)["emails"]
    else:
        registered = app.config.operators.addresses
    return {addresses.comparable(a) for a in registered}


def _bounce(app, inbox_id, row, key, now) -> Disposition:
    """Delivery reports, to the VERP address of the recipient that failed (SPEC §6)."""
    reports = bounces.read(app.db(), app.signer, row["rcpt_tos"], row["raw"])
    return finish(app, inbox_id, Disposition.BOUNCE, now, key=key,
                  effect=lambda db: bounces.record(db, reports, inbox_id, now))
