"""The operators' side (issue 19 §3, issue 20's operators' mails): a decision by mail as complete
as ``decide`` on the command line (amount, a message per party), the operators' file in the
escalation mail and in ``mailbot case``, the digest's tables, the footer of mails whose replies
are commands, and the "delivery failed" notice. Real SMTP into the listener, real Maildir out."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import OPERATOR, click, html, make_config, only, reply, text, write_config
from mailbot import cli, config as config_mod, digest, jobs, wiring
from mailbot.inbound import forms
from mailbot.outbound import failures
from test_case_by_mail import case, open_case
from test_loops_and_answers import started  # noqa: F401 (a fixture)
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, now

# An operators' subject names the shop before the case (NL-1's).
SHOP = "Fietsen BV"


def escalated(box):
    """NL-1 (49.95 EUR, plan plus) with the service team; the operators' escalation mail."""
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL, body="Terugbetaling: nee\nToelichting: Nee.")
    return only(box.deliver(), OPERATOR)


def command_links(mail) -> dict[str, dict]:
    """The escalation mail's command links: "decide compensated" -> its mailto's parts."""
    soup = BeautifulSoup(html(mail), "html.parser")
    links = {}
    for a in soup.find_all("a", href=re.compile("^mailto:")):
        query = parse_qs(urlsplit(a["href"]).query)
        body = query.get("body", [""])[0].replace("\r\n", "\n")
        if body:
            links[body.partition("\n")[0]] = {"to": unquote(urlsplit(a["href"]).path),
                                              "body": body}
    return links


# --- 2. decisions by mail, as complete as the CLI ------------------------------------------------

def test_the_escalation_mail_prefills_amount_and_a_field_per_party(box):
    mail = escalated(box)
    links = command_links(mail)
    assert links["decide compensated"]["body"] == (
        "decide compensated\namount: €\xa049,95\nbuyer (nl): \nmerchant (nl):")
    assert links["decide claim_rejected"]["body"] == (
        "decide claim_rejected\nbuyer (nl): \nmerchant (nl):")
    assert links["request-documents buyer"]["body"] == "request-documents buyer\nbuyer (nl):"
    # The text part documents the fields and the CLI's equivalent.
    assert "amount:" in text(mail) and "--message-buyer" in text(mail)


def test_the_prefilled_amount_reads_as_the_mail_shows_it_and_is_taken_as_sent(box):
    """The amount is prefilled in the operators' locale, as the card shows it ("€ 49,95", not
    "49.95"), and the command sent as it is, with a message per party, decides that amount."""
    mail = escalated(box)
    body = command_links(mail)["decide compensated"]["body"]
    assert "amount: €\xa049,95\n" in body and "49.95" not in body
    assert "Bestelbedrag: €\xa049,95" in text(mail)
    reply(box, mail, OPERATOR, body.replace("buyer (nl): ", "buyer (nl): We vergoeden.")
          .replace("merchant (nl):", "merchant (nl): Niets te doen."), quote=False)
    assert case(box)["outcome"] == "compensated"
    amounts = [e["text"] for e in case(box)["timeline"] if e["kind"] == "operator.amount"]
    assert amounts in ([], ["49.95"])  # the order's whole amount
    assert "€\xa049,95" in text(only(box.deliver(), BUYER_NL))


def test_a_decision_by_mail_carries_an_amount_and_a_message_per_party(box):
    mail = escalated(box)
    body = (command_links(mail)["decide compensated"]["body"]
            .replace("amount: €\xa049,95", "amount: 30,00")
            .replace("buyer (nl): ", "buyer (nl): Beste Jan,\nwe vergoeden € 30.")
            .replace("merchant (nl):", "merchant (nl): De koper krijgt € 30 van ons."))
    reply(box, mail, OPERATOR, body, quote=False)
    assert (case(box)["state"], case(box)["outcome"]) == ("closed", "compensated")
    mails = box.deliver()
    to_buyer, to_merchant = text(only(mails, BUYER_NL)), text(only(mails, MERCHANT_NL))
    assert "    Beste Jan,\n    we vergoeden € 30." in to_buyer  # quoted, two lines
    assert "De koper krijgt" not in to_buyer
    assert "De koper krijgt € 30 van ons." in to_merchant and "Beste Jan" not in to_merchant
    assert "€\xa030,00" in to_buyer
    amounts = [e["text"] for e in case(box)["timeline"] if e["kind"] == "operator.amount"]
    assert amounts == ["30.00"]


def test_a_message_relayed_to_the_team_carries_the_same_prefilled_commands(box):
    escalation = escalated(box)
    reply(box, escalation, OPERATOR, "request-documents buyer\nStuur de factuur.", quote=False)
    request = only(box.deliver(), BUYER_NL)
    reply(box, request, BUYER_NL, "Hierbij de factuur.")
    relayed = only(box.deliver(), OPERATOR)
    assert "Hierbij de factuur." in text(relayed)
    assert command_links(relayed)["decide compensated"] == \
        command_links(escalation)["decide compensated"]
    assert text(relayed).startswith(f"Case {case(box)['id']} · Bestelling ")  # the case first
    # The same explanation of the commands as the escalation mail's.
    explained = "Elke opdracht hieronder opent een antwoord met de opdracht op de eerste regel."
    assert explained in text(escalation) and explained in text(relayed)


def test_command_help_ends_its_subject_with_the_case_as_every_operators_mail(box):
    reply(box, escalated(box), OPERATOR, "decide compensted\nWe vergoeden.", quote=False)
    helped = only(box.deliver(), OPERATOR)
    assert helped["Subject"] == f"Geen opdracht gevonden · {SHOP} · case {case(box)['id']}"


def test_one_message_to_both_parties_stays_as_spec_says(box):
    reply(box, escalated(box), OPERATOR, "decide refunded_by_merchant\nDe webshop betaalt terug.")
    assert case(box)["outcome"] == "refunded_by_merchant"
    mails = box.deliver()
    for party in (BUYER_NL, MERCHANT_NL):
        assert "De webshop betaalt terug." in text(only(mails, party))


def test_one_message_to_both_is_offered_only_when_both_read_the_same_language(box):
    """With both reading Dutch the escalation mail also offers one message to both."""
    same = text(escalated(box))
    assert "Beide partijen lezen Nederlands: je kunt de velden ook wissen" in same


def test_one_message_to_both_is_not_offered_across_languages(box):
    """An Italian buyer and a Dutch shop cannot share one message: a message per party only."""
    box.app.db().execute("UPDATE orders SET buyer_locale = 'it' WHERE order_number = 'NL-1'")
    mail = escalated(box)
    assert "buyer (it): " in command_links(mail)["decide compensated"]["body"]
    assert "Beide partijen lezen" not in text(mail) and "één bericht aan beide" not in text(mail)
    assert "- buyer (it): je bericht aan de koper, in het Italiaans\n" in text(mail)
    assert "- merchant (nl): je bericht aan de webshop, in het Nederlands\n" in text(mail)


