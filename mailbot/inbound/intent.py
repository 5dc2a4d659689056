"""Reading an unambiguous request in free text (SPEC §5), in nl, fr, it, en and de.

Free text never ends a protection or closes a case. It may open a case or dispute a decision,
but only when exactly one such request is named in plain words; anything else is answered with
the actions that are open, as links.
"""

from __future__ import annotations

import re

from ..core.model import Action

_PHRASES = {
    Action.NOT_RECEIVED: (
        r"(bestelling|pakket|order|artikel)\w* (is )?(nooit |nog (steeds )?)?niet (ontvangen|aangekomen|geleverd)",
        r"niet (terug )?ontvangen", r"nooit (ontvangen|aangekomen|geleverd)",
        r"(not|never) (been )?(received|arrived|delivered)", r"didn'?t (receive|arrive|get)",
        r"(pas|jamais) (reçu|recu|arrivée?|livrée?)",
        r"(non (ho )?(mai )?ricevut[oa]|mai arrivat[oa]|non (è|e) (mai )?arrivat[oa]|non consegnat[oa])",
        r"nicht (erhalten|angekommen|geliefert)|nie angekommen",
    ),
    Action.NO_REFUND: (
        r"geen (geld|terugbetaling|terugstorting)", r"geld .{0,20}niet terug",
        r"no refund|not (been )?refunded|refund (has )?not",
        r"pas (été |ete )?rembours|aucun remboursement",
        r"(nessun|nessuno) rimborso|non (sono stat[oa] |ho ricevuto il )?rimborsat",
        r"keine (rückerstattung|erstattung|rückzahlung)|nicht erstattet",
    ),
    Action.DISAGREE: (
        r"niet (mee )?eens|niet akkoord", r"(do not|don'?t) agree|disagree",
        r"pas d'accord|désaccord|desaccord", r"non (sono )?d'accordo",
        r"nicht einverstanden",
    ),
}
# After the shop's answer the same words dispute it: "not received" / "no refund" now mean the
# refund did not arrive, and "I disagree" rejects a partial refund.
_PHRASES[Action.REFUND_NOT_RECEIVED] = _PHRASES[Action.NOT_RECEIVED] + _PHRASES[Action.NO_REFUND]
_PHRASES[Action.REJECT_PARTIAL] = _PHRASES[Action.DISAGREE]
_COMPILED = {action: re.compile("|".join(f"(?:{p})" for p in phrases), re.I)
             for action, phrases in _PHRASES.items()}


def detect(text: str, allowed) -> Action | None:
    """The one action among ``allowed`` that ``text`` asks for in plain words, or None."""
    found = [a for a in allowed if a in _COMPILED and _COMPILED[a].search(text)]
    return found[0] if len(found) == 1 else None
