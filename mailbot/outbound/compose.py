"""Composing a mail effect into the exact bytes that the outbox will send.

Resolves the recipients of a role (the buyer, every merchant address, every operator), renders
the template in the recipient's language with the case's facts, attaches documents (as many as
one mail may carry, ``ATTACHED_BYTES``; the mail names the others), and sets the headers of
SPEC §6: a unique Message-ID on our domain, In-Reply-To/References to the previous mail
of the same order and party (one thread per party in mail clients), ``Auto-Submitted`` (RFC 3834
§5: ``auto-replied`` when the mail answers what the reader just sent, ``auto-generated`` for a
notice), the party's signed Reply-To, Date and Content-Language. Header lines stay under 78
characters (RFC 5322 §2.1.1). The links a mail offers are the core's, in the core's order.
"""

from __future__ import annotations

import base64
import binascii
import functools
import mimetypes
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.encoders import encode_base64
from email.header import Header
from email.mime.base import MIMEBase
from email.policy import compat32
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

from ..core.deadlines import (BUYER_REACTION_DAYS, EXTENSION_DAYS, MERCHANT_ANSWER_DAYS, deadline,
                              word_promised_by)
from ..core.decide import actions_for
from ..core.effects import Mail
from ..core.model import MESSAGE_COMMAND, OPERATOR_COMMANDS, CaseState, Escalation, Role, State
from ..config import Bot
from ..limits import MAX_DOCUMENT_BYTES, MAX_DOCUMENTS
from ..store import bank_details, records, reports
from ..tokens import Token
from . import outbox
from .render import Rendered, one_line


@dataclass(frozen=True)
class Recipients:
    addresses: tuple[str, ...]
    locale: str


def recipients(app, state: State | None, role: Role, merchant: dict | None) -> Recipients:
    if role is Role.OPERATOR:
        return Recipients(app.config.operators.addresses, app.config.operators.locale)
    if role is Role.BUYER:
        return Recipients((state.order.buyer_email,), state.order.buyer_locale)
    return Recipients(tuple(merchant["emails"]), merchant["locale"])


# The limits the mails state, read from the code that enforces them.
LIMITS = {"max_mb": MAX_DOCUMENT_BYTES // (1024 * 1024), "max_documents": MAX_DOCUMENTS,
          "extension_days": EXTENSION_DAYS, "buyer_days": BUYER_REACTION_DAYS,
          "merchant_days": MERCHANT_ANSWER_DAYS}
# The operators' commands, (verb, argument) as the core's table lists them; a message to a party
# is offered beside that party's words (_operators.j2: answer_sender), not in the list.
COMMANDS = tuple((verb, str(arg)) for verb, args in OPERATOR_COMMANDS.items() for arg in args
                 if verb != MESSAGE_COMMAND)
# Mails that answer what their reader has just sent (RFC 3834 §5 "auto-replied"); every other
# mail is a notice the reader did not ask for ("auto-generated").
ANSWERS = frozenset({
    "buyer.extended", "buyer.extend_needs_plus", "buyer.extend_used", "buyer.other_received",
    "buyer.choose_action", "buyer.not_active", "buyer.not_open", "buyer.confirm_sender",
    "buyer.case_opened", "buyer.protection_ended", "buyer.documents_refused",
    "buyer.message_received", "merchant.bad_decision", "merchant.confirm_sender",
    "merchant.not_open", "merchant.decision_recorded", "merchant.case_closed_already",
    "merchant.documents_refused", "merchant.message_received", "operator.command_help",
    "operator.command_done",
})


def standing(state: State, role: Role) -> dict:
    """Where the case stands for this reader, as facts a template words without deciding:
    ``next`` names who acts now (the shop, the buyer, the service team, nobody), ``due`` is the
    reader's own deadline when the next step is theirs, ``commands`` whether operators' commands
    apply (only to a case with the service team)."""
    case = state.case
    if case is None or not case.open:
        nxt, due = ("closed" if case is not None else "protection"), None
    else:
        nxt = {"awaiting_merchant": "merchant", "awaiting_buyer": "buyer",
               "escalated": "operator"}[case.state]
        due = {"merchant": case.merchant_due, "buyer": case.buyer_due}.get(nxt)
    return {"next": nxt, "due": due if nxt == str(role) else None,
            "other_due": due if nxt != str(role) else None,
            "commands": case is not None and nxt == "operator"}