def test_an_amount_the_cli_would_refuse_changes_nothing_and_says_why(box):
    mail = escalated(box)
    box.app.config = dataclasses.replace(box.app.config, limits=dataclasses.replace(
        box.app.config.limits, answers_per_address_per_hour=10))
    for amount in ("80,00", "veel", "0"):
        reply(box, mail, OPERATOR, f"decide compensated\namount: {amount}\nWe vergoeden.",
              quote=False)
        assert case(box)["state"] == "escalated", amount
        answer = text(only(box.deliver(), OPERATOR))
        assert "niet uitgevoerd" in answer and "€ 49,95" in answer.replace("\xa0", " ")
    # The plan's cover binds a compensation, also when no amount is named (the order's 49.95).
    box.app.config = dataclasses.replace(box.app.config,
                                         cover=config_mod.Cover(plus=40))
    reply(box, mail, OPERATOR, "decide compensated\nWe vergoeden.", quote=False)
    assert case(box)["state"] == "escalated"
    assert "PLUS: €\xa040,00" in text(only(box.deliver(), OPERATOR))
    reply(box, mail, OPERATOR, "decide compensated\namount: 40\nWe vergoeden.", quote=False)
    assert case(box)["outcome"] == "compensated"


def test_a_message_for_one_party_only_is_not_a_command():
    half = forms.read_command("decide compensated\nbuyer: Beste Jan.\nmerchant:")
    assert half is not None and not half.complete
    both = forms.read_command("DECIDE compensated\nAmount: 12\nbuyer (nl): a\nb\nmerchant: c")
    assert (both.amount_text, both.to_buyer, both.to_merchant, both.message) == (
        "12", "a\nb", "c", "")


# --- 1. the operators' file ----------------------------------------------------------------------

def test_the_escalation_mail_is_the_operators_file(box):
    mail = escalated(box)
    # The subject sorts the team's inbox: why, the shop, the amount, then which case (issue 20);
    # the preview line gives the order and its amount.
    assert mail["Subject"] == ("Besluit nodig: terugbetaling geweigerd · Fietsen BV · €\xa049,95 · "
                               f"case {case(box)['id']}")
    preview = BeautifulSoup(html(mail), "html.parser").find(style=re.compile("display:none"))
    assert preview.get_text().startswith("Bestelling NL-1 (€\xa049,95)")
    out = text(mail)
    for fact in ("Plan: PLUS, vergoeding tot het bestelbedrag",
                 "Koper: jan@buyer.example (Nederlands)",
                 "info@fietsen.example, sales@fietsen.example (Nederlands)",
                 "Beschermd tot en met", "niet verlengd", "Case geopend:",
                 "Overgenomen door het team:",
                 "Andere open cases van deze webshop: geen"):
        assert fact in out, fact
    # The shop answered (it refused): no deadline of its own ran out (test_operators_last).
    assert "Termijn van de webshop:" not in out
    # The mails a step sent are one line: which mails, to whom.
    assert re.search(r"Systeem: e-mails verstuurd: case geopend \(koper\), case geopend "
                     r"\(webshop\)", out)
    assert "e-mail verstuurd (koper)" not in out


def test_case_in_a_terminal_is_the_operators_file_with_whole_texts(box, tmp_path, capsys):
    long_text = "Eerste regel.\n" + "lang " * 60 + "\nDerde regel."
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL,
          body=f"Terugbetaling: nee\nToelichting: {long_text}")
    config = str(write_config(tmp_path, box.app.config))
    capsys.readouterr()
    assert cli.main(["--config", config, "case", str(case(box)["id"])]) == 0
    shown = capsys.readouterr().out
    assert "languages: buyer nl, merchant nl" in shown
    assert "merchant's addresses: info@fietsen.example, sales@fietsen.example" in shown
    assert "plan plus, compensation up to the order's amount; protection ends" in shown
    assert "opened: 20" in shown and "; escalated: 20" in shown
    assert "merchant's other open cases: none" in shown
    assert re.search(r"e-mails sent +case opened to buyer, case opened to merchant", shown)
    lines = shown.splitlines()
    said = next(i for i, line in enumerate(lines) if "Eerste regel." in line)
    assert lines[said + 1].strip() == ("lang " * 60).strip()  # whole, not cut
    assert lines[said + 2].startswith(" " * 58) and lines[said + 2].strip() == "Derde regel."
    assert cli.main(["--config", config, "case", str(case(box)["id"]), "--json"]) == 0
    assert "languages" not in json.loads(capsys.readouterr().out)  # SPEC §9's object as it was


# --- 3. the digest -------------------------------------------------------------------------------

def test_the_digest_lists_ids_commands_and_labelled_columns_and_no_empty_section(box):
    escalation = escalated(box)
    stranger = ("Subject: hallo\r\nFrom: wie@else.example\r\nMessage-ID: <x@else.example>\r\n"
                "\r\nHoi")
    box.send(stranger.encode(), "wie@else.example", ["bot@bot.example"])
    inbox_id = box.app.db().execute("SELECT max(id) FROM inbox").fetchone()[0]
    at = datetime.now(timezone.utc) + timedelta(minutes=1)
    out = digest.text(box.app, at, timedelta(days=1))
    case_id = case(box)["id"]
    # Each case a block: its id and why first, then amount, order, state since when, commands.
    assert re.search(rf"- Case: {case_id}\n  Waarom: de webshop weigert een terugbetaling[^\n]*\n"
                     r"  Bedrag: €\xa049,95\n  Bestelling: NL-1, Fietsen BV\n"
                     r"  Stand: bij het serviceteam sinds \d+ \w+ \d{4}, \d\d:\d\d\n"
                     rf"  Opdrachten: mailbot case {case_id} · opdrachten per e-mail \[1\]\n", out)
    assert "Wacht:" not in out  # no "0 days" beside a deadline passed hours ago
    assert f"- Ontvangstnummer: {inbox_id}\n  Ontvangen: " in out
    # A stranger's mail is run again only once its order is there; "let through" is for a sender.
    assert "Wat je kunt doen: Gaat het over een bestelling? Importeer dan de bestelling of " \
        f"corrigeer het adres van de koper en verwerk de e-mail daarna opnieuw met mailbot inbox " \
        f"replay {inbox_id}." in out and "Doorlaten" not in out
    assert "Geen." not in out and "MISLUKTE BEZORGINGEN" not in out  # no empty section
    assert "shop-nl" not in out  # the shop's name, not its id
    digest.send(box.app, at)
    sent = only(box.deliver(), OPERATOR)
    assert re.search(r"^Dagoverzicht \d+ \w+\.?: 1 case te behandelen$", sent["Subject"])
    soup = BeautifulSoup(html(sent), "html.parser")
    heads = [th.get_text() for th in soup.find_all("th")]
    assert heads[:6] == ["Case", "Waarom", "Bedrag", "Bestelling", "Stand", "Opdrachten"]
    link = next(a for a in soup.find_all("a") if a.get_text() == "opdrachten per e-mail")
    assert link.find("span", style="white-space:nowrap").get_text() == "e-mail"  # kept whole
    assert unquote(urlsplit(link["href"]).path) == escalation["Reply-To"]  # the case's commands
    # Order numbers never break at their hyphen on a phone.
    assert 'white-space:nowrap">NL\u20111<' in html(sent) or \
        'white-space:nowrap">NL-1<' in html(sent)


# --- 4. the operators' mails ---------------------------------------------------------------------

def test_the_footer_of_a_mail_with_commands_says_what_a_reply_without_one_gets(box):
    mail = escalated(box)
    footer = text(mail).split("\n-- \n")[1]
    assert "bewaren je antwoord" not in footer
    assert "zonder opdracht verandert niets" in footer
    reply(box, mail, OPERATOR, "Wat vinden jullie?")
    assert "zonder opdracht verandert niets" in text(only(box.deliver(), OPERATOR))


