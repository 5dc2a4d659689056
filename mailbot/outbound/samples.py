"""Realistic sample mails: every template name the core emits, in every situation that changes
its words (decision variants, outcomes, escalation reasons), with the facts a real case has.

Used by ``tools/render_mails.py`` (HTML files and screenshots to look at before merging) and by
``tests/test_templates.py`` (every sample renders in nl, fr and it without raw identifiers).
The contexts come from ``compose.context`` on a real app, so links are real signed addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from decimal import Decimal

from ..core.case import PAID_OUTCOMES
from ..core.deadlines import MERCHANT_ANSWER_DAYS, OPERATOR_PAYMENT_DAYS, deadline
from ..core.effects import Entry, Mail
from ..core.model import (
    BUYER_ACTIONS, Action, Case, CaseState, Document, Escalation, Order, Outcome, Plan, Protection,
    ProtectionState, Reason, RefundChoice, Role, State, Variant,
)
from . import compose

NOW = datetime(2026, 11, 23, 13, 2, tzinfo=timezone.utc)
TZ = ZoneInfo("Europe/Amsterdam")  # the time zone tools/render_mails.py configures
SHOPS = {"nl": ("Fietsen de Wit", "NL-2026-10481"), "fr": ("Boutique Rive Gauche", "FR-10004"),
         "it": ("Negozio del Sole", "IT-2026-0077")}
INVOICE = Document("factuur-10481.pdf", "0" * 64, "application/pdf", 48_213)
# Each language's case has its own buyer and its invoice named in that language.
INVOICES = {"nl": INVOICE,
            "fr": Document("facture-FR-10004.pdf", "2" * 64, "application/pdf", 51_370),
            "it": Document("fattura-IT-2026-0077.pdf", "3" * 64, "application/pdf", 46_902)}
# The work address the nl buyer wrote from once: mail held for its sender (the digest's 5021).
HELD_SENDER = "s.jansen@work.example"
# An earlier order of the same buyer whose case was decided weeks ago, its compensation still
# owed: the operators' mails about a closed case tell its story, not case 1041's (opened two
# days ago), so that no case is closed before it was opened (review 12).
EARLIER = {"nl": "NL-2026-10377", "fr": "FR-09981", "it": "IT-2026-0064"}
EARLIER_CASE = 1029
BUYERS = {"nl": "sam.jansen@example.org", "fr": "camille.martin@example.org",
          "it": "giulia.rossi@example.org"}
TRACKING = Document("track-and-trace.png", "1" * 64, "image/png", 120_400)
BUYER_TEXT = {
    "nl": "Ik heb op 2 november besteld en betaald, maar het pakket is nooit aangekomen.\n"
          "Volgens de tracking ligt het al twee weken bij het sorteercentrum.",
    "fr": "J’ai commandé et payé le 2 novembre, mais le colis n’est jamais arrivé.\n"
          "D’après le suivi, il est bloqué au centre de tri depuis deux semaines.",
    "it": "Ho ordinato e pagato il 2 novembre, ma il pacco non è mai arrivato.\n"
          "Secondo il tracciamento è fermo al centro di smistamento da due settimane.",
}
# What the shop answers, one text per kind of answer, so that no sample quotes a promise its mail
# contradicts: a full refund (variant A), a full refund once the parcel has been sent back (A),
# a partial refund (B), a refusal of a "not received" case (C) and of a "no refund" case.
SHOP_TEXTS = {
    "full": {
        "nl": "Het spijt ons: de vervoerder is het pakket kwijtgeraakt.\n"
              "We storten het volledige bedrag vandaag terug.",
        "fr": "Nous sommes désolés : le transporteur a perdu le colis.\n"
              "Nous vous remboursons la totalité aujourd’hui.",
        "it": "Ci dispiace: il corriere ha smarrito il pacco.\n"
              "Ti rimborsiamo l’intero importo oggi stesso.",
    },
    "after_return": {
        "nl": "Het pakket is bij de buren op nummer 12 afgegeven (zie de foto).\n"
              "Wil je het niet meer? Stuur het terug met het retourlabel, dan storten we alles "
              "terug.",
        "fr": "Le colis a été remis à votre voisin au n° 12 (voir la photo).\n"
              "Vous n’en voulez plus ? Renvoyez-le avec l’étiquette de retour et nous vous "
              "remboursons tout.",
        "it": "Il pacco è stato consegnato al vicino al civico 12 (vedi la foto).\n"
              "Non lo vuoi più? Rispediscilo con l’etichetta di reso e ti rimborsiamo tutto.",
    },
    "partial": {
        "nl": "De fietsverlichting is op 20 november bezorgd; alleen de fietstas ontbreekt.\n"
              "Voor de fietstas storten we € 120,00 terug.",
        "fr": "L’éclairage a été livré le 20 novembre ; seule la sacoche manque.\n"
              "Nous vous remboursons 120,00 € pour la sacoche.",
        "it": "Le luci per la bici sono state consegnate il 20 novembre; manca solo la borsa.\n"
              "Per la borsa ti rimborsiamo 120,00 €.",
    },
    "refused": {
        "nl": "Het pakket is op 20 november afgeleverd; de handtekening zit in de bijlage.",
        "fr": "Le colis a été livré le 20 novembre ; la signature figure en pièce jointe.",
        "it": "Il pacco è stato consegnato il 20 novembre; la firma è in allegato.",
    },
    "refused_return": {
        "nl": "We hebben de retour niet ontvangen. Zonder retour betalen we niets terug.",
        "fr": "Nous n’avons pas reçu le retour. Sans retour, nous ne remboursons pas.",
        "it": "Non abbiamo ricevuto il reso. Senza reso non possiamo rimborsare.",
    },
}
# Messages the parties send each other through the bot once the case is open: news, not the
# case's opening or the shop's answer again.
FOLLOW_UP = {
    "buyer": {
        "nl": "Is er al nieuws? Volgens de tracking ligt het pakket nog steeds bij het "
              "sorteercentrum.",
        "fr": "Y a-t-il du nouveau\u202f? D’après le suivi, le colis est toujours au centre de "
              "tri.",
        "it": "Ci sono novità? Secondo il tracciamento il pacco è ancora al centro di "
              "smistamento.",
    },
    "merchant": {
        "nl": "We hebben het bedrag vandaag overgemaakt; het staat binnen twee werkdagen op je "
              "rekening. Het betaalbewijs zit in de bijlage.",
        "fr": "Nous avons effectué le virement aujourd’hui\u202f; il sera sur votre compte sous "
              "deux jours ouvrés. La preuve de paiement est jointe.",
        "it": "Abbiamo fatto il bonifico oggi; sarà sul tuo conto entro due giorni lavorativi. "
              "La ricevuta di pagamento è in allegato.",
    },
}

# A buyer whose compensation has not arrived, writing on the closed case (payment awaited).
UNPAID = {
    "nl": "Ik heb de vergoeding nog steeds niet ontvangen. Kunnen jullie nagaan wat er misgaat?",
    "fr": "Je n’ai toujours pas reçu l’indemnisation. Pouvez-vous vérifier ce qui se passe\u202f?",
    "it": "Non ho ancora ricevuto l’indennizzo. Potete verificare cosa succede?",
}

# The buyer's reply with the account to pay into (IBANs of the banks' own documentation).
BANK_DETAILS = {
    "nl": "Hierbij mijn rekeningnummer: NL91 ABNA 0417 1643 00, t.n.v. S. Jansen.",
    "fr": "Voici mon IBAN\u202f: FR14 2004 1010 0505 0001 3M02 606, au nom de Claire Martin.",
    "it": "Ecco il mio IBAN: IT60 X054 2811 1010 0000 0123 456, intestato a Giulia Rossi.",
}


def _pdf(names: dict, size: int) -> dict:
    return {locale: Document(name, str(i + 4) * 64, "application/pdf", size)
            for i, (locale, name) in enumerate(names.items())}


# The documents each message speaks of: the shop's proof of payment and of delivery (with the
# signature), the photo of the parcel left with the neighbours.
RECEIPT = _pdf({"nl": "betaalbewijs-10481.pdf", "fr": "preuve-de-paiement-FR-10004.pdf",
                "it": "ricevuta-bonifico-IT-2026-0077.pdf"}, 31_842)
PROOF = _pdf({"nl": "afleverbewijs-10481.pdf", "fr": "preuve-de-livraison-FR-10004.pdf",
              "it": "prova-di-consegna-IT-2026-0077.pdf"}, 88_410)
PHOTO = {locale: Document(name, "9" * 64, "image/jpeg", 402_118) for locale, name in
         {"nl": "foto-bij-de-buren.jpg", "fr": "photo-chez-le-voisin.jpg",
          "it": "foto-dal-vicino.jpg"}.items()}
RETURN_TEXT = {
    "nl": "Ik heb de fiets op 5 november teruggestuurd, maar nog geen geld teruggekregen.",
    "fr": "J’ai renvoyé le vélo le 5 novembre, mais je n’ai toujours pas été remboursé.",
    "it": "Ho rispedito la bici il 5 novembre, ma non ho ancora ricevuto il rimborso.",
}
# The service team writes to each party what it needs from them.
TEAM_TEXT = {
    "buyer": {
        "nl": "Stuur ons je orderbevestiging en het betaalbewijs, dan kunnen we een besluit nemen.",
        "fr": "Envoyez-nous votre confirmation de commande et la preuve de paiement, afin que "
              "nous puissions conclure.",
        "it": "Inviaci la conferma d’ordine e la prova di pagamento, così possiamo chiudere la "
              "pratica.",
    },
    "merchant": {
        "nl": "Stuur ons de track-and-trace-code en het afleverbewijs van de vervoerder.",
        "fr": "Envoyez-nous le numéro de suivi et la preuve de livraison du transporteur.",
        "it": "Inviaci il codice di tracciamento e la prova di consegna del corriere.",
    },
}
# The team's own message to a party (``message buyer|merchant``): to the buyer, who asked about
# the compensation of a closed case; to the shop, a question while the case is with the team.
TEAM_MESSAGE = {
    "buyer": {
        "nl": "We hebben je vergoeding vandaag overgemaakt. Het bedrag staat binnen twee "
              "werkdagen op je rekening.",
        "fr": "Nous avons viré votre indemnisation aujourd’hui. Le montant sera sur votre compte "
              "d’ici deux jours ouvrables.",
        "it": "Abbiamo disposto oggi il bonifico del tuo indennizzo. L’importo sarà sul tuo conto "
              "entro due giorni lavorativi.",
    },
    "merchant": {
        "nl": "Kun je bevestigen naar welk adres je het pakket hebt gestuurd? De koper zegt dat "
              "het huisnummer niet klopt.",
        "fr": "Pouvez-vous nous confirmer l’adresse à laquelle vous avez envoyé le colis\u202f? "
              "L’acheteur indique que le numéro de rue est erroné.",
        "it": "Puoi confermarci a quale indirizzo hai spedito il pacco? L’acquirente dice che il "
              "numero civico è sbagliato.",
    },
}
# A shop's out-of-office answering the buyer's messages: the relay the cap holds back.
AUTO_REPLY = {
    "nl": "Bedankt voor je bericht. We zijn tot en met 30 november gesloten en beantwoorden je "
          "e-mail daarna zo snel mogelijk.",
    "fr": "Merci pour votre message. Nous sommes fermés jusqu’au 30 novembre inclus et vous "
          "répondrons dès que possible ensuite.",
    "it": "Grazie per il tuo messaggio. Siamo chiusi fino al 30 novembre compreso e ti "
          "risponderemo al più presto.",
}
# The service team's decision, worded for each party as the operators' composer writes it
# (``--message-buyer`` / ``--message-merchant``): each reads "you", the other is named.
DECISION_TEXT = {
    "buyer": {
        "nl": "We hebben alle gegevens bekeken: de webshop kon niet aantonen dat het pakket is "
              "afgeleverd.",
        "fr": "Nous avons examiné le dossier\u202f: la boutique n’a pas pu prouver la livraison "
              "du colis.",
        "it": "Abbiamo esaminato la pratica: il negozio non ha potuto dimostrare la consegna del "
              "pacco.",
    },
    "merchant": {
        "nl": "We hebben alle gegevens bekeken: je kon niet aantonen dat het pakket is "
              "afgeleverd.",
        "fr": "Nous avons examiné le dossier\u202f: vous n’avez pas pu prouver la livraison du "
              "colis.",
        "it": "Abbiamo esaminato la pratica: non hai potuto dimostrare la consegna del pacco.",
    },
}

# Why the team decides that the shop refunds a part (180.00 of 249.95): what was not delivered.
PART_TEXT = {
    "buyer": {
        "nl": "We hebben alle gegevens bekeken: volgens het afleverbewijs is alleen de "
              "fietsverlichting bezorgd. De fietstas en het slot (samen €\u00a0180,00) zijn niet "
              "aangekomen; die betaalt de webshop terug.",
        "fr": "Nous avons examiné le dossier\u202f: d’après la preuve de livraison, seul "
              "l’éclairage a été livré. La sacoche et l’antivol (180,00\u00a0€ au total) ne sont "
              "pas arrivés\u202f: la boutique rembourse ces deux articles.",
        "it": "Abbiamo esaminato la pratica: secondo la prova di consegna sono arrivate solo le "
              "luci. La borsa e il lucchetto (180,00\u00a0€ in tutto) non sono arrivati: il "
              "negozio rimborsa questi due articoli.",
    },
    "merchant": {
        "nl": "We hebben alle gegevens bekeken: volgens het afleverbewijs is alleen de "
              "fietsverlichting bezorgd. De fietstas en het slot (samen €\u00a0180,00) zijn niet "
              "aangekomen; die betaal je de koper terug.",
        "fr": "Nous avons examiné le dossier\u202f: d’après la preuve de livraison, seul "
              "l’éclairage a été livré. La sacoche et l’antivol (180,00\u00a0€ au total) ne sont "
              "pas arrivés\u202f: vous remboursez ces deux articles à l’acheteur.",
        "it": "Abbiamo esaminato la pratica: secondo la prova di consegna sono arrivate solo le "
              "luci. La borsa e il lucchetto (180,00\u00a0€ in tutto) non sono arrivati: devi "
              "rimborsare questi due articoli all’acquirente.",
    },
}

# What the operators' per-party message says to the shop when the protection pays.
TO_SHOP_TEXT = {
    "nl": "De kopersbescherming vergoedt de koper; je hoeft niets te doen.",
    "fr": "La protection acheteur indemnise l’acheteur\u202f: vous n’avez rien à faire.",
    "it": "La Protezione Acquirenti indennizza l’acquirente: non devi fare nulla.",
}

# A rejected claim gives its own reason, not the one that made a shop pay.
REJECTION_TEXT = {
    "buyer": {
        "nl": "We hebben alle gegevens bekeken: volgens de vervoerder is het pakket op 20 "
              "november op je adres afgeleverd en voor ontvangst getekend.",
        "fr": "Nous avons examiné le dossier\u202f: selon le transporteur, le colis a été livré "
              "à votre adresse le 20 novembre, contre signature.",
        "it": "Abbiamo esaminato la pratica: secondo il corriere il pacco è stato consegnato al "
              "tuo indirizzo il 20 novembre, con firma alla consegna.",
    },
    "merchant": {
        "nl": "We hebben alle gegevens bekeken: volgens de vervoerder is het pakket op 20 "
              "november op het adres van de koper afgeleverd en voor ontvangst getekend.",
        "fr": "Nous avons examiné le dossier\u202f: selon le transporteur, le colis a été livré "
              "à l’adresse de l’acheteur le 20 novembre, contre signature.",
        "it": "Abbiamo esaminato la pratica: secondo il corriere il pacco è stato consegnato "
              "all’indirizzo dell’acquirente il 20 novembre, con firma alla consegna.",
    },
}


def _typed(command: str, argument: str, amount: Decimal | None, locale: str,
           parties: tuple[str, ...], typed_amount: str = "", fix: str | None = None) -> dict:
    """What an operator typed in a command that was not carried out (inbound/retry.py): the
    command's first line with ``argument`` as typed, an amount, the messages to ``parties``."""
    said = {"buyer": DECISION_TEXT["buyer"][locale] if "buyer" in parties else "",
            "merchant": TO_SHOP_TEXT[locale] if "merchant" in parties else ""}
    lines = [f"{command.partition(' ')[0]} {argument}"]
    lines += [f"amount: {typed_amount}"] if typed_amount else []
    lines += [f"{party} ({locale}): {said[party]}".rstrip() for party in ("buyer", "merchant")]
    return {"command": command, "message": "", "amount": amount, "amount_fix": fix,
            "text": "\n".join(lines), **said}


