"""Whether the buyer's bank details have arrived, read from what is stored: a compensation is paid
by bank transfer into the account the buyer sends by replying to the closing mail, and that reply
is kept on the case's timeline as the buyer's message. A message carries bank details when it
holds a valid IBAN (ISO 13616: country code, check digits and the country's account format,
checked with python-stdnum, mod 97 included); the IBAN itself is never copied anywhere else.
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


def has_iban(text: str | None) -> bool:
    """Whether ``text`` holds a valid IBAN."""
    for match in _CANDIDATE.finditer(text or ""):
        compact = match.group(1).replace(" ", "").upper()
        if any(iban.is_valid(compact[:n]) for n in range(15, len(compact) + 1)):
            return True
    return False


def received(entries) -> datetime | None:
    """When the buyer last sent bank details on the case (timeline entries, oldest first, as
    ``records.timeline`` gives them), or None: the latest, since a buyer who corrects an account
    sends the new one after the old."""
    sent = [e["at"] for e in entries
            if e["actor"] == "buyer" and e["kind"] == "message" and has_iban(e["text"])]
    return sent[-1] if sent else None
