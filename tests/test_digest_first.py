"""The operators' digest (issue 20, operators' review): what cannot wait comes first and is
counted in the subject (the scheduler that may be down, payments past their date), each case
with the team shows how many days it has waited, the text part carries the same per-case
command link as the HTML part (numbered, as in every text mail), and no label's value holds a
second colon."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from conftest import OPERATOR, only, rendered_samples
from mailbot import digest
from mailbot.outbound.render import LOCALES
from test_case_by_mail import case, open_case

# The compensation waiting for the buyer's bank details past its date is late too (review 12).
LATE = {"nl": "2 betalingen te laat", "fr": "2 paiements en retard", "it": "2 pagamenti in ritardo"}
ALERT = {"nl": "1 alarm", "fr": "1 alerte", "it": "1 avviso"}
DAYS = {"nl": "3 dagen", "fr": "3 jours", "it": "3 giorni"}
FIRST_CASE = "mailbot case 1040"


@pytest.fixture(scope="module")
def digests(tmp_path_factory):
    """The sample digest, rendered in each locale as compose renders it."""
    return {locale: out for _, _, locale, out in rendered_samples(
        tmp_path_factory.mktemp("digest"), lambda s: s.name == "operator.digest")}


@pytest.mark.parametrize("locale", LOCALES)
def test_alerts_and_late_payments_come_first_and_are_counted(digests, locale):
    out = digests[locale]
    assert ALERT[locale] in out.subject and LATE[locale] in out.subject, out.subject
    body = out.text
    # The scheduler's alert and the late payment (case 1032) before the first case with the team.
    assert body.index("mailbot check") < body.index(FIRST_CASE)
    assert re.search(r"\b1032\b", body[:body.index(FIRST_CASE)])


@pytest.mark.parametrize("locale", LOCALES)
def test_each_case_with_the_team_shows_its_age_in_days(digests, locale):
    line = next(x for x in digests[locale].text.splitlines() if "20 novembre" in x
                or "20 november" in x)
    assert DAYS[locale] in line, line


@pytest.mark.parametrize("locale", LOCALES)
def test_the_text_part_has_each_cases_mail_command_link(digests, locale):
    out = digests[locale]
    html_links = set(re.findall(r'href="(mailto:bot\+[^"]+)"', out.html))
    listed = dict(re.findall(r"^\[(\d+)\] (mailto:\S+)$", out.text, re.M))
    assert html_links and {u.replace("&amp;", "&") for u in html_links} <= set(listed.values())
    row = next(x for x in out.text.splitlines() if FIRST_CASE in x)
    assert re.search(r"\[\d+\]$", row), row


@pytest.mark.parametrize("locale", LOCALES)
def test_no_value_in_the_digest_holds_a_second_colon(digests, locale):
    colon = re.compile(r"^\s+[^:]+\u202f?: .*\S\u202f?: ", re.M)
    assert colon.findall(digests[locale].text) == []


def test_a_stalled_scheduler_is_the_first_news_of_a_real_digest(box):
    open_case(box)
    # No tick has run an hour after the shop's deadline: the case has not been handed over.
    late = datetime.fromisoformat(case(box)["merchant_due"]) + timedelta(hours=2)
    out = digest.text(box.app, late, timedelta(days=1))
    assert out.index("de planner draait misschien niet") < out.index("IN DEZE PERIODE")
    # The stalled case is listed in the alarm only, not again with the shops' deadlines.
    assert "WEBSHOPS WAARVAN DE TERMIJN" not in out
    digest.send(box.app, late)
    subject = only(box.deliver(), OPERATOR)["Subject"]
    assert re.fullmatch(r"Dagoverzicht \d+ \w+: 1 alarm, 0 cases te behandelen", subject), \
        subject
