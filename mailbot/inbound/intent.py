"""Reading an unambiguous request in free text (SPEC §5), in nl, fr, it, en and de.

Free text never ends a protection or closes a case. It may open a case or dispute a decision,
but only when exactly one such request is named in plain words; anything else is answered with
the actions that are open, as links. The text is cut into clauses (at sentence ends, commas and
"and"/"but"); a clause that says something was not received is about the refund when it names
the refund or the money, about the order when it names the order or nothing else (not a reply,
an invoice, a message). Quoted lines (``>``) are not read.
"Not yet" ("nog niet", "pas encore", "non ancora", "noch nicht") is waiting: it may open a case
about an order, but it never disputes the shop's answer -- "Ik heb het geld nog niet ontvangen,
maar de fiets is teruggestuurd" is a buyer waiting for a refund, not one who says it failed -- so
such a text is answered with the links ("still not", "nog steeds niet", "toujours pas" is no
waiting). Every pattern has bounded gaps, and only the first ``READ_CHARACTERS`` of the text are
read: people state a request first, and a request further down a long text is answered with links.
"""

from __future__ import annotations

import re
from enum import Enum

from ..core.model import Action


READ_CHARACTERS = 4000


class _Says(Enum):
    """What a clause of the buyer's text says."""

    ORDER_MISSING = "the order did not arrive"
    REFUND_MISSING = "the refund did not arrive"
    DISAGREES = "the buyer does not agree with the shop's answer"


# The actions each statement asks for, in whichever state the case is: before the shop's answer
# "not received" opens a case; after it, "not received" means the refund did not arrive.
_ASKS = {
    _Says.ORDER_MISSING: {Action.NOT_RECEIVED, Action.REFUND_NOT_RECEIVED},
    _Says.REFUND_MISSING: {Action.NO_REFUND, Action.REFUND_NOT_RECEIVED},
    _Says.DISAGREES: {Action.DISAGREE, Action.REJECT_PARTIAL},
}

_CLAUSE_END = re.compile(
    r"[.!?;:\n]+|,|\b(?:en|maar|want|et|mais|car|ma|perché|perche|and|but|because|und|aber|denn)\b"
    r"|(?<=\s)e(?=\s)", re.I)

# Something expected that did not come: a negation, at most two words, a verb of receiving.
_NOT_RECEIVED = re.compile(
    r"\b(?:niet|nooit|niks|niets|geen)\s+(?:\w+\s+){0,2}?"
    r"(?:ontvangen|aangekomen|geleverd|bezorgd|binnengekomen|teruggekregen)\b"
    r"|\b(?:pas|jamais|rien|aucune?)\s+(?:\w+\s+){0,2}?"
    r"(?:reçue?s?|recue?s?|arrivée?s?|arrivee?s?|livrée?s?|livree?s?|parvenue?s?)"
    r"|\b(?:non|mai|nessun[oa]?|niente)\s+(?:\w+\s+){0,3}?"
    r"(?:ricevut[oaie]|arrivat[oaie]|consegnat[oaie]|pervenut[oaie]|accreditat[oaie])"
    r"|(?:\b(?:not|never|nothing|no)|n't)\s+(?:\w+\s+){0,2}?"
    r"(?:received|receive|arrived|arrive|delivered|shown up|turned up)\b"
    r"|\b(?:nicht|nie|niemals|nichts|kein\w*)\s+(?:\w+\s+){0,2}?"
    r"(?:erhalten|angekommen|geliefert|zugestellt|eingetroffen|zurückbekommen)\b",
    re.I)
_REFUND_WORD = re.compile(
    r"\b(?:terugbetaling|terugstorting|restitutie|geld|bedrag|creditering"
    r"|remboursement|rembourser|argent|virement"
    r"|rimborso|rimborsat\w*|soldi|denaro|accredito"
    r"|refund\w*|money|reimbursement|repayment"
    r"|rückerstattung|erstattung|rückzahlung|geld|gutschrift|betrag)\b", re.I)
# The order named; and other things people miss, which are not the order.
_ORDER_WORD = re.compile(
    r"\b(?:bestelling|pakket|pakje|artikel|zending|levering|product|order"
    r"|commande|colis|paquet|article|produit|livraison|marchandise"
    r"|ordine|pacco|pacchetto|articolo|prodotto|merce|spedizione|consegna"
    r"|parcel|package|item|delivery|goods|product|purchase|shipment"
    r"|bestellung|paket|päckchen|sendung|lieferung|ware|produkt)\b", re.I)
_OTHER_THING = re.compile(
    r"\b(?:antwoord|reactie|bericht|mail|e-mail|factuur|bevestiging|code"
    r"|réponse|reponse|message|facture|confirmation|numéro"
    r"|risposta|messaggio|fattura|conferma|numero"
    r"|reply|answer|message|invoice|confirmation|number|email"
    r"|antwort|nachricht|rechnung|bestätigung|nummer)\b", re.I)