@dataclass(frozen=True)
class Sample:
    name: str  # the template name as the core emits it
    label: str  # what situation this sample shows, for file names
    role: Role
    state: State | None
    mail: Mail
    timeline: tuple[Entry, ...] = ()
    merchant_locale: str = ""  # the shop's language when it is not the buyer's


def _order(locale: str, plan: Plan = Plan.PLUS) -> Order:
    shop, number = SHOPS[locale]
    return Order(id=1, shop_id=f"shop-{locale}", order_number=number,
                 order_date=date(2026, 11, 2), amount=Decimal("249.95"), currency="EUR",
                 buyer_email=BUYERS[locale], buyer_locale=locale, plan=plan)


def _case(**changes) -> Case:
    base = Case(reason=Reason.NOT_RECEIVED, opened_at=NOW - timedelta(days=2), id=1041,
                merchant_due=datetime(2026, 11, 26, 22, 59, tzinfo=timezone.utc))
    return replace(base, **changes)


def samples(locale: str) -> list[Sample]:
    """One sample per situation, each a case that could happen: the shop's words fit its answer,
    the case file fits the escalation, a basic-plan order asks to extend."""
    order = _order(locale)
    ends = datetime(2026, 12, 2, 22, 59, tzinfo=timezone.utc)

    def paid(outcome: Outcome) -> dict:
        """An operator's outcome as core.case decides it when no amount is named."""
        return {"outcome": outcome, "amount": order.amount, "whole_order": True,
                "paid_by": deadline(NOW, OPERATOR_PAYMENT_DAYS, TZ)}

    active = State(order, Protection(ProtectionState.ACTIVE, ends))
    basic = State(_order(locale, Plan.BASIC), active.protection)
    extended = replace(active, protection=replace(active.protection, extended=True))
    in_case = replace(active.protection, state=ProtectionState.IN_CASE)
    ended = replace(active.protection, state=ProtectionState.ENDED, ended_at=NOW)

    def with_case(**changes) -> State:
        closed = changes.get("state") is CaseState.CLOSED
        return State(order, ended if closed else in_case, _case(**changes))

    invoice = INVOICES[locale]
    # The documents a shop's answer speaks of: none for "we refund today", the photo it
    # mentions, the tracking of what was delivered, the signed proof of delivery.
    shop_docs = {"full": (), "after_return": (PHOTO[locale],), "partial": (TRACKING,),
                 "refused": (PROOF[locale],)}

    def said(kind: str) -> dict:
        return {"message": SHOP_TEXTS[kind][locale], "attachments": shop_docs[kind]}

    am = with_case()
    buyer_due = datetime(2026, 12, 13, 22, 59, tzinfo=timezone.utc)
    answered = dict(state=CaseState.AWAITING_BUYER, buyer_due=buyer_due)
    a = with_case(variant=Variant.A, refund_choice=RefundChoice.YES,
                  refund_amount=order.amount, **answered)
    a_return = with_case(variant=Variant.A, refund_choice=RefundChoice.YES_AFTER_RETURN,
                         refund_amount=order.amount, **answered)
    b = with_case(variant=Variant.B, refund_choice=RefundChoice.YES,
                  refund_amount=Decimal("120.00"), **answered)
    c = with_case(variant=Variant.C, refund_choice=RefundChoice.NO,
                  refund_amount=Decimal("0.00"), **answered)
    opened = Entry("buyer", "case.opened", BUYER_TEXT[locale], (invoice,))
    out = [
        Sample("buyer.reminder", "", Role.BUYER, active,
               Mail(Role.BUYER, "reminder", {"ends_at": ends})),
        Sample("buyer.protection_ended", "", Role.BUYER, State(order, ended),
               Mail(Role.BUYER, "protection_ended")),
        Sample("buyer.extended", "", Role.BUYER, extended,
               Mail(Role.BUYER, "extended", {"ends_at": ends})),
        Sample("buyer.extend_needs_plus", "", Role.BUYER, basic,
               Mail(Role.BUYER, "extend_needs_plus", {"ends_at": ends},
                    tuple(x for x in BUYER_ACTIONS if x is not Action.EXTEND))),
        Sample("buyer.extend_used", "", Role.BUYER, extended,
               Mail(Role.BUYER, "extend_used", {"ends_at": ends})),
        Sample("buyer.other_received", "", Role.BUYER, active,
               Mail(Role.BUYER, "other_received")),
        Sample("buyer.choose_action", "", Role.BUYER, active,
               Mail(Role.BUYER, "choose_action")),
        Sample("buyer.not_active", "", Role.BUYER, State(order, ended),
               Mail(Role.BUYER, "not_active", {"since": NOW, "state": "ended"})),
        # A buyer who confirmed the refund writes again days later. (A reply after a decision
        # that still owes money goes to the team instead: core's payment_awaited.)
        Sample("buyer.not_active", "closed", Role.BUYER,
               State(order, replace(ended, ended_at=NOW - timedelta(days=3)),
                     replace(a.case, state=CaseState.CLOSED, outcome=Outcome.REFUND_RECEIVED,
                             opened_at=NOW - timedelta(days=12),
                             closed_at=NOW - timedelta(days=3))),
               Mail(Role.BUYER, "not_active",
                    {"since": NOW - timedelta(days=3), "state": "ended"})),
        Sample("buyer.not_open", "", Role.BUYER, a,
               Mail(Role.BUYER, "not_open", {"asked": "withdraw", "state": "awaiting_buyer"})),
        Sample("buyer.confirm_sender", "", Role.BUYER, active,
               Mail(Role.BUYER, "confirm_sender", {}, (Action.NOT_RECEIVED,))),
        Sample("buyer.case_opened", "", Role.BUYER, am, Mail(Role.BUYER, "case_opened")),
        Sample("merchant.case_opened", "", Role.MERCHANT, am,
               Mail(Role.MERCHANT, "case_opened",
                    {"text": BUYER_TEXT[locale], "attachments": (invoice,)})),
        Sample("merchant.nudge", "", Role.MERCHANT, am, Mail(Role.MERCHANT, "nudge"), (opened,)),
        Sample("merchant.bad_decision", "", Role.MERCHANT, am,
               Mail(Role.MERCHANT, "bad_decision",
                    {"problems": ("message_missing", "amount_too_high"), "amount_text": "300"})),
        Sample("merchant.confirm_sender", "", Role.MERCHANT, am,
               Mail(Role.MERCHANT, "confirm_sender", {}, (Action.REFUND_FULL,))),
        Sample("merchant.not_open", "", Role.MERCHANT, a,
               Mail(Role.MERCHANT, "not_open",
                    {"asked": "decision", "state": "awaiting_buyer"})),
    ]
    for label, st, kind in (("A", a, "full"), ("A.after_return", a_return, "after_return"),
                            ("B", b, "partial"), ("C", c, "refused")):
        for role, name in ((Role.BUYER, "decision"), (Role.MERCHANT, "decision_recorded")):
            out.append(Sample(f"{role}.{name}", label, role, st, Mail(role, name, said(kind))))
    # The case file of each escalation, as the core writes it.
    files = {
        Escalation.MERCHANT_REFUSED_REFUND: (
            Entry("buyer", "case.opened", RETURN_TEXT[locale], (invoice,)),
            Entry("merchant", "merchant.decision", SHOP_TEXTS["refused_return"][locale]),
        ),
        Escalation.MERCHANT_NO_RESPONSE: (
            opened, Entry("timer", "merchant.nudged"), Entry("timer", "merchant.no_response"),
        ),
        Escalation.BUYER_DISPUTES: (
            opened, Entry("timer", "merchant.nudged"),
            Entry("merchant", "merchant.decision", SHOP_TEXTS["partial"][locale], (TRACKING,)),
            Entry("buyer", "buyer.reject_partial",
                  {"nl": "Niet alleen de fietstas ontbreekt: ook de lampen zijn nooit aangekomen.",
                   "fr": "Il ne manque pas que la sacoche : l’éclairage n’est jamais arrivé non "
                         "plus.",
                   "it": "Non manca solo la borsa: anche le luci non sono mai arrivate."}[locale]),
        ),
        Escalation.MERCHANT_INSOLVENT: (opened, Entry("operator", "merchant.insolvent")),
    }
    for reason in Escalation:
        refused = reason is Escalation.MERCHANT_REFUSED_REFUND
        st = with_case(state=CaseState.ESCALATED, escalation_reason=reason)
        if refused:
            st = with_case(state=CaseState.ESCALATED, escalation_reason=reason,
                           reason=Reason.NO_REFUND, refund_choice=RefundChoice.NO,
                           refund_amount=Decimal("0.00"))
        if reason is Escalation.BUYER_DISPUTES:
            st = replace(st, case=replace(b.case, state=CaseState.ESCALATED,
                                          escalation_reason=reason))
        if reason is Escalation.MERCHANT_INSOLVENT:
            st = replace(st, merchant_insolvent=True)
        timeline = files[reason] + (Entry("bot", "case.escalated", str(reason)),)
        # An insolvent shop is not told (core.case: ALL_BUT_THE_SHOP).
        told = (Role.BUYER, Role.OPERATOR) if reason is Escalation.MERCHANT_INSOLVENT else (
            Role.BUYER, Role.MERCHANT, Role.OPERATOR)
        for role in told:
            # The case file; for a refusal the other parties read the shop's answer from it,
            # and a shop whose answer the buyer disputes reads the buyer's words.
            disputed = reason is Escalation.BUYER_DISPUTES and role is Role.MERCHANT
            out.append(Sample(f"{role}.case_escalated", str(reason), role, st,
                              Mail(role, "case_escalated", {"reason": reason}),
                              timeline if role is Role.OPERATOR or refused or disputed else ()))
    closing = {
        Outcome.WITHDRAWN: am.case, Outcome.REFUND_RECEIVED: a.case,
        Outcome.BUYER_ACCEPTED: c.case, Outcome.NO_REACTION: b.case,
    }
    for outcome in Outcome:
        operator = outcome in (Outcome.REFUNDED_BY_MERCHANT, Outcome.COMPENSATED,
                               Outcome.CLAIM_REJECTED)
        before = closing.get(outcome) or replace(c.case, state=CaseState.ESCALATED,
                                                  escalation_reason=Escalation.BUYER_DISPUTES)
        st = State(order, ended, replace(before, state=CaseState.CLOSED, outcome=outcome,
                                         closed_at=NOW))
        told = (REJECTION_TEXT if outcome is Outcome.CLAIM_REJECTED
                else PART_TEXT if outcome is Outcome.REFUNDED_BY_MERCHANT else DECISION_TEXT)
        data = {"outcome": outcome}
        if outcome in PAID_OUTCOMES:
            # As core.case decides it: a named part for a refund, the whole order by default
            # for a compensation, paid within OPERATOR_PAYMENT_DAYS.
            named = outcome is Outcome.REFUNDED_BY_MERCHANT
            data.update(amount=Decimal("180.00") if named else order.amount,
                        whole_order=not named,
                        paid_by=deadline(NOW, OPERATOR_PAYMENT_DAYS, TZ))
        for role in (Role.BUYER, Role.MERCHANT):
            said = told[str(role)][locale] if operator else ""
            out.append(Sample(f"{role}.case_closed", str(outcome), role, st,
                              Mail(role, "case_closed", dict(data, message=said))))
    # ``case ID correct``: a rejected claim corrected into a refund by the shop, which now
    # states the amount and the day it is paid by, as a first decision does (core.case: _paid).
    corrected = State(order, ended, replace(c.case, state=CaseState.CLOSED,
                                            outcome=Outcome.REFUNDED_BY_MERCHANT, closed_at=NOW))
    for role in (Role.BUYER, Role.MERCHANT):
        out.append(Sample(f"{role}.case_closed", "corrected", role, corrected,
                          Mail(role, "case_closed", {
                              "message": DECISION_TEXT[str(role)][locale], "corrected": True,
                              "previous": Outcome.CLAIM_REJECTED,
                              **paid(Outcome.REFUNDED_BY_MERCHANT)})))
    closed = State(order, ended, replace(a.case, state=CaseState.CLOSED,
                                         outcome=Outcome.REFUND_RECEIVED, closed_at=NOW))
    out.append(Sample("merchant.case_closed_already", "", Role.MERCHANT, closed,
                      Mail(Role.MERCHANT, "case_closed_already",
                           {"outcome": Outcome.REFUND_RECEIVED})))
    esc = with_case(state=CaseState.ESCALATED, escalation_reason=Escalation.MERCHANT_NO_RESPONSE)
    # Opened 3 November, handed over 5 November, closed 7 November, paid 22 November.
    compensated = State(replace(order, order_number=EARLIER[locale]), ended,
                        replace(esc.case, id=EARLIER_CASE, state=CaseState.CLOSED,
                                outcome=Outcome.COMPENSATED, opened_at=NOW - timedelta(days=20),
                                merchant_due=NOW - timedelta(days=18),
                                closed_at=NOW - timedelta(days=16)))
    for role in (Role.BUYER, Role.MERCHANT):
        out.append(Sample(f"{role}.documents_requested", "", role, esc,
                          Mail(role, "documents_requested",
                               {"message": TEAM_TEXT[str(role)][locale]})))
        out.append(Sample(f"{role}.documents_refused", "", role, am,
                          Mail(role, "documents_refused",
                               {"refused": (("setup.exe", "type"), ("scan.tiff", "size"),
                                            ("foto-11.jpg", "count"))})))
    # The team writes to each party through the case: the buyer on a closed case, the shop on
    # one with the team.
    for role, state in ((Role.BUYER, compensated), (Role.MERCHANT, esc)):
        out.append(Sample(f"{role}.team_message", "", role, state,
                          Mail(role, "team_message",
                               {"message": TEAM_MESSAGE[str(role)][locale]})))
    # News after the case's opening: the buyer asks for news, the shop that promised the refund
    # sends its proof of payment; to the team, the buyer's news and the shop's late answer.
    relays = ((Role.BUYER, Role.MERCHANT, am, FOLLOW_UP["buyer"][locale], (TRACKING,)),
              (Role.MERCHANT, Role.BUYER, a, FOLLOW_UP["merchant"][locale], (RECEIPT[locale],)),
              (Role.BUYER, Role.OPERATOR, esc, FOLLOW_UP["buyer"][locale], (TRACKING,)),
              (Role.MERCHANT, Role.OPERATOR, esc, SHOP_TEXTS["refused"][locale],
               (PROOF[locale],)))
    # The team's mails about the escalated case carry its file (the card's "since" date).
    esc_file = files[Escalation.MERCHANT_NO_RESPONSE] + (
        Entry("bot", "case.escalated", str(Escalation.MERCHANT_NO_RESPONSE)),)
    for sender, to, st, text, docs in relays:
        out.append(Sample(f"{to}.message_relayed", f"from_{sender}", to, st,
                          Mail(to, "message_relayed",
                               {"from_role": sender, "text": text, "attachments": docs}),
                          esc_file if to is Role.OPERATOR else ()))
        out.append(Sample(f"{sender}.message_received", f"to_{to}", sender, st,
                          Mail(sender, "message_received", {"to_role": to})))
    out += [
        Sample("operator.other_request", "", Role.OPERATOR, active,
               Mail(Role.OPERATOR, "other_request",
                    {"text": {"nl": "Kan ik het afleveradres nog wijzigen?",
                              "fr": "Puis-je encore modifier l’adresse de livraison ?",
                              "it": "Posso ancora cambiare l’indirizzo di consegna?"}[locale],
                     "attachments": ()})),
        Sample("operator.command_help", "", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_help",
                    {"asked": "decide compensted", "closest": "decide compensated",
                     "typed": _typed("decide compensated", "compensted", order.amount, locale,
                                     ("buyer", "merchant"))}), esc_file),
        # A closed case takes no command by mail: the help names ``case ID correct``.
        Sample("operator.command_help", "closed", Role.OPERATOR, compensated,
               Mail(Role.OPERATOR, "command_help",
                    {"why": "not_open", "asked": "request-documents buyer", "closest": None})),
        # The digest's "commands by e-mail" link opens an empty mail: the commands, no error.
        Sample("operator.command_help", "empty", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_help",
                    {"why": "empty", "asked": None, "closest": None}), esc_file),
        # A request sent straight from its link, its field left empty.
        Sample("operator.command_help", "missing", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_help",
                    {"why": "missing", "asked": "decide compensated",
                     "closest": "decide compensated", "missing": ["merchant"],
                     "typed": _typed("decide compensated", "compensated", order.amount,
                                     locale, ("buyer",))}), esc_file),
        Sample("operator.command_help", "amount", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_help",
                    {"why": "amount", "asked": "decide compensated", "closest": None,
                     # Above the order's amount; the PLUS plan of the render config covers
                     # up to the order amount (no cap of its own), as the case's card says.
                     "refused": {"amount": "300", "outcome": "compensated",
                                 "cover": None, "above_cover": False},
                     "typed": _typed("decide compensated", "compensated", order.amount,
                                     locale, ("buyer", "merchant"), typed_amount="300",
                                     fix="bound")}), esc_file),
        # A colleague decided the case first (inbound.intake: _decided_before).
        Sample("operator.command_help", "decided", Role.OPERATOR, compensated,
               Mail(Role.OPERATOR, "command_help",
                    {"why": "decided", "asked": "decide claim_rejected", "closest": None,
                     # Decided the day the case closed (compensated.case.closed_at).
                     "decided": {"by": "anna@trust.example", "at": compensated.case.closed_at,
                                 "outcome": "compensated", "amount": order.amount}})),
        # The compensation paid and recorded (``paid``, core.case: _payment_recorded), and the
        # same command again, or on a case that owes nothing.
        Sample("operator.command_done", "paid", Role.OPERATOR,
               replace(compensated, case=replace(compensated.case, payment_recorded=True)),
               Mail(Role.OPERATOR, "command_done",
                    {"command": "paid", "message": "", "by": "anna@trust.example",
                     "paid": {"amount": order.amount, "payer": "protection",
                              "on": (NOW - timedelta(days=1)).date()}})),
        Sample("operator.command_help", "paid_already", Role.OPERATOR,
               replace(compensated, case=replace(compensated.case, payment_recorded=True)),
               Mail(Role.OPERATOR, "command_help",
                    {"why": "paid_already", "asked": "paid", "closest": None,
                     "recorded": {"by": "anna@trust.example", "at": NOW - timedelta(days=1),
                                  "amount": order.amount, "payer": "protection",
                                  "on": (NOW - timedelta(days=1)).date()}})),
        Sample("operator.command_help", "not_owed", Role.OPERATOR, closed,
               Mail(Role.OPERATOR, "command_help",
                    {"why": "not_owed", "asked": "paid", "closest": None})),
        # The buyer writes while the compensation is awaited (core.case: payment_awaited).
        Sample("operator.message_relayed", "closed_payment_awaited", Role.OPERATOR, compensated,
               Mail(Role.OPERATOR, "message_relayed",
                    {"from_role": Role.BUYER, "text": UNPAID[locale], "attachments": ()})),
        # The buyer's reply with the account the compensation is paid into.
        Sample("operator.message_relayed", "bank_details", Role.OPERATOR, compensated,
               Mail(Role.OPERATOR, "message_relayed",
                    {"from_role": Role.BUYER, "text": BANK_DETAILS[locale], "attachments": ()}),
               (Entry("buyer", "message", BANK_DETAILS[locale]),)),
        Sample("operator.command_done", "", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_done",
                    {"command": "decide compensated", "message": DECISION_TEXT["buyer"][locale],
                     "by": "anna@trust.example"} | paid(Outcome.COMPENSATED)
                    | {"to_buyer": DECISION_TEXT["buyer"][locale],
                       "to_merchant": TO_SHOP_TEXT[locale]})),
        Sample("operator.command_done", "request_documents", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_done",
                    {"command": "request-documents buyer", "party": "buyer",
                     "message": TEAM_TEXT["buyer"][locale], "by": "anna@trust.example",
                     "reply_by": deadline(NOW, MERCHANT_ANSWER_DAYS, TZ)})),
        Sample("operator.command_done", "team_message", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_done",
                    {"command": "message merchant", "party": "merchant",
                     "message": TEAM_MESSAGE["merchant"][locale], "by": "anna@trust.example"})),
        # The shop's answer did not reach the buyer, whose time to react runs meanwhile.
        Sample("operator.delivery_failed", "", Role.OPERATOR, a,
               Mail(Role.OPERATOR, "delivery_failed",
                    {"outbox_id": 311, "template": "buyer.decision", "attempts": 1,
                     "recipients": [BUYERS[locale]], "why": "no_mailbox",
                     "error": f"550 5.1.1 <{BUYERS[locale]}>: mailbox unavailable"})),
        Sample("operator.delivery_failed", "before_case", Role.OPERATOR, active,
               Mail(Role.OPERATOR, "delivery_failed",
                    {"outbox_id": 207, "template": "buyer.reminder", "attempts": 1,
                     "recipients": [BUYERS[locale]], "why": "no_mailbox",
                     "error": f"550 5.1.1 <{BUYERS[locale]}>: mailbox unavailable"})),
        Sample("operator.digest", "", Role.OPERATOR, None,
               Mail(Role.OPERATOR, "digest", digest_sample())),
        Sample("operator.relays_held", "", Role.OPERATOR, am,
               Mail(Role.OPERATOR, "relays_held",
                    {"limit": 10, "inbox_id": 5030, "sender": "service@shop.example",
                     "from_role": "merchant", "text": AUTO_REPLY[locale], "shortened": False,
                     "attachments": ()})),
        # ``resend N`` and ``release N`` by mail (inbound/mail_commands.py), and one refused.
        Sample("operator.command_done", "resend", Role.OPERATOR, a,
               Mail(Role.OPERATOR, "command_done",
                    {"command": "resend 311", "action": "resend", "number": 311,
                     "by": "anna@trust.example", "status": "dead", "template": "buyer.decision",
                     "was": [BUYERS[locale]], "to": [BUYERS[locale]]})),
        # The buyer disputed the shop's answer from their work address (the digest's held mail
        # 5021): let through, the dispute hands the case to the team (mail_commands.release).
        Sample("operator.command_done", "release", Role.OPERATOR,
               replace(a, case=replace(a.case, state=CaseState.ESCALATED,
                                       escalation_reason=Escalation.BUYER_DISPUTES)),
               Mail(Role.OPERATOR, "command_done",
                    {"command": "release 5021", "action": "release", "number": 5021,
                     "by": "anna@trust.example", "sender": HELD_SENDER,
                     "disposition": "applied", "did": [
                         {"at": NOW, "actor": "buyer", "kind": "buyer.disagree",
                          "text": "", "attachments": []},
                         {"at": NOW, "actor": "bot", "kind": "case.escalated",
                          "text": str(Escalation.BUYER_DISPUTES), "attachments": []}]})),
        # The shop's answer (outbox 311) reached the buyer after all: nothing to resend.
        Sample("operator.command_help", "mail_command", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_help",
                    {"why": "mail_command", "asked": None, "closest": None, "typed": None,
                     "mail_command": {"verb": "resend", "number": 311, "why": "state",
                                      "status": "sent", "template": "buyer.decision",
                                      "recipients": [BUYERS[locale]],
                                      "sent_at": NOW - timedelta(days=1, hours=3)}}),
               esc_file),
    ]
    for role, st in ((Role.BUYER, am), (Role.MERCHANT, am)):
        out.append(Sample(f"{role}.storage_full", "", role, st,
                          Mail(role, "storage_full", {"quota_mb": 50})))
    out.append(Sample("merchant.message_relayed", "earlier", Role.MERCHANT, am,
                      Mail(Role.MERCHANT, "message_relayed",
                           {"from_role": Role.BUYER, "text": FOLLOW_UP["buyer"][locale],
                            "attachments": (TRACKING,), "earlier": (invoice,)})))
    out.append(mixed_sample())
    out += intake_samples(locale)
    return out


