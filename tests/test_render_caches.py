"""The renderer keeps translated sentences and mailto queries between mails: a kept one is the
one the same arguments would give again — a value's type counts (the HTML part escapes a
plain string and not Markup, which compare equal), escaping counts (text against HTML), and the
text and the HTML part of a mailto link agree."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from markupsafe import Markup

from mailbot.outbound.render import Renderer, mailto, no_break_hyphens

SENTENCE = '{{ _("Order %(number)s of %(shop)s.", number=n, shop=s) }}'


def test_a_kept_translation_is_the_one_its_arguments_give():
    renderer = Renderer(ZoneInfo("Europe/Amsterdam"))
    html = renderer._envs["fr", "html"].from_string(SENTENCE)
    text = renderer._envs["fr", "text"].from_string(SENTENCE)
    for _ in range(2):  # the second round reads what the first kept
        assert html.render(n="<1>", s="A&B") == "Order &lt;1&gt; of A&amp;B."
        assert html.render(n=Markup("<b>1</b>"), s="A&B") == "Order <b>1</b> of A&amp;B."
        assert text.render(n="<1>", s="A&B") == "Order <1> of A&B."
        # "B.V." ends the sentence with its own full stop: one, not two.
        assert text.render(n=1, s="Fietsen B.V.") == "Order 1 of Fietsen B.V."
        assert text.render(n=2, s="Fietsen B.V.") == "Order 2 of Fietsen B.V."


def test_mailto_quotes_the_same_for_markup_and_text():
    plain = mailto("bot+x@bot.example", "Commande FR-1 : « oui »", "ligne 1\nligne 2")
    marked = mailto("bot+x@bot.example", Markup("Commande FR-1 : &laquo; oui &raquo;"),
                    Markup("ligne 1\nligne 2"))
    assert plain == marked == ("mailto:bot+x@bot.example?subject=Commande%20FR-1%20%3A%20%C2%AB"
                               "%20oui%20%C2%BB&body=ligne%201%0D%0Aligne%202")
    assert mailto("bot+x@bot.example", " ", "") == "mailto:bot+x@bot.example"


def test_e_mail_is_kept_whole_outside_tags_only():
    html = ('<title>Uw e-mail</title><a href="https://x.example/e-mail">E-mail ons</a>'
            "<p>per e-mail</p>")
    nowrap = '<span style="white-space:nowrap">'
    assert no_break_hyphens(html) == ('<title>Uw e-mail</title><a href="https://x.example/e-mail">'
                                      f"{nowrap}E-mail</span> ons</a><p>per {nowrap}e-mail</span></p>")
    assert no_break_hyphens("<p>geen</p>") == "<p>geen</p>"


def test_equal_decimals_that_print_differently_are_not_confused():
    from decimal import Decimal

    renderer = Renderer(ZoneInfo("Europe/Amsterdam"))
    text = renderer._envs["nl", "text"].from_string('{{ _("Amount %(a)s", a=a) }}')
    assert text.render(a=Decimal("1.0")) == "Amount 1.0"
    assert text.render(a=Decimal("1.00")) == "Amount 1.00"
