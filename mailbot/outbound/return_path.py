"""VERP return paths (SPEC §6): each recipient of each outbox row gets an envelope sender of its
own, a signed ``bounce`` token that carries the outbox id and the recipient's index, so that a
delivery report names the failed address without our trusting what the report says."""

from __future__ import annotations

from ..tokens import Token

INDEX_SHIFT = 40  # token ids have 48 bits: outbox id below, recipient index in the top 8
MAX_RECIPIENTS = 1 << (48 - INDEX_SHIFT)


def return_path(signer, outbox_id: int, index: int) -> str:
    """The VERP envelope sender of recipient ``index`` of outbox row ``outbox_id``. Index 0
    is the plain outbox id, the one-address-per-mail form used before."""
    if not 0 <= index < MAX_RECIPIENTS:
        raise ValueError(f"recipient index {index} out of range")
    return signer.address(Token("bounce", index << INDEX_SHIFT | outbox_id))


def outbox_and_index(token: Token) -> tuple[int, int]:
    """The outbox id and recipient index a ``bounce`` token names."""
    return token.id & ((1 << INDEX_SHIFT) - 1), token.id >> INDEX_SHIFT
