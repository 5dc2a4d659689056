"""DKIM signatures (RFC 6376) on outbound mail, with dkimpy, at the moment of sending.

The big mailbox providers file unsigned mail as spam; DMARC (RFC 7489) passes when the ``d=``
domain is the domain of ``From``, so the signing domain is the bot's own domain. Relaxed/relaxed
canonicalization survives the header refolding and whitespace changes of relays. The outbox keeps
the unsigned bytes: a mail retried after a key rotation is signed with the key of that day.
"""

from __future__ import annotations

from pathlib import Path

import dkim

from .. import private_files

# The headers a DMARC receiver and a reader rely on (RFC 6376 §5.4.1); a header named here but
# absent from a mail is signed as absent, so nobody can add it on the way.
SIGNED_HEADERS = (b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"reply-to",
                  b"in-reply-to", b"references", b"mime-version", b"content-type",
                  b"content-transfer-encoding", b"auto-submitted")


class Signer:
    def __init__(self, domain: str, selector: str, key_file: str | Path):
        self.domain, self.selector = domain.encode("ascii"), selector.encode("ascii")
        self._key = private_files.read(key_file, "[dkim] key_file")

    def sign(self, raw: bytes) -> bytes:
        """``raw`` with a ``DKIM-Signature`` header in front."""
        header = dkim.sign(raw, self.selector, self.domain, self._key,
                           canonicalize=(b"relaxed", b"relaxed"),
                           include_headers=list(SIGNED_HEADERS))
        return header + raw
