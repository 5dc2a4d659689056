"""The team's promise to an escalated case's parties (review 12D item 3, asked since review
10D): with ``[operators] decision_days`` set, the buyer's and the shop's escalation mails name
the day by which they hear from the team (its decision or a request for documents), counted in
calendar days from the escalation as every deadline is; without it no day is promised. Driven
through the real flow: SMTP in, ``tick`` past the shop's deadline, the relay's Maildir."""

from __future__ import annotations

from datetime import timedelta

import pytest
from babel.dates import format_date

import conftest
from conftest import OPERATOR, make_config, only, rendered_samples, reply, text, to
from mailbot import digest, imports, jobs, wiring
from test_case_by_mail import case, open_case
from test_protection_by_mail import BUYER_NL, MERCHANT_NL, now


@pytest.fixture
def app(tmp_path):
    """conftest's app, with the team's promise of ten days."""
    application = wiring.build(make_config(tmp_path, operators={"decision_days": 10}))
    (tmp_path / "m.csv").write_text(conftest.MERCHANTS)
    (tmp_path / "o.csv").write_text(conftest.ORDERS)
    imports.import_merchants(application.db(), str(tmp_path / "m.csv"))
    imports.import_orders(application.db(), str(tmp_path / "o.csv"), application.tz)
    yield application
    application.close()


def test_an_escalated_case_names_the_day_its_parties_hear_from_the_team(box):
    open_case(box)
    box.deliver()
    escalated = now() + timedelta(days=6)  # past the end of the shop's day 5
    jobs.tick(box.app, escalated)
    mails = box.deliver()
    assert case(box)["state"] == "escalated" and to(mails, OPERATOR)
    day = format_date(escalated.astimezone(box.app.tz).date() + timedelta(days=10), "d MMMM y",
                      locale="nl")
    buyer, shop = text(only(mails, BUYER_NL)), text(only(mails, MERCHANT_NL))
    assert f"{day} hoor je van ons serviceteam: het besluit, of een vraag om documenten." in buyer
    assert "elke dag" not in buyer  # the promise replaces the vaguer sentence
    assert "Bericht van ons serviceteam uiterlijk: " in buyer  # and the box names it too
    assert "Ons serviceteam schrijft je uiterlijk" in shop and day in shop
    assert "zodra er een besluit is" not in shop
    # The team reads what its parties were promised, and again beside a party's message.
    assert "Bericht aan de partijen uiterlijk: " in text(only(mails, OPERATOR))
    reply(box, only(mails, BUYER_NL), BUYER_NL, "Hier is nog een foto van de lege brievenbus.")
    relayed = text(only(box.deliver(), OPERATOR))
    assert f"Termijn: de partijen horen uiterlijk {day.rsplit(' ', 1)[0]} van het team" in relayed


def test_without_a_promise_no_day_is_named(tmp_path):
    """The default (0): the escalation says what is true without a date."""
    assert make_config(tmp_path).operators.decision_days == 0
    said = {(s.name, locale): out.text for s, _, locale, out in rendered_samples(
        tmp_path, lambda s: s.name in ("buyer.case_escalated", "merchant.case_escalated"))}
    assert said
    for (name, locale), body in said.items():
        if locale == "nl":
            assert "hoor je van ons serviceteam" not in body and "schrijft je uiterlijk" not in body
    assert any("elke dag" in b for (n, loc), b in said.items() if n.startswith("buyer.") and loc == "nl")


def test_the_digest_marks_a_case_kept_past_the_promised_day(box):
    """The digest says by when the parties were promised word, and marks a case the team has
    kept longer; a case whose documents the team asked for has had word from it."""
    open_case(box)
    box.deliver()
    escalated = now() + timedelta(days=6)
    jobs.tick(box.app, escalated)
    box.deliver()
    promised = format_date(escalated.astimezone(box.app.tz).date() + timedelta(days=10),
                           "d MMMM", locale="nl")
    within = escalated + timedelta(days=3)
    data = digest.collect(box.app.db(), within, timedelta(days=1), box.app.tz, 10)
    assert [c["promise_broken"] for c in data["attention"]] == [False]
    assert f"de partijen horen uiterlijk {promised} van het team" in \
        digest.text(box.app, within, timedelta(days=1))
    late = escalated + timedelta(days=11)
    assert [c["promise_broken"] for c in digest.collect(
        box.app.db(), late, timedelta(days=1), box.app.tz, 10)["attention"]] == [True]
    assert f"de partijen hadden uiterlijk {promised} van het team moeten horen" in \
        digest.text(box.app, late, timedelta(days=1))
    # Without a promise, nothing is promised or broken.
    assert digest.collect(box.app.db(), late, timedelta(days=1),
                          box.app.tz)["attention"][0]["promised"] is None