def context(app, db, state: State | None, mail: Mail, to: Role, merchant: dict | None = None,
            now: datetime | None = None, pending=()) -> dict:
    """Everything a template may show; templates hold no logic beyond showing it.
    ``merchant`` is the order's merchant row (None when there is no order)."""
    ctx = {"data": mail.data, "bot": app.config.bot, "role": str(to), "actions": (),
           "links": {}, "order": None, "case": None, "protection": None, "limits": LIMITS,
           "commands": COMMANDS, "reply_address": None, "shop_explanation": None,
           "shop_documents": (), "buyer_words": None, "left_out": (), "attached": 0, "file": None,
           "payment": None, "bank_details": None, "iban_here": False, "hear_by": None,
           "standing": {"next": None, "due": None, "other_due": None, "commands": False}}
    if state is None:
        return ctx
    order = state.order
    actions = mail.actions or actions_for(state, to)
    ctx.update(
        order={"number": order.order_number, "shop_id": order.shop_id,
               "date": order.order_date, "amount": order.amount,
               "currency": order.currency, "buyer_email": order.buyer_email,
               "buyer_locale": order.buyer_locale, "shop": merchant["name"],
               "shop_locale": merchant["locale"],
               "plan": str(order.plan)},
        protection=state.protection,
        case=state.case,
        actions=tuple(str(a) for a in actions),
        links={str(a): app.signer.address(Token(str(to), order.id, a)) for a in actions},
        # The mail's Reply-To, for a party's prefilled reply and the operators' commands.
        reply_address=app.signer.address(Token(str(to), order.id)),
        standing=standing(state, to),
    )
    if mail.kind == "documents_requested" and now is not None:
        # Documents are asked for with the time a shop has to answer a case: a date to state,
        # after which the team decides on what it has (it may decide sooner or later).
        ctx["reply_by"] = deadline(now, MERCHANT_ANSWER_DAYS, ZoneInfo(app.config.bot.timezone))
    if mail.kind == "case_escalated" and now is not None:
        # The team's promise ([operators] decision_days): the parties hear from it by this day,
        # its decision or a request for documents; the digest marks a case kept longer.
        ctx["hear_by"] = word_promised_by(now, app.config.operators.decision_days,
                                          ZoneInfo(app.config.bot.timezone))
    if mail.kind == "nudge":
        # A reminder repeats what the buyer wrote when opening the case, so that the shop need
        # not look for our first mail (its documents were attached to that one, not again).
        said = [e["text"] for e in records.timeline(db, order.id) if e["kind"] == "case.opened"]
        said += [e.text for e in pending if e.kind == "case.opened"]
        ctx["data"] = {**mail.data, "text": said[-1] if said else ""}
    case = state.case
    if mail.kind == "case_escalated" and to is Role.MERCHANT and case is not None and \
            case.escalation_reason is Escalation.BUYER_DISPUTES:
        # The shop is told the buyer disputes its answer, and why: the buyer's last words,
        # quoted as case_opened quotes the claim (a shop gets no case file).
        said = [e["text"] for e in records.timeline(db, order.id)
                if e["kind"] in reports.BUYER_DISPUTES]
        said += [e.text for e in pending if e.kind in reports.BUYER_DISPUTES]
        ctx["buyer_words"] = said[-1] if said else None
    refused = case is not None and case.escalation_reason is Escalation.MERCHANT_REFUSED_REFUND
    if case is None or not (to is Role.OPERATOR or refused):
        return ctx
    # The case file: what is stored, plus what the change being planned will add.
    entries = [_readable(e) for e in records.timeline(db, order.id) + [
        {"at": now, "actor": e.actor, "kind": e.kind, "text": e.text,
         "attachments": list(e.attachments), "done_by": e.by} for e in pending]]
    if to is Role.OPERATOR:
        ctx["timeline"] = entries
        ctx["file"] = reports.operators_file(db, state, merchant,
                                             app.config.cover.of(order.plan), entries)
        if case.state is CaseState.ESCALATED and ctx["file"]["escalated_at"]:
            # The day its parties were promised word from the team (as ``hear_by`` above).
            ctx["hear_by"] = word_promised_by(ctx["file"]["escalated_at"],
                                              app.config.operators.decision_days,
                                              ZoneInfo(app.config.bot.timezone))
        # A compensation is paid into the account the buyer sends by reply: whether and when
        # it came, from the timeline (this very message included), never the IBAN itself.
        ctx["bank_details"] = bank_details.received(entries)
        ctx["iban_here"] = (mail.kind == "message_relayed" and mail.data.get("from_role") ==
                            Role.BUYER and bank_details.has_iban(mail.data.get("text")))
        if (mail.kind == "message_relayed" or mail.kind == "command_help" and not
                case.payment_recorded) and not case.open and \
                str(case.outcome) in reports.PAYERS and now is not None:
            # A party writes while a decided payment is awaited (core.case.payment_awaited), or
            # an operator's command on the closed case is answered, where ``paid`` still works:
            # the team sees what is owed, by whom and by when, from the last amount entry.
            paid = [e for e in entries if e["kind"] == "operator.amount"]
            ctx["payment"] = reports.owed(
                str(case.outcome), order.amount, paid[-1]["text"] if paid else None,
                paid[-1]["at"] if paid else None, case.closed_at,
                ZoneInfo(app.config.bot.timezone), now) | {"bank_details": ctx["bank_details"]}
            # Recorded as made (``case ID paid``): the parties may still write, but nothing is
            # owed; the mail says who recorded it and when instead of a pay-by date.
            recorded = [e for e in entries if e["kind"] == "operator.paid"]
            if case.payment_recorded and recorded:
                ctx["payment"]["recorded"] = {"by": recorded[-1]["done_by"],
                                              "at": recorded[-1]["at"]}
    else:
        # A refusal that goes straight to the service team: the other party still reads why,
        # and the buyer gets the shop's documents with it (SPEC §4: passed on to the buyer).
        answers = [e for e in entries if e["kind"] == "merchant.decision"]
        ctx["shop_explanation"] = answers[-1]["text"] if answers else None
        ctx["shop_documents"] = tuple(answers[-1]["attachments"]) if answers else ()
    return ctx