def refused_for_good(box, tmp_path, smtp_sink):
    """Delivers the box's outbox through a relay that refuses every mail for good (5.1.1), on
    the same data; the box's database, with the failures recorded."""
    sink = smtp_sink("550 5.1.1 <jan@buyer.example>: mailbox unavailable")
    relayed = wiring.build(make_config(tmp_path, relay={
        "transport": "smtp", "host": "127.0.0.1", "port": sink.port}))
    try:
        jobs.deliver(relayed, now())
    finally:
        relayed.close()
    return box.app.db()


def failed_decision(box, tmp_path, smtp_sink):
    """The shop's answer to the buyer refused for good; (its outbox id, the operators' notice)."""
    _, merchant = open_case(box)
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: 49,95\nToelichting: Het geld komt eraan.")
    db = refused_for_good(box, tmp_path, smtp_sink)
    dead = db.execute("SELECT id FROM outbox WHERE status = 'dead' AND template = "
                      "'buyer.decision'").fetchone()[0]
    notices = [message_from_bytes(raw, policy=policy.default) for (raw,) in db.execute(
        "SELECT raw FROM outbox WHERE template = 'operator.delivery_failed'").fetchall()]
    return dead, next(n for n in notices if f"resend {dead}" in text(n))


def test_delivery_failed_names_order_case_kind_error_in_words_and_the_resend(box, tmp_path,
                                                                             smtp_sink):
    dead, notice = failed_decision(box, tmp_path, smtp_sink)
    out = text(notice)
    assert notice["Subject"] == f"Niet bezorgd aan de koper · case {case(box)['id']}"
    assert out.startswith(f"Case {case(box)['id']} · Bestelling NL-1")
    assert "Een e-mail aan de koper kon niet worden bezorgd" in out
    # The buyer's time to react runs meanwhile: the date at risk, and how a reply from another
    # address gets through.
    assert re.search(r"De koper moet uiterlijk \d+ \w+ \d{4} reageren op het antwoord van de "
                     r"webshop; zonder reactie wordt de case dan gesloten", out)
    assert "mailbot inbox release ID" in out and "met release ID" in out
    assert "Soort e-mail: het antwoord van de webshop" in out
    assert "Oorzaak: het adres bestaat niet bij de ontvangende mailserver" in out
    assert "550 5.1.1 <jan@buyer.example>: mailbox unavailable" in out  # not a bytes repr
    assert f"mailbot outbox resend {dead}" in out
    # On an open case the buyer's address is corrected by its own command (ops8b), by mail too.
    assert "mailbot order correct shop-nl NL-1 --buyer-email NIEUW_ADRES" in out
    assert "kan niet meer worden verbeterd" not in out
    # Refused for good at once (RFC 5321 §4.2.1): not "after several attempts".
    assert "heeft de e-mail meteen geweigerd" in out and "pogingen" not in out


def test_delivery_failed_before_a_case_prints_the_whole_correction_and_it_works(box, tmp_path,
                                                                               smtp_sink):
    """A buyer's reminder refused for good: the notice prints the whole ``order correct``
    command, shop and order filled in, only the right address to type; run, it corrects."""
    jobs.tick(box.app, now())  # the reminders, delivered through a relay that refuses them
    db = refused_for_good(box, tmp_path, smtp_sink)
    notices = [message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
               for (raw,) in db.execute("SELECT raw FROM outbox WHERE template = "
                                        "'operator.delivery_failed'").fetchall()]
    out = next(n for n in notices if "NL-1" in n)
    correct = "mailbot order correct shop-nl NL-1 --buyer-email NIEUW_ADRES"
    assert correct in out and "met het juiste adres in plaats van NIEUW_ADRES" in out
    args = correct.replace("NIEUW_ADRES", "jan.new@buyer.example").split()[1:]
    assert cli.main(["--config", str(write_config(tmp_path, box.app.config)), *args]) == 0
    assert db.execute("SELECT buyer_email FROM orders WHERE order_number = 'NL-1'"
                      ).fetchone()[0] == "jan.new@buyer.example"


def test_errors_in_words():
    assert failures.kind("550 b'5.1.1 <a@b.example>: Recipient address rejected'") == "no_mailbox"
    assert failures.kind("recipients refused: {'a@b': (552, b'5.2.2 Mailbox full')}") \
        == "mailbox_full"
    assert failures.kind("554 b'5.7.1 Message rejected as spam'") == "refused"
    assert failures.kind("gave up retrying: relay 127.0.0.1:1 unreachable: [Errno 111]") \
        == "unreachable"
    assert failures.kind("gave up retrying: 451 b'4.3.0 try later'") == "temporary"
    assert failures.kind("the relay does not offer SMTPUTF8 (RFC 6531)") == "smtputf8"
    assert failures.kind("550 b'no such user'") == "other"
    assert failures.plain("550 b'5.1.1 gone' and 451 b\"it's late\"") == \
        "550 5.1.1 gone and 451 it's late"


def test_no_operators_mail_promises_to_keep_a_reply(app):
    """Every mail to the team in every language: a reply is a command, goes to the buyer, or
    the mail only says it was sent automatically -- never the parties' "we keep your reply"."""
    from mailbot.outbound import samples
    from mailbot.outbound.render import LOCALES

    def signature(out):
        return out.text.split("\n-- \n")[1]

    for locale in LOCALES:
        rendered = [(s, app.renderer.render(s.name, locale, ctx))
                    for s, ctx in samples.contexts(app, app.db(), locale)]
        parties = signature(next(out for s, out in rendered
                                 if s.name == "buyer.case_opened")).splitlines()[1]
        for sample, out in rendered:
            if sample.role.value == "operator":
                assert parties not in signature(out), (sample.name, sample.label, locale)


# --- 5. the reviewer's findings (session 4) ------------------------------------------------------

def insolvent_escalation(box):
    """NL-1's case taken from its shop, declared insolvent; the operators' escalation mail."""
    from mailbot import service
    from mailbot.core.events import MerchantInsolvent
    from mailbot.store import records
    open_case(box)
    box.deliver()
    db = box.app.db()
    records.set_insolvent(db, "shop-nl")
    for order_id in records.open_case_orders(db, "shop-nl"):
        service.handle(box.app, order_id, MerchantInsolvent(), now())
    return only(box.deliver(), OPERATOR)


def test_an_insolvent_shop_is_offered_no_command_it_would_carry_out(box):
    mail = insolvent_escalation(box)
    assert set(command_links(mail)) == {
        "decide compensated", "decide claim_rejected", "request-documents buyer"}
    assert "refunded_by_merchant" not in text(mail) and "request-documents merchant" not in text(mail)
    assert "De webshop is als insolvent gemeld: alleen deze opdrachten" in text(mail)
    # A reply without a command gets the same short list back.
    reply(box, mail, OPERATOR, "Wat nu?")
    assert "decide refunded_by_merchant" not in text(only(box.deliver(), OPERATOR))


def test_a_shop_that_pays_is_still_offered_every_command(box):
    assert len(command_links(escalated(box))) == 5


def test_every_timeline_kind_has_a_label_in_every_language(app):
    from mailbot.outbound.render import LOCALES
    for locale in LOCALES:
        labels = app.renderer._envs[locale, "text"].get_template("_labels.j2").module
        for kind in ("message.answered", "operator.amount", "operator.correction",
                     "delivery.failed", "order.by_mail"):
            assert str(labels.event(kind)) != kind.replace("_", " ").replace(".", " "), (
                locale, kind)
    nl = app.renderer._envs["nl", "text"].get_template("_labels.j2").module
    assert str(nl.event("message.answered")) == "schreef (beantwoord, niets veranderd)"


