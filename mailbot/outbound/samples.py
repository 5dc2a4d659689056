"""Realistic sample mails: every template name the core emits, in every situation that changes
its words (decision variants, outcomes, escalation reasons), with the facts a real case has.

Used by ``tools/render_mails.py`` (HTML files and screenshots to look at before merging) and by
``tests/test_templates.py`` (every sample renders in nl, fr and it without raw identifiers).
The contexts come from ``compose.context`` on a real app, so links are real signed addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ..core.decide import actions_for
from ..core.effects import Entry, Mail
from ..core.model import (
    BUYER_ACTIONS, Case, CaseState, Document, Escalation, Order, Outcome, Plan, Protection,
    ProtectionState, Reason, RefundChoice, Role, State, Variant,
)
from . import compose

NOW = datetime(2026, 11, 23, 13, 2, tzinfo=timezone.utc)
SHOPS = {"nl": ("Fietsen de Wit", "NL-2026-10481"), "fr": ("Boutique Rive Gauche", "FR-10004"),
         "it": ("Negozio del Sole", "IT-2026-0077")}
INVOICE = Document("factuur-10481.pdf", "0" * 64, "application/pdf", 48_213)
TRACKING = Document("track-and-trace.png", "1" * 64, "image/png", 120_400)
BUYER_TEXT = {
    "nl": "Ik heb op 2 november besteld en betaald, maar het pakket is nooit aangekomen.\n"
          "Volgens de tracking ligt het al twee weken bij het sorteercentrum.",
    "fr": "J'ai commandé et payé le 2 novembre, mais le colis n'est jamais arrivé.\n"
          "Le suivi indique qu'il est bloqué au centre de tri depuis deux semaines.",
    "it": "Ho ordinato e pagato il 2 novembre, ma il pacco non è mai arrivato.\n"
          "Secondo il tracciamento è fermo al centro di smistamento da due settimane.",
}
SHOP_TEXT = {
    "nl": "Het spijt ons dat het pakket zo lang onderweg is.\nWe storten het bedrag vandaag terug.",
    "fr": "Nous sommes désolés du retard de ce colis.\nNous vous remboursons aujourd'hui.",
    "it": "Ci dispiace per il ritardo del pacco.\nTi rimborsiamo oggi stesso.",
}
REFUSAL_TEXT = {
    "nl": "Het pakket is op 20 november afgeleverd; de handtekening zit in de bijlage.",
    "fr": "Le colis a été livré le 20 novembre ; la signature figure en pièce jointe.",
    "it": "Il pacco è stato consegnato il 20 novembre; la firma è in allegato.",
}
TEAM_TEXT = {
    "nl": "Stuur ons de factuur en het bewijs van betaling, dan kunnen we de zaak afronden.",
    "fr": "Envoyez-nous la facture et la preuve de paiement pour que nous puissions conclure.",
    "it": "Inviaci la fattura e la prova di pagamento, così possiamo chiudere la pratica.",
}


@dataclass(frozen=True)
class Sample:
    name: str  # the template name as the core emits it
    label: str  # what situation this sample shows, for file names
    role: Role
    state: State | None
    mail: Mail
    timeline: tuple[Entry, ...] = ()


def _order(locale: str) -> Order:
    shop, number = SHOPS[locale]
    return Order(id=1, shop_id=f"shop-{locale}", order_number=number,
                 order_date=date(2026, 11, 2), amount=Decimal("249.95"), currency="EUR",
                 buyer_email="sam.jansen@example.org", buyer_locale=locale, plan=Plan.PLUS)


def _case(**changes) -> Case:
    base = Case(reason=Reason.NOT_RECEIVED, opened_at=NOW - timedelta(days=2), id=1041,
                merchant_due=datetime(2026, 11, 26, 22, 59, tzinfo=timezone.utc))
    return replace(base, **changes)


def samples(locale: str) -> list[Sample]:
    order = _order(locale)
    ends = datetime(2026, 12, 2, 22, 59, tzinfo=timezone.utc)
    active = State(order, Protection(ProtectionState.ACTIVE, ends))
    in_case = replace(active.protection, state=ProtectionState.IN_CASE)
    ended = replace(active.protection, state=ProtectionState.ENDED, ended_at=NOW)

    def with_case(**changes) -> State:
        closed = changes.get("state") is CaseState.CLOSED
        return State(order, ended if closed else in_case, _case(**changes))

    am = with_case()
    buyer_due = datetime(2026, 12, 13, 22, 59, tzinfo=timezone.utc)
    answered = dict(state=CaseState.AWAITING_BUYER, buyer_due=buyer_due)
    a = with_case(variant=Variant.A, refund_choice=RefundChoice.YES,
                  refund_amount=order.amount, **answered)
    b = with_case(variant=Variant.B, refund_choice=RefundChoice.YES_AFTER_RETURN,
                  refund_amount=Decimal("120.00"), **answered)
    c = with_case(variant=Variant.C, refund_choice=RefundChoice.NO,
                  refund_amount=Decimal("0.00"), **answered)
    shop_said = {"message": SHOP_TEXT[locale], "attachments": (TRACKING,)}
    opened = Entry("buyer", "case.opened", BUYER_TEXT[locale], (INVOICE,))
    file_entries = (opened, Entry("timer", "merchant.nudged"),
                    Entry("merchant", "merchant.decision", SHOP_TEXT[locale], (TRACKING,)),
                    Entry("buyer", "buyer.refund_not_received", "", ()),
                    Entry("bot", "case.escalated", "buyer_disputes"))
    out = [
        Sample("buyer.reminder", "", Role.BUYER, active,
               Mail(Role.BUYER, "reminder", {"ends_at": ends}, BUYER_ACTIONS)),
        Sample("buyer.protection_ended", "", Role.BUYER, State(order, ended),
               Mail(Role.BUYER, "protection_ended")),
        Sample("buyer.extended", "", Role.BUYER, active,
               Mail(Role.BUYER, "extended", {"ends_at": ends}, BUYER_ACTIONS)),
        Sample("buyer.extend_needs_plus", "", Role.BUYER, active,
               Mail(Role.BUYER, "extend_needs_plus", {"ends_at": ends}, BUYER_ACTIONS)),
        Sample("buyer.extend_used", "", Role.BUYER, active,
               Mail(Role.BUYER, "extend_used", {"ends_at": ends}, BUYER_ACTIONS)),
        Sample("buyer.other_received", "", Role.BUYER, active,
               Mail(Role.BUYER, "other_received", {}, BUYER_ACTIONS)),
        Sample("buyer.choose_action", "", Role.BUYER, active,
               Mail(Role.BUYER, "choose_action", {}, BUYER_ACTIONS)),
        Sample("buyer.not_active", "", Role.BUYER, State(order, ended),
               Mail(Role.BUYER, "not_active", {"since": NOW, "state": "ended"})),
        Sample("buyer.not_active", "closed", Role.BUYER,
               with_case(state=CaseState.CLOSED, outcome=Outcome.REFUNDED_BY_MERCHANT),
               Mail(Role.BUYER, "not_active", {"since": NOW, "state": "ended"})),
        Sample("buyer.not_open", "", Role.BUYER, a,
               Mail(Role.BUYER, "not_open", {"asked": "withdraw", "state": "awaiting_buyer"},
                    actions_for(a, Role.BUYER))),
        Sample("buyer.confirm_sender", "", Role.BUYER, active,
               Mail(Role.BUYER, "confirm_sender", {}, ("not_received",))),
        Sample("buyer.case_opened", "", Role.BUYER, am,
               Mail(Role.BUYER, "case_opened", {}, actions_for(am, Role.BUYER))),
        Sample("merchant.case_opened", "", Role.MERCHANT, am,
               Mail(Role.MERCHANT, "case_opened",
                    {"text": BUYER_TEXT[locale], "attachments": (INVOICE,)},
                    actions_for(am, Role.MERCHANT))),
        Sample("merchant.nudge", "", Role.MERCHANT, am,
               Mail(Role.MERCHANT, "nudge", {}, actions_for(am, Role.MERCHANT))),
        Sample("merchant.bad_decision", "", Role.MERCHANT, am,
               Mail(Role.MERCHANT, "bad_decision",
                    {"problems": ("message_missing", "amount_too_high"), "amount_text": "300"},
                    actions_for(am, Role.MERCHANT))),
        Sample("merchant.confirm_sender", "", Role.MERCHANT, am,
               Mail(Role.MERCHANT, "confirm_sender", {}, ("refund_full",))),
        Sample("merchant.not_open", "", Role.MERCHANT, a,
               Mail(Role.MERCHANT, "not_open",
                    {"asked": "decision", "state": "awaiting_buyer"})),
    ]
    for label, st in (("A", a), ("B", b), ("C", c)):
        said = {**shop_said, "message": REFUSAL_TEXT[locale]} if label == "C" else shop_said
        out.append(Sample("buyer.decision", label, Role.BUYER, st,
                          Mail(Role.BUYER, "decision", said,
                               actions_for(st, Role.BUYER))))
        out.append(Sample("merchant.decision_recorded", label, Role.MERCHANT, st,
                          Mail(Role.MERCHANT, "decision_recorded", said)))
    for reason in Escalation:
        refused = reason is Escalation.MERCHANT_REFUSED_REFUND
        st = with_case(state=CaseState.ESCALATED, escalation_reason=reason,
                       reason=Reason.NO_REFUND if refused else Reason.NOT_RECEIVED,
                       refund_choice=RefundChoice.NO if refused else None,
                       refund_amount=Decimal("0.00") if refused else None)
        if reason is Escalation.BUYER_DISPUTES:
            st = replace(st, case=replace(b.case, state=CaseState.ESCALATED,
                                          escalation_reason=reason))
        data = {"reason": reason}
        for role in (Role.BUYER, Role.MERCHANT, Role.OPERATOR):
            # The case file; for a refusal the other parties read the shop's answer from it.
            out.append(Sample(f"{role}.case_escalated", str(reason), role, st,
                              Mail(role, "case_escalated", data),
                              file_entries if role is Role.OPERATOR or refused else ()))
    for outcome in Outcome:
        st = with_case(state=CaseState.CLOSED, outcome=outcome, variant=Variant.B,
                       refund_choice=RefundChoice.YES, refund_amount=Decimal("120.00"))
        operator = outcome in (Outcome.REFUNDED_BY_MERCHANT, Outcome.COMPENSATED,
                               Outcome.CLAIM_REJECTED)
        data = {"outcome": outcome, "message": TEAM_TEXT[locale] if operator else ""}
        for role in (Role.BUYER, Role.MERCHANT):
            out.append(Sample(f"{role}.case_closed", str(outcome), role, st,
                              Mail(role, "case_closed", data)))
    closed = with_case(state=CaseState.CLOSED, outcome=Outcome.REFUND_RECEIVED)
    out.append(Sample("merchant.case_closed_already", "", Role.MERCHANT, closed,
                      Mail(Role.MERCHANT, "case_closed_already",
                           {"outcome": Outcome.REFUND_RECEIVED})))
    esc = with_case(state=CaseState.ESCALATED, escalation_reason=Escalation.MERCHANT_NO_RESPONSE)
    for role in (Role.BUYER, Role.MERCHANT):
        out.append(Sample(f"{role}.documents_requested", "", role, esc,
                          Mail(role, "documents_requested",
                               {"message": TEAM_TEXT[locale]})))
        out.append(Sample(f"{role}.documents_refused", "", role, am,
                          Mail(role, "documents_refused",
                               {"refused": (("setup.exe", "type"), ("scan.tiff", "size"),
                                            ("foto-11.jpg", "count"))})))
    for sender, to, st in ((Role.BUYER, Role.MERCHANT, am), (Role.MERCHANT, Role.BUYER, a),
                           (Role.BUYER, Role.OPERATOR, esc), (Role.MERCHANT, Role.OPERATOR, esc)):
        text = BUYER_TEXT[locale] if sender is Role.BUYER else SHOP_TEXT[locale]
        out.append(Sample(f"{to}.message_relayed", f"from_{sender}", to, st,
                          Mail(to, "message_relayed",
                               {"from_role": sender, "text": text, "attachments": (INVOICE,)},
                               actions_for(st, to)),
                          file_entries if to is Role.OPERATOR else ()))
        out.append(Sample(f"{sender}.message_received", f"to_{to}", sender, st,
                          Mail(sender, "message_received", {"to_role": to},
                               actions_for(st, sender))))
    out += [
        Sample("operator.other_request", "", Role.OPERATOR, active,
               Mail(Role.OPERATOR, "other_request",
                    {"text": BUYER_TEXT[locale], "attachments": (INVOICE,)})),
        Sample("operator.command_help", "", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_help",
                    {"asked": "decide withdrawn", "closest": "decide compensated"})),
        Sample("operator.command_done", "", Role.OPERATOR, esc,
               Mail(Role.OPERATOR, "command_done",
                    {"command": "decide compensated", "message": TEAM_TEXT[locale]})),
        Sample("operator.delivery_failed", "", Role.OPERATOR, None,
               Mail(Role.OPERATOR, "delivery_failed",
                    {"outbox_id": 311, "template": "buyer.decision",
                     "recipients": ["sam.jansen@example.org"],
                     "error": "550 5.1.1 mailbox unavailable"})),
        Sample("operator.digest", "", Role.OPERATOR, None,
               Mail(Role.OPERATOR, "digest", digest_sample())),
    ]
    out += intake_samples(locale)
    return out


def digest_sample() -> dict:
    day = timedelta(days=1)
    return {
        "since": NOW - day, "now": NOW, "period_days": 1, "opened": 3,
        "escalated": {"buyer_disputes": 1, "merchant_no_response": 1},
        "closed": {"refund_received": 2, "compensated": 1},
        "deadlines": [{"shop": "Fietsen de Wit", "case_id": 1041, "order_number": "NL-2026-10481",
                       "merchant_due": NOW - timedelta(hours=3), "overdue": True}],
        "attention": [{"case_id": 1040, "order_number": "FR-10004", "shop": "Boutique Rive Gauche",
                       "since": NOW - 3 * day, "age_days": 3, "why": "escalated",
                       "escalation_reason": "buyer_disputes"}],
        "other": [{"order_number": "IT-2026-0077", "shop": "Negozio del Sole",
                   "at": NOW - timedelta(hours=5), "text": "Posso cambiare l'indirizzo?"}],
        "failed": [{"address": "sam.jansen@example.org", "outbox_id": 311,
                    "template": "buyer.decision", "shop_id": "shop-nl",
                    "order_number": "NL-2026-10481", "case_id": 1041,
                    "detail": "5.1.1 mailbox unavailable"}],
        "held": {"sender_mismatch": 1, "unmatched": 2},
        "case_states": {"awaiting_merchant": 4, "escalated": 2, "closed": 17},
        "protection_states": {"active": 120, "in_case": 6, "ended": 40, "expired": 88},
    }


def intake_samples(locale: str) -> list[Sample]:
    """The shop's mails about orders by mail (orders_by_mail/notices.py)."""
    number = SHOPS[locale][1]
    mails = [("intake_held", "unauthenticated",
              {"why": "unauthenticated", "sender": "orders@shop.example",
               "subject": f"Order {number} confirmed"}),
             ("intake_unread", "", {"unread": [
                 {"number": number, "subject": "", "missing": ["amount"]},
                 {"number": "", "subject": "Thank you for your order!",
                  "missing": ["order_number", "buyer"]}]}),
             ("intake_report", "", {"since": NOW - timedelta(days=7), "now": NOW, "taken": 41,
                                    "known": 2, "unread": 1,
                                    "held": [("domain", 1), ("unauthenticated", 2)]})]
    return [Sample(f"merchant.{kind}", label, Role.MERCHANT, None, Mail(Role.MERCHANT, kind, data))
            for kind, label, data in mails]


def contexts(app, db, locale: str):
    """(sample, context) for every sample of ``locale``, built as compose builds them."""
    for s in samples(locale):
        merchant = None
        if s.state is not None:
            merchant = {"name": SHOPS[locale][0], "emails": ["service@shop.example"],
                        "locale": locale}
        ctx = compose.context(app, db, s.state, s.mail, s.role, merchant, NOW, s.timeline)
        if "timeline" in ctx:  # a case file is written over days, not in one second
            for i, entry in enumerate(ctx["timeline"]):
                entry["at"] = NOW - timedelta(days=len(ctx["timeline"]) - 1 - i, hours=i * 3)
        yield s, ctx
