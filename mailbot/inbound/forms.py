"""Reading the small forms typed into replies: the merchant's decision (SPEC §4) and the
operators' commands.

Labels are accepted in nl, fr, it, en and de, in any case, with or without a space before the
colon (French typography puts one there). Only the new text of a reply is ever given to these
functions; the quoted case mail carries a form too and must not count.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date

from ..core.model import OPERATOR_COMMAND_LINES, OPERATOR_COMMANDS, PAID_COMMAND, RefundChoice
from .reply import PROMPT

LABELS = {
    "refund": ("terugbetaling", "remboursement", "rimborso", "refund", "erstattung",
               "rückerstattung", "terugstorting"),
    "amount": ("bedrag", "montant", "importo", "amount", "betrag"),
    "message": ("toelichting", "explication", "motivazione", "message", "explanation",
                "begründung", "erklärung", "nachricht", "bericht", "messaggio"),
}
_LABEL_OF = {word: key for key, words in LABELS.items() for word in words}
_LINE = re.compile(r"^\s*\*?([^\W\d_]+)\*?\s*:\s?(.*)$")

_AFTER_RETURN = re.compile(
    r"(na|after|après|apres|dopo|nach)\s+(de\s+|il\s+|la\s+|the\s+|le\s+|der\s+)?"
    r"(retour|return|reso|rücksendung|ruecksendung|restituzione|renvoi|retourzending)", re.I)
_YES = re.compile(r"^(ja|yes|oui|sì|si|y|j)\b", re.I)
_NO = re.compile(r"^(nee|neen|no|non|nein|n)\b", re.I)


@dataclass(frozen=True)
class DecisionForm:
    choice: RefundChoice | None
    amount_text: str | None
    message: str
    labels_found: int


def read_decision(text: str) -> DecisionForm:
    """The form's fields. With no explanation under its label, the merchant's own lines around
    the form are the explanation (a merchant who clicks "full refund" and writes a sentence has
    explained the decision)."""
    fields: dict[str, list[str]] = {}
    free: list[str] = []
    current = None
    for line in text.split("\n"):
        if PROMPT.match(line):
            continue  # the mail's "[write your explanation here]", left as it was
        match = _LINE.match(line)
        key = _LABEL_OF.get(match.group(1).lower()) if match else None
        if key:
            current = key
            fields.setdefault(key, []).append(match.group(2).strip())
        elif current == "message":
            fields["message"].append(line.rstrip())
        else:
            free.append(line.rstrip())
    choice = _choice(" ".join(fields.get("refund", [])).strip())
    amount = " ".join(fields.get("amount", [])).strip() or None
    message = "\n".join(fields.get("message", [])).strip() or "\n".join(free).strip()
    return DecisionForm(choice, amount, message, len(fields))


def _choice(value: str) -> RefundChoice | None:
    if not value or "/" in value:  # the unfilled form lists every choice: no answer
        return None
    if _AFTER_RETURN.search(value):
        return RefundChoice.YES_AFTER_RETURN
    if _YES.match(value):
        return RefundChoice.YES
    if _NO.match(value):
        return RefundChoice.NO
    return None


@dataclass(frozen=True)
class Command:
    verb: str  # a key of OPERATOR_COMMANDS, or PAID_COMMAND
    argument: str  # one of the arguments it takes: an outcome, or a party; paid: its day or ""
    message: str  # to both parties (SPEC §9's one message)
    amount_text: str | None = None  # ``amount:``, as typed (a decision only)
    to_buyer: str = ""  # ``buyer:``, in place of ``message`` for the buyer (a decision only)
    to_merchant: str = ""  # ``merchant:``

    @property
    def complete(self) -> bool:
        """A command always carries its message: to both parties, or one to each."""
        return not self.missing

    @property
    def missing(self) -> tuple[str, ...]:
        """The parties whose message the command lacks (to name the empty field in the
        answer): a request's one party, or the fields a decision left empty."""
        if self.message or self.verb == PAID_COMMAND:  # a payment record tells no party
            return ()
        if self.verb != "decide":
            return (self.argument,)
        return tuple(party for party, said in (("buyer", self.to_buyer),
                                               ("merchant", self.to_merchant)) if not said)


# The fields of an operator's decision by mail, the CLI's option names without their dashes
# (``--amount``, ``--message-buyer``, ``--message-merchant``): a label at the start of a line,
# optionally with the party's language in brackets as the mails pre-fill it ("buyer (nl):").
_FIELD = re.compile(r"^\s*(amount|buyer|merchant)\s*(?:\([^)]*\))?\s*:\s?(.*)$", re.I)