def test_a_mail_put_off_until_the_retry_period_ends_says_how_many_attempts(box, tmp_path,
                                                                          smtp_sink):
    _, merchant = open_case(box)
    click(box, merchant, "refund_full", MERCHANT_NL,
          body="Terugbetaling: ja\nBedrag: 49,95\nToelichting: Het geld komt eraan.")
    sink = smtp_sink("451 4.3.0 try again later")
    relayed = wiring.build(make_config(tmp_path, relay={
        "transport": "smtp", "host": "127.0.0.1", "port": sink.port}))
    try:
        jobs.deliver(relayed, now())
        jobs.deliver(relayed, now() + timedelta(hours=relayed.config.relay.retry_hours + 1))
    finally:
        relayed.close()
    db = box.app.db()
    dead = db.execute("SELECT id FROM outbox WHERE status = 'dead' AND template = "
                      "'buyer.decision'").fetchone()[0]
    out = next(t for t in (message_from_bytes(raw, policy=policy.default).get_body(("plain",))
                           .get_content() for (raw,) in db.execute(
        "SELECT raw FROM outbox WHERE template = 'operator.delivery_failed'").fetchall())
        if f"resend {dead}" in t)
    assert "Een e-mail kon na 2 pogingen niet worden bezorgd" in out
    assert "eerste poging" not in out


def test_operators_samples_agree_with_themselves(app):
    """The render samples a reviewer reads: the escalation card's dates are the case file's, and
    the failed-delivery notice shows the server's error in words, not a bytes repr."""
    from mailbot.outbound import samples
    from mailbot.outbound.render import LOCALES
    for locale in LOCALES:
        for s, ctx in samples.contexts(app, app.db(), locale):
            if s.name == "operator.case_escalated":
                at = {e["kind"]: e["at"] for e in ctx["timeline"]}
                assert at["case.opened"] == ctx["case"].opened_at, s.label
                assert at["case.escalated"] == ctx["file"]["escalated_at"], s.label
                assert all(ctx["case"].opened_at <= e["at"] <= samples.NOW
                           for e in ctx["timeline"]), s.label
                if "merchant.no_response" in at:
                    assert ctx["case"].merchant_due <= at["merchant.no_response"]
            if s.name == "operator.digest":  # every case with the team is listed
                data = ctx["data"]
                assert len([a for a in data["attention"] if a["why"] == "escalated"]) \
                    == data["case_states"]["escalated"]
            if s.name == "operator.delivery_failed":
                out = app.renderer.render(s.name, locale, ctx).text
                assert "b'" not in out and "5.1.1" in out


def test_held_relays_name_case_sender_inbox_id_and_the_commands(started, tmp_path, capsys):
    limited = started(limits={"relays_per_order_per_hour": 1})
    buyer_ack, _ = open_case(limited)
    for i in range(2):
        reply(limited, buyer_ack, BUYER_NL, f"Bericht {i}: waar blijft mijn fiets?")
    held_id = limited.app.db().execute("SELECT max(id) FROM inbox").fetchone()[0]
    told = only(limited.deliver(), OPERATOR)
    case_id = case(limited)["id"]
    out = text(told)
    assert told["Subject"] == f"Berichten tegengehouden · {SHOP} · case {case_id}"
    assert out.startswith(f"Case {case_id} · Bestelling NL-1")
    assert f"{BUYER_NL} (koper, Nederlands)" in out
    assert f"Ontvangstnummer: {held_id}" in out
    assert f"mailbot case {case_id}" in out
    # The way to pass it on: through the case to the shop's addresses (inbox replay refuses an
    # applied mail; ops12a: not from the operator's own mailbox).
    assert ("stuur het dan via de case door naar info@fietsen.example, "
            "sales@fietsen.example (webshop, leest Nederlands)") in " ".join(out.split())
    assert "naar de andere partij" not in out
    assert "inbox replay" not in out  # it would be refused: the message is applied
    assert cli.main(["--config", str(write_config(tmp_path, limited.app.config)), "inbox",
                     "replay", str(held_id), "--yes"]) != 0
    assert "applied once already" in capsys.readouterr().err


def test_a_buyers_other_request_shows_the_buyers_language_in_the_mail_and_the_digest(box):
    from test_protection_by_mail import reminders
    click(box, only(reminders(box), BUYER_NL), "other", BUYER_NL, body="Kan de bel anders?")
    request = only(box.deliver(), OPERATOR)
    assert f"Koper: {BUYER_NL} (Nederlands)" in text(request)
    out = digest.text(box.app, datetime.now(timezone.utc) + timedelta(minutes=1),
                      timedelta(days=1))
    assert f"Koper: {BUYER_NL} (Nederlands)" in out


def test_command_done_states_what_was_decided_and_each_partys_message(box):
    mail = escalated(box)
    body = (command_links(mail)["decide compensated"]["body"]
            .replace("amount: €\xa049,95", "amount: 30,00")
            .replace("buyer (nl): ", "buyer (nl): We vergoeden € 30.")
            .replace("merchant (nl):", "merchant (nl): Je hoeft niets te doen."))
    reply(box, mail, OPERATOR, body, quote=False)
    out = text(only(box.deliver(), OPERATOR))
    assert "Besluit: de kopersbescherming vergoedt de koper" in out
    assert "Vergoeding: €\xa030,00" in out
    assert "Wie betaalt: de kopersbescherming" in out
    assert re.search(r"Uiterste betaaldatum: \d+ \w+ \d{4}", out)
    assert "JOUW BERICHT AAN DE KOPER\n\n    We vergoeden € 30." in out
    assert "JOUW BERICHT AAN DE WEBSHOP\n\n    Je hoeft niets te doen." in out
    assert "buyer: " not in out and "merchant: " not in out


def test_command_done_names_the_payment_still_owed_after_a_compensation(box):
    """A compensation leaves the team a payment to make once the buyer sent their bank details:
    command_done says how much and by when, no longer "nothing else needs to be done"."""
    mail = escalated(box)
    reply(box, mail, OPERATOR, command_links(mail)["decide compensated"]["body"]
          .replace("amount: €\xa049,95", "amount: 30,00").replace("buyer (nl): ", "buyer (nl): Ja.")
          .replace("merchant (nl):", "merchant (nl): Ja."), quote=False)
    done = text(only(box.deliver(), OPERATOR))
    assert re.search(r"Te doen: betaal €\xa030,00 aan de koper uiterlijk \d+ \w+ \d{4}, "
                     r"zodra je de bankgegevens hebt", done)
    assert "niets te doen" not in done


@pytest.mark.parametrize("outcome, said", [
    ("refunded_by_merchant", r"De webshop betaalt €\xa049,95 uiterlijk \d+ \w+ \d{4}; "
                             r"de koper kan het ons laten weten"),
    ("claim_rejected", "voor deze opdracht hoef je verder niets te doen"),
])
def test_command_done_after_a_decision_on_the_cli_says_what_is_left(box, tmp_path, capsys,
                                                                     outcome, said):
    """A shop's refund leaves a payment to watch; a rejected claim leaves nothing to do."""
    from test_corrections import run
    escalated(box)
    assert run(box, tmp_path, capsys, "case", str(case(box)["id"]), "decide", outcome,
               "--message", "Besluit.")[0] == 0
    done = text(only(box.deliver(), OPERATOR))
    assert re.search(said, done)
    assert "Te doen" not in done


