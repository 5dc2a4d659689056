"""Issue 20, third review (operators): a payment a decision owes is recorded as made, by mail
(a reply whose first line is "paid") and on the command line (``case ID paid``); the digest keeps
an unpaid payment listed, late or not, until it is recorded, and drops it then. Real SMTP into
the listener, the real intake and CLI, real SQLite and Maildir."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

from bs4 import BeautifulSoup

from conftest import OPERATOR, html, only, reply, text
from mailbot import digest
from mailbot.outbound import samples
from mailbot.outbound.render import LOCALES
from test_case_by_mail import case
from test_corrections import run
from test_operators_mail import command_links, escalated

# How each language says the payment was recorded, and that it was recorded already.
RECORDED = {"nl": "Betaling vastgelegd", "fr": "Paiement enregistré", "it": "Pagamento registrato"}


def paid_link(mail) -> str | None:
    """The mailto of a mail's link that opens a reply with "paid" as its body: its address."""
    for a in BeautifulSoup(html(mail), "html.parser").find_all("a", href=re.compile("^mailto:")):
        parts = urlsplit(a["href"])
        if parse_qs(parts.query).get("body", [""])[0].strip() == "paid":
            return unquote(parts.path)
    return None


def compensated_by_mail(box):
    """NL-1 (49.95 EUR) decided by mail: compensated with its whole amount; the team's
    command_done."""
    mail = escalated(box)
    body = (command_links(mail)["decide compensated"]["body"]
            .replace("buyer (nl): ", "buyer (nl): We vergoeden.")
            .replace("merchant (nl):", "merchant (nl): Wij vergoeden."))
    reply(box, mail, OPERATOR, body, quote=False)
    return only(box.deliver(), OPERATOR)


def payments(box, at) -> list[int]:
    data = digest.collect(box.app.db(), at, timedelta(days=1), box.app.tz)
    return [p["case_id"] for p in data["payments"]]


def test_a_payment_is_recorded_by_a_reply_once_and_the_case_file_shows_it(box):
    done = compensated_by_mail(box)
    case_id = case(box)["id"]
    # command_done after the decision says how to record the payment: CLI and a prefilled reply.
    assert f"mailbot case {case_id} paid" in text(done)
    assert paid_link(done) == done["Reply-To"]
    reply(box, done, OPERATOR, "paid", quote=False)
    assert box.last_disposition() == "applied"
    recorded = only(box.deliver(), OPERATOR)
    today = datetime.now(box.app.tz).day
    assert re.search(rf"Betaling vastgelegd: €\xa049,95 aan de koper betaald door de "
                     rf"kopersbescherming op {today} \w+ \d{{4}}\.",
                     text(recorded)), text(recorded)
    entries = [e for e in case(box)["timeline"] if e["kind"] == "operator.paid"]
    assert len(entries) == 1 and entries[0]["by"] == OPERATOR
    assert entries[0]["text"].startswith("49.95 protection ")
    # Once is enough: the second "paid" changes nothing and says who recorded it.
    reply(box, recorded, OPERATOR, "paid", quote=False)
    again = only(box.deliver(), OPERATOR)
    assert "al vastgelegd door " + OPERATOR in text(again)
    assert len([e for e in case(box)["timeline"] if e["kind"] == "operator.paid"]) == 1


def test_the_cli_records_a_payment_with_its_day_and_refuses_what_is_not_owed(
        box, tmp_path, capsys):
    escalated(box)
    case_id = str(case(box)["id"])
    assert run(box, tmp_path, capsys, "case", case_id, "decide", "refunded_by_merchant",
               "--amount", "30", "--message", "De webshop betaalt terug.")[0] == 0
    box.deliver()
    future = (datetime.now(box.app.tz) + timedelta(days=2)).date().isoformat()
    code, _, err = run(box, tmp_path, capsys, "case", case_id, "paid", "--date", future, "--yes")
    assert code == 2 and "after today" in err
    day = datetime.now(box.app.tz).date()  # a day before the decision is refused
    code, out, _ = run(box, tmp_path, capsys, "case", case_id, "paid", "--date", day.isoformat(),
                       "--as", "Anna", "--yes")
    assert code == 0 and f"paid {day.isoformat()}, by Anna" in out
    done = text(only(box.deliver(), OPERATOR))
    assert f"€\xa030,00 aan de koper betaald door Fietsen BV op {day.day} " in done
    entry = [e for e in case(box)["timeline"] if e["kind"] == "operator.paid"][-1]
    assert entry["text"] == f"30.00 merchant {day.isoformat()}" and entry["by"] == "Anna"
    code, _, err = run(box, tmp_path, capsys, "case", case_id, "paid", "--yes")
    assert code == 2 and "recorded already" in err
    # A correction into a rejected claim owes nothing.
    assert run(box, tmp_path, capsys, "case", case_id, "correct", "claim_rejected", "--message",
               "Afgewezen.", "--yes")[0] == 0
    code, _, err = run(box, tmp_path, capsys, "case", case_id, "paid", "--yes")
    assert code == 2 and "owes no payment" in err


def test_a_paid_command_on_a_case_that_owes_nothing_is_answered_with_why(box):
    mail = escalated(box)
    reply(box, mail, OPERATOR, "decide claim_rejected\nAfgewezen.", quote=False)
    done = only(box.deliver(), OPERATOR)
    assert paid_link(done) is None and " paid" not in text(done)
    reply(box, done, OPERATOR, "paid", quote=False)
    answer = only(box.deliver(), OPERATOR)
    assert "geen betaling" in text(answer).lower()
    assert not [e for e in case(box)["timeline"] if e["kind"] == "operator.paid"]


