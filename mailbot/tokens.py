"""Signed reply addresses (SPEC §5): ``{prefix}+{token}@{domain}``.

A token packs what an address stands for (the role of the party or ``bounce`` for a VERP return
path, an order or outbox id, an optional action) into 8 bytes and signs them with an HMAC-SHA256
truncated to 80 bits. Lowercase base32 (RFC 4648 §6, padding dropped) survives MTAs that
lower-case local parts; the token is 29 characters, so the local part stays within RFC 5321's
64-character limit for any prefix of up to 34 characters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from .core.model import Action

MAC_BYTES = 10  # 80 bits
KINDS = ("buyer", "merchant", "operator", "bounce")
ACTIONS = tuple(Action)


@dataclass(frozen=True)
class Token:
    kind: str  # a Role value, or "bounce"
    id: int  # order id; outbox id for "bounce"
    action: Action | None = None


class Signer:
    def __init__(self, secret: bytes, prefix: str, domain: str):
        self._secret, self.prefix, self.domain = secret, prefix.lower(), domain.lower()

    def address(self, token: Token) -> str:
        action = 0 if token.action is None else ACTIONS.index(token.action) + 1
        body = bytes([KINDS.index(token.kind), action]) + token.id.to_bytes(6, "big")
        raw = body + self._mac(body)
        text = base64.b32encode(raw).decode("ascii").rstrip("=").lower()
        return f"{self.prefix}+{text}@{self.domain}"

    def parse(self, address: str) -> Token | None:
        """The token of one of our addresses, or None if it is not one or does not verify."""
        local, _, domain = address.strip().strip("<>").rpartition("@")
        prefix, plus, text = local.partition("+")
        if not plus or prefix.lower() != self.prefix or domain.lower() != self.domain:
            return None
        text = text.upper()
        try:
            raw = base64.b32decode(text + "=" * (-len(text) % 8))
        except (binascii.Error, ValueError):
            return None
        if len(raw) != 8 + MAC_BYTES:
            return None
        body, mac = raw[:8], raw[8:]
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        kind, action = body[0], body[1]
        if kind >= len(KINDS) or action > len(ACTIONS):
            return None
        return Token(KINDS[kind], int.from_bytes(body[2:], "big"),
                     ACTIONS[action - 1] if action else None)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:MAC_BYTES]