def test_a_correction_into_a_refund_states_amount_and_pay_by_date_and_says_it_corrects(
        box, tmp_path, capsys):
    from test_corrections import decided, run
    case_id = str(decided(box, tmp_path, capsys))
    assert run(box, tmp_path, capsys, "case", case_id, "correct", "refunded_by_merchant",
               "--amount", "40", "--message", "De webshop betaalt terug.", "--yes")[0] == 0
    mails = box.deliver()
    # The subject names the new outcome (review 9D item 6).
    for party, news in ((BUYER_NL, "Fietsen BV betaalt je terug"),
                        (MERCHANT_NL, "je betaalt € 40,00 terug")):
        mail = only(mails, party)
        subject = mail["Subject"].replace("\xa0", " ")
        assert subject == f"Gecorrigeerd besluit: {news} · bestelling NL-1"
        assert "€\xa040,00" in text(mail), party
        assert re.search(r"uiterlijk \w+dag \d+ \w+ \d{4}", text(mail)), party
    done = text(only(mails, OPERATOR))
    assert "Besluit: de webshop betaalt de koper terug" in done
    assert "Wie betaalt: Fietsen BV" in done
    amounts = [e["text"] for e in case(box)["timeline"] if e["kind"] == "operator.amount"]
    assert amounts[-1] == "40.00"
    # An amount the order does not allow is refused, as for decide.
    code, _, err = run(box, tmp_path, capsys, "case", case_id, "correct", "compensated",
                       "--amount", "500", "--message", "x", "--yes")
    assert code == 2 and "more than the order's amount" in err


# --- issue 20, ops6: an operator acts from the mail alone ------------------------------------------

def operator_samples(app) -> dict[tuple[str, str, str], object]:
    """Every operators' sample of tools/render_mails.py, rendered: (name, label, locale) -> mail."""
    from mailbot.outbound import samples
    from mailbot.outbound.render import LOCALES
    return {(s.name, s.label, locale): app.renderer.render(s.name, locale, ctx)
            for locale in LOCALES for s, ctx in samples.contexts(app, app.db(), locale)
            if str(s.role) == "operator"}


def test_the_escalation_mail_puts_the_evidence_before_the_decision(box):
    """Facts card, then the case's history, then the commands (review: the history sat below)."""
    out = text(escalated(box))
    card, history = out.index("Bestelbedrag: "), out.index("VERLOOP VAN DE CASE")
    commands = out.index("DOCUMENTEN OPVRAGEN")
    assert card < history < commands < out.rindex("(request-documents buyer)")
    # The three decisions once, in a short block right under the card (review 11, on a phone;
    # review 12: not again in the list below).
    body = out.split("\n[1] ")[0]  # the numbered links at the end name their commands again
    assert card < body.index("(decide compensated)") == body.rindex("(decide compensated)") \
        < history


def test_the_decision_fields_are_a_list_one_line_per_field(app):
    """amount / buyer (nl) / merchant (nl), each with one plain explanation, in every mail that
    offers the commands, in every language."""
    lines = {"nl": ("- amount: het bedrag dat nog naar de koper gaat",
                    "- buyer (nl): je bericht aan de koper, in het Nederlands\n",
                    "- merchant (nl): je bericht aan de webshop, in het Nederlands\n"),
             "fr": ("- amount: le montant qui revient encore à l’acheteur",
                    "- buyer (fr): votre message à l’acheteur, en français\n",
                    "- merchant (fr): votre message à la boutique, en français\n"),
             "it": ("- amount: l’importo che spetta ancora all’acquirente",
                    "- buyer (it): il tuo messaggio all’acquirente, in italiano\n",
                    "- merchant (it): il tuo messaggio al negozio, in italiano\n")}
    shown = 0
    for (name, label, locale), mail in operator_samples(app).items():
        # The help after an error lists the commands without the field guide (review 12).
        if name in ("operator.case_escalated", "operator.message_relayed",
                    "operator.command_help") and "decide compensated" in mail.text \
                and label != "buyer_fr_shop_nl" and (name != "operator.command_help"
                                                     or label == "empty"):
            shown += 1
            for line in lines[locale]:
                assert line in mail.text, (name, label, locale, line)
            assert "in de taal tussen haakjes" not in mail.text
    assert shown >= 3 * 5


def test_every_moment_in_operators_mails_is_written_one_way_and_the_zone_named_once(app):
    """One format for every timestamp (the month in full, no weekday, no CLDR abbreviation with
    or without its full stop) and the configured time zone named once in the mail."""
    from babel.dates import get_day_names, get_month_names
    for (name, label, locale), mail in operator_samples(app).items():
        wide = set(get_month_names("wide", locale=locale).values())
        short = set(get_month_names("abbreviated", locale=locale).values()) - wide
        # The body and footer: the subject and preheader are the subjects' (short dates).
        body = re.sub(r"<title>.*?</title>|<div style=\"display:none.*?</div>", "", mail.html,
                      flags=re.S)
        for part in (mail.text, body):
            for month in short:
                assert not re.search(rf"\d {re.escape(month)}\b", part), (name, locale, month)
            for weekday in get_day_names("wide", locale=locale).values():
                assert not re.search(rf"\b{weekday} \d", part), (name, label, locale, weekday)
        assert mail.text.count("Europe/Amsterdam") == 1, (name, label, locale)
    dates = operator_samples(app)
    escalation = dates["operator.case_escalated", "merchant_no_response", "nl"].text
    assert re.search(r"Besteldatum: \d+ \w+ 2026\n", escalation)
    assert re.search(r"Termijn van de webshop: \d+ (november|december) 2026, \d\d:\d\d\n", escalation)
    assert "Alle tijden zijn in Midden-Europese tijd (Europe/Amsterdam)." in escalation
    assert re.search(r"\d+ novembre 2026, \d+\xa0h\xa0\d\d", dates["operator.digest", "", "fr"].text)


def test_the_digest_has_the_operators_frame_a_red_late_and_dark_dividers(app):
    mails = operator_samples(app)
    for locale, late in (("nl", "te laat"), ("fr", "en retard"), ("it", "in ritardo")):
        soup = BeautifulSoup(mails["operator.digest", "", locale].html, "html.parser")
        bar = soup.find(class_="mb-ident")
        assert bar is not None and "2026" in bar.get_text()
        red = soup.find("span", class_="mb-due", string=late)
        assert red is not None and "color:#9a3412" in red["style"]
        # Every divider between a table's blocks darkens in dark mode (.mb-op).
        ruled = [c for c in soup.find_all(["th", "td"]) if "border-top" in c.get("style", "")]
        assert ruled and all("mb-op" in c["class"] for c in ruled)
    text_nl = mails["operator.digest", "", "nl"].text
    # The shop past its deadline is not with the team yet, and an hour past it is the alarm's
    # (review 12: each case once): in the alarm only.
    assert "- Case: 1041\n" not in text_nl and "Case 1041 is al meer dan een uur" in text_nl
    assert "0 dagen" not in text_nl and "Wacht" not in text_nl


def test_the_digest_says_the_right_action_for_each_held_mail(box):
    """release for a held sender, replay for a mail about no known order, nothing for a mail
    that would end the same way (review: "replay" offered for everything)."""
    from mailbot import digest as digest_mod
    assert digest_mod.ACTIONS == {"sender_mismatch": "release", "unmatched": "replay",
                                  "rate_limited": "replay", "quarantined": "replay"}
    box.send(b"Subject: x\r\nMessage-ID: <a@b.example>\r\n\r\nno From", "x@b.example",
             ["bot@bot.example"])
    at = datetime.now(timezone.utc) + timedelta(minutes=1)
    out = digest.text(box.app, at, timedelta(days=1))
    assert "niets: opnieuw verwerken geeft hetzelfde resultaat" in out
    assert "inbox replay" not in out and "inbox release" not in out


