"""Email addresses the bot accepts from files and config: ones its outbound path can deliver.

Outbound mail is sent without SMTPUTF8 (RFC 6531), so a local part must be ASCII; a domain in
Unicode is stored in its ASCII form (IDNA, RFC 5891 A-labels), which every MTA accepts. ``normal``
returns that form or a one-line reason why the address cannot be used.
"""

from __future__ import annotations

import re

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")  # RFC 5322 dot-atom text
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def normal(address: str) -> tuple[str | None, str | None]:
    """(the address as stored, None) or (None, why it is refused)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return None, "not an email address"
    if not local.isascii():
        return None, "non-ASCII before the @ needs SMTPUTF8, which outbound mail does not use"
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
