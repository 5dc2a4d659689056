"""What an operator typed in a command that was not carried out, for command_help to quote back
and to pre-fill its retry link with: the command (as sent, else the one they most likely meant),
the amount and the messages, so that only the missing or wrong field is left to fix.

An amount the bot would refuse is not written back as it was: one above the most that may be
decided (the order's amount, for a compensation also the plan's cover) starts at that bound, and
one that cannot be read, or is zero or less, is left out; ``amount_fix`` says which, for the mail
to say so.
"""

from __future__ import annotations

from decimal import Decimal

from ..core.case import operator_amount_problem
from ..core.model import Outcome
from ..money import parse_amount
from . import forms

QUOTED_CHARS = 2000  # what is quoted back of the operator's mail: a command, not a letter


def typed(text: str, closest: str | None, state, cover: Decimal | None) -> dict | None:
    """The fields of ``text`` read as a command (its first line replaced by ``closest`` when it
    is no command), each as the retry link writes it; None when there is no command to retry."""
    command = forms.read_command(text)
    if command is None and closest:
        command = forms.read_command(closest + "\n" + text.strip().partition("\n")[2])
    if command is None:
        return None
    said = {"command": f"{command.verb} {command.argument}", "message": command.message,
            "buyer": command.to_buyer, "merchant": command.to_merchant, "amount": None,
            "amount_fix": None, "text": text.strip()[:QUOTED_CHARS]}
    if command.verb == "decide" and command.argument != Outcome.CLAIM_REJECTED:
        said["amount"], said["amount_fix"] = _amount(command, state, cover)
    return said


def _amount(command, state, cover) -> tuple[Decimal | None, str | None]:
    """The amount to pre-fill and what was done to the typed one: None (kept, or none typed:
    the order's), "bound" (above the most that may be decided, or none typed and the order's
    above it: that bound) or "removed" (unreadable, or not more than zero)."""
    outcome = Outcome(command.argument)
    bound = state.order.amount
    if outcome is Outcome.COMPENSATED and cover is not None:
        bound = min(bound, cover)
    if not command.amount_text:  # the order's amount: refused when above a lower cover
        return bound, "bound" if bound < state.order.amount else None
    amount = parse_amount(command.amount_text)
    if amount is None or amount <= 0:
        return None, "removed"
    if operator_amount_problem(state, outcome, amount, cover):
        return bound, "bound"
    return amount, None
