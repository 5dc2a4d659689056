"""Email addresses in one form, so that the address a party registered and the one their mail
comes from compare equal.

A domain in Unicode is stored in its ASCII form (IDNA, RFC 5891 A-labels), which every MTA accepts,
and addresses are compared in that form, exactly. The A-label is made by UTS #46 non-transitional
processing (the ``idna`` package), as browsers and current mail software do: ``straße`` is ``xn--
strae-oqa``, not ``strasse`` (IDNA 2003's mapping, which Python's own codec still applies, made an
attacker's ß-domain the same as a buyer's ss-domain). A domain must be written as it is: one with a
default-ignorable code point (a soft hyphen, a zero-width space -- Unicode's
Default_Ignorable_Code_Point) or in another form that UTS #46 maps away (fullwidth letters) is
refused, since it would show one name and compare as another; an ``xn--`` label must be a valid
A-label. A local part may hold UTF-8 (RFC 6531): such mail is sent with SMTPUTF8, and a relay that
does not offer it fails that one mail with a clear reason (``outbound/transport.py``). ``normal``
returns the stored form or a one-line reason why the address cannot be used.
"""

from __future__ import annotations

import re
import unicodedata

import idna

# RFC 5322 dot-atom text, plus any non-ASCII letter or digit (RFC 6531 §3.3, UTF8-non-ascii).
_LOCAL = re.compile(r"^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]|[^\x00-\x7f\W])+$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): invisible when shown.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def normal(address: str) -> tuple[str | None, str | None]:
    """(the address as stored, None) or (None, why it is refused)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return None, "not an email address"
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return None, "not an email address"
    if _DEFAULT_IGNORABLE.search(domain):
        return None, "the domain holds an invisible character"
    try:
        domain = _a_labels(domain)
    except UnicodeError:  # idna.IDNAError is one
        return None, "the domain is not a valid internationalised name"
    labels = domain.lower().split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None, "not an email address"
    result = f"{local}@{domain.lower()}"
    if len(local) > 64 or len(result) > 254:  # RFC 5321 §4.5.3.1
        return None, "address too long"
    return result, None


def _a_labels(domain: str) -> str:
    """The domain in A-labels (UTS #46, non-transitional); IDNAError when it is not written in
    the form that processing keeps (only upper case may differ) or a label is no valid IDNA."""
    if domain.isascii() and "xn--" not in domain.lower():
        return domain  # plain ASCII: checked label by label by the caller
    lowered = unicodedata.normalize("NFC", domain.lower())
    if idna.uts46_remap(domain, std3_rules=True, transitional=False) != lowered:
        raise idna.IDNAError("not in the form UTS #46 keeps")
    encoded = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    if idna.decode(encoded) != idna.uts46_remap(idna.decode(encoded)):  # xn-- labels round-trip
        raise idna.IDNAError("an A-label that does not decode to a valid U-label")
    return encoded


def valid(address: str) -> bool:
    return normal(address)[0] is not None


def comparable(address: str) -> str:
    """The form two addresses are compared in: normal, lower-cased (as is when not normal)."""
    return (normal(address)[0] or address).lower()