def test_a_message_on_a_closed_case_says_closed_payment_awaited_and_how_to_correct(box):
    mail = escalated(box)
    reply(box, mail, OPERATOR, command_links(mail)["decide compensated"]["body"]
          .replace("buyer (nl): ", "buyer (nl): We vergoeden.")
          .replace("merchant (nl):", "merchant (nl): Niets te doen."), quote=False)
    closing = only(box.deliver(), BUYER_NL)
    reply(box, closing, BUYER_NL, "Het geld is er nog niet.")
    relayed = text(only(box.deliver(), OPERATOR))
    case_id = case(box)["id"]
    assert "De case is gesloten, maar de betaling staat nog open" in relayed
    assert "die bij het serviceteam ligt" not in relayed
    assert re.search(r"Stand van de case: gesloten op \d+ \w+ \d{4}, \d\d:\d\d \(besluit: ", relayed)
    # A rejection takes no amount (review 12): a line per outcome.
    assert f"mailbot case {case_id} correct refunded_by_merchant --amount" in relayed
    assert f"mailbot case {case_id} correct claim_rejected --message-buyer" in relayed
    assert "refunded_by_merchant / claim_rejected" in relayed
    assert "(decide compensated)" not in relayed  # no command by mail on a closed case
    # A command sent to the closed case gets the help, which names correct, not decide.
    reply(box, mail, OPERATOR, "decide claim_rejected\nAfgewezen.", quote=False)
    helped = text(only(box.deliver(), OPERATOR))
    # Its compensation is still owed: only "paid" works there (test_operators_last).
    assert f"Case {case_id} is gesloten, maar de betaling staat nog open" in helped
    assert "Stand van de case: gesloten op " in helped and "Bedoelde je" not in helped
    assert f"mailbot case {case_id} correct refunded_by_merchant --amount" in helped
    assert "Zodra een case bij het serviceteam ligt" not in helped


def test_a_message_relayed_to_the_team_states_the_case_and_its_deadline(box):
    _, merchant = open_case(box, "no_refund")
    click(box, merchant, "refund_none", MERCHANT_NL, body="Terugbetaling: nee\nToelichting: Nee.")
    buyer_mail = only(box.deliver(), BUYER_NL)
    reply(box, buyer_mail, BUYER_NL, "Hier is nog een foto.")
    relayed = text(only(box.deliver(), OPERATOR))
    assert re.search(r"Stand van de case: bij het serviceteam sinds \d+ \w+ \d{4}, \d\d:\d\d\n",
                     relayed)
    assert "Termijn: geen (de partijen wachten op jouw besluit)\n" in relayed
    assert "Elke opdracht hieronder opent een antwoord" in relayed
    assert "Koper: jan@buyer.example (Nederlands)\n" in relayed


# --- issue 20, ops7b: what is owed and what is at risk ---------------------------------------------

def decided_by_mail(box, outcome="compensated", amount="30,00"):
    """NL-1 escalated, then decided by mail with ``amount``; returns the buyer's closing mail."""
    mail = escalated(box)
    reply(box, mail, OPERATOR, command_links(mail)["decide compensated"]["body"]
          .replace("decide compensated", f"decide {outcome}")
          .replace("amount: €\xa049,95", f"amount: {amount}")
          .replace("buyer (nl): ", "buyer (nl): Ja.").replace("merchant (nl):", "merchant (nl): Ja."),
          quote=False)
    return only(box.deliver(), BUYER_NL)


def backdate(box, days: int) -> None:
    """As if NL-1's case had been decided ``days`` ago (the decision, its amount and the close)."""
    db = box.app.db()
    shift = timedelta(days=days)
    for table, column, where in (("cases", "closed_at", "closed_at IS NOT NULL"),
                                 ("timeline", "at", "kind IN ('operator.decision', "
                                  "'operator.amount', 'case.closed')")):
        for key, at in db.execute(f"SELECT id, {column} FROM {table} WHERE {where}").fetchall():
            earlier = (datetime.fromisoformat(at) - shift).isoformat(timespec="seconds")
            db.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", [earlier, key])


def test_a_buyer_writing_about_an_unpaid_compensation_shows_what_is_owed_by_whom_and_late(box):
    """The card of a message on a closed case owing a payment: the decided amount (not only the
    order's), who pays, the pay-by date and "te laat" once it passed; no "no deadline" row."""
    closing = decided_by_mail(box)
    backdate(box, 16)  # the pay-by date (14 days) passed; the buyer may still write (28 days)
    # With the bank details (without them it waits for them: tests/test_bank_details_seen.py).
    reply(box, closing, BUYER_NL, "Ik heb de vergoeding nog steeds niet ontvangen. "
          "Mijn IBAN: NL91 ABNA 0417 1643 00.")
    relayed = text(only(box.deliver(), OPERATOR))
    assert "Vergoeding: €\xa030,00\n" in relayed
    assert "Wie betaalt: de kopersbescherming\n" in relayed
    assert re.search(r"Uiterste betaaldatum: \d+ \w+ \d{4} · te laat\n", relayed)
    assert "Termijn: geen (de case is gesloten)" not in relayed


def test_a_shops_refund_not_yet_due_names_the_shop_and_no_late_mark(box):
    closing = decided_by_mail(box, "refunded_by_merchant", "40,00")
    reply(box, closing, BUYER_NL, "Wanneer komt het geld?")
    relayed = text(only(box.deliver(), OPERATOR))
    assert "Terugbetaling: €\xa040,00\n" in relayed and "Wie betaalt: Fietsen BV\n" in relayed
    assert re.search(r"Uiterste betaaldatum: \d+ \w+ \d{4}\n", relayed)
    assert "te laat" not in relayed


def test_the_payment_awaited_sample_reads_the_same_in_every_language(app):
    mails = operator_samples(app)
    # Past its date, without the buyer's bank details: late, waiting for them (review 12).
    for locale, payer, late in (("nl", "de kopersbescherming", "wacht sinds 7 november op "
                                 "bankgegevens"),
                                ("fr", "la protection acheteur",
                                 "en attente des coordonnées bancaires depuis le 7 novembre"),
                                ("it", "Protezione Acquirenti",
                                 "in attesa dei dati bancari dal 7 novembre")):
        out = mails["operator.message_relayed", "closed_payment_awaited", locale].text
        assert payer in out and f"{late}\n" in out, locale


def test_the_digest_lists_unpaid_payments_late_or_not(box, monkeypatch):
    decided_by_mail(box)
    backdate(box, 16)
    at = datetime.now(timezone.utc) + timedelta(minutes=1)
    out = digest.text(box.app, at, timedelta(days=1))
    case_id = case(box)["id"]
    # Past its date without the bank details: late, under its own heading (review 12).
    assert re.search(rf"TE LAAT – WACHT OP BANKGEGEVENS VAN DE KOPER\n\n- Case: {case_id}\n"
                     r"  Bestelling: NL-1, Fietsen BV\n  Vergoeding: €\xa030,00\n"
                     r"  Uiterste betaaldatum: \d+ \w+ \d{4} · verstreken, wacht sinds \d+ \w+ "
                     r"op bankgegevens\n"
                     r"  Bankgegevens: nog niet ontvangen · Vraag de koper opnieuw om "
                     r"bankgegevens \[\d+\]\n"
                     rf"  Na betaling: mailbot case {case_id} paid · ", out)
    # Bounded: past PAYMENTS_SHOWN the digest says how many more.
    monkeypatch.setattr(digest, "PAYMENTS_SHOWN", 0)
    out = digest.text(box.app, at, timedelta(days=1))
    assert "En nog 1: mailbot cases --state closed toont ze." in out
    # Once the parties' window is over (core: replies_until), an unpaid payment stays listed
    # (tests/test_payments_recorded.py: until its payment is recorded).
    backdate(box, 13)
    monkeypatch.undo()
    assert "TE LAAT – WACHT OP BANKGEGEVENS" in digest.text(box.app, at, timedelta(days=1))