# The day of ``paid DAY``: ISO (2026-12-03), or day first as nl, fr and it write it (3-12-2026,
# 03-12-2026, 3/12/2026).
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4})")


def read_day(text: str) -> date | None:
    """The day ``text`` names in one of the forms above; None for anything else."""
    if match := _ISO_DAY.fullmatch(text.strip()):
        year, month, day = match.groups()
    elif match := _DAY_FIRST.fullmatch(text.strip()):
        day, _, month, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def read_command(text: str) -> Command | None:
    """An operator's reply: one of the commands of ``OPERATOR_COMMANDS`` (the CLI's words) on the
    first line, the message to the parties on the lines after it; None for anything else. A
    decision may carry the fields of ``_FIELD``: ``amount:`` on its line; the lines under
    ``buyer:`` or ``merchant:`` (up to the next label) are that party's message, the lines
    above any label the message to both."""
    first, _, rest = text.strip().partition("\n")
    words = first.lower().split()
    if words[:1] == [PAID_COMMAND] and len(words) <= 2:
        # "paid", or "paid 2026-12-03": the day it was paid (intake reads it; default today).
        return Command(PAID_COMMAND, words[1] if len(words) == 2 else "", "")
    if len(words) != 2 or words[1] not in OPERATOR_COMMANDS.get(words[0], ()):
        return None
    if words[0] != "decide":
        # The link of a request pre-fills its party's field ("buyer (nl): "), the only label
        # read here: any other line is the message as written.
        head, newline, tail = rest.lstrip("\n").partition("\n")
        match = _FIELD.match(head)
        if match and match.group(1).lower() == words[1]:
            rest = match.group(2) + newline + tail
        return Command(words[0], words[1], rest.strip())
    fields: dict[str, list[str]] = {"": []}
    current = ""
    for line in rest.split("\n"):
        match = _FIELD.match(line)
        if match:
            key = match.group(1).lower()
            fields[key] = [match.group(2)]
            current = "" if key == "amount" else key  # an amount is its one line
        else:
            fields[current].append(line)
    said = {key: "\n".join(lines).strip() for key, lines in fields.items()}
    return Command(words[0], words[1], said[""], said.get("amount") or None,
                   said.get("buyer", ""), said.get("merchant", ""))


# The operators' commands on one stored mail by its number, as the mails print it: ``resend N``
# (a dead or bounced outbox mail) and ``release N`` (an inbox mail held for its sender), the
# CLI's ``outbox resend N`` and ``inbox release N``; and ``buyer-email NEW``, the CLI's ``order
# correct ... --buyer-email NEW`` on a case (inbound/mail_commands.py).
_MAIL_COMMAND = re.compile(r"^(?:(resend|release)\s+(\d{1,12})|(buyer-email)\s+<?([^\s<>]+)>?)$",
                           re.I)


def read_mail_command(text: str) -> tuple[str, int | str] | None:
    """The verb and its number (or address) of a mail command on the first line, else None."""
    match = _MAIL_COMMAND.match(" ".join(text.strip().partition("\n")[0].split()))
    if match is None:
        return None
    if match.group(1):
        return match.group(1).lower(), int(match.group(2))
    return "buyer-email", match.group(4)


def asked_command(text: str) -> str | None:
    """The first line of ``text`` when it names an operator command's verb (to quote it back
    when it is not a valid command), else None."""
    first = " ".join(text.strip().partition("\n")[0].split())[:80]
    verb = first.partition(" ")[0].lower()
    return first if verb in OPERATOR_COMMANDS or verb == PAID_COMMAND else None


def closest_command(text: str) -> str | None:
    """The command line an operator probably meant by the first line of ``text`` (a typo, an
    outcome that is not an operator's), to name in the answer; None when none is close."""
    first = " ".join(text.strip().partition("\n")[0].lower().split())
    verb, _, rest = first.partition(" ")
    argument = rest.partition(" ")[0]
    # A verb and the start of one of its arguments ("decide refunded", a command with words
    # after it).
    starting = [a for a in OPERATOR_COMMANDS.get(verb, ()) if argument and a.startswith(argument)]
    if len(starting) == 1:
        return f"{verb} {starting[0]}"
    # Else a typo only: difflib's default 0.6 turned "decide buyer_accepted" into "decide
    # compensated", a payout offered as the answer to a word that is no operator's outcome.
    matches = difflib.get_close_matches(first, OPERATOR_COMMAND_LINES, cutoff=0.8)
    return matches[0] if matches else None
