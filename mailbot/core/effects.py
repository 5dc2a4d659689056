"""What a decision asks the shell to do: the new state, the mails to queue, the timeline entries.

A decision never performs anything itself; the shell (``service``) saves the state, writes the
timeline and enqueues the mails in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .model import Action, Document, Role, State


class Result(StrEnum):
    """How an event ended; also the inbound disposition when the event came from a mail (the
    shell's other endings are ``inbound.disposition.Ending``)."""

    APPLIED = "applied"
    NOT_OPEN = "not_open"
    NOT_ACTIVE = "not_active"
    BAD_FORM = "bad_form"
    IGNORED = "ignored"  # a timer that no longer applies


@dataclass(frozen=True)
class Mail:
    """A mail of one ``kind`` to one party of the order (all merchant addresses, all operators).

    The recipient is said once, in ``to``; the template name the renderer, the outbox and the
    digest see is derived from both: ``Mail(Role.BUYER, "case_closed").template`` is
    ``"buyer.case_closed"``. ``actions``: the links to offer when they are not the ones open in
    the order's state (``core.decide.actions_for``), e.g. the one action a held mail asked for.
    """

    to: Role
    kind: str
    data: dict = field(default_factory=dict)
    actions: tuple[Action, ...] = ()

    def __post_init__(self):
        if "." in self.kind:  # "buyer.case_closed" would say the recipient twice
            raise ValueError(f"a mail kind names no recipient: {self.kind!r}")

    @property
    def template(self) -> str:
        return f"{self.to}.{self.kind}"


@dataclass(frozen=True)
class Entry:
    """One line of the case's timeline (audit trail)."""

    actor: str
    kind: str
    text: str = ""
    attachments: tuple[Document, ...] = ()
    by: str = ""  # the operator who gave the command (the From of their mail, or the CLI's --as)


@dataclass(frozen=True)
class Decision:
    state: State
    result: Result = Result.APPLIED
    mails: tuple[Mail, ...] = ()
    timeline: tuple[Entry, ...] = ()
