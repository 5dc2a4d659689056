"""Delivery reports: which recipient of which of our mails failed, and nothing more than that.

Every recipient of a mail gets its own VERP return path (``outbound.return_path``): the bounce token
carries the outbox id and the recipient's index, so a report names the failed address without
trusting anything the report says about it. Only ``Action: failed`` (RFC 3464 §2.3.3) marks a
recipient failed; ``delayed``, ``relayed``, ``delivered`` and ``expanded`` are recorded and change
nothing. A report that reaches the bare address without VERP (forwarding services rewrite the
return path) counts only when it quotes the Message-ID of one of our mails (unguessable) and
names one of that mail's recipients; flufl.bounce reads the many non-RFC 3464 formats. Neither
the standard library's parser nor flufl.bounce ever sees the mail itself: both read
``parse.report_tree``, a bounded copy (issue 16 §1: nesting and line counts made the parser slow,
and a line of ``<`` made a detector's regular expression cubic). A failure
goes on the case timeline; ``store.reports.failed_deliveries`` lists the addresses operators
must fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..core.effects import Entry
from ..store import bounce_rows, records
from ..outbound.return_path import outbox_and_index

MAX_REPORT_BLOCKS = 100  # a report names few recipients; a stranger's may name thousands
_MESSAGE_ID = re.compile(rb"^message-id:\s*(<[^>\s]{1,250}>)", re.I | re.M)


@dataclass(frozen=True)
class Report:
    """What one delivery report says about one recipient of one of our mails."""

    outbox_id: int
    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded (RFC 3464 §2.3.3)
    status: str = ""
    diagnostic: str = ""


# A report puts its delivery-status part and the returned headers first (RFC 3464 §2, RFC 6522);
# what follows is the returned mail, possibly whole. Reading only the start bounds the work a
# stranger's null-sender mail can cause (154,000 parts took 15 s to parse in full).
REPORT_BYTES = 256 * 1024


def read(db, signer, rcpt_tos: list[str], raw: bytes) -> list[Report]:
    """The reports this mail makes about our deliveries (empty: none we can trust)."""
    # The parsers are imported by intake's reading of a report only: the jobs child records
    # refusals (``record``) and never reads mail, so it carries neither them nor lxml.
    from .parse import report_tree

    raw = raw[:REPORT_BYTES]
    message = report_tree(raw)
    blocks = _dsn_blocks(message)
    for address in rcpt_tos:
        token = signer.parse(address)
        if token is None or token.kind != "bounce":
            continue
        outbox_id, index = outbox_and_index(token)
        recipients = bounce_rows.outbox_recipients(db, outbox_id)
        if index >= len(recipients):
            continue
        if blocks:
            # One recipient per VERP address: the worst action of the report counts.
            block = min(blocks, key=lambda b: _RANK.get(b["action"], len(_RANK)))
            return [Report(outbox_id, recipients[index], block["action"], block["status"],
                           block["diagnostic"])]
        permanent, temporary = _flufl(message)
        action = "failed" if permanent else "delayed" if temporary else "unknown"
        return [Report(outbox_id, recipients[index], action)]
    return _without_verp(db, message, raw, blocks)


_RANK = {"failed": 0, "delayed": 1, "relayed": 2, "expanded": 3, "delivered": 4}


def _dsn_blocks(message) -> list[dict]:
    """The per-recipient blocks of an RFC 3464 ``message/delivery-status`` part."""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        if not isinstance(payload, list):
            return []
        blocks = []
        for fields in payload[1:MAX_REPORT_BLOCKS + 1]:  # [0] is the per-message block
            action = str(fields.get("Action", "")).strip().lower()
            if not action:
                continue
            blocks.append({
                "action": action.split()[0],
                "recipient": _address(fields.get("Final-Recipient", "")),
                "status": str(fields.get("Status", "")).split(" ")[0].strip()[:20],
                "diagnostic": " ".join(str(fields.get("Diagnostic-Code", "")).split())[:300],
            })
        return blocks
    return []


def _address(field) -> str:
    # "rfc822; jan@buyer.example" (RFC 3464 §2.3.2); other address types are not ours.
    kind, _, address = str(field).partition(";")
    return address.strip().strip("<>").lower() if kind.strip().lower() == "rfc822" else ""


def _flufl(message) -> tuple[set[str], set[str]]:
    from flufl.bounce import all_failures

    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a report too broken for the detectors says nothing
        return set(), set()
    decode = lambda a: (a.decode("ascii", "replace") if isinstance(a, bytes) else a).lower()
    return {decode(a) for a in permanent}, {decode(a) for a in temporary}


def _without_verp(db, message, raw: bytes, blocks) -> list[Report]:
    row = None
    for message_id in _MESSAGE_ID.findall(raw)[:20]:
        row = bounce_rows.outbox_by_message_id(db, message_id.decode("ascii", "replace"))
        if row is not None:
            break
    if row is None:
        return []
    outbox_id, recipients = row[0], [r.lower() for r in row[1]]
    if blocks:
        return [Report(outbox_id, b["recipient"], b["action"], b["status"], b["diagnostic"])
                for b in blocks if b["recipient"] in recipients]
    permanent, temporary = _flufl(message)
    return ([Report(outbox_id, a, "failed") for a in sorted(permanent) if a in recipients]
            + [Report(outbox_id, a, "delayed") for a in sorted(temporary) if a in recipients])


_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


def refusals(outbox_id: int, refused: dict[str, str]) -> list[Report]:
    """Recipients the relay refused for good while others took the mail (or may yet): they
    count as failed like a bounce, for operators to see."""
    reports = []
    for recipient, reason in refused.items():
        status = _STATUS.search(str(reason))
        reports.append(Report(outbox_id, recipient.lower(), "failed",
                              status.group(1) if status else "",
                              " ".join(f"refused by the relay: {reason}".split())[:300]))
    return reports


def record(db, reports: list[Report], inbox_id: int | None, now: datetime) -> str | None:
    """Stores the reports (inside the caller's transaction); a failure marks that recipient
    failed, goes on its case's timeline and, once every recipient failed, marks the mail
    bounced. Returns a one-line detail for the inbox row."""
    for report in reports:
        bounce_rows.insert(db, report, inbox_id, now)
        if report.action != "failed":
            continue
        order_id, template = bounce_rows.outbox_order_and_template(db, report.outbox_id)
        if order_id is not None:
            text = f"{report.recipient} · {template} · {report.status} {report.diagnostic}"
            records.add_timeline(db, order_id, now,
                                 Entry("bot", "delivery.failed", text.strip()))
        recipients = {r.lower() for r in bounce_rows.outbox_recipients(db, report.outbox_id)}
        if recipients <= bounce_rows.failed_recipients(db, report.outbox_id):
            bounce_rows.mark_bounced(db, report.outbox_id, f"{report.status} {report.diagnostic}")
    return "; ".join(f"{r.action} {r.recipient} (outbox {r.outbox_id})" for r in reports) or None