# The refund named as missing without a verb of receiving.
_NO_REFUND = re.compile(
    r"\bgeen\s+(?:\w+\s+)?(?:geld|terugbetaling|terugstorting|restitutie)\b"
    r"|\b(?:niet|nooit)\s+(?:\w+\s+){0,2}?(?:terugbetaald|teruggestort|gerestitueerd|terug)\b"
    r"|\b(?:pas|jamais|aucun|toujours pas)\s+(?:\w+\s+){0,2}?(?:rembours\w*)"
    r"|\bnessun[oa]?\s+rimborso\b|\bnon\s+(?:\w+\s+){0,3}?rimborsat\w*"
    r"|\bno\s+refund\b|(?:\b(?:not|never)|n't)\s+(?:\w+\s+){0,2}?refunded\b"
    r"|\bkeine?\w*\s+(?:\w+\s+)?(?:rückerstattung|erstattung|rückzahlung|gutschrift|geld)\b"
    r"|\b(?:nicht|nie)\s+(?:\w+\s+){0,2}?(?:erstattet|zurückerstattet|zurückgezahlt"
    r"|zurücküberwiesen|zurück)\b", re.I)
_DISAGREES = re.compile(
    r"\bniet\s+(?:\w+\s+){0,3}?(?:mee\s+)?eens\b|\boneens\b|\bniet\s+akkoord\b"
    r"|\bniet\s+(?:\w+\s+)?(?:accepteren|aanvaarden|acceptabel)\b|\bonacceptabel\b"
    r"|\bpas\s+(?:du tout\s+|vraiment\s+)?d'accord\b|\bd[ée]saccord\b|\bn'accepte\s+pas\b|\binacceptable\b"
    r"|\bje\s+(?:refuse|conteste)\b"
    r"|\bnon\s+(?:sono\s+|siamo\s+)?(?:affatto\s+|per niente\s+)?d'accordo\b|\bdisaccordo\b"
    r"|\bnon\s+accetto\b|\binaccettabile\b|\b(?:rifiuto|contesto)\s+(?:la|il|questa|questo)\b"
    r"|\b(?:do not|don't|cannot|can't)\s+(?:\w+\s+)?(?:agree|accept)\b|\bdisagree\b"
    r"|\bunacceptable\b|\bnot\s+acceptable\b|\bi\s+(?:reject|refuse|dispute)\b"
    r"|\bnicht\s+(?:\w+\s+)?einverstanden\b|\bwiderspreche\b|\b(?:inakzeptabel|unakzeptabel)\b"
    r"|\bnicht\s+akzeptabel\b|\bakzeptiere\s+(?:\w+\s+){0,2}?nicht\b|\blehne\s+(?:\w+\s+){0,3}?ab\b",
    re.I)


# "Not yet": waiting for something that may still come; "nog steeds niet", "immer noch nicht",
# "toujours pas", "still not" are not waiting.
_NOT_YET = re.compile(
    r"\bnog\s+(?:niet|geen)\b|\bpas\s+encore\b|\bnon\s+(?:\w+\s+){0,2}?ancora\b|\bancora\s+non\b"
    r"|(?:\b(?:not?|nothing|none)\b|n't)[^.!?;\n]{0,60}?\byet\b|\byet\s+to\b"
    r"|(?<!immer\s)\bnoch\s+(?:nicht|kein\w*)\b", re.I)
# What disputes the shop's answer: never on the word of someone who is still waiting.
_DISPUTES = {Action.REFUND_NOT_RECEIVED, Action.REJECT_PARTIAL, Action.DISAGREE}


def _statements(text: str) -> set[_Says]:
    found = set()
    topic = None  # what the last clause that named one was about: "a refund ... but it never came"
    for clause in _CLAUSE_END.split(text):
        if _REFUND_WORD.search(clause):
            topic = _Says.REFUND_MISSING
        elif _ORDER_WORD.search(clause):
            topic = _Says.ORDER_MISSING
        elif _OTHER_THING.search(clause):
            topic = "other"  # a reply, an invoice: not what the buyer may act on
        if _NO_REFUND.search(clause):
            found.add(_Says.REFUND_MISSING)
        elif _NOT_RECEIVED.search(clause) and topic != "other":
            found.add(topic or _Says.ORDER_MISSING)
        if _DISAGREES.search(clause):
            found.add(_Says.DISAGREES)
    return found


def detect(text: str, allowed) -> Action | None:
    """The one action among ``allowed`` that ``text`` asks for in plain words, or None."""
    own = "\n".join(line for line in text[:READ_CHARACTERS].replace("’", "'").splitlines()
                     if not line.lstrip().startswith(">"))
    asked = set().union(*(_ASKS[says] for says in _statements(own)))
    found = [action for action in allowed if action in asked]
    if len(found) != 1 or found[0] in _DISPUTES and _NOT_YET.search(own):
        return None
    return found[0]
