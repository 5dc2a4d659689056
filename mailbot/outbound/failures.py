"""What went wrong with a mail that could not be delivered, as one of a few kinds an operator can
act on (the mails word each kind: ``templates/_operators.j2``, ``FAILURES``).

The kind is read from the enhanced status code of the error (RFC 3463 §3: class.subject.detail,
e.g. ``5.1.1``), else from the basic reply code (RFC 5321 §4.2), else from what our transport
says when the relay cannot be reached or lacks SMTPUTF8 (``outbound/transport.py``).
"""

from __future__ import annotations

import re

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_BASIC = re.compile(r"\b([45])\d\d\b")
_UNREACHABLE = re.compile(r"unreachable|no SMTP greeting|timed out|Connection|refused auth", re.I)

# RFC 3463 §3 subject.detail -> kind; a subject alone (``7``) stands for all its details.
_BY_CODE = {
    "1.1": "no_mailbox", "1.6": "no_mailbox", "2.1": "no_mailbox",  # no such or disabled mailbox
    "1.2": "no_domain", "1.10": "no_domain", "4.4": "no_domain",  # no such system, null MX
    "2.2": "mailbox_full", "3.1": "mailbox_full",
    "2.3": "too_big", "3.4": "too_big",
    "4.1": "unreachable", "4.2": "unreachable",  # no answer, bad connection
    "7": "refused",  # security or policy: a spam filter, a blocklist, DMARC
}


def kind(error: str) -> str:
    """One of ``no_mailbox``, ``no_domain``, ``mailbox_full``, ``too_big``, ``refused``,
    ``unreachable``, ``smtputf8``, ``temporary`` or ``other`` for the error text of a dead mail
    or a bounce."""
    code = _ENHANCED.search(error)
    if code:
        cls, subject, detail = code.groups()
        found = _BY_CODE.get(f"{subject}.{detail}") or _BY_CODE.get(subject)
        return found or ("temporary" if cls == "4" else "other")
    if "SMTPUTF8" in error:
        return "smtputf8"
    if _UNREACHABLE.search(error):
        return "unreachable"
    basic = _BASIC.search(error)
    return "temporary" if basic and basic.group(1) == "4" else "other"


_BYTES = re.compile(r"""\bb(['"])(.*?)\1""")


def plain(error: str) -> str:
    """The error as a person reads it: smtplib's replies come as ``b'...'`` reprs of bytes."""
    return _BYTES.sub(lambda m: m.group(2), error)
