"""Operators answer the parties through the bot (review 12C item 2, task ops12a): ``message
buyer|merchant`` with the text below it, by mail and on the command line, on a case in any state.
The message goes out from the case's address in the party's language, changes no state and no
deadline, is on the case's timeline and in its export, and the party's reply comes back to the
team. The operators' "answer the buyer/shop" buttons open that command, not a mail from the
operator's own mailbox. Driven through the real flow: SMTP in, the intake worker, SQLite, the
relay's Maildir.
"""

from __future__ import annotations

import email.utils
import json
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest

from conftest import OPERATOR, click, only, reply, text, to, write_config
from mailbot import cli
from mailbot.core.decide import decide, timers
from mailbot.core.deadlines import TEAM_REPLY_DAYS
from mailbot.core.effects import Entry, Mail, Result
from mailbot.core.events import OperatorMessage, PartyMessage
from mailbot.core.model import (Case, CaseState, Order, Outcome, Plan, Protection, ProtectionState,
                                Reason, Role, State)
from mailbot.store import records
from test_case_by_mail import case, open_case
from test_operator_by_mail import mailtos
from test_operator_mail_actions import command, order_id
from test_protection_by_mail import BUYER_NL, MERCHANT_NL

TZ = ZoneInfo("Europe/Amsterdam")
OPENED = datetime(2026, 3, 24, 10, 0, tzinfo=timezone.utc)
ANSWERED = OPENED + timedelta(days=2)
LATER = ANSWERED + timedelta(days=2)
ESC, CLOSED = CaseState.ESCALATED, CaseState.CLOSED


def case_state(state=CaseState.AWAITING_MERCHANT, **changes) -> State:
    """An order of 1 March 2026 with a case opened on 24 March, in ``state``."""
    order = Order(1, "shop", "NL-1", date(2026, 3, 1), Decimal("50.00"), "EUR", "b@x.example",
                  "nl", Plan.PLUS)
    ended = state is CLOSED
    protection = Protection(ProtectionState.ENDED if ended else ProtectionState.IN_CASE,
                            datetime(2026, 3, 31, 21, 59, 59, tzinfo=timezone.utc),
                            ended_at=ANSWERED if ended else None)
    case = Case(Reason.NOT_RECEIVED, OPENED, state, id=1,
                merchant_due=datetime(2026, 3, 29, 21, 59, 59, tzinfo=timezone.utc), **changes)
    return State(order, protection, case)


# --- the core: a message changes nothing but the record of it --------------------------------

@pytest.mark.parametrize("party", [Role.BUYER, Role.MERCHANT])
@pytest.mark.parametrize("before", [
    case_state(), case_state(ESC),
    case_state(CLOSED, outcome=Outcome.CLAIM_REJECTED, closed_at=ANSWERED),
], ids=["awaiting_merchant", "escalated", "closed"])
def test_a_team_message_goes_to_the_party_and_changes_no_state_nor_deadline(before, party):
    decision = decide(before, OperatorMessage(party, "Kunt u het adres bevestigen?", by="anna"),
                      LATER, TZ)
    assert decision.result is Result.APPLIED
    # The case stays as it was, deadlines and all: only the moment the team wrote is kept.
    assert decision.state == replace(before, case=replace(before.case, team_wrote_at=LATER))
    assert timers(decision.state, TZ) == timers(before, TZ)
    assert decision.mails == (
        Mail(party, "team_message", {"message": "Kunt u het adres bevestigen?"}),
        Mail(Role.OPERATOR, "command_done", {"command": f"message {party}", "party": party,
                                             "message": "Kunt u het adres bevestigen?",
                                             "by": "anna"}))
    assert decision.timeline == (Entry("operator", "operator.message",
                                       f"{party}: Kunt u het adres bevestigen?", by="anna"),)


@pytest.mark.parametrize("role", [Role.BUYER, Role.MERCHANT])
def test_on_a_closed_case_a_partys_reply_reaches_the_team_for_a_while(role):
    closed = case_state(CLOSED, outcome=Outcome.CLAIM_REJECTED, closed_at=ANSWERED)
    wrote = replace(closed, case=replace(closed.case, team_wrote_at=LATER))
    answer = PartyMessage(role, "Het adres klopt.")
    relayed = decide(wrote, answer, LATER + timedelta(days=1), TZ)
    assert relayed.result is Result.APPLIED and relayed.state == wrote
    assert [(m.to, m.kind) for m in relayed.mails] == [(Role.OPERATOR, "message_relayed"),
                                                         (role, "message_received")]
    # Long after the team's message a closed case takes no message again, as before.
    late = decide(wrote, answer, LATER + timedelta(days=TEAM_REPLY_DAYS + 1), TZ)
    assert late.result in (Result.NOT_OPEN, Result.NOT_ACTIVE) and late.state == wrote
    assert not [m for m in late.mails if m.to is Role.OPERATOR]


# --- by mail, end to end --------------------------------------------------------------------------

def with_the_team(box):
    """NL-1 with the service team, and the buyer's question relayed to it: (the buyer's
    acknowledgement of the case, the operators' mail with the question)."""
    buyer_ack, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL, body="Terugbetaling: nee\nToelichting: Nee.")
    box.deliver()
    reply(box, buyer_ack, BUYER_NL, "Wanneer hoor ik iets van jullie?")
    return buyer_ack, only(box.deliver(), OPERATOR)


def send_link(box, address: str, query: dict, typed: str) -> None:
    """What a mail client sends from a mailto link: its address, subject and body, with what the
    operator typed after the prefilled field."""
    mail = EmailMessage()
    mail["From"], mail["To"] = OPERATOR, address
    mail["Subject"] = query.get("subject", "")
    mail["Message-ID"] = email.utils.make_msgid(domain="client.example")
    mail.set_content(query["body"].rstrip() + " " + typed)
    box.send(mail, OPERATOR, [address])


