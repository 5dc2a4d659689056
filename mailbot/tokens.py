"""Signed reply addresses (SPEC §5): ``{prefix}+{token}@{domain}``.

A token packs what an address stands for (the role of the party or ``bounce`` for a VERP return
path, an order or outbox id, an optional action) into 8 bytes and signs them with an HMAC-SHA256
truncated to 80 bits. Lowercase base32 (RFC 4648 §6, padding dropped) survives MTAs that
lower-case local parts; the token is 29 characters, so the local part stays within RFC 5321's
64-character limit for any prefix of up to 34 characters.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass

from .core.model import Action

MAC_BYTES = 10  # 80 bits
BODY_BYTES = 8  # kind, action, 6-byte id
TOKEN_CHARS = -(-(BODY_BYTES + MAC_BYTES) * 8 // 5)  # 29 base32 characters

# The codes are written into every address already sent and waiting in someone's inbox: the tables
# are append-only. Never renumber or reuse a code; a new kind or action takes the next free number.
KIND_CODES = {"buyer": 0, "merchant": 1, "operator": 2, "bounce": 3, "intake": 4}
ACTION_CODES = {  # 0 is "no action"
    Action.ALL_FINE: 1,
    Action.NOT_RECEIVED: 2,
    Action.NO_REFUND: 3,
    Action.EXTEND: 4,
    Action.OTHER: 5,
    Action.WITHDRAW: 6,
    Action.REFUND_FULL: 7,
    Action.REFUND_AFTER_RETURN: 8,
    Action.REFUND_NONE: 9,
    Action.REFUND_RECEIVED: 10,
    Action.REFUND_NOT_RECEIVED: 11,
    Action.REJECT_PARTIAL: 12,
    Action.ACCEPT: 13,
    Action.DISAGREE: 14,
}
_KIND_OF = {code: kind for kind, code in KIND_CODES.items()}
_ACTION_OF = {code: action for action, code in ACTION_CODES.items()}


@dataclass(frozen=True)
class Token:
    kind: str  # a Role value, "bounce", or "intake" (a shop's address for orders by mail)
    id: int  # order id; outbox id for "bounce"; intake_addresses id for "intake"
    action: Action | None = None


class Signer:
    def __init__(self, secret: bytes, prefix: str, domain: str):
        self._secret, self.prefix, self.domain = secret, prefix.lower(), domain.lower()
        # A mail names the same address more than once (its Reply-To, and the reply address its
        # text offers), and an answer's mails the same order's: each is an HMAC and a base32
        # encoding, ~15 µs. Kept per signer, so per secret.
        self.address = functools.lru_cache(maxsize=256)(self._address)

    def _address(self, token: Token) -> str:
        action = 0 if token.action is None else ACTION_CODES[token.action]
        body = bytes([KIND_CODES[token.kind], action]) + token.id.to_bytes(6, "big")
        return f"{self.prefix}+{_encode(body + self._mac(body))}@{self.domain}"

    def parse(self, address: str) -> Token | None:
        """The token of one of our addresses, or None if it is not one or does not verify."""
        local, _, domain = address.strip().strip("<>").rpartition("@")
        prefix, plus, text = local.partition("+")
        if not plus or prefix.lower() != self.prefix or domain.lower() != self.domain:
            return None
        text = text.lower()
        if len(text) != TOKEN_CHARS:
            return None
        try:
            raw = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
        except ValueError:  # binascii.Error, or a character outside ASCII
            return None
        if _encode(raw) != text:
            # One spelling per token: the unused low bits of the last character must be zero.
            return None
        body, mac = raw[:BODY_BYTES], raw[BODY_BYTES:]
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        kind, action = body[0], body[1]
        if kind not in _KIND_OF or (action and action not in _ACTION_OF):
            return None
        return Token(_KIND_OF[kind], int.from_bytes(body[2:], "big"), _ACTION_OF.get(action))

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()