def test_a_case_waiting_for_documents_says_so_in_the_digest(box):
    mail = escalated(box)
    reply(box, mail, OPERATOR, "request-documents buyer\nStuur ons de foto van het pakket.",
          quote=False)
    box.deliver()
    out = digest.text(box.app, datetime.now(timezone.utc) + timedelta(minutes=1),
                      timedelta(days=1))
    # The date once, in Waarom; the state names the party (review 12).
    assert re.search(r"  Waarom: wacht op documenten tot \d+ \w+ \d{4}\n", out)
    assert re.search(r"  Stand: bij het serviceteam sinds [^\n]+ · documenten gevraagd aan de "
                     r"koper\n", out)


def test_a_shop_past_its_deadline_is_not_a_case_needing_action_and_a_stalled_timer_shows(box):
    """Not with the team until the next tick: listed with the shops' deadlines only (the count in
    the subject counts what "needs action" lists); more than an hour late: ``mailbot check``."""
    open_case(box)
    due = datetime.fromisoformat(box.app.db().execute(
        "SELECT merchant_due FROM cases").fetchone()[0])
    soon = digest.text(box.app, due + timedelta(minutes=10), timedelta(days=1))
    assert "CASES DIE ACTIE VRAGEN" not in soon and "Waarom:" not in soon
    assert re.search(r"WEBSHOPS WAARVAN DE TERMIJN \(BIJNA\) VERSTREKEN IS\n\n- Case: \d+\n  Bestelling: NL-1, "
                     r"Fietsen BV\n  Termijn van de webshop: [^\n]+ · te laat\n", soon)
    assert "bij de volgende ronde van de planner" in soon and "mailbot check" not in soon
    late = digest.text(box.app, due + timedelta(hours=2), timedelta(days=1))
    assert "de planner draait misschien niet. Controleer het met mailbot check." in late
    digest.send(box.app, due + timedelta(hours=2))
    sent = only(box.deliver(), OPERATOR)
    assert sent["Subject"].endswith(": 1 alarm, 0 cases te behandelen")


def test_delivery_failed_samples_name_the_party_in_every_language(app):
    mails = operator_samples(app)
    for locale, subject, risk in (("nl", "Niet bezorgd aan de koper", "De koper moet uiterlijk"),
                                  ("fr", "E-mail non remis à l’acheteur", "L’acheteur a jusqu’au"),
                                  ("it", "E-mail non recapitata all’acquirente",
                                   "L’acquirente ha tempo fino al")):
        mail = mails["operator.delivery_failed", "", locale]
        assert mail.subject.startswith(subject) and risk in mail.text, locale


# --- issue 20, ops7a: operators' commands answered right -----------------------------------------

COLLEAGUE = "anna@service.example"


def helped(box):
    """The one answer to the team's last mail: (subject, text)."""
    mail = only(box.deliver(), OPERATOR)
    return mail["Subject"], text(mail)


def test_a_request_sent_from_its_link_says_its_message_is_missing_then_goes_out(box):
    """The link pre-fills the party's field; sent as it is, the answer names the empty field
    (not "is not a command"); with the message the buyer gets it and the team the reply-by
    date (review: "the parties have received" though one party did, and no date)."""
    mail = escalated(box)
    body = command_links(mail)["request-documents buyer"]["body"]
    assert body == "request-documents buyer\nbuyer (nl):"
    reply(box, mail, OPERATOR, body + " ", quote=False)
    subject, out = helped(box)
    assert subject == (f"Niet uitgevoerd: bericht ontbreekt · {SHOP} · "
                       f"case {case(box)['id']}")
    assert "Het bericht aan de koper ontbreekt (veld “buyer (nl):”)." in out
    assert "is geen opdracht" not in out and "Bedoelde je" not in out
    assert case(box)["state"] == "escalated"
    reply(box, mail, OPERATOR, body + " Stuur de factuur.", quote=False)
    mails = box.deliver()
    assert "Stuur de factuur." in text(only(mails, BUYER_NL))
    done = text(only(mails, OPERATOR))
    assert re.search(r"de koper heeft het bericht hieronder ontvangen en moet uiterlijk "
                     r"\d+ \w+ \d{4}, 23:59 antwoorden; daarna besluit je op basis van wat er dan is", done)
    assert "JOUW BERICHT AAN DE KOPER\n\n    Stuur de factuur." in done
    assert "De partijen hebben" not in done and "AAN DE PARTIJEN" not in done
    assert "buyer (nl):" not in done


def test_a_decision_with_an_empty_field_names_the_field(box):
    mail = escalated(box)
    reply(box, mail, OPERATOR, command_links(mail)["decide compensated"]["body"]
          .replace("buyer (nl): ", "buyer (nl): We vergoeden."), quote=False)
    subject, out = helped(box)
    assert subject.startswith("Niet uitgevoerd: bericht ontbreekt · ")
    assert "Het bericht aan de webshop ontbreekt (veld “merchant (nl):”)." in out
    assert "aan de koper ontbreekt" not in out and "is geen opdracht" not in out
    assert case(box)["state"] == "escalated"


def test_a_decision_after_a_colleagues_says_who_decided_when_and_how_to_change_it(box):
    box.app.config = dataclasses.replace(box.app.config, operators=dataclasses.replace(
        box.app.config.operators, addresses=(OPERATOR, COLLEAGUE)))
    mail = escalated(box)
    links = command_links(mail)
    reply(box, mail, COLLEAGUE, links["decide compensated"]["body"]
          .replace("amount: €\xa049,95", "amount: 30,00")
          .replace("buyer (nl): ", "buyer (nl): Ja.")
          .replace("merchant (nl):", "merchant (nl): Ja."), quote=False)
    box.deliver()
    reply(box, mail, OPERATOR, links["decide claim_rejected"]["body"]
          .replace("buyer (nl): ", "buyer (nl): Nee.")
          .replace("merchant (nl):", "merchant (nl): Nee."), quote=False)
    subject, out = helped(box)
    case_id = case(box)["id"]
    assert subject == f"Niet uitgevoerd: al besloten · {SHOP} · case {case_id}"
    assert re.search(rf"{COLLEAGUE} heeft op \d+ \w+ \d{{4}}, \d\d:\d\d al besloten \(besluit: "
                     r"[^)]*, €\xa030,00\)\. Je besluit \(decide claim_rejected\) is niet "
                     r"uitgevoerd\.", out)
    assert "is geen opdracht" not in out and "Bedoelde je" not in out
    assert f"mailbot case {case_id} correct refunded_by_merchant --amount" in out
    assert case(box)["outcome"] == "compensated"
    # The colleague's compensation is still owed: a "paid" reply acts, its footer says so.
    assert "lezen we als opdracht" in out.split("\n-- \n")[1]
    assert "per e-mail leg je die vast met paid" in " ".join(out.split())


