"""A buyer and a shop who read different languages are told, under the other's quoted words,
which language the other reads and that we pass words on untranslated; parties who share a
language are not."""
import pytest
from bs4 import BeautifulSoup

from conftest import make_config
from mailbot import wiring
from mailbot.outbound import samples

# (sample, label): the mails that quote one party's own words to the other party.
QUOTING = [("merchant.case_opened", ""), ("merchant.nudge", ""), ("buyer.decision", "B"),
           ("buyer.case_escalated", "merchant_refused_refund")]
OTHER = {"nl": "it", "fr": "nl", "it": "fr"}
SAID = {
    ("merchant", "nl"): "De koper ontvangt onze e-mails in het Italiaans.",
    ("merchant", "fr"): "L’acheteur reçoit nos e-mails en néerlandais.",
    ("merchant", "it"): "L’acquirente riceve le nostre e-mail in francese.",
    ("buyer", "nl"): "ontvangt onze e-mails in het Italiaans.",
    ("buyer", "fr"): "reçoit nos e-mails en néerlandais.",
    ("buyer", "it"): "riceve le nostre e-mail in francese.",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = wiring.build(make_config(tmp_path_factory.mktemp("untranslated")))
    yield app
    app.close()


def _rendered(app, locale, name, label, other):
    s, ctx = next((s, c) for s, c in samples.contexts(app, app.db(), locale)
                  if (s.name, s.label) == (name, label))
    if other:
        # The other party reads ``other``: the buyer for a shop's mail, the shop for a buyer's.
        key = "buyer_locale" if s.name.startswith("merchant.") else "shop_locale"
        ctx["order"] = {**ctx["order"], key: other}
    return app.renderer.render(s.name, locale, ctx)


@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
@pytest.mark.parametrize("name, label", QUOTING)
def test_parties_in_two_languages_are_told_words_go_untranslated(app, locale, name, label):
    out = _rendered(app, locale, name, label, OTHER[locale])
    said = SAID[name.partition(".")[0], locale]
    # The HTML part keeps "e-mail" in a no-wrap span and amounts with U+00A0 against line breaks.
    html = " ".join(BeautifulSoup(out.html, "html.parser").get_text(" ").split())
    assert said in out.text and said in html


@pytest.mark.parametrize("name, label", QUOTING)
def test_parties_in_one_language_get_no_such_note(app, name, label):
    out = _rendered(app, "nl", name, label, None)
    assert "ontvangt onze e-mails in het" not in out.text