def test_the_digest_keeps_a_late_unpaid_payment_until_it_is_recorded(box):
    done = compensated_by_mail(box)
    case_id = case(box)["id"]
    # Long after the window for the parties' replies: still owed, still listed, with the way
    # to record it in the text and the HTML part.
    later = datetime.now(timezone.utc) + timedelta(days=60)
    assert payments(box, later) == [case_id]
    out = digest.text(box.app, later, timedelta(days=1))
    assert f"mailbot case {case_id} paid" in out
    reply(box, done, OPERATOR, "paid", quote=False)
    assert box.last_disposition() == "applied"
    assert payments(box, later) == []


# What the buyer says of a partial refund they reject, in each language.
REJECTS = {"nl": "vindt de gedeeltelijke terugbetaling van € 120,00 te laag",
           "fr": "refuse le remboursement partiel de 120,00 €, jugé insuffisant",
           "it": "rifiuta il rimborso parziale di 120,00 € perché troppo basso"}


def test_payment_mails_speak_each_language(app):
    """The samples of a recorded payment and of a disputed partial refund, in nl, fr and it."""
    seen = {}
    for locale in LOCALES:
        for sample, ctx in samples.contexts(app, app.db(), locale):
            if (sample.name, sample.label) in (("operator.command_done", "paid"),
                                               ("operator.case_escalated", "buyer_disputes")):
                out = app.renderer.render(sample.name, locale, ctx).text
                seen[locale, sample.label] = " ".join(out.split())
    assert len(seen) == 2 * len(LOCALES)
    for locale in LOCALES:
        assert RECORDED[locale] in seen[locale, "paid"], locale
        assert REJECTS[locale] in seen[locale, "buyer_disputes"], locale


# --- 2. a partial refund disputed: what the shop promised, what the buyer says ---------------------

def partial_disputed(box, action: str):
    """NL-1 (49.95 EUR): the shop promises 12.50 back, the buyer answers with ``action``; the
    team's escalation mail."""
    from conftest import actions, click
    from test_case_by_mail import open_case
    from test_protection_by_mail import BUYER_NL, MERCHANT_NL
    _, merchant = open_case(box)
    reply(box, merchant, MERCHANT_NL,
          "Terugbetaling: ja\nBedrag: 12,50\nToelichting: Een deel was wel geleverd.")
    decision = only(box.deliver(), BUYER_NL)
    assert action in actions(decision)
    click(box, decision, action, BUYER_NL, body="Zo niet.")
    return only(box.deliver(), OPERATOR)


def test_a_refund_that_did_not_arrive_is_decided_on_the_amount_promised(box):
    mail = partial_disputed(box, "refund_not_received")
    said = " ".join(text(mail).split())
    assert "Antwoord van de webshop: terugbetaling van € 12,50 (toegezegd)" in said
    assert "Reactie van de koper: de terugbetaling van € 12,50 is niet aangekomen" in said
    # The buyer gets in total what the shop promised: the decision's field starts there.
    assert command_links(mail)["decide refunded_by_merchant"]["body"].startswith(
        "decide refunded_by_merchant\namount: €\xa012,50\n")
    assert "het bedrag dat nog naar de koper gaat, wie het ook betaalt" in said


def test_a_partial_refund_rejected_says_nothing_is_known_of_its_payment(box):
    mail = partial_disputed(box, "reject_partial")
    said = " ".join(text(mail).split())
    assert ("Reactie van de koper: vindt de gedeeltelijke terugbetaling van € 12,50 te laag; "
            "zegt niet of die al is betaald") in said
    assert command_links(mail)["decide compensated"]["body"].startswith(
        "decide compensated\namount: €\xa049,95\n")


def test_the_cli_words_the_amount_as_the_mail_does(capsys):
    from mailbot import cli
    assert cli.main(["help", "case"]) == 0
    assert "what the buyer receives in total through this decision, whoever pays" in " ".join(
        capsys.readouterr().out.split())


# --- 3. the buyer writes after the decision: before and after the payment is recorded -----------

def test_a_message_on_a_closed_case_offers_paid_until_it_is_recorded_then_says_who_recorded_it(
        box):
    from test_protection_by_mail import BUYER_NL
    mail = escalated(box)
    body = (command_links(mail)["decide compensated"]["body"]
            .replace("buyer (nl): ", "buyer (nl): We vergoeden.")
            .replace("merchant (nl):", "merchant (nl): Wij vergoeden."))
    reply(box, mail, OPERATOR, body, quote=False)
    closed = box.deliver()
    to_buyer = only(closed, BUYER_NL)
    reply(box, to_buyer, BUYER_NL, "IBAN NL91 ABNA 0417 1643 00, J. de Vries")
    relayed = only(box.deliver(), OPERATOR)
    # Owed: the bank details arrive here, so this is where the operator learns to record it,
    # and its footer says a reply is read (a "paid" reply acts on the closed case).
    assert paid_link(relayed) == relayed["Reply-To"]
    assert "Een antwoord erop lezen we als opdracht" in text(relayed)
    reply(box, relayed, OPERATOR, "paid", quote=False)
    assert box.last_disposition() == "applied"
    box.deliver()
    reply(box, to_buyer, BUYER_NL, "Dank, het geld is binnen.")
    after = only(box.deliver(), OPERATOR)
    said = " ".join(text(after).split())
    assert "de betaling als gedaan is vastgelegd" in said
    assert f"Betaling vastgelegd: door {OPERATOR} op " in said
    assert "Uiterste betaaldatum" not in said and paid_link(after) is None