def mixed_sample() -> Sample:
    """A cross-border case, the one that matters most to the team: a French buyer of a Dutch
    shop whose deadline passed. Each party reads its own language; the escalation says which."""
    order = replace(_order("nl"), buyer_email=BUYERS["fr"], buyer_locale="fr")
    reason = Escalation.MERCHANT_NO_RESPONSE
    st = State(order, Protection(ProtectionState.IN_CASE, datetime(2026, 12, 2, 22, 59,
                                                                   tzinfo=timezone.utc)),
               _case(state=CaseState.ESCALATED, escalation_reason=reason))
    timeline = (Entry("buyer", "case.opened", BUYER_TEXT["fr"], (INVOICES["nl"],)),
                Entry("timer", "merchant.nudged"), Entry("timer", "merchant.no_response"),
                Entry("bot", "case.escalated", str(reason)))
    return Sample("operator.case_escalated", "buyer_fr_shop_nl", Role.OPERATOR, st,
                  Mail(Role.OPERATOR, "case_escalated", {"reason": reason}), timeline, "nl")


def digest_sample() -> dict:
    day = timedelta(days=1)
    data = {
        "since": NOW - day, "now": NOW, "period_days": 1, "opened": 3,
        "escalated": {"buyer_disputes": 1, "merchant_no_response": 1},
        "closed": {"refund_received": 2, "compensated": 1},
        "deadlines": [{"shop": "Fietsen de Wit", "case_id": 1041, "order_number": "NL-2026-10481",
                       "merchant_due": NOW - timedelta(hours=3), "overdue": True,
                       "stalled": True, "address": "bot+aiaaaaaaaaaaqdecide@bot.example"}],
        # The cases "with the service team" of case_states (the shop past its deadline is not
        # with the team yet); the team asked the buyer of the first one for documents.
        "attention": [{"case_id": 1040, "order_number": "FR-10004", "shop": "Boutique Rive Gauche",
                       "amount": Decimal("249.95"), "currency": "EUR",
                       "since": NOW - 3 * day, "age_days": 3, "why": "escalated",
                       "escalation_reason": "buyer_disputes",
                       "asked": {"party": "buyer",
                                 "by": deadline(NOW - 2 * day, MERCHANT_ANSWER_DAYS, TZ)},
                       "address": "bot+aiaaaaaaaaaaqcases@bot.example"},
                      # With the team longer than the 10 days its parties were promised
                      # (render_mails: [operators] decision_days), and one within them.
                      {"case_id": 1036, "order_number": "NL-2026-10430", "shop": "Fietsen de Wit",
                       "amount": Decimal("64.00"), "currency": "EUR",
                       "since": NOW - 12 * day, "age_days": 12, "why": "escalated",
                       "escalation_reason": "merchant_refused_refund", "asked": None,
                       "promised": deadline(NOW - 12 * day, 10, TZ), "promise_broken": True,
                       "address": "bot+aiaaaaaaaaaaqcasen@bot.example"},
                      {"case_id": 1043, "order_number": "IT-2026-0081", "shop": "Negozio del Sole",
                       "amount": Decimal("89.00"), "currency": "EUR",
                       "since": NOW - day, "age_days": 1, "why": "escalated",
                       "escalation_reason": "merchant_no_response", "asked": None,
                       "promised": deadline(NOW - day, 10, TZ), "promise_broken": False,
                       "address": "bot+aiaaaaaaaaaaqcasei@bot.example"}],
        # A compensation whose pay-by date has passed, and a shop's refund still to come.
        "payments": [{"case_id": 1032, "order_number": "NL-2026-10399", "shop": "Fietsen de Wit",
                      "amount": Decimal("120.00"), "currency": "EUR", "payer": "protection",
                      "paid_by": deadline(NOW - 16 * day, OPERATOR_PAYMENT_DAYS, TZ),
                      "overdue": True, "address": "bot+aiaaaaaaaaaaqpaid@bot.example",
                      "since": NOW - 16 * day, "buyer_locale": "nl",
                      "bank_details": NOW - 2 * day,
                      "account": {"iban": "NL91 ABNA 0417 1643 00",
                                  "holder": "t.n.v. P. de Vries"}},
                     # Past its date too, but the buyer has not sent the bank details yet.
                     {"case_id": 1035, "order_number": "NL-2026-10422", "shop": "Fietsen de Wit",
                      "amount": Decimal("74.50"), "currency": "EUR", "payer": "protection",
                      "paid_by": deadline(NOW - 15 * day, OPERATOR_PAYMENT_DAYS, TZ),
                      "overdue": True, "address": "bot+aiaaaaaaaaaaqpaix@bot.example",
                      "since": NOW - 15 * day, "buyer_locale": "nl",
                      "bank_details": None},
                     {"case_id": 1038, "order_number": "FR-10001", "shop": "Boutique Rive Gauche",
                      "amount": Decimal("59.90"), "currency": "EUR", "payer": "merchant",
                      "paid_by": deadline(NOW - 4 * day, OPERATOR_PAYMENT_DAYS, TZ),
                      "overdue": False, "address": "bot+aiaaaaaaaaaaqpaie@bot.example",
                      "since": NOW - 4 * day, "buyer_locale": "fr",
                      "bank_details": None}],
        "payments_more": 0,
        "other": [{"order_number": "IT-2026-0077", "shop": "Negozio del Sole",
                   "at": NOW - timedelta(hours=5), "text": "Posso cambiare l’indirizzo?",
                   "buyer_email": "giulia.rossi@example.org", "buyer_locale": "it"}],
        "failed": [{"address": "sam.jansen@example.org", "outbox_id": 311,
                    "template": "buyer.decision", "shop_id": "shop-nl",
                    "shop": "Fietsen de Wit", "why": "no_mailbox",
                    "order_number": "NL-2026-10481", "case_id": 1041,
                    "detail": "5.1.1 mailbox unavailable"}],
        "held": {"sender_mismatch": 1, "unmatched": 2},
        # The buyer of case 1041 disputing from their work address (command_done.release).
        "held_mail": [{"id": 5021, "received_at": NOW - timedelta(hours=7),
                       "sender": HELD_SENDER, "disposition": "sender_mismatch",
                       "command": "release", "order_id": 1, "order_number": "NL-2026-10481",
                       "shop": "Fietsen de Wit", "party": "buyer", "buyer_locale": "nl",
                       "merchant_locale": "nl",
                       "address": "bot+aiaaaaaaaaaaqrelea@bot.example"}]
        + [{"id": 5022 + n, "received_at": NOW - timedelta(hours=4 - n), "sender": sender,
            "disposition": "unmatched", "command": "replay"}
           for n, sender in enumerate(("info@newsletter.example", "m.bakker@example.net"))],
        "held_more": 0, "commands": [],
        "case_states": {"awaiting_merchant": 4, "escalated": 3, "closed": 17},
        "protection_states": {"active": 120, "in_case": 7, "ended": 40, "expired": 88},
    }
    # As digest.collect derives them: the stalled deadline's case, the payments past their date.
    stalled = [d["case_id"] for d in data["deadlines"] if d["stalled"]]
    payments = [dict(p, waiting=p["payer"] == "protection" and p["bank_details"] is None)
                for p in data["payments"]]
    return data | {"alerts": {"scheduler": stalled} if stalled else {}, "payments": payments,
                   "late": [p for p in payments if p["overdue"]]}