def _readable(entry: dict) -> dict:
    """A timeline entry as the case file shows it: a mail entry names its addressee's role and
    its template (the kind of mail)."""
    entry = dict(entry)
    if entry["kind"] == "mail":
        entry["to"], entry["template"] = entry["text"].partition(".")[0], entry["text"]
        entry["text"] = ""
    return entry


# The documents one mail attaches at most, in bytes of the files: base64 makes them a third
# larger (RFC 2045 §6.8), so with its text the mail stays under Postfix's default
# message_size_limit of 10 240 000 bytes, the smallest limit relays commonly keep.
ATTACHED_BYTES = 7 * 1024 * 1024


def within_size(documents, limit: int) -> tuple[tuple, tuple]:
    """(attached, left out): the documents in their order, each attached while the total stays
    within ``limit``; the mail names the ones left out (``left_out`` in its context)."""
    attached, left_out, total = [], [], 0
    for doc in documents:
        if total + doc.size <= limit:
            attached.append(doc)
            total += doc.size
        else:
            left_out.append(doc)
    return tuple(attached), tuple(left_out)


def case_documents(timeline) -> tuple:
    """Every document of the case file, once each (SPEC §7: attached to the escalation)."""
    seen = {}
    for entry in timeline:
        for doc in entry["attachments"]:
            seen.setdefault(doc.sha256, doc)
    return tuple(seen.values())


@dataclass(frozen=True)
class Outgoing:
    """A mail ready for the outbox: its exact bytes and what the outbox row records."""

    message_id: str
    order_id: int | None
    role: str
    template: str
    recipients: tuple[str, ...]
    raw: bytes


def compose(app, db, state: State | None, mail: Mail, now: datetime) -> None:
    """Renders ``mail`` and queues it; call inside the transaction of the change that causes it."""
    outgoing = prepare(app, db, state, mail, now)
    if outgoing is not None:
        outbox.enqueue(db, outgoing, now)


