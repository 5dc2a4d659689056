"""Lanes: which workers take a stored mail, decided from its envelope alone when it is stored.

``party``: mail to a token address (a buyer, merchant or operator acting on a case); ``robot``:
a null reverse-path (RFC 5321 §4.5.5: delivery reports, RFC 3798 read receipts) or mail to one
of our VERP return paths; ``stranger``: everything else, i.e. mail to the bare address. Each lane
has its own workers and its own time budget per mail (``serve/supervisor.py``), so that a stranger's
or a robot's mail, however slow, never occupies the worker a party's mail waits for.
"""

from __future__ import annotations

PARTY, STRANGER, ROBOT = "party", "stranger", "robot"
LANES = (PARTY, STRANGER, ROBOT)


def budget(config, lane: str | None) -> float:
    """Seconds one mail of ``lane`` may take (``[processing] LANE_seconds``); without a lane,
    a party's."""
    return float(getattr(config.processing, f"{lane or PARTY}_seconds"))


def lane_of(signer, mail_from: str, rcpt_tos: list[str]) -> str:
    if not mail_from:
        return ROBOT
    tokens = [t for t in map(signer.parse, rcpt_tos) if t is not None]
    if any(t.kind == "bounce" for t in tokens):
        return ROBOT
    return PARTY if tokens else STRANGER