def intake_samples(locale: str) -> list[Sample]:
    """The shop's mails about orders by mail (orders_by_mail/notices.py)."""
    number = SHOPS[locale][1]
    n2 = number[:-2] + "82"  # another order of the same shop
    mails = [("intake_held", "unauthenticated",
              {"why": "unauthenticated", "sender": "orders@shop.example",
               "subject": f"Order {number} confirmed"}),
             ("intake_unread", "", {"unread": [
                 {"number": number, "subject": "", "missing": ["amount"]},
                 {"number": "", "subject": "Thank you for your order!",
                  "missing": ["order_number", "buyer"]}]}),
             ("intake_report", "", {"shop": SHOPS[locale][0],
                                    "since": NOW - timedelta(days=7), "now": NOW, "taken": 41,
                                    "known": 2, "unread": 1,
                                    "held": [("domain", 1), ("unauthenticated", 2)],
                                    "held_mail": [
                                        {"at": NOW - timedelta(days=6, hours=3),
                                         "subject": f"Order {number} confirmed", "why": "domain"},
                                        {"at": NOW - timedelta(days=2, hours=5),
                                         "subject": f"Order {n2} confirmed",
                                         "why": "unauthenticated"},
                                        {"at": NOW - timedelta(hours=20), "subject": "",
                                         "why": "unauthenticated"}],
                                    "unread_mail": [
                                        {"at": NOW - timedelta(days=4, hours=2),
                                         "subject": "Thank you for your order!",
                                         "sender": "orders@shop.example",
                                         "missing": ["order_number", "buyer"]}]})]
    return [Sample(f"merchant.{kind}", label, Role.MERCHANT, None, Mail(Role.MERCHANT, kind, data))
            for kind, label, data in mails]