def timeline(box) -> list[dict]:
    return records.timeline(box.app.db(), order_id(box))


def test_the_answer_button_sends_the_teams_message_through_the_case(box, tmp_path, capsys):
    buyer_ack, relayed = with_the_team(box)
    # The button opens a reply to the case's address with the command and the buyer's field.
    [(address, query)] = [(a, q) for a, q in mailtos(relayed)
                          if q.get("body", "").startswith("message buyer")]
    assert address == relayed["Reply-To"] and query["body"].rstrip() == "message buyer\nbuyer (nl):"
    assert "Koper antwoorden via de case" in text(relayed)
    assert "eigen mailbox" not in text(relayed)
    before = case(box)

    send_link(box, address, query, "Uw melding ligt bij ons; we besluiten deze week.")
    assert box.last_disposition() == "applied"
    mails = box.deliver()
    sent = only(mails, BUYER_NL)
    assert sent["Subject"] == "Bericht van ons serviceteam · bestelling NL-1"
    out = text(sent)
    assert "Bericht van ons serviceteam over de melding" in out
    assert "Uw melding ligt bij ons; we besluiten deze week." in out
    assert "Antwoord gewoon op deze e-mail" in out
    done = only(mails, OPERATOR)
    assert "message buyer" in done["Subject"] and "Uw melding ligt bij ons" in text(done)
    assert to(mails, MERCHANT_NL) == []
    # Nothing else changed: state, deadlines, outcome.
    assert dict(case(box), timeline=None) == dict(before, timeline=None)
    [entry] = [e for e in timeline(box) if e["kind"] == "operator.message"]
    assert entry["text"] == "buyer: Uw melding ligt bij ons; we besluiten deze week."
    assert entry["done_by"] == OPERATOR

    # The buyer answers the team's mail: it comes back to the team, as any message on the case.
    reply(box, sent, BUYER_NL, "Dank u, ik wacht af.")
    mails = box.deliver()
    assert "Dank u, ik wacht af." in text(only(mails, OPERATOR))
    assert to(mails, MERCHANT_NL) == []

    # The case file and its export show the team's message.
    config = str(write_config(tmp_path, box.app.config))
    capsys.readouterr()
    assert cli.main(["--config", config, "case", str(before["id"]), "--json"]) == 0
    kinds = [e["kind"] for e in json.loads(capsys.readouterr().out)["timeline"]]
    assert "operator.message" in kinds
    assert cli.main(["--config", config, "case", str(before["id"]), "export",
                     str(tmp_path / "case.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "case.zip") as zf:
        page = zf.read("timeline.html").decode()
        exported = zf.read("case.json").decode()
    assert "Uw melding ligt bij ons; we besluiten deze week." in page
    assert "operator.message" in exported


def test_a_closed_case_takes_a_message_and_the_partys_reply_reaches_the_team(box):
    buyer_ack, relayed = with_the_team(box)
    reply(box, relayed, OPERATOR, "decide claim_rejected\nbuyer (nl): Nee.\nmerchant (nl): Nee.")
    closing = only(box.deliver(), BUYER_NL)
    assert case(box)["state"] == "closed"
    # Before the team writes, a closed case takes no message from the buyer.
    reply(box, closing, BUYER_NL, "Waarom niet?")
    assert box.last_disposition() == "not_active"
    assert to(box.deliver(), OPERATOR) == []

    command(box, OPERATOR, "message buyer\nUw bon toonde een andere bestelling.")
    assert box.last_disposition() == "applied"
    sent = only(box.deliver(), BUYER_NL)
    assert "Uw bon toonde een andere bestelling." in text(sent)
    assert (case(box)["state"], case(box)["outcome"]) == ("closed", "claim_rejected")
    reply(box, sent, BUYER_NL, "Dan stuur ik de juiste bon.")
    relayed_back = only(box.deliver(), OPERATOR)
    assert "Dan stuur ik de juiste bon." in text(relayed_back)
    assert "als reactie op het bericht van het team" in text(relayed_back)


@pytest.mark.parametrize("body", ["message merchant", "message merchant\nmerchant (nl): "])
def test_a_message_without_text_is_refused_with_the_commands(box, body):
    with_the_team(box)
    command(box, OPERATOR, body)
    assert box.last_disposition() == "operator_help"
    mails = box.deliver()
    assert to(mails, MERCHANT_NL) == []
    assert "Je bericht ontbreekt" in text(only(mails, OPERATOR))
    assert not [e for e in timeline(box) if e["kind"] == "operator.message"]


def test_the_command_line_sends_a_message_to_the_shop(box, tmp_path, capsys):
    with_the_team(box)
    config = str(write_config(tmp_path, box.app.config))
    case_id = str(case(box)["id"])
    capsys.readouterr()
    # As request-documents: --message carries the text, and none is refused.
    assert cli.main(["--config", config, "case", case_id, "message", "merchant"]) == 2
    assert "--message" in capsys.readouterr().err
    assert cli.main(["--config", config, "case", case_id, "message", "merchant", "--yes",
                     "--as", "anna", "--message", "Naar welk adres ging het pakket?"]) == 0
    assert "message merchant done by anna" in capsys.readouterr().out
    mails = box.deliver()
    sent = only(mails, MERCHANT_NL)
    assert "Naar welk adres ging het pakket?" in text(sent)
    assert "Bericht van ons serviceteam over de melding" in text(sent)
    assert to(mails, BUYER_NL) == []
    [entry] = [e for e in timeline(box) if e["kind"] == "operator.message"]
    assert (entry["text"], entry["done_by"]) == ("merchant: Naar welk adres ging het pakket?",
                                                 "anna")
