"""Reply trimming (``inbound/reply.py``) rule by rule: each test pins one rule of the module that
the sentences and headers of ``test_reply.py`` leave open -- where a limit lies (300 characters a
line, seven lines a broken header, 90 characters after the verb, four lines below a sign-off), which
lines a broken-out link joins the quote, when a client's attribution is a sentence -- on real mails
of ``../shared/corpus`` where one shows the rule, and on short mails written like them elsewhere.
(Found by mutation testing, ``bench/mutation.py``: each test fails on a small wrong change.)"""

from __future__ import annotations

import json

import pytest

from mailbot.inbound.reply import new_text, without_closing

QUOTE = "> Is het pakket aangekomen?"
REPLY = "Nee, het is niet aangekomen."


def padded(start: str, end: str, length: int, filler: str = "Klantenservice ") -> str:
    """``start`` + filler + ``end``, exactly ``length`` characters long."""
    room = length - len(start) - len(end)
    text = start + (filler * (room // len(filler) + 1))[:room] + end
    assert len(text) == length
    return text


# -- real mails --------------------------------------------------------------------------------

def _item(corpus, source, path):
    manifest = json.loads((corpus / source / "manifest.json").read_text())
    text = (corpus / source / path).read_text(encoding="utf-8")
    return text, manifest["items"][path]["expected_reply"]


def test_a_quote_inside_the_bottom_posted_reply_stays(corpus):
    """Discourse's embedded_email_17: the reply sits below one attribution, quotes a part of an
    older mail under a second one and answers it; only the attributions go."""
    text, expected = _item(corpus, "discourse_email_reply_trimmer", "emails/embedded_email_17.txt")
    assert new_text(text) == expected
    assert "> It should be:" in expected and "wrote:" not in expected


def test_a_closing_above_the_last_newline_goes(corpus):
    """talon's short_url_body ends "Thank you,\\nNoam\\n": the newline at the end of the file does
    not hide the closing above it."""
    text, expected = _item(corpus, "mailgun_talon", "signature/short_url_body")
    assert text.endswith("Noam\n")
    assert without_closing(text) == expected
    assert new_text(text) == expected


# -- limits: a line of 300 characters is looked at, a longer one is text ------------------------

def test_an_inline_attribution_is_split_off_a_line_of_at_most_300_characters():
    header = " On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:"
    line = padded("Het pakket is nog steeds niet aangekomen en ", header, 300,
                  "ik wacht al weken op een antwoord van de winkel ")
    reply = line[:-len(header)]
    assert new_text(f"{line}\n> Hi") == reply.strip()
    longer = padded("Het pakket is nog steeds niet aangekomen en ", header, 301,
                    "ik wacht al weken op een antwoord van de winkel ")
    assert new_text(f"{longer}\n> Hi") == longer


def test_a_rule_of_at_most_300_characters_ends_the_text():
    assert new_text("Answer.\n" + "-" * 300 + "\nfooter") == "Answer."
    assert new_text("Answer.\n" + "-" * 301 + "\nfooter") == "Answer.\n" + "-" * 301 + "\nfooter"


def test_a_link_of_at_most_300_characters_broken_out_of_a_quote_is_quoted():
    link = padded("https://track.example/", "", 300, "abc123")
    assert new_text(f"Blah\n\n> Volg je pakket:\n{link}\n>") == "Blah"
    longer = padded("https://track.example/", "", 301, "abc123")
    assert new_text(f"Blah\n\n> Volg je pakket:\n{longer}\n>") == (
        f"Blah\n\n> Volg je pakket:\n{longer}")


def test_a_broken_header_is_read_up_to_300_characters():
    second = "<shop@x.example> wrote:"
    first = padded("On Mon, 4 Mar 2024 at 10:00 ", "", 300 - len(second) - 1)
    assert new_text(f"Prima.\n\n{first}\n{second}\n> oud") == "Prima."
    longer = padded("On Mon, 4 Mar 2024 at 10:00 ", "", 301 - len(second) - 1)
    # Too long to be one header: the address and the verb alone are the header.
    assert new_text(f"Prima.\n\n{longer}\n{second}\n> oud") == f"Prima.\n\n{longer.strip()}"


def test_a_broken_header_is_read_over_at_most_seven_lines():
    header = "Shop <shop@x.example> wrote:"
    sentence = "On Monday at 10:00 I am home all day."
    # Seven lines from the sentence to the header: read as one broken header.
    assert new_text(f"Prima.\n\n{sentence}\n" + "\n" * 5 + f"{header}\n> oud") == "Prima."
    # Eight: the sentence is the sender's, the header below it stands alone.
    assert new_text(f"Prima.\n\n{sentence}\n" + "\n" * 6 + f"{header}\n> oud") == (
        f"Prima.\n\n{sentence}")


def test_at_most_90_characters_after_the_verb_are_a_name_and_an_address():
    # No time on the line: with a time, an address and a colon it is a header of some client.
    start = "Am Montag, 4. März 2024, schrieb "
    for length, header in ((90, True), (91, False)):
        after = padded("", " <klantenservice@fietsen.example>:", length, "Kundenservice ")
        line = start + after
        assert len(line) - len(start) == length
        assert new_text(f"Prima.\n\n{line}\n> oud") == ("Prima." if header else f"Prima.\n\n{line}")


# -- quote headers -------------------------------------------------------------------------------

def test_every_verb_of_a_header_line_is_tried():
    """"Sent" in the sender's name is a verb followed by a long sentence; "wrote" ends the line."""
    header = ("On Monday 4 March 2024, Sent Items Archive of Fietsen BV Klantenservice "
              "Amsterdam Noord <klantenservice.amsterdam.noord@fietsen-bv.example> wrote:")
    assert new_text(f"Prima.\n\n{header}\n> oud") == "Prima."


def test_an_address_at_the_start_of_the_header():
    assert new_text("Prima.\n\nj@fietsen.example wrote:\n> oud") == "Prima."


def test_more_words_after_the_verb_make_a_sentence():
    text = "Klaar.\n\nOn 4 March 2024 at 10:00 the parcel was sent: X"
    assert new_text(text) == text


@pytest.mark.parametrize("header", [
    "2013/7/20 10:15 Some One <\nsome.one@x.example>:",  # Gmail, broken after "<"
    "2013/7/20 some.one@x.example:",
])
def test_a_date_first_header_with_an_address_or_a_time(header):
    assert new_text(f"Prima.\n\n{header}\n> oud") == "Prima."


def test_a_line_that_starts_with_a_date_and_ends_with_a_colon_is_text():
    text = "2024-03-01 betaald, en daarna:\nniets meer."
    assert new_text(text) == text


def test_a_header_framed_by_dashes_may_be_indented():
    header = "  ------On 12/29/1987 17:32 PM, Shop wrote-----"
    assert new_text(f"Before.\n\n{header}\n\nold") == "Before."


# -- a client's attribution or a sentence ------------------------------------------------------

@pytest.mark.parametrize("header", [
    "Le 19/03/2014 11:34, X a écrit : ",  # a space after the colon (format=flowed)
    "El 4 de marzo de 2024, a las 10:00, Sanne escribió:",  # "de marzo" is the date
    "Em 4 de março de 2024 às 10:00, Sanne escreveu:",
])
def test_a_client_attribution_without_a_quote_below(header):
    mail = f"Sí, gracias.\n\n{header}\n¿Ha llegado el paquete?\nSaludos, la tienda"
    assert new_text(mail) == "Sí, gracias."


@pytest.mark.parametrize("text", [
    # A sentence broken after the verb: no colon, no attribution.
    "Le 4 mars 2024 à 10:00, Marie a écrit\nque le colis était perdu. Il est arrivé hier.",
    # The writer is "ich", after the time.
    "Am Montag schrieb ich um 10:55:\n\"Wo bleibt mein Paket?\"\nKeine Antwort.",
    # "the sent confirmation": an article before the verb's word.
    "Hoi,\n\nOn 4 March 2024 at 10:00, the sent confirmation said:\nyour parcel is on its way.\n"
    "It is not.",
])
def test_a_sentence_that_reads_like_an_attribution_stays(text):
    assert new_text(text) == text


def test_a_sentence_like_an_attribution_below_a_bottom_posted_quote():
    """The quote and its header go, the sentence and all below it stay, whole."""
    mail = ("On Mon, 4 Mar 2024 at 10:00, Bot <bot@x.example> wrote:\n> Heeft de winkel geantwoord?"
            "\n\nOp 3 maart 2024 om 10:00 schreef de winkel:\nwe storten het terug. Niets gezien.")
    assert new_text(mail) == (
        "Op 3 maart 2024 om 10:00 schreef de winkel:\nwe storten het terug. Niets gezien.")


@pytest.mark.parametrize("header", [
    "Le lun. 4 mars 2024 à 10:00, Shop <shop@x.example> a\n> écrit :",  # the verb broken
    "On Monday, Shop Support\n> X@shop.example wrote:",  # the address is all the evidence
])
def test_the_quote_marks_of_a_broken_header_are_not_read(header):
    assert new_text(f"Prima.\n\n{header}\n> oud") == "Prima."


def test_an_answer_right_below_a_broken_header():
    mail = f"On Mon, 4 Mar 2024 at 10:00 Shop\n<shop@x.example> wrote:\n{REPLY}"
    assert new_text(mail) == REPLY


# -- links broken out of a quote, answers between quoted lines ---------------------------------

def test_a_link_broken_out_of_a_quote_joins_it():
    # A trailing space, as format=flowed leaves it.
    assert new_text("Blah\n\n> View (http://x.example/a\n_nonce=3dd) \n>") == "Blah"
    # Parentheses on the quoted lines around it.
    assert new_text("Blah\n\n> Fietsen BV (Amsterdam)\n> Volg je pakket (http://x.example/a\n"
                    "_nonce=3dd)\n> (werkdagen 9-17)") == "Blah"
    # A whole mail of quoted lines.
    assert new_text("> Je bestelling (http://x.example/order/\n1)\n>") == ""


@pytest.mark.parametrize("mail, reply", [
    # One word between quoted lines.
    (f"{QUOTE}\nNee\n>\n> Groet, de winkel", f"{QUOTE}\nNee"),
    # A smiley ends in ")", the quoted line above it has its parentheses closed.
    ("> Is het pakket (eindelijk) aangekomen?\nJa:)\n>",
     "> Is het pakket (eindelijk) aangekomen?\nJa:)"),
    ("> Is het pakket aangekomen?\nJa:)\n>", "> Is het pakket aangekomen?\nJa:)"),
    # Words after an open parenthesis, with or without a closing one.
    ("> Kun je een foto sturen (van de doos?\nJa, zie bijlage.\n> Bedankt",
     "> Kun je een foto sturen (van de doos?\nJa, zie bijlage."),
    ("> Stuur een foto (of een video\nfoto's bijgevoegd)\n>",
     "> Stuur een foto (of een video\nfoto's bijgevoegd)"),
])
def test_an_answer_between_quoted_lines_is_the_senders(mail, reply):
    assert new_text(mail) == reply


def test_a_link_as_the_answer_below_a_quote():
    mail = ("On Mon, 4 Mar 2024 at 10:00, Bot <bot@x.example> wrote:\n> Stuur ons een foto van de "
            "schade.\nhttps://photos.example/abc\nZie de link hierboven.")
    assert new_text(mail) == "https://photos.example/abc\nZie de link hierboven."


def test_a_link_above_a_quote_is_the_reply():
    assert new_text("http://shop.example/order/1\n> old\n> older") == "http://shop.example/order/1"


# -- signatures and sign-offs --------------------------------------------------------------------

def test_a_one_word_answer_above_a_mobile_signature_stays():
    assert new_text("Ja\nSent from my iPhone\n") == "Ja"
    # A name as the whole answer, below the question it answers.
    mail = "> Wie heeft het pakket aangenomen?\n\nSanne\nSent from my iPhone"
    assert new_text(mail) == "> Wie heeft het pakket aangenomen?\n\nSanne"


def test_a_delimiter_above_a_mobile_signature_ends_the_text():
    assert new_text("Answer.\n\n-- \nJohn Doe\nSent from my iPhone") == "Answer."


def test_a_closing_above_a_prompt_left_as_it_was_goes():
    mail = "Body.\n\nMet vriendelijke groet,\nSanne\n\n[Schrijf hier je vraag aan de winkel]"
    assert new_text(mail) == "Body."
    assert without_closing("Thanks for the quick refund.\n\nKind regards,\nSanne\n") == (
        "Thanks for the quick refund.")


def test_a_closing_alone_is_no_new_text():
    assert new_text("Met vriendelijke groet,\nSanne") == ""
    assert without_closing("Kind regards,\nJohn") == ""


def test_a_dash_and_a_name_right_below_the_text():
    assert new_text(f"{REPLY}\n-Sanne") == REPLY
    # Alone, after empty lines (as HTML made text starts), it is the reply.
    assert new_text("\n\n-Jan") == "-Jan"


def test_a_sign_off_with_an_initial():
    assert new_text("Body.\n\nRegards, X") == "Body."


@pytest.mark.parametrize("length, removed", [(60, True), (61, False)])
def test_lines_below_a_sign_off_are_at_most_60_characters(length, removed):
    company = padded("Fietsen BV, afdeling klantenservice", "", length, ", Amsterdam-Noord")
    mail = f"{REPLY}\n\nMet vriendelijke groet,\nSanne de Vries\n{company}"
    assert new_text(mail) == (REPLY if removed else mail)


def test_a_sentence_below_a_sign_off_stays_with_a_space_after_its_full_stop():
    mail = f"{REPLY}\n\nMet vriendelijke groet,\nIk hoop dat u snel antwoordt. "
    assert new_text(mail) == mail.strip()


@pytest.mark.parametrize("length, removed", [(300, True), (301, False)])
def test_a_sign_off_line_is_read_up_to_300_characters(length, removed):
    line = padded("Regards, Sanne ", "", length, "Klantenservice-")
    mail = f"{REPLY}\n\n{line}"
    assert new_text(mail) == (REPLY if removed else mail)


def test_a_contact_block_is_a_name_and_one_to_four_lines():
    assert new_text(f"{REPLY}\n\nGina Xxxxx\ngina@x.example") == REPLY
    # Five links below a name are the sender's list, not a contact block.
    links = "\n".join(f"https://track.example/{n}" for n in range(1, 6))
    mail = f"Hier de bewijzen:\n\nPostNL\n{links}"
    assert new_text(mail) == mail
    # A name and contact lines as the whole reply stay.
    assert new_text("\n\nGina Xxxxx\ngina@x.example\n(555) 346-9947") == (
        "Gina Xxxxx\ngina@x.example\n(555) 346-9947")


# -- header blocks -------------------------------------------------------------------------------

def test_two_fields_at_the_start_need_an_address_or_a_time_of_their_own():
    text = "Datum: morgen\nAan: de balie\nGraag een bon naar koper@x.example."
    assert new_text(text) == text


def test_a_header_block_is_read_over_eight_lines():
    address = "Klantenservice\nPostbus 12\n1000 AA Amsterdam\nNederland\nTel 020-1234567"
    # Three fields within eight lines: an embedded mail, even right below the text.
    mail = f"Zie bijlage.\nVan: Fietsen BV\n{address}\nAan: koper\nOnderwerp: retour\n\nOud"
    assert new_text(mail) == "Zie bijlage."
    # The third on the ninth line: two fields glued to the text are the sender's.
    mail = (f"Zie bijlage.\nVan: Fietsen BV\n{address}\nwww.fietsen.example\nAan: koper\n"
            "Onderwerp: retour")
    assert new_text(mail) == mail
