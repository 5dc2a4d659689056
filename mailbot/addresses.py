"""Email addresses in one form, so that the address a party registered and the one their mail
comes from compare equal.

A domain in Unicode is stored in its ASCII form (IDNA, RFC 5891 A-labels), which every MTA
accepts. A local part may hold UTF-8 (RFC 6531): such mail is sent with SMTPUTF8, and a relay
that does not offer it fails that one mail with a clear reason (``outbound/transport.py``).
``normal`` returns the stored form or a one-line reason why the address cannot be used.
"""

from __future__ import annotations

import re

# RFC 5322 dot-atom text, plus any non-ASCII letter or digit (RFC 6531 §3.3, UTF8-non-ascii).
_LOCAL = re.compile(r"^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]|[^\x00-\x7f\W])+$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def normal(address: str) -> tuple[str | None, str | None]:
    """(the address as stored, None) or (None, why it is refused)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return None, "not an email address"
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return None, "not an email address"
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None, "the domain is not a valid internationalised name"
    labels = domain.lower().split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None, "not an email address"
    result = f"{local}@{domain.lower()}"
    if len(local) > 64 or len(result) > 254:  # RFC 5321 §4.5.3.1
        return None, "address too long"
    return result, None


def valid(address: str) -> bool:
    return normal(address)[0] is not None


def comparable(address: str) -> str:
    """The form two addresses are compared in: normal, lower-cased (as is when not normal)."""
    return (normal(address)[0] or address).lower()
