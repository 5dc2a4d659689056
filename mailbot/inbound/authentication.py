"""Who a mail is from, read the way DMARC reads it, and whether the front MTA vouched for it.

``sender_of`` takes the address of the one ``From`` header (RFC 5322 §3.6: exactly one, here
with exactly one mailbox), read from the raw header before any RFC 2047 decoding, because an
encoded-word is never part of an address (RFC 2047 §5): ``victim <evil@x>`` is evil@x, and an
encoded display name that decodes to an address is only a display name. Anything else is refused.

``authentication_failed`` reads the ``Authentication-Results`` headers (RFC 8601) of the MTA in
front, and only those whose authserv-id is ``[inbound] authserv_id``: anyone can write such a
header, but the front MTA removes the ones carrying its own id (RFC 8601 §5) — the same trust
rule as Discourse's ``email_in_authserv_id``. Every header is looked at, by its authserv-id alone
(cheap), so that any number of foreign ones above ours hides nothing; only ours are parsed, with
the ``authres`` library. Fail closed: with an authserv-id set, a mail that carries no header of
ours did not pass through the front MTA (or it did not check it), and counts as failed. DMARC's
``pass`` or ``fail`` decides; without one (``none``: the domain publishes no policy, or a
temporary error), the mail failed when SPF and DKIM both failed. ``passed_for`` is the stricter
question orders by mail ask: did DMARC, or an aligned DKIM signature, pass for this domain?
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

import authres

from .. import addresses as addresses_mod

log = logging.getLogger("mailbot.authentication")

MAX_TRUSTED_HEADERS = 10  # the front MTA adds one (or one per filter); more is a forgery
MAX_RESULTS_CHARS = 8 * 1024  # one MTA's results for one mail: a few hundred characters


@dataclass(frozen=True)
class Refusal:
    """A mail whose author cannot be told (RFC 5322 §3.6, DMARC RFC 7489 §6.6.1)."""

    reason: str


def sender_of(message: Message) -> str | Refusal:
    """The lower-cased From address a DMARC check would use, or why there is none."""
    # raw_items: the stored values, 8-bit bytes still surrogate-escaped (get_all would wrap
    # them in a Header whose str() loses them).
    values = [v for k, v in message.raw_items() if k.lower() == "from"]
    if len(values) != 1:
        return Refusal("no From header" if not values else "more than one From header")
    value = " ".join(_utf8(str(values[0])).split())  # unfolded, encoded-words left as they are
    addresses = [a for _, a in getaddresses([value]) if a]
    if len(addresses) != 1:
        return Refusal("no address in From" if not addresses else "more than one address in From")
    address = addresses[0].lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c in address for c in " <>()=?,;:"):
        return Refusal("From is not an address")
    # The form parties are registered in (IDNA A-labels), so jan@bücher.example is the buyer
    # imported as jan@xn--bcher-kva.example; an address normal() refuses is compared as it is.
    return addresses_mod.comparable(address)


def _utf8(value: str) -> str:
    """A header read with the compat32 policy keeps raw 8-bit bytes as surrogate escapes; an
    internationalised header (RFC 6532) is UTF-8, and any other 8-bit header is read as
    windows-1252, so that no surrogate ever reaches the database."""
    raw = value.encode("ascii", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeError:
        return raw.decode("windows-1252", "replace")


def authentication_failed(message: Message, authserv_id: str) -> bool:
    """True when the trusted MTA's Authentication-Results are missing, say DMARC failed, or
    (without a DMARC pass or fail) say SPF and DKIM both failed. An empty ``authserv_id`` trusts
    nobody: always False."""
    if not authserv_id:
        return False
    found = trusted_results(message, authserv_id)
    if found is None:
        return True  # not through the front MTA, ours forged in bulk, or unreadable
    results: dict[str, set[str]] = {}
    for result in found:
        results.setdefault(str(result.method).lower(), set()).add(str(result.result).lower())
    dmarc = results.get("dmarc", set())
    if "fail" in dmarc:
        return True
    if "pass" in dmarc:
        return False
    return _failed(results.get("spf")) and _failed(results.get("dkim"))


def trusted_results(message: Message, authserv_id: str) -> list | None:
    """The results (``authres`` objects) the trusted MTA wrote; None when it wrote none, more
    than it ever writes, or one we cannot read (every case is a verdict nobody can trust)."""
    ours = [text for text in (" ".join(str(v).split())[:MAX_RESULTS_CHARS]
                              for v in message.get_all("Authentication-Results") or [])
            if _authserv_id(text) == authserv_id.lower()]
    if not ours or len(ours) > MAX_TRUSTED_HEADERS:
        return None
    found = []
    for text in ours:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(text)
        except Exception as exc:
            # Our own MTA's verdict that we cannot read is no verdict of "pass": hold the mail.
            log.info("authentication.unreadable error=%s", exc)
            return None
        found += header.results
    return found


def passed_for(message: Message, authserv_id: str, domain: str) -> bool:
    """True only when the trusted MTA says DMARC passed for ``domain`` (``header.from``), or a
    DKIM signature passed whose domain is aligned with it (RFC 7489 §3.1.1, relaxed: the same
    domain, or one a subdomain of the other). An empty ``authserv_id`` vouches for nobody."""
    if not authserv_id:
        return False
    domain = domain.lower()
    for result in trusted_results(message, authserv_id) or []:
        method, outcome = str(result.method).lower(), str(result.result).lower()
        about = {f"{p.type}.{p.name}".lower(): str(p.value).lower() for p in result.properties}
        if outcome != "pass":
            continue
        if method == "dmarc" and about.get("header.from") == domain:
            return True
        signer = about.get("header.d", "")
        if method == "dkim" and signer and (signer == domain or domain.endswith("." + signer)
                                            or signer.endswith("." + domain)):
            return True
    return False


def _authserv_id(text: str) -> str:
    """The authserv-id a header starts with (RFC 8601 §2.2: before an optional version and the
    first ";"), lower-cased; comments in front of it are skipped."""
    head = text.split(";", 1)[0]
    while head.lstrip().startswith("("):
        head = head.split(")", 1)[-1] if ")" in head else ""
    words = head.split()
    return words[0].lower() if words else ""


def _failed(outcomes: set[str] | None) -> bool:
    # Nothing passed and something failed ("softfail" is SPF's weak fail, RFC 7208 §2.6.5).
    return bool(outcomes) and "pass" not in outcomes and bool(
        outcomes & {"fail", "softfail", "permerror"})
