"""Processing one stored inbound mail into exactly one recorded disposition, as one pipeline.

``STEPS`` are small named steps, run in order over one ``Inbound`` (Mailman's pipeline of
handlers is the model); each learns something about the mail or ends it with an ``End``. Cheap
checks come first, on headers only, so that a stranger's mail costs no more than reading its
headers: parse -> dedupe -> robots (bounce, auto-reply; a shop's order confirmation goes to
``orders_by_mail`` in between) -> author -> match (token, else thread headers, else a registered
buyer's address) -> sender check -> storage quota. Only a mail that passed them is read in full
(its text, HTML turned into text, reply trimming, attachments), is checked for a loop, and
becomes one domain event, planned by the core. Every ending goes through ``finish``, which owns
the transaction: it writes the planned change (``service.settle``), lets out the mails within the
answer budget and the relay cap (``outbound/budget.py``), and records the disposition, once
(``orders_by_mail`` still records its own endings). Each try of a mail is counted before it starts; a mail that fails, or
never finishes, ``inbox.MAX_ATTEMPTS`` times is quarantined and the worker moves on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from ..core.case import PAID_OUTCOMES, operator_amount_problem, paid_days
from ..core.decide import actions_for
from ..core.effects import Entry, Mail, Result
from ..core.events import (
    BuyerAction, MerchantDecision, OperatorDecide, OperatorMessage, OperatorPaid, OperatorRequest,
    PartyMessage,
)
from ..core.model import (ACTION_CHOICE, MERCHANT_ACTIONS, MESSAGE_COMMAND, OPERATOR_OUTCOMES,
                          PAID_COMMAND, Outcome, Role, State)
from ..logs import event_log
from ..money import parse_amount
from ..outbound import budget, outbox
from ..outbound.compose import prepare
from ..store import records, reports
from ..store.db import operational_errors, transaction
from . import authentication, bounces, forms, inbox, intent, mail_commands, retry, screening
from .disposition import REPLIES, WORDS_ANSWERED, Disposition, Ending
from .documents import screen as screen_documents
from .parse import parse
from .reply import new_text
from .. import addresses, service
from ..orders_by_mail import intake as confirmation

log = logging.getLogger("mailbot.intake")

OPEN_ORDERS_ANSWERED = 5  # a buyer writing to the bare address gets the newest five orders
LOOP_WINDOW = timedelta(days=1)  # the same words from the same party again: a robot's loop
# Endings that already say the mail was held: an answer held back does not make them
# rate_limited (nor does it a mail that had another effect: a relay held by the cap is applied).
HELD_ALREADY = (Ending.SENDER_MISMATCH, Ending.OVER_QUOTA)
HELD_QUOTED = 3000  # characters of a relay held by the cap quoted to the operators: its gist


class To(NamedTuple):
    """One answer of an ending: the order it is about, who gets it, what it offers."""

    state: State
    role: Role
    actions: tuple = ()
    data: dict | None = None


@dataclass(frozen=True)
class End:
    """How a mail ends. ``answers``: the mails of ``REPLIES[disposition]``, on the answer budget
    ``answer_to``; ``planned``: the core's decision on the mail's event, written by ``finish``;
    ``effect(db)``: what the ending changes besides (a bounce marks our delivery failed),
    returning the detail to record."""

    disposition: Disposition
    answers: tuple[To, ...] = ()
    answer_to: str | None = None
    detail: str | None = None
    planned: service.Planned | None = None
    effect: Callable | None = None
    recorded: bool = False  # ended and recorded by orders_by_mail in its own transaction


@dataclass
class Inbound:
    """What the steps learn about one stored mail, in the order they learn it."""

    app: object
    row: dict
    now: datetime
    trusted_sender: bool = False  # an operator vouched for the From (``inbox release``)
    mail: object = None  # parse.Parsed
    key: str | None = None  # the dedupe key: Message-ID, else a hash of the bytes
    sender: str | None = None
    order_id: int | None = None
    role: Role | None = None
    action: object = None  # the action of the token, or read from free text
    state: State | None = None
    text: str = ""
    documents: tuple = ()
    known: tuple = ()  # documents of the case file sent again: a message refers to them
    refused: list = field(default_factory=list)
    further: list = field(default_factory=list)  # more token addresses of the same delivery


def process(app, inbox_id: int, now: datetime, trusted_sender: bool = False) -> Disposition:
    """Processes one stored mail; returns its disposition (the recorded one if it was processed
    already). Raises when a try fails and the mail has tries left: it stays unprocessed.
    ``trusted_sender``: an operator vouched for the From (``inbox release``), no sender check."""
    db = app.db()
    try:
        attempts = inbox.begin(db, inbox_id, now)
    except inbox.AlreadyProcessed:
        return _recorded(db, inbox_id)
    m = Inbound(app, inbox.load(db, inbox_id), now, trusted_sender=trusted_sender)
    if attempts > inbox.MAX_ATTEMPTS:
        # The earlier tries never recorded an end: they hung or took the worker down with them.
        return finish(m, End(Ending.QUARANTINED,
                             detail=f"not finished in {inbox.MAX_ATTEMPTS} tries; last error: "
                                    f"{m.row['last_error'] or 'none recorded'}"))
    try:
        return finish(m, run(m))
    except inbox.AlreadyProcessed:
        return _recorded(db, inbox_id)
    except operational_errors() as exc:  # the database's fault, not the mail's: not counted
        inbox.failed(db, inbox_id, f"{type(exc).__name__}: {exc}", counted=False)
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        inbox.failed(db, inbox_id, error)
        if attempts < inbox.MAX_ATTEMPTS:
            raise
        log.exception("inbound.quarantined inbox_id=%s", inbox_id)
        return finish(Inbound(app, m.row, now), End(Ending.QUARANTINED,
                                                    detail=f"failed {attempts} times: {error}"))


def _recorded(db, inbox_id: int) -> Disposition:
    value = inbox.load(db, inbox_id)["disposition"]
    return Result(value) if value in Result.__members__.values() else Ending(value)


def run(m: Inbound) -> End:
    """The steps in order, until one ends the mail (the last one always does)."""
    for step in STEPS:
        end = step(m)
        if end is not None:
            return end
    raise AssertionError("the last step always ends the mail")


# --- the steps -----------------------------------------------------------------------------------

def parsed(m: Inbound) -> End | None:
    try:
        m.mail = parse(m.row["raw"])
    except Exception as exc:  # broken beyond reading: keep it, say so
        return End(Ending.UNPARSEABLE, detail=str(exc)[:200])
    return None


def deduplicated(m: Inbound) -> End | None:
    """The same mail to the same recipients again (an MTA's retry after a lost reply) is a
    duplicate; the same mail to another of our addresses is not (see ``matched``)."""
    base = m.mail.message_id or "sha256:" + hashlib.sha256(m.row["raw"]).hexdigest()
    m.key = f"{base} to {','.join(sorted(a.lower() for a in m.row['rcpt_tos']))}"
    if inbox.seen(m.app.db(), m.key, m.row["id"]):
        return End(Ending.DUPLICATE)
    return None


def bounce(m: Inbound) -> End | None:
    """Delivery reports, to the VERP address of the recipient that failed (SPEC §6)."""
    if not screening.is_bounce(m.row["mail_from"], m.mail.headers, m.mail.subject):
        return None
    reports = bounces.read(m.app.db(), m.app.signer, m.row["rcpt_tos"], m.row["raw"])
    return End(Ending.BOUNCE,
               effect=lambda db: bounces.record(db, reports, m.row["id"], m.now))


def order_confirmation(m: Inbound) -> End | None:
    """A shop's order confirmation to its intake address (orders by mail), before the robot
    screening: it is automatic mail by design."""
    token = _token(m.app, m.row["rcpt_tos"] + m.mail.recipients)
    if token is None or token.kind != "intake":
        return None
    taken = confirmation.take(m.app, m.row["id"], m.mail, token.id, m.key, m.now)
    return End(taken, recorded=True)


def automatic(m: Inbound) -> End | None:
    if screening.is_auto_reply(m.mail.headers, m.mail.subject):
        m.sender = m.mail.sender
        return End(Ending.AUTO_REPLY)
    return None


def author(m: Inbound) -> End | None:
    m.sender = authentication.sender_of(m.mail.headers)
    if isinstance(m.sender, authentication.Refusal):
        # RFC 5322 and DMARC: exactly one From with one address, or the author is unknown.
        reason, m.sender = m.sender.reason, None
        return End(Ending.BAD_FROM, detail=reason)
    return None


def matched(m: Inbound) -> End | None:
    """The order and the party: a token address, else the thread of one of our mails, else (a
    registered buyer writing to the bare address) the actions of their open orders."""
    db = m.app.db()
    tokens = _party_tokens(m.app, m.row["rcpt_tos"])
    # RFC 2033: one transaction to two of our token addresses is a delivery to each; the mail
    # takes the first, and each further one gets a stored mail of its own (written by finish).
    m.further = [address for address, _ in tokens[1:]]
    token = tokens[0][1] if tokens else _token(m.app, m.mail.recipients)
    if token is not None and token.kind != "bounce":
        m.order_id, m.role, m.action = token.id, Role(token.kind), token.action
    else:
        found = outbox.find_message(db, m.mail.in_reply_to)
        if found is None:
            return _fresh_mail(m)
        m.order_id, m.role = found[0], Role(found[1])
    m.state = records.load(db, m.order_id)
    if m.state is None:
        return End(Ending.UNMATCHED)
    return None


def _fresh_mail(m: Inbound) -> End:
    """A mail with no token and no known thread. A registered buyer gets the actions of their
    open orders (links to their own address, so a forged From only reaches the real buyer);
    anyone else's mail, and mail the front MTA says is forged, is kept for operators,
    unanswered (no backscatter; a forgery never uses the buyer's answers)."""
    db = m.app.db()
    if _forged(m):
        return End(Ending.UNMATCHED, detail=_FORGED)
    states = [records.load(db, order_id)
              for order_id in records.open_orders_of_buyer(db, m.sender, OPEN_ORDERS_ANSWERED)]
    answers = tuple(To(state, Role.BUYER, actions) for state in states
                    if (actions := tuple(actions_for(state, Role.BUYER))))
    if not answers:
        return End(Ending.UNMATCHED)
    return End(Ending.ORDERS_OFFERED, answers,
               answer_to=budget.key(m.sender, verified=False))


_FORGED = "the front MTA's Authentication-Results say the From is forged"


def _forged(m: Inbound) -> bool:
    return authentication.authentication_failed(m.mail.headers,
                                                m.app.config.inbound.authserv_id)


def verified(m: Inbound) -> End | None:
    """SPEC §5's sender check. Mail from another address is kept, and only the registered
    address is asked to confirm (on the sender's budget, so a forger's flood never uses up what
    the party is owed); mail the front MTA says is forged is kept unanswered: it is not theirs."""
    if m.trusted_sender:
        return None
    if m.sender not in _party_addresses(m.app, m.state, m.role):
        detail = f"From {m.sender} is not the {m.role}'s address"
        if m.role is Role.OPERATOR:
            return End(Ending.SENDER_MISMATCH, detail=detail)
        actions = (m.action,) if m.action is not None else tuple(actions_for(m.state, m.role))
        return End(Ending.SENDER_MISMATCH, (To(m.state, m.role, actions),),
                   answer_to=budget.key(m.sender, verified=False), detail=detail)
    if _forged(m):
        return End(Ending.SENDER_MISMATCH, detail=_FORGED)
    return None


def within_quota(m: Inbound) -> End | None:
    """A party's mail is kept up to ``storage_per_order_mb`` per order; past it the mail's body
    is dropped and the sender told, in their language, why it was not kept."""
    db = m.app.db()
    quota_mb = m.app.config.limits.storage_per_order_mb
    quota = quota_mb * 1024 * 1024
    used = inbox.stored_bytes(db, m.order_id)
    if used + len(m.row["raw"]) <= quota:
        return None
    answer = () if m.role is Role.OPERATOR else (
        To(m.state, m.role, tuple(actions_for(m.state, m.role)), {"quota_mb": quota_mb}),)
    return End(Ending.OVER_QUOTA, answer, answer_to=budget.key(m.sender),
               detail=f"{used} bytes kept for this order; quota {quota}",
               effect=lambda db: inbox.drop_body(db, m.row["id"]))


def read(m: Inbound) -> None:
    """Only now is the mail read in full (text, trimming, attachments)."""
    m.text = new_text(m.mail.text)
    m.documents, m.refused = screen_documents(m.mail.attachments, m.app.attachments.save,
                                              m.mail.parts_skipped)
    if m.state.case is not None:
        filed = _filed_since_opening(m)
        m.known = tuple(d for d in m.documents if d.sha256 in filed)
    if m.role is Role.BUYER and m.action is None:
        # SPEC §5: free text may open a case or dispute a decision when it is unambiguous.
        m.action = intent.detect(m.text, actions_for(m.state, m.role))
    return None


def _filed_since_opening(m: Inbound) -> set[str]:
    """The documents of the case file, each of which went to the other party (with the case,
    a decision or a message) when it was filed; words the bot only answered went to nobody."""
    return {d.sha256 for entry in records.timeline(m.app.db(), m.order_id)
            if entry["at"] >= m.state.case.opened_at and entry["kind"] != WORDS_ANSWERED
            for d in entry["attachments"]}


def _new_documents(m: Inbound) -> tuple:
    return tuple(d for d in m.documents if d not in m.known)


def not_a_loop(m: Inbound) -> End | None:
    """Two auto-responders that ignore RFC 3834 answer each other's relays for ever: a message
    with the very words its party sent on this case in the last day is not relayed again."""
    if m.state.case is None or m.action is not None or m.role is Role.OPERATOR:
        return None
    words = _words(m.text)
    if not words or _new_documents(m):
        return None
    since = m.now - LOOP_WINDOW
    for entry in records.timeline(m.app.db(), m.order_id):
        if (entry["kind"] == "message" and entry["actor"] == str(m.role)
                and entry["at"] > since and _words(entry["text"]) == words):
            return End(Ending.AUTO_REPLY, detail="the same message as one relayed at "
                                                 f"{entry['at'].isoformat()}: not relayed again")
    return None


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


def decided(m: Inbound) -> End:
    """The mail's event, planned by the core outside the write lock. An operator's mail that is
    no command, or a command the core does not take now, gets the commands back, saying why."""
    if m.role is Role.OPERATOR and (on_mail := forms.read_mail_command(m.text)):
        return _mail_command(m, *on_mail)
    if m.role is Role.OPERATOR and (day := _paid_day_refused(m)):
        return _command_help(m, "paid_date", paid_date=day)
    event = _event(m)
    if m.role is Role.OPERATOR:
        if event is None:
            return _command_help(m, "unknown" if m.text.strip() else "empty")
        planned = service.plan(m.app, m.order_id, event, m.now)
        if planned.decision.result is Result.NOT_OPEN and isinstance(event, OperatorPaid):
            if not (m.state.case.payment_recorded and m.state.case.outcome in PAID_OUTCOMES):
                return _command_help(m, "not_owed")
            last = [e for e in records.timeline(m.app.db(), m.order_id)
                    if e["kind"] == "operator.paid"][-1]
            # Its text is "AMOUNT PAYER DAY" (core.case: _payment_recorded): the answer says
            # what was recorded as paid and on which day, beside who recorded it when.
            amount, payer, on = last["text"].split()
            return _command_help(m, "paid_already", recorded={
                "by": last["done_by"], "at": last["at"], "amount": Decimal(amount),
                "payer": payer, "on": date.fromisoformat(on)})
        if planned.decision.result is Result.NOT_OPEN:
            earlier = _decided_before(m) if isinstance(event, OperatorDecide) else None
            return _command_help(m, "decided" if earlier else "not_open", decided=earlier)
        missing = forms.read_command(m.text).missing
        if missing:
            return _command_help(m, "missing", missing=list(missing))
        refused = _amount_refused(m, event)
        if refused is not None:
            return _command_help(m, "amount", refused=refused)
        return End(planned.decision.result, planned=planned)
    notices = ()
    if m.refused:
        notices = (Mail(m.role, "documents_refused",
                        {"refused": tuple((r.name, r.why) for r in m.refused)}),)
    planned = service.plan(m.app, m.order_id, event, m.now, notices)
    return End(planned.decision.result, planned=planned)


def _amount_refused(m: Inbound, event) -> dict | None:
    """A decision the core would take, whose amount ``decide --amount`` would refuse
    (unreadable, beyond the order or the plan's cover): the amount as typed ("" for the
    order's), the outcome and the cover, for the answer to state the bounds. None when the
    amount may be decided."""
    if not isinstance(event, OperatorDecide):
        return None
    typed = forms.read_command(m.text).amount_text
    cover = m.app.config.cover.of(m.state.order.plan)
    unreadable = bool(typed) and event.amount is None
    if unreadable or operator_amount_problem(m.state, event.outcome, event.amount, cover):
        # Beyond the cover only (a readable amount within the order's): the subject names it.
        paid = m.state.order.amount if event.amount is None else event.amount
        above_cover = (not unreadable and event.outcome is Outcome.COMPENSATED
                       and cover is not None and cover < paid <= m.state.order.amount)
        return {"amount": typed or "", "outcome": str(event.outcome), "cover": cover,
                "above_cover": above_cover}
    return None


def _decided_before(m: Inbound) -> dict | None:
    """A case a colleague decided (or corrected) already: by whom, when, the outcome and the
    amount, for the second decision's answer; None when no operator decided it."""
    case = m.state.case
    if case is None or case.outcome not in OPERATOR_OUTCOMES:
        return None
    entries = records.timeline(m.app.db(), m.order_id)
    decisions = [e for e in entries if e["kind"] in ("operator.decision", "operator.correction")]
    if not decisions:
        return None
    last = decisions[-1]
    amounts = [e["text"] for e in entries
               if e["kind"] == "operator.amount" and e["at"] >= last["at"]]
    return {"by": last["done_by"], "at": last["at"], "outcome": str(case.outcome),
            "amount": Decimal(amounts[-1]) if amounts else None}


def _command_help(m: Inbound, why: str, **data) -> End:
    """The commands back, with ``why`` the mail was no command that could be carried out:
    "unknown", "empty", "missing" (a message), "amount", "decided" (by a colleague) or
    "not_open" (the case is not with the team)."""
    closest = forms.closest_command(m.text)
    typed = retry.typed(m.text, closest, m.state, m.app.config.cover.of(m.state.order.plan))
    data = {"why": why, "closest": closest, "asked": forms.asked_command(m.text),
            "typed": typed, **data}
    return End(Ending.OPERATOR_HELP, (To(m.state, Role.OPERATOR, data=data),),
               answer_to=budget.key(m.sender))


def _mail_command(m: Inbound, verb: str, number: int | str) -> End:
    """``resend N``, ``release N`` or ``buyer-email NEW`` on this order, carried out at once in
    its own transaction (a release runs the held mail through intake as a mail of its own, which
    cannot nest in this one's); the operator is answered with what was done, or why not."""
    try:
        if verb == "buyer-email":
            done = mail_commands.buyer_email(m.app, m.order_id, number, m.now, by=m.sender)
        else:
            act = mail_commands.resend if verb == "resend" else mail_commands.release
            done = act(m.app, number, m.now, order_id=m.order_id)
    except mail_commands.Refused as refused:
        return _command_help(m, "mail_command", mail_command={
            "verb": verb, "number": number, "why": refused.why, "status": refused.status,
            **refused.mail})
    m.state = records.load(m.app.db(), m.order_id)  # as the command left it
    data = {"command": f"{verb} {number}", "action": verb, "number": number, "by": m.sender,
            **done}
    return End(Ending.OPERATOR_DONE, (To(m.state, Role.OPERATOR, data=data),),
               answer_to=budget.key(m.sender), detail=f"{verb} {number}")


STEPS: tuple[Callable[[Inbound], End | None], ...] = (
    parsed, deduplicated, bounce, order_confirmation, automatic, author, matched, verified,
    within_quota, read, not_a_loop, decided,
)


# --- the one ending ------------------------------------------------------------------------------

def finish(m: Inbound, end: End) -> Disposition:
    """Ends the mail, in one transaction: writes the planned change, queues the mails that may go
    out (``_within_budget``), records the disposition; then logs one line."""
    if end.recorded:
        return end.disposition
    app, now, inbox_id = m.app, m.now, m.row["id"]
    db = app.db()
    with transaction(db):
        if m.key is not None and end.disposition is not Ending.DUPLICATE:
            # Two copies of one mail (an MTA's retry after a lost reply) may be in two workers'
            # hands at once and both pass ``deduplicated``: asked again under a lock on the key,
            # in the transaction that records the end, only the first copy to end acts.
            db.lock(m.key)
            if inbox.seen(db, m.key, inbox_id):
                end, m.further = End(Ending.DUPLICATE), []
        disposition, detail, planned = end.disposition, end.detail, end.planned
        if end.effect is not None:
            detail = end.effect(db) or detail
        if planned is not None:
            planned = service.settle(app, planned, now)
            disposition = planned.decision.result
            if disposition is not Result.APPLIED:
                _keep_answered_words(m)
            # An answer changes nothing and goes back to the sender: "not open", a receipt.
            # Every other mail carries an applied change to someone.
            changed = planned.decision.state != planned.before
            answers = [] if changed else [o for o in planned.mails if o.role == str(m.role)]
            mails = [o for o in planned.mails if o not in answers]
            state = planned.decision.state
        else:
            kind = REPLIES[disposition]
            answers = [prepare(app, db, to.state, Mail(to.role, kind, to.data or {}, to.actions),
                               now) for to in end.answers] if kind else []
            answers, mails, state = [a for a in answers if a is not None], [], m.state
        queued, held = _within_budget(m, end, state, mails, answers)
        if planned is not None:
            service.queue(app, m.order_id, queued, now)
        else:
            for mail, marks in queued:
                outbox.enqueue(db, mail, now, **marks)
        if held:
            detail = f"{disposition}: {', '.join(held)} held back"
            if not queued and not mails and disposition not in HELD_ALREADY:
                disposition = Ending.RATE_LIMITED
        for address in m.further:
            inbox.store(db, m.row["raw"], m.row["mail_from"], [address], now)
        inbox.finish(db, inbox_id, disposition, now, order_id=m.order_id, dedupe_key=m.key,
                     sender=m.sender, detail=detail)
    event_log(f"inbound.{disposition}", inbox_id=inbox_id, order_id=m.order_id,
              order=m.state and f"{m.state.order.shop_id}/{m.state.order.order_number}",
              sender=m.sender, detail=detail)
    if planned is not None:
        service.log(planned)  # after the commit: the log never tells of a change that did not happen
    return disposition


def _keep_answered_words(m: Inbound) -> None:
    """A buyer's or shop's mail answered without a change: what they wrote goes on the order's
    timeline (``WORDS_ANSWERED``), before the bot's answer; an operator's is answered only. A
    mail to the bare address is not among them: its From is not vouched for by a token, so it is
    never read in full (``_fresh_mail``) nor filed as the buyer's words."""
    if m.role in (Role.BUYER, Role.MERCHANT) and (m.text or m.documents):
        records.add_timeline(m.app.db(), m.order_id, m.now,
                             Entry(str(m.role), WORDS_ANSWERED, m.text, m.documents))


def _within_budget(m: Inbound, end: End, state, mails, answers):
    """The mails that go out, each with its outbox marks, and what is held back and why.
    Answers pass the sender's answer budget (requests to confirm also the order's cap); relays
    pass the order's relay cap, and the operators hear once when a case is capped; every other
    mail goes out."""
    app, db, now = m.app, m.app.db(), m.now
    queued, held = [], []
    for mail in mails:
        if budget.is_relay(mail.template) and not budget.relays_allowed(app, db, m.order_id, now):
            held.append(f"{mail.template} (relay cap of the order)")
            if not budget.operators_told(db, m.order_id, now):
                # The held message itself, quoted (bounded): read from the mail alone.
                notice = prepare(app, db, state, Mail(Role.OPERATOR, budget.CAPPED, {
                    "limit": app.config.limits.relays_per_order_per_hour,
                    "inbox_id": m.row["id"], "sender": m.sender, "from_role": str(m.role),
                    "text": m.text[:HELD_QUOTED], "shortened": len(m.text) > HELD_QUOTED,
                    "attachments": tuple(d.name for d in m.documents)}), now)
                queued += [(notice, {})] if notice is not None else []
        else:
            queued.append((mail, {}))
    if not answers:
        return queued, held
    answer_to = end.answer_to or budget.key(m.sender)
    templates = {a.template for a in answers}
    allowed = budget.allows(app, db, answer_to, answers, now) and (
        end.disposition is not Ending.SENDER_MISMATCH
        or budget.confirmations_allowed(app, db, m.order_id, templates, now))
    if allowed:
        queued += [(a, {"answer_to": answer_to, "inbox_id": m.row["id"]}) for a in answers]
    else:
        held.append(f"answer {', '.join(sorted(templates))} (answer budget of {m.sender})")
    return queued, held


# --- reading an event ----------------------------------------------------------------------------

def _event(m: Inbound):
    role, action, text, documents = m.role, m.action, m.text, m.documents
    if role is Role.BUYER:
        if action is not None:
            return BuyerAction(action, text, documents)
        return PartyMessage(Role.BUYER, text, _new_documents(m), m.known)
    if role is Role.MERCHANT:
        form = forms.read_decision(text)
        if action in MERCHANT_ACTIONS or form.choice is not None or form.labels_found >= 2:
            choice = form.choice or ACTION_CHOICE.get(action)
            amount = parse_amount(form.amount_text) if form.amount_text else None
            return MerchantDecision(choice, form.message, amount, form.amount_text, documents)
        return PartyMessage(Role.MERCHANT, text, _new_documents(m), m.known)
    command = forms.read_command(text)  # only the operators' commands: ``decide withdrawn`` is not
    if command is None:
        return None  # answered with the help
    if command.verb == PAID_COMMAND:
        return _paid(m, command.argument)
    # An incomplete command is still planned: a closed case is said before a missing message.
    if command.verb == "decide":
        amount = parse_amount(command.amount_text) if command.amount_text else None
        return OperatorDecide(Outcome(command.argument), command.message, by=m.sender,
                              amount=amount, to_buyer=command.to_buyer,
                              to_merchant=command.to_merchant)
    kind = OperatorMessage if command.verb == MESSAGE_COMMAND else OperatorRequest
    return kind(Role(command.argument), command.message, by=m.sender)


def _paid(m: Inbound, day: str) -> OperatorPaid | None:
    """``paid [DAY]``: paid on that day (``_paid_day_refused`` answered a day it cannot be),
    else today, in the bot's zone; None (answered with the help) for an order without a case."""
    if m.state.case is None:
        return None
    on = forms.read_day(day) if day else m.now.astimezone(m.app.tz).date()
    return OperatorPaid(on, reports.amount_owed(m.app.db(), m.state), by=m.sender)


def _paid_day_refused(m: Inbound) -> dict | None:
    """``paid DAY`` with a day that cannot be recorded: one not read (forms.read_day), or one
    outside the days the payment can have been made on (core.case: paid_days). What was typed
    (``day``), ``today`` and the ``first`` day allowed (None when the day was not read)."""
    command = forms.read_command(m.text)
    if command is None or command.verb != PAID_COMMAND or not command.argument:
        return None
    today = m.now.astimezone(m.app.tz).date()
    on = forms.read_day(command.argument)
    if on is None:
        return {"day": command.argument, "today": today, "first": None}
    days = paid_days(m.state, on, today, m.app.tz)
    return None if days is None else {"day": command.argument, "today": today, "first": days[0]}


PARTIES = {str(role) for role in Role}  # token kinds that name a party (not bounce, intake)


def _party_tokens(app, envelope: list[str]) -> list[tuple[str, object]]:
    """The distinct party tokens among the envelope recipients, with their addresses."""
    found = {}
    for address in envelope:
        token = app.signer.parse(address)
        if token is not None and token.kind in PARTIES:
            found.setdefault(token, address)
    return [(address, token) for token, address in found.items()]


def _token(app, candidates):
    for address in candidates:
        token = app.signer.parse(address)
        if token is not None:
            return token
    return None


def _party_addresses(app, state, role: Role) -> set[str]:
    if role is Role.BUYER:
        registered = [state.order.buyer_email]
    elif role is Role.MERCHANT:
        registered = records.merchant(app.db(), state.order.shop_id)["emails"]
    else:
        registered = app.config.operators.addresses
    return {addresses.comparable(a) for a in registered}