def attach(mail: Mail, ctx: dict) -> tuple:
    """The documents that go with ``mail`` as attachments; notes in ``ctx`` how many went
    (``attached``) and which were too large (``left_out``), for the mail to say so."""
    documents = mail.data.get("attachments", ()) if isinstance(mail.data, dict) else ()
    if mail.template == "operator.case_escalated":
        documents = case_documents(ctx["timeline"])
    elif mail.template == "buyer.case_escalated":
        documents = ctx["shop_documents"]
    documents, left_out = within_size(documents, ATTACHED_BYTES)
    ctx["left_out"] = tuple(d.name for d in left_out)
    ctx["attached"] = len(documents)
    return documents


def prepare(app, db, state: State | None, mail: Mail, now: datetime,
            pending=()) -> Outgoing | None:
    """Renders ``mail`` into bytes. It only reads, so it can run before the write lock is taken;
    ``pending`` are the timeline entries of the change that causes the mail."""
    merchant = records.merchant(db, state.order.shop_id) if state is not None else None
    rcpt = recipients(app, state, mail.to, merchant)
    if not rcpt.addresses:
        return None
    ctx = context(app, db, state, mail, mail.to, merchant, now, pending)
    documents = attach(mail, ctx)
    rendered = app.renderer.render(mail.template, rcpt.locale, ctx)
    order_id = state.order.id if state else None
    reply_to = app.config.bot.sender if state is None else \
        app.signer.address(Token(str(mail.to), order_id))
    if mail.template == "operator.other_request":
        # Not a case: the operator answers the buyer in person, so Reply reaches the buyer.
        reply_to = state.order.buyer_email
    thread = outbox.thread(db, order_id, mail.to) if order_id else []
    # From the OS's random source: email.utils.make_msgid uses the random module, whose state
    # a seeded library can replay.
    message_id = f"<{secrets.token_hex(16)}@{app.config.bot.domain}>"
    raw = build(app, rendered, rcpt, reply_to, message_id, thread, now, documents, mail.template)
    return Outgoing(message_id, order_id, str(mail.to), mail.template, rcpt.addresses, raw)


def build(app, rendered: Rendered, rcpt: Recipients, reply_to: str, message_id: str,
          thread: list[str], now: datetime, documents=(), rendered_for: str = "") -> bytes:
    # The MIME structure is written directly: one multipart/alternative of two UTF-8
    # quoted-printable parts, the same structure and headers as email.mime wrote, at a fifth of
    # its CPU (bench/cpu_per_mail.py; every mail of a case passes through here).
    body = _multipart("alternative", [_qp_part("plain", rendered.text),
                                      _qp_part("html", rendered.html)])
    attached = [(doc, app.attachments.read(doc.sha256)) for doc in documents]
    attached = [(doc, data) for doc, data in attached if data is not None]
    if attached:
        parts = [body]
        for doc, data in attached:
            maintype, _, subtype = (doc.content_type or "").partition("/")
            if not subtype:
                guessed = mimetypes.guess_type(doc.name)[0] or "application/octet-stream"
                maintype, _, subtype = guessed.partition("/")
            part = MIMEBase(maintype, subtype)
            part.set_payload(data)
            encode_base64(part)
            # RFC 2231 parameter encoding keeps any file name intact.
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", doc.name))
            parts.append(part.as_bytes(policy=_CRLF))
        body = _multipart("mixed", parts)
    headers = [
        ("From", formataddr((sender_name(app, rendered), app.config.bot.sender), "utf-8")),
        ("To", ", ".join(rcpt.addresses)),
        ("Subject", _encoded(rendered.subject)),
        ("Date", _date(now, now.utcoffset())),
        ("Message-ID", message_id),
    ]
    if thread:
        # RFC 5322 §3.6.4: the parent in In-Reply-To, the thread's root and parent in References,
        # one per line (folded) so that the line stays under 78 characters.
        headers.append(("In-Reply-To", thread[-1]))
        headers.append(("References", "\r\n ".join(dict.fromkeys([thread[0], thread[-1]]))))
    headers += [
        ("Reply-To", reply_to),
        # RFC 3834 §5: either value tells robots not to answer us.
        ("Auto-Submitted", "auto-replied" if rendered_for in ANSWERS else "auto-generated"),
        ("Content-Language", rcpt.locale),  # RFC 3282
    ]
    # Our header values are ASCII (RFC 2047-encoded where needed) and have no CR/LF, so they
    # are written as they are. An address may be UTF-8 (josé@...): such a mail is valid under
    # RFC 6532 and goes out with SMTPUTF8 (RFC 6531) or not at all.
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8")
    return head + body