def test_an_amount_above_the_cover_is_in_the_subject_and_heading(box):
    box.app.config = dataclasses.replace(box.app.config, cover=config_mod.Cover(plus=40))
    mail = escalated(box)
    reply(box, mail, OPERATOR, "decide compensated\namount: 45\nWe vergoeden.", quote=False)
    subject, out = helped(box)
    assert subject == (f"Niet uitgevoerd: bedrag boven de dekking · {SHOP} · "
                       f"case {case(box)['id']}")
    assert "Dit bedrag is niet mogelijk\n" in out
    assert "Geen opdracht gevonden" not in subject
    reply(box, mail, OPERATOR, "decide compensated\namount: veel\nWe vergoeden.", quote=False)
    assert helped(box)[0].startswith("Niet uitgevoerd: ongeldig bedrag · ")


def test_an_empty_mail_gets_the_commands_without_an_error(box):
    """The digest's "commands by e-mail" link opens a mail with no body."""
    mail = escalated(box)
    reply(box, mail, OPERATOR, "", quote=False)
    subject, out = helped(box)
    assert subject == f"Opdrachten per e-mail · {SHOP} · case {case(box)['id']}"
    assert f"Opdrachten voor case {case(box)['id']}\n" in out
    assert "niets veranderd" not in out and "Geen opdracht" not in out
    assert "(decide compensated)" in out


@pytest.mark.parametrize("locale, said", [
    ("nl", {"": "Geen opdracht gevonden", "empty": "Opdrachten per e-mail",
            "missing": "Niet uitgevoerd: bericht ontbreekt",
            "amount": "Niet uitgevoerd: ongeldig bedrag",
            "decided": "Niet uitgevoerd: al besloten", "closed": "Niet uitgevoerd: case gesloten",
            "mail_command": "Niet uitgevoerd: resend 311",
            "paid_already": "Niet uitgevoerd: al betaald",
            "not_owed": "Niet uitgevoerd: niets te betalen"}),
    ("fr", {"": "Aucune instruction trouvée",
            "empty": "Instructions par e-mail",
            "missing": "Non exécuté\u202f: message manquant",
            "amount": "Non exécuté\u202f: montant invalide",
            "decided": "Non exécuté\u202f: déjà décidé",
            "closed": "Non exécuté\u202f: dossier clos",
            "mail_command": "Non exécuté\u202f: resend 311",
            "paid_already": "Non exécuté\u202f: déjà payé",
            "not_owed": "Non exécuté\u202f: rien à payer"}),
    ("it", {"": "Nessuna istruzione trovata", "empty": "Istruzioni via e-mail",
            "missing": "Non eseguito: messaggio mancante",
            "amount": "Non eseguito: importo non valido",
            "decided": "Non eseguito: pratica già decisa",
            "closed": "Non eseguito: pratica chiusa",
            "mail_command": "Non eseguito: resend 311",
            "paid_already": "Non eseguito: già pagato",
            "not_owed": "Non eseguito: niente da pagare"}),
])
def test_every_command_help_says_what_happened_in_its_subject(app, locale, said):
    rendered = {label: out for (name, label, loc), out in operator_samples(app).items()
                if name == "operator.command_help" and loc == locale}
    assert {label: out.subject.split(" · ")[0] for label, out in rendered.items()} == said
    headings = {out.text.split("\n\n")[1] for out in rendered.values()}
    assert len(headings) == len(said)  # a heading of its own for each


@pytest.mark.parametrize("locale, said, absent", [
    ("nl", "de koper heeft het bericht hieronder ontvangen en moet uiterlijk ", "partijen"),
    ("fr", "l’acheteur a reçu le message ci-dessous et doit répondre au plus tard le ",
     "aux parties"),
    ("it", "l’acquirente ha ricevuto il messaggio qui sotto e deve rispondere entro il ",
     "alle parti"),
])
def test_command_done_of_a_request_names_the_party_and_its_date(app, locale, said, absent):
    out = operator_samples(app)[("operator.command_done", "request_documents", locale)]
    assert said in " ".join(out.text.split())
    assert absent not in out.text.lower()


@pytest.mark.parametrize("locale, outcome, said, wrong", [
    ("nl", "refunded_by_merchant", r"De webshop betaalt €\xa0249,95 uiterlijk \d+ \w+ \d{4};",
     "winkel"),
    ("it", "refunded_by_merchant", r"Il negozio paga 249,95\xa0€ entro il \d+ \w+ \d{4};",
     r"entro \d"),
    ("it", "compensated", r"Da fare: paga 249,95\xa0€ all’acquirente entro il \d+ \w+ \d{4},",
     r"entro \d"),
])
def test_command_done_says_webshop_and_entro_il(app, locale, outcome, said, wrong):
    """nl: the shop is "de webshop" for the team too; it: "entro il 7 dicembre 2026"."""
    from mailbot.outbound import samples
    sample, ctx = next((s, c) for s, c in samples.contexts(app, app.db(), locale)
                       if (s.name, s.label) == ("operator.command_done", ""))
    ctx = dict(ctx, data=dict(ctx["data"], outcome=outcome, command=f"decide {outcome}"))
    out = app.renderer.render(sample.name, locale, ctx).text
    assert re.search(said, out), out
    assert not re.search(wrong, out.lower())


def test_the_footer_says_a_reply_changes_nothing_where_no_command_can_act(app):
    """A closed case's help: a reply to it carries out no command, and the footer no longer says
    it is read as one. A failed delivery's reply does (``resend N``), and so does a relayed
    message on a closed case whose payment is owed (``paid``)."""
    mails = operator_samples(app)
    acting = "Een antwoord erop lezen we als opdracht"
    idle = "Voor deze bestelling kun je nu geen opdrachten per e-mail geven"
    for key in (("operator.command_help", "not_owed", "nl"),
                ("operator.command_help", "paid_already", "nl")):
        footer = mails[key].text.split("\n-- \n")[1]
        assert idle in footer and acting not in footer, key
    # A closed case whose payment is owed takes "paid" by reply (test_operators_last).
    for key in (("operator.command_help", "", "nl"), ("operator.delivery_failed", "", "nl"),
                ("operator.delivery_failed", "before_case", "nl"),
                ("operator.command_help", "closed", "nl"),
                ("operator.message_relayed", "closed_payment_awaited", "nl")):
        assert acting in mails[key].text.split("\n-- \n")[1], key


def test_a_compensation_link_starts_at_the_plans_cover_when_it_is_below_the_order(app):
    """Fourth review: with a cover of € 200,00 for an order of € 249,95, a link that opened
    "decide compensated" at the order's amount was refused by the bot it went to."""
    from decimal import Decimal
    from urllib.parse import unquote

    from mailbot.outbound import samples
    sample, ctx = next((s, c) for s, c in samples.contexts(app, app.db(), "nl")
                       if s.name == "operator.case_escalated")
    for cover, expected in ((Decimal("200"), "€\u00a0200,00"), (None, "€\u00a0249,95")):
        mail = app.renderer.render(sample.name, "nl", {**ctx, "file": {**ctx["file"],
                                                                      "cover": cover}})
        bodies = {unquote(b).split("\r\n")[0]: unquote(b)
                  for b in re.findall(r"body=([^\s>\]]+)", mail.text)}
        assert f"amount: {expected}" in bodies["decide compensated"]
        assert "amount: €\u00a0249,95" in bodies["decide refunded_by_merchant"]


def test_an_escalation_without_documents_does_not_say_they_are_attached(box):
    """The act-out of session 8: a case whose parties sent no document (the buyer's only file was
    refused) told the team "every document of the case is attached" over a mail with none."""
    mail = escalated(box)
    assert list(mail.iter_attachments()) == []
    said = text(mail)
    assert "geen van de partijen heeft documenten gestuurd" in said
    assert "alle documenten zitten als bijlage" not in said
    assert "geen documenten" in mail.get_body(("html",)).get_content()  # the preheader
