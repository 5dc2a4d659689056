"""Every template renders in nl, fr and it, as text and HTML, with every string translated; links
carry ``data-action``; what a party wrote is escaped in HTML."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mailbot import resources
from mailbot.core.model import Case, CaseState, Document, Escalation, Outcome, Protection, \
    ProtectionState, Reason, RefundChoice, Variant
from mailbot.outbound.render import LOCALES, Renderer

TEMPLATES = sorted(p.name[:-3] for p in resources.templates().glob("*.j2")
                   if not p.name.startswith("_"))
NOW = datetime(2026, 3, 24, 10, 0, tzinfo=timezone.utc)
DOC = Document("bon.pdf", "0" * 64, "application/pdf", 10)


def context():
    case = Case(reason=Reason.NOT_RECEIVED, opened_at=NOW, id=7, state=CaseState.ESCALATED,
                variant=Variant.B, outcome=Outcome.COMPENSATED,
                escalation_reason=Escalation.BUYER_DISPUTES, merchant_due=NOW, buyer_due=NOW,
                refund_choice=RefundChoice.YES_AFTER_RETURN, refund_amount=Decimal("12.50"))
    return {
        "bot": type("Bot", (), {"name": "Bot", "upgrade_url": "https://x.example/plus"})(),
        "role": "buyer", "case": case,
        "protection": Protection(ProtectionState.ACTIVE, NOW),
        "order": {"number": "NL-1", "date": date(2026, 3, 1), "amount": Decimal("49.95"),
                  "currency": "EUR", "buyer_email": "b@x.example", "shop": "Shop <b>",
                  "plan": "plus"},
        "actions": ("all_fine", "refund_full"),
        "links": {"all_fine": "bot+a@x.example", "refund_full": "bot+b@x.example"},
        "timeline": [{"at": NOW, "actor": "buyer", "kind": "case.opened", "text": "t",
                      "attachments": [DOC]}],
        "data": {"text": "<script>alert(1)</script>", "message": "<b>hi</b>",
                 "attachments": (DOC,), "asked": "extend", "state": "active", "since": NOW,
                 "ends_at": NOW, "problems": ("message_missing", "amount_too_high"),
                 "from_role": "merchant", "to_role": "buyer", "outcome": "compensated",
                 "reason": "buyer_disputes", "outbox_id": 3, "error": "550", "recipients": ["a"],
                 "template": "buyer.reminder", "opened": 1, "escalated": {"buyer_disputes": 1},
                 "closed": {}, "deadlines": [{"shop": "S", "case_id": 7, "order_number": "NL-1",
                                              "merchant_due": NOW, "overdue": True}],
                 "failed": [], "held": {"unmatched": 2}, "case_states": {"escalated": 1},
                 "protection_states": {"active": 3},
                 "refused": (("run.exe", "type"), ("big.pdf", "size")),
                 "closest": "decide compensated"},
    }


@pytest.fixture(scope="module")
def renderer():
    return Renderer(ZoneInfo("Europe/Amsterdam"))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_renders_in_every_locale(renderer, template, locale):
    out = renderer.render(template, locale, context())
    assert out.subject and out.text.strip() and "<html" in out.html
    assert "<script>" not in out.html and "<b>" not in out.html  # party text is escaped
    assert "\n" not in out.subject


def test_every_string_is_translated():
    msgids = {m[2] for m in extract_from_dir(
        str(resources.templates()), method_map=[("**.j2", "jinja2")],
        options_map={"**.j2": {"extensions": "jinja2.ext.i18n"}})}
    assert len(msgids) > 100
    for locale in LOCALES:
        path = resources.locales() / locale / "LC_MESSAGES" / "mailbot.po"
        catalog = read_po(path.open("rb"))
        missing = [m for m in msgids if not (catalog.get(m) and catalog.get(m).string)]
        assert missing == [], f"{locale}: untranslated {missing[:5]}"


def test_links_carry_data_action_in_html_and_appear_in_text(renderer):
    out = renderer.render("buyer.reminder", "fr", context())
    assert 'data-action="all_fine"' in out.html and 'data-action="refund_full"' in out.html
    assert "mailto:bot+a@x.example?subject=" in out.text
    # The merchant's link opens a reply prefilled with the form in the merchant's language.
    assert "Remboursement%3A%20oui" in out.text


def test_money_and_dates_follow_the_locale(renderer):
    nl = renderer.render("buyer.reminder", "nl", context()).text
    fr = renderer.render("buyer.reminder", "fr", context()).text
    assert "€\xa049,95" in nl and "maart 2026" in nl
    assert "49,95\xa0€" in fr or "49,95\u202f€" in fr
    assert "mars 2026" in fr