# A tick dates each of its mails with the same moment. The offset is part of the key: the same
# instant in another zone is an equal datetime that writes another Date.
@functools.lru_cache(maxsize=64)
def _date(now: datetime, offset) -> str:
    return format_datetime(now)


def _qp_part(subtype: str, text: str) -> bytes:
    """A text part in UTF-8, quoted-printable (RFC 2045 §6.7) by binascii, which is C: lines of
    at most 76 characters, trailing white space and a lone "." line encoded. Every line break
    of ``text`` (CR LF, CR or LF, as email.mime counted them) becomes CR LF."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    last = lines.pop()  # what follows the last line break: "" when the text ends with one
    if not lines:  # b2a_qp copies the text's line ends: with none, its soft breaks are LF
        payload = binascii.b2a_qp(last.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    else:
        payload = [_qp_line(line) for line in lines]
        if last:  # the text's end, encoded with the line before it: b2a_qp sees its end as such
            payload[-1] = binascii.b2a_qp(f"{lines[-1]}\r\n{last}".encode("utf-8"), istext=True)
        payload = b"".join(payload)
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii") + payload


def _qp_line(line: str) -> bytes:
    """One line and its CR LF, quoted-printable. b2a_qp starts every line afresh (its count of
    characters, its rules for a line's end and for a lone "."), so a text's encoding is its
    lines' encodings joined; and most lines of a mail (the layout, the footer, the sentences
    without a value) are the same in every mail of a language, so the encodings are kept."""
    encoded = _QP_LINES.get(line)
    if encoded is None:
        encoded = binascii.b2a_qp(line.encode("utf-8") + b"\r\n", istext=True)
        if len(line) <= 500:  # a layout's lines; a long one is a link or someone's words
            if len(_QP_LINES) >= 2048:  # order numbers vary: at most ~4 MB
                _QP_LINES.clear()
            _QP_LINES[line] = encoded
    return encoded


_QP_LINES: dict[str, bytes] = {}


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    """A multipart entity (RFC 2046 §5.1.1), its header lines first, as email.mime wrote it;
    the CR LF before each delimiter belongs to the delimiter."""
    # "=_" cannot occur in quoted-printable or base64 text (RFC 2045 §5.1), so no scan of the
    # body is needed to rule out a clash.
    boundary = ("=_" + secrets.token_hex(16)).encode("ascii")
    head = (b"Content-Type: multipart/" + subtype.encode("ascii") + b';\r\n boundary="' +
            boundary + b'"\r\nMIME-Version: 1.0\r\n\r\n')
    delimiter = b"--" + boundary
    return (head + delimiter + b"\r\n" + (b"\r\n" + delimiter + b"\r\n").join(parts) +
            b"\r\n" + delimiter + b"--\r\n")


def sender_name(app, rendered: Rendered) -> str:
    """The service's name in the reader's language, unless the config names the bot itself."""
    if app.config.bot.name != Bot.name and app.config.bot.name:
        return app.config.bot.name
    return rendered.sender_name or app.config.bot.name


def _encoded(value: str) -> str:
    """``value`` folded under 78 characters a line (RFC 5322 §2.1.1), as RFC 2047 encoded-words
    when it is not plain ASCII."""
    value = one_line(value)  # no CR/LF from anywhere reaches a header
    if value.isascii():
        return Header(value, "us-ascii", header_name="Subject").encode(linesep="\r\n",
                                                                        maxlinelen=78)
    # UTF-8 in base64 encoded-words, as email.header folds them: whole characters per word,
    # each word as long as its line allows, that is 3 bytes for every 4 characters of room
    # (base64), cut back to where a character starts. email.header measures every word again
    # for each character it adds.
    data = value.encode("utf-8")
    words, start, room = [], 0, 78 - len("Subject: ") - len("=?utf-8?b??=")
    while start < len(data):
        end = start + room // 4 * 3
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            end -= 1
        words.append(data[start:end])
        start, room = end, 78 - len(" ") - len("=?utf-8?b??=")
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


_CRLF = compat32.clone(linesep="\r\n")
