"""SPEC §3 and §4 by mail: merchant decisions by link and by typed form, the buyer's reactions,
deadlines moved with ``tick``, escalation and the operators' decisions by mail and command."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import OPERATOR, actions, click, only, reply, text, to, write_config
from mailbot import cli, jobs
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, now, reminders, status


def open_case(box, action="not_received"):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, action, BUYER_NL, body="Nog steeds niets ontvangen.")
    mails = box.deliver()
    return only(mails, BUYER_NL), only(mails, MERCHANT_NL)


def case(box):
    return status(box.app, "shop-nl", "NL-1")["case"]


def test_full_refund_link_gives_variant_a_and_refund_received_closes(box):
    _, merchant = open_case(box)
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: € 49,95\nToelichting: Excuses, het geld komt eraan.")
    mails = box.deliver()
    decision = only(mails, BUYER_NL)
    assert set(actions(decision)) == {"refund_received", "refund_not_received"}
    assert "Excuses, het geld komt eraan." in text(decision)
    ack = only(mails, MERCHANT_NL)
    assert "terugbetaling van €\xa049,95" in text(ack)
    c = case(box)
    assert (c["state"], c["variant"], c["refund"]) == (
        "awaiting_buyer", "A", {"choice": "yes", "amount": "49.95"})
    click(box, decision, "refund_received", BUYER_NL)
    closing = box.deliver()
    assert to(closing, BUYER_NL) and to(closing, MERCHANT_NL)
    c = case(box)
    assert (c["state"], c["outcome"]) == ("closed", "refund_received")
    assert status(box.app, "shop-nl", "NL-1")["protection"]["state"] == "ended"


def test_typed_form_in_plain_reply_partial_refund_variant_b(box):
    _, merchant = open_case(box)
    # The quoted case mail below the answer carries the form with the full amount: it must not count.
    reply(box, merchant, MERCHANT_NL,
          "Terugbetaling : Ja\nBedrag: 12,50\nToelichting: Een deel was wel geleverd.")
    decision = only(box.deliver(), BUYER_NL)
    assert set(actions(decision)) == {"refund_received", "refund_not_received", "reject_partial"}
    c = case(box)
    assert (c["variant"], c["refund"]["amount"]) == ("B", "12.50")
    click(box, decision, "reject_partial", BUYER_NL, body="Ik wil alles terug.")
    mails = box.deliver()
    escalation = only(mails, OPERATOR)
    assert "Ik wil alles terug." in text(escalation)
    assert "Een deel was wel geleverd." in text(escalation)
    assert (case(box)["state"], case(box)["escalation_reason"]) == ("escalated", "buyer_disputes")


def test_no_refund_on_not_received_is_variant_c(box):
    _, merchant = open_case(box)
    click(box, merchant, "refund_none", MERCHANT_NL,
          body="Terugbetaling: nee\nToelichting: Track & trace 3SABC123 toont levering.")
    decision = only(box.deliver(), BUYER_NL)
    assert set(actions(decision)) == {"accept", "disagree"}
    click(box, decision, "accept", BUYER_NL)
    box.deliver()
    assert (case(box)["state"], case(box)["outcome"]) == ("closed", "buyer_accepted")


def test_refused_refund_on_no_refund_case_escalates_at_once(box):
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL,
          body="Terugbetaling: nee\nToelichting: Retour nooit ontvangen.")
    mails = box.deliver()
    assert only(mails, OPERATOR)
    # One mail to the shop (its answer is recorded in the escalation mail), not two at once.
    assert "Retour nooit ontvangen." in text(only(mails, MERCHANT_NL))
    c = case(box)
    assert (c["state"], c["escalation_reason"]) == ("escalated", "merchant_refused_refund")


@pytest.mark.parametrize("body, problem", [
    ("Terugbetaling: ja\nBedrag: 49,95\nToelichting:", "toelichting ontbreekt"),
    ("Terugbetaling: ja\nBedrag: 80,00\nToelichting: te veel", "hoger dan"),
    ("Terugbetaling: ja\nBedrag: 0\nToelichting: nul", "groter zijn dan nul"),
    ("Terugbetaling: ja\nBedrag: -5\nToelichting: negatief", "groter zijn dan nul"),
    ("Terugbetaling: ja\nBedrag: veel\nToelichting: onleesbaar", "niet lezen"),
    ("Bedrag: 10\nToelichting: geen keuze", "niet aangegeven"),
])
def test_bad_decisions_are_explained_and_change_nothing(box, body, problem):
    _, merchant = open_case(box)
    reply(box, merchant, MERCHANT_NL, body)
    answer = only(box.deliver(), MERCHANT_NL)
    assert problem in text(answer)
    assert set(actions(answer)) == {"refund_full", "refund_after_return", "refund_none"}
    assert case(box)["state"] == "awaiting_merchant"


def test_merchant_silence_nudge_then_escalation(box):
    open_case(box)
    jobs.tick(box.app, now() + timedelta(days=3, minutes=1))
    nudge = only(box.deliver(), MERCHANT_NL)
    assert "track-and-trace" in text(nudge)
    # The reminder repeats the case: the buyer's reason and words, as the first mail had them.
    assert "Reden: bestelling niet ontvangen" in text(nudge)
    assert "Nog steeds niets ontvangen." in text(nudge)
    jobs.tick(box.app, now() + timedelta(days=6))  # past the end of day 5
    mails = box.deliver()
    assert to(mails, OPERATOR) and to(mails, BUYER_NL) and to(mails, MERCHANT_NL)
    assert case(box)["escalation_reason"] == "merchant_no_response"


def test_buyer_silence_closes_with_no_reaction(box):
    _, merchant = open_case(box)
    click(box, merchant, "refund_after_return", MERCHANT_NL,
          body="Terugbetaling: ja na retour\nBedrag: 49,95\nToelichting: Stuur het terug.")
    assert case(box)["refund"]["choice"] == "yes_after_return"
    box.deliver()
    jobs.tick(box.app, now() + timedelta(days=21))  # past the end of day 20
    box.deliver()
    assert (case(box)["state"], case(box)["outcome"]) == ("closed", "no_reaction")


def test_withdraw_and_stale_click(box):
    ack, merchant = open_case(box)
    click(box, ack, "withdraw", BUYER_NL)
    box.deliver()
    assert case(box)["outcome"] == "withdrawn"
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: 49,95\nToelichting: te laat")
    assert box.last_disposition() == "not_open"
    last = box.app.db().execute("SELECT template FROM outbox ORDER BY id DESC LIMIT 1")
    assert last.fetchone()[0] == "merchant.not_open"  # told it is no longer open
    assert (case(box)["outcome"], case(box)["refund"]["choice"]) == ("withdrawn", None)


def test_messages_without_action_are_relayed(box):
    ack, merchant = open_case(box)
    reply(box, ack, BUYER_NL, "Hier is nog een foto van de lege brievenbus.")
    mails = box.deliver()
    relayed = only(mails, MERCHANT_NL)
    assert "lege brievenbus" in text(relayed)
    assert to(mails, BUYER_NL)
    assert case(box)["state"] == "awaiting_merchant"


def test_operator_decides_by_mail_and_by_command(box, tmp_path, capsys):
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL,
          body="Terugbetaling: nee\nToelichting: Nee.")
    escalation = only(box.deliver(), OPERATOR)
    reply(box, escalation, OPERATOR, "request-documents buyer\nStuur het retourbewijs.")
    mails = box.deliver()
    assert "retourbewijs" in text(only(mails, BUYER_NL))
    # The team hears that the command went out (issue 12 §3), with the message as sent.
    done = only(mails, OPERATOR)
    assert "request-documents buyer" in done["Subject"] and "retourbewijs" in text(done)
    reply(box, escalation, OPERATOR, "decide compensated\nWe vergoeden het bedrag.")
    mails = box.deliver()
    assert "We vergoeden het bedrag." in text(only(mails, BUYER_NL))
    assert "decide compensated" in only(mails, OPERATOR)["Subject"]
    assert (case(box)["state"], case(box)["outcome"]) == ("closed", "compensated")
    # The command line refuses a decision on a closed case, with a one-line reason.
    capsys.readouterr()
    config = str(write_config(tmp_path, box.app.config))
    assert cli.main(["--config", config, "case", str(case(box)["id"]), "decide",
                     "claim_rejected", "--message", "te laat"]) == 2
    assert "is closed" in capsys.readouterr().err
    assert case(box)["outcome"] == "compensated"


def test_insolvent_merchant_escalates_open_cases(box, tmp_path, capsys):
    open_case(box)
    from mailbot import service
    from mailbot.core.events import MerchantInsolvent
    from mailbot.store import records
    db = box.app.db()
    records.set_insolvent(db, "shop-nl")
    for order_id in records.open_case_orders(db, "shop-nl"):
        service.handle(box.app, order_id, MerchantInsolvent(), now())
    assert case(box)["escalation_reason"] == "merchant_insolvent"
    assert to(box.deliver(), OPERATOR)


def test_free_text_disputes_a_decision_only_when_unambiguous(box):
    _, merchant = open_case(box)
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: 49,95\nToelichting: komt eraan")
    decision = only(box.deliver(), BUYER_NL)
    reply(box, decision, BUYER_NL, "Bedankt, ik wacht nog even af.")
    answer = only(box.deliver(), BUYER_NL)
    assert case(box)["state"] == "awaiting_buyer"  # no intent: stored, relayed, nothing else
    assert set(actions(answer)) == {"refund_received", "refund_not_received"}
    reply(box, decision, BUYER_NL, "Ik heb het geld nog steeds niet terug ontvangen.")
    assert (case(box)["state"], case(box)["escalation_reason"]) == ("escalated",
                                                                   "buyer_disputes")


def test_link_with_a_plain_sentence_is_a_decision_with_that_explanation(box):
    _, merchant = open_case(box)
    click(box, merchant, "refund_full", MERCHANT_NL, body="Excuses, we betalen alles terug.")
    c = case(box)
    assert (c["state"], c["variant"], c["refund"]["amount"]) == ("awaiting_buyer", "A", "49.95")
    decision = [e for e in c["timeline"] if e["kind"] == "merchant.decision"][0]
    assert decision["text"] == "Excuses, we betalen alles terug."
