"""Whether the buyer's bank details have arrived, read from what is stored: a compensation is paid
by bank transfer into the account the buyer sends by replying to the closing mail, and that reply
is kept on the case's timeline as the buyer's message. A message carries bank details when it
holds a valid IBAN (ISO 13616: country code, check digits and the country's account format,
checked with python-stdnum, mod 97 included). The IBAN is read from the message, never stored
anywhere else: the team's own digest shows it (``account``), formatted, with the words that name
the account's holder when the buyer wrote them, so that an overdue payment is made from it.
"""

from __future__ import annotations

import re
from datetime import datetime

from stdnum import iban

# An IBAN as people type it: two letters, two check digits, then letters and digits, printed in
# groups of four or in one run (ISO 13616 allows up to 34 characters). The run may go on into
# the next word ("NL91ABNA0417164300 graag"), so every length is tried against the country's;
# candidates may overlap ("ref 12 NL91…"), so each is looked for at every word start.
_CANDIDATE = re.compile(r"\b(?=([A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}))")


# The words that name an account's holder as buyers write them, up to the end of the sentence
# or line: "t.n.v. S. Jansen", "au nom de Claire Martin", "intestato a Giulia Rossi". A name's
# initials keep their dots ("S. Jansen"); a dot before a space and a capital ends nothing.
_HOLDER = re.compile(r"\b(t\.\s?n\.\s?v\.?|ten name van|op naam van|au nom de|titulaire\s?:|"
                     r"intestat[oa] a|titolare\s?:|account holder\s?:?)\s*([^\n;,]+)",
                     re.IGNORECASE)


def find_iban(text: str | None) -> str | None:
    """The first valid IBAN in ``text``, compact (no spaces), or None."""
    for match in _CANDIDATE.finditer(text or ""):
        compact = match.group(1).replace(" ", "").upper()
        for n in range(15, len(compact) + 1):
            if iban.is_valid(compact[:n]):
                return compact[:n]
    return None


def has_iban(text: str | None) -> bool:
    """Whether ``text`` holds a valid IBAN."""
    return find_iban(text) is not None


def account(text: str | None) -> dict | None:
    """The IBAN in ``text`` as printed (groups of four, python-stdnum) and the buyer's words that
    name its holder ("t.n.v. S. Jansen"), or None for the holder when there are none."""
    found = find_iban(text)
    if found is None:
        return None
    holder = _HOLDER.search(text)
    return {"iban": iban.format(found),
            "holder": (holder.group(1) + " " + holder.group(2)).strip().rstrip(".!?\u202f ")
            if holder else None}


def received(entries) -> datetime | None:
    """When the buyer last sent bank details on the case (timeline entries, oldest first, as
    ``records.timeline`` gives them), or None: the latest, since a buyer who corrects an account
    sends the new one after the old."""
    latest = latest_message(entries)
    return latest["at"] if latest else None


def latest_message(entries) -> dict | None:
    """The buyer's latest message on the case that carries bank details, or None."""
    sent = [e for e in entries
            if e["actor"] == "buyer" and e["kind"] == "message" and has_iban(e["text"])]
    return sent[-1] if sent else None