def contexts(app, db, locale: str):
    """(sample, context) for every sample of ``locale``, built as compose builds them."""
    for s in samples(locale):
        merchant = None
        if s.state is not None:
            shop = s.merchant_locale or locale
            merchant = {"name": SHOPS[shop][0], "emails": ["service@shop.example"],
                        "locale": shop}
        ctx = compose.context(app, db, s.state, s.mail, s.role, merchant, NOW, s.timeline)
        compose.attach(s.mail, ctx)
        if "timeline" in ctx:
            _dated(ctx)
        yield s, ctx


def _dated(ctx: dict) -> None:
    """A case file is written over days, not in one second: its entries from the case's opening
    to now, evenly apart, and the operators' card shows the same dates as the file (handed to
    the team, a shop's deadline that ran out)."""
    entries, start = ctx["timeline"], ctx["case"].opened_at
    for i, entry in enumerate(entries):
        entry["at"] = start + (NOW - start) * i // max(len(entries) - 1, 1)
    if ctx["file"] is not None:
        escalated = [e["at"] for e in entries if e["kind"] == "case.escalated"]
        ctx["file"]["escalated_at"] = escalated[-1] if escalated else None
    ran_out = [e["at"] for e in entries if e["kind"] == "merchant.no_response"]
    if ran_out:
        ctx["case"] = replace(ctx["case"], merchant_due=ran_out[0])


def message(app, sample: Sample, rendered, locale: str) -> bytes:
    """The whole message of a rendered sample, headers included, as compose builds it: a reply
    in a thread of two earlier mails, as most case mails are (to score with SpamAssassin)."""
    domain = app.config.bot.domain
    thread = [f"<{c * 32}@{domain}>" for c in "01"]
    # To its reader, as compose addresses it: the team, the shop, the order's buyer.
    to = {Role.OPERATOR: app.config.operators.addresses[0], Role.MERCHANT: "service@shop.example"}
    buyer = sample.state.order.buyer_email if sample.state is not None else BUYERS[locale]
    rcpt = compose.Recipients((to.get(sample.role, buyer),), locale)
    return compose.build(app, rendered, rcpt, f"{app.config.bot.address_prefix}+reply@{domain}",
                         f"<{'2' * 32}@{domain}>", thread, NOW, (), sample.name)
