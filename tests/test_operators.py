"""Operators (SPEC §7, §9): the command line on a real database, the digest's content, mail
threads, and one structured log line per event."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from conftest import OPERATOR, click, only, reply, text, write_config
from mailbot import cli, digest, jobs
from mailbot.store import records
from mailbot.tokens import Token
from test_case_by_mail import case, open_case
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, now, reminders, status


def test_cli_lists_decides_and_refuses_bad_input(box, tmp_path, capsys):
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL, body="Terugbetaling: nee\nToelichting: Nee.")
    config = str(write_config(tmp_path, box.app.config))
    case_id = case(box)["id"]
    capsys.readouterr()
    assert cli.main(["--config", config, "cases", "--state", "escalated", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listed] == [case_id]
    assert cli.main(["--config", config, "case", str(case_id), "--json"]) == 0
    file = json.loads(capsys.readouterr().out)
    assert file["order"]["order_number"] == "NL-1" and file["state"] == "escalated"
    assert cli.main(["--config", config, "case", str(case_id), "decide", "compensated"]) == 2
    assert "--message" in capsys.readouterr().err
    assert cli.main(["--config", config, "case", str(case_id), "decide", "maybe",
                     "--message", "x"]) == 2
    assert cli.main(["--config", config, "case", str(case_id), "request-documents", "merchant",
                     "--message", "Graag de retourlabel."]) == 0
    assert cli.main(["--config", config, "case", str(case_id), "decide", "refunded_by_merchant",
                     "--message", "De webshop betaalt terug."]) == 0
    assert (case(box)["state"], case(box)["outcome"]) == ("closed", "refunded_by_merchant")
    mails = box.deliver()
    assert "retourlabel" in text([m for m in mails if MERCHANT_NL in m["To"]][-2])
    assert cli.main(["--config", config, "case", "999", "--json"]) == 2
    assert cli.main(["--config", config, "tick", "--now", "yesterday"]) == 2
    # Without an offset, --now is read in the configured zone; durations may be ISO-8601.
    assert cli.main(["--config", config, "tick", "--now", "2020-01-01T00:00:00"]) == 0
    assert cli.main(["--config", config, "digest", "--since", "P1D"]) == 0
    assert cli.main(["--config", config, "digest", "--since", "soon"]) == 2


def test_insolvency_by_command(box, tmp_path, capsys):
    open_case(box)
    config = str(write_config(tmp_path, box.app.config))
    assert cli.main(["--config", config, "merchant", "shop-nl", "insolvent"]) == 0
    assert "1 open case(s) escalated" in capsys.readouterr().out
    assert case(box)["escalation_reason"] == "merchant_insolvent"
    assert cli.main(["--config", config, "merchant", "nope", "insolvent"]) == 2


def test_operator_reply_without_command_gets_help(box):
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL, body="Terugbetaling: nee\nToelichting: Nee.")
    escalation = only(box.deliver(), OPERATOR)
    reply(box, escalation, OPERATOR, "Wat vinden jullie?")
    help_mail = only(box.deliver(), OPERATOR)
    assert "decide compensated" in text(help_mail)
    assert case(box)["state"] == "escalated"


def test_digest_shows_what_happened(box):
    _, merchant = open_case(box)
    due = datetime.fromisoformat(case(box)["merchant_due"])
    later = due - timedelta(hours=12)  # within 24 h of the merchant's deadline
    out = digest.text(box.app, later, timedelta(days=7))
    assert "Cases geopend: 1" in out
    assert "Fietsen BV" in out and "NL-1" in out
    assert "1 wacht op de webshop" in out  # states in words, not codes
    assert "1 met een open case" in out and "awaiting_merchant" not in out
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: 80,00\nToelichting: te veel")  # bad form: too high
    assert digest.collect(box.app.db(), later, timedelta(days=7))["held"] == {"bad_form": 1}
    assert digest.text(box.app, later, timedelta(days=7)) != out
    digest.send(box.app, later)
    sent = only(box.deliver(), OPERATOR)
    assert sent["Subject"].startswith("Dagoverzicht ")  # the day follows: see test_digest_*


def test_mails_to_one_party_form_one_thread(box):
    ack, merchant = open_case(box)
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: 49,95\nToelichting: komt eraan")
    decision = only(box.deliver(), BUYER_NL)
    db = box.app.db()
    thread = [r[0] for r in db.execute(
        "SELECT message_id FROM outbox WHERE role = 'buyer' ORDER BY id").fetchall()]
    assert decision["In-Reply-To"] == thread[-2]
    assert thread[0] in decision["References"]


def test_one_log_line_per_event(box, caplog):
    caplog.set_level(logging.INFO, logger="mailbot")
    open_case(box)
    jobs.tick(box.app, now() + timedelta(days=6))  # past the end of day 5
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("case.escalated case_id=") and
               "reason=merchant_no_response" in line for line in lines)


def test_operator_command_on_a_case_not_escalated_gets_help(box):
    reminder = only(reminders(box), BUYER_NL)
    click(box, reminder, "other", BUYER_NL, body="Kan ik het adres nog wijzigen?")
    forward = only(box.deliver(), OPERATOR)
    # Not a case: pressing Reply answers the buyer in person.
    assert forward["Reply-To"] == BUYER_NL
    order_id = records.order_id(box.app.db(), "shop-nl", "NL-1")
    reply(box, forward, OPERATOR, "decide compensated\nDat doen we.",
          to_address=box.app.signer.address(Token("operator", order_id)))
    assert box.last_disposition() == "operator_help"
    assert "decide compensated" in text(only(box.deliver(), OPERATOR))
    assert status(box.app, "shop-nl", "NL-1")["protection"]["state"] == "active"


def test_digest_in_a_terminal_has_no_mail_footer(box):
    out = digest.text(box.app, now(), timedelta(days=1))
    assert "Alle beschermingen, per status".upper() in out and "automatisch" not in out
