"""Reply trimming (``inbound/reply.py``): what a sender writes stays whole, quoted history,
closings and signatures go, and every input costs linear work (issue 9 §1, §2)."""

from __future__ import annotations

import pytest

from mailbot.inbound.html_text import html_to_text
from mailbot.inbound.reply import Kind, new_text, without_closing

# Ordinary sentences with the words quote headers are made of: none of them may be cut.
SENTENCES = {
    "nl": [
        "Ik stuurde een mail op maandag en de winkel schreef terug dat het pakket onderweg was.",
        "Op 3 maart heb ik besteld en op 5 maart schreef de winkel dat alles verzonden was.",
        "Op maandag 4 maart 2024 om 10:00\nschreef de winkel dat ik mijn geld terugkrijg.",
        "De verkoper schreef op zijn site dat levering binnen twee dagen is.",
        "Op de factuur staat een ander adres dan waar ik op woon.",
        "Ik wacht al op het pakket sinds 12 februari 2024.",
        "Ze schreef me op 14:30 dat de bestelling klaar stond, daarna niets meer.",
        "Op het etiket staat info@winkel.example, maar daar antwoordt niemand.",
        "Mijn buurman zegt dat de bezorger op woensdag langs is geweest.",
        "De winkel schreef: we sturen het opnieuw. Dat is nooit gebeurd.",
        "Ik heb op 2024-03-01 betaald met iDEAL en op 2024-03-02 een bevestiging gekregen.",
        "Op zaterdag was ik thuis, toch staat er 'niet thuis' op de kaart.",
        "Het pakket is present volgens de track & trace, maar niet bij mij.",
        "Sent staat er in hun systeem, zegt de klantenservice.",
        "Op de foto zie je de schade aan de doos.",
        "Ik heb het geld op 7 april 2024 overgemaakt naar de winkel.",
        "De medewerker schreef dat ik op een reactie moest wachten.",
        "Op verzoek van de winkel heb ik het artikel teruggestuurd.",
        "Gisteren schreef ik de winkel op hun adres sales@winkel.example aan.",
        "Op 1 mei schreef ik nog een herinnering en die bleef ook onbeantwoord.",
    ],
    "fr": [
        "J'ai envoyé un mail le lundi et la boutique a écrit que le colis était parti.",
        "Le 3 mars 2024, la boutique a écrit qu'elle me rembourserait sous huit jours.",
        "Le vendeur a écrit sur son site que la livraison prend deux jours.",
        "Le colis est arrivé le 12 février, mais la boîte était vide.",
        "Le transporteur a écrit le 5 mars à 10:15 que le colis était livré.",
        "Le service client a écrit à contact@boutique.example sans réponse.",
        "Le numéro de suivi indique que le colis est présent au dépôt.",
        "Le lundi suivant, la boutique a écrit de nouveau pour s'excuser.",
        "Je l'ai signalé le jour même par téléphone.",
        "Le montant prélevé est de 49,95 € le 2024-03-01.",
        "Le livreur a écrit \"absent\" alors que j'étais chez moi.",
        "Le produit reçu ne correspond pas à la photo du site.",
        "Le 1er avril, la boutique a écrit qu'il n'y avait plus de stock.",
        "Elle a écrit le message à 9h30 et rien depuis.",
        "Le remboursement promis le 10 avril n'est jamais arrivé.",
        "Le colis a été sent par erreur à une autre adresse, selon eux.",
        "Le vendeur m'a écrit le 15/04/2024 qu'il attendait le retour.",
        "Le retour a été déposé le 20 avril au point relais.",
        "Le vendeur a écrit sa réponse en anglais, je ne la comprends pas bien.",
        "Le mardi 7 mai 2024 à 14:00, j'ai appelé et on m'a raccroché au nez.",
    ],
    "it": [
        "Ho mandato una mail il lunedì e il negozio ha scritto che il pacco era partito.",
        "Il 3 marzo 2024 il negozio ha scritto che mi avrebbe rimborsato.",
        "Il venditore ha scritto sul sito che la consegna richiede due giorni.",
        "Il pacco è arrivato il 12 febbraio, ma la scatola era vuota.",
        "Il corriere ha scritto il 5 marzo alle 10:15 che il pacco era consegnato.",
        "Il servizio clienti ha scritto da ordini@negozio.example senza risolvere nulla.",
        "Il tracking dice che il pacco è presente in magazzino.",
        "Il giorno dopo il negozio ha scritto di nuovo per scusarsi.",
        "Il prodotto ricevuto non corrisponde alla foto.",
        "Il pagamento di 49,95 € è stato addebitato il 2024-03-01.",
        "Il corriere ha scritto \"destinatario assente\" ma io ero a casa.",
        "Il 1 aprile il negozio ha scritto che non c'era più disponibilità.",
        "Il reso è stato spedito il 20 aprile con ricevuta.",
        "Il negozio ha scritto alle 9.30 e poi più niente.",
        "Il rimborso promesso per il 10 aprile non è mai arrivato.",
        "Il venditore mi ha scritto il 15/04/2024 che aspettava il reso.",
        "Il pacco risulta sent secondo il loro sistema, dicono.",
        "Il martedì successivo ho chiamato ma nessuno ha risposto.",
        "Il negozio ha scritto la risposta in inglese e non la capisco bene.",
        "Il giorno 7 maggio 2024 alle 14:00 ho chiamato il negozio senza risultato.",
    ],
    "en": [
        "I sent a mail on Monday and the shop wrote back that the parcel was on its way.",
        "On 3 March 2024 the shop wrote that they would refund me within a week.",
        "On Monday 4 March 2024 at 10:00\nthe shop wrote that the parcel had left.",
        "The seller wrote on their site that delivery takes two days.",
        "The parcel was present at the depot according to the tracking page.",
        "I wrote to sales@shop.example on Tuesday and never heard back.",
        "On the invoice there is a different address.",
        "They sent me a tracking number on 12 February that never worked.",
        "The courier wrote \"nobody home\" on the card, but I was home.",
        "On the photo you can see the damage to the box.",
        "I paid 49.95 on 2024-03-01 and got a confirmation on 2024-03-02.",
        "The shop wrote at 14:30 that everything was sent.",
        "On 1 April the shop wrote that the item was out of stock.",
        "Sent items were returned on 20 April with a receipt.",
        "I presented the receipt at the post office on Friday.",
        "The refund they promised on 10 April never arrived.",
        "On second thought, I would like my money back rather than a replacement.",
        "She wrote me on 15/04/2024 that they were waiting for the return.",
        "The seller sent the wrong size and wrote that it was my mistake.",
        "On Tuesday 7 May 2024 at 14:00 I called them and nobody answered.",
    ],
    "de": [
        "Ich habe am Montag gemailt und der Shop schrieb zurück, dass das Paket unterwegs ist.",
        "Am 3. März 2024 schrieb der Shop, dass er mir das Geld erstattet.",
        "Am Montag, 4. März 2024 um 10:00\nschrieb der Shop, dass das Paket verschickt ist.",
        "Der Verkäufer schrieb auf seiner Seite, dass die Lieferung zwei Tage dauert.",
        "Das Paket ist laut Sendungsverfolgung im Lager präsent.",
        "Ich schrieb am Dienstag an info@shop.example und bekam keine Antwort.",
        "Am Ende habe ich das Paket selbst bei der Post abgeholt.",
        "Am 12. Februar kam eine Sendungsnummer, die nie funktioniert hat.",
        "Der Bote schrieb \"nicht angetroffen\" auf die Karte, obwohl ich zu Hause war.",
        "Am Foto sieht man den Schaden an der Schachtel.",
        "Ich habe am 2024-03-01 bezahlt und am 2024-03-02 eine Bestätigung bekommen.",
        "Der Shop schrieb um 14:30, dass alles versendet wurde.",
        "Am 1. April schrieb der Shop, dass der Artikel ausverkauft ist.",
        "Die Rücksendung wurde am 20. April mit Beleg abgegeben.",
        "Am Telefon sagte man mir, das Paket sei sent, also verschickt.",
        "Die am 10. April versprochene Erstattung ist nie angekommen.",
        "Am liebsten hätte ich mein Geld zurück statt eines Ersatzes.",
        "Sie schrieb mir am 15.04.2024, dass sie auf die Rücksendung warten.",
        "Der Verkäufer schickte die falsche Größe und schrieb, das sei mein Fehler.",
        "Am Dienstag, 7. Mai 2024 um 14:00 rief ich an und niemand ging ran.",
    ],
}


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_ordinary_sentences_come_out_unchanged(language):
    assert len(SENTENCES[language]) == 20
    for sentence in SENTENCES[language]:
        assert new_text(sentence) == sentence
        # Also above a quoted mail: the sentence stays whole, the quote goes.
        mail = f"{sentence}\n\nOn Mon, 4 Mar 2024 at 10:00, Shop <shop@x.example> wrote:\n> Hi"
        assert new_text(mail) == sentence


# Real quote headers of the clients people use, one per line, in nl, fr, it, de, en.
HEADERS = [
    "On Mon, 4 Mar 2024 at 10:00, Shop <shop@x.example> wrote:",
    "On 4 Mar 2024, at 10:00, Shop <shop@x.example> wrote:",
    "On 3/4/24 10:00 AM, Buyer Protection wrote:",
    "Shop <shop@x.example> wrote:",
    "Op ma 4 mrt. 2024 om 10:00 schreef Shop <shop@x.example>:",
    "Op 4 mrt. 2024 om 10:00 heeft Shop <shop@x.example> het volgende geschreven:",
    "Le lun. 4 mars 2024 à 10:00, Shop <shop@x.example> a écrit :",
    "Le 04/03/2024 à 10:00, Shop a écrit :",
    "Il giorno lun 4 mar 2024 alle ore 10:00 Shop <shop@x.example> ha scritto:",
    "Il 4 marzo 2024 alle 10.00 Shop <shop@x.example> ha scritto:",
    "Am Mo., 4. März 2024 um 10:00 Uhr schrieb Shop <shop@x.example>:",
    "Shop <shop@x.example> schrieb am Mo., 4. März 2024, 10:00:",
    "2024-03-04 10:00 GMT+01:00 Shop <shop@x.example>:",
    "2024-03-04 10:00 GMT+01:00 Shop",
    "2024-03-04 10:00 Shop:   ",
    "2013/7/20 shop via Shop Meta <shop@x.example>",
    "понедельник, 6 октября 2014 г. пользователь shop написал:",
    "Mon, 4 Mar 2024 10:00 Shop <shop@x.example>:",
    "-----Original Message-----",
    "-------- Message d'origine --------",
    "---------- Forwarded message ---------",
    "-----Oorspronkelijk bericht-----",
    "-----Ursprüngliche Nachricht-----",
]


@pytest.mark.parametrize("header", HEADERS)
def test_a_real_quote_header_ends_the_new_text(header):
    mail = f"Nee, dat klopt niet.\nGroetjes\n\n{header}\n> Klik hier: refund_full\n> Terugbetaling: ja"
    assert new_text(mail) == "Nee, dat klopt niet.\nGroetjes"


@pytest.mark.parametrize("header", [
    "On Mon, 4 Mar 2024 at 10:00 Shop\n<shop@x.example> wrote:",
    "On Thu, 31 Mar 2016 at 11:16 Some One\n\n<\nmailto:Some One <some.one@foo.bar>\n> wrote:",
    "Shop <shop@x.example> schrieb am Fr., 28.\nApr. 2017 um 11:53 Uhr:",
    "Op 16 aug. 2014 05:13 schreef \"shop\" <shop@x.example> het\nvolgende geschreven:",
    "20 окт. 2016 г. 19:37 пользователь \"Shop\" <  \nshop@x.example> написал:",
    "Some One <some.one@x.example>\nwrote:",
])
def test_a_quote_header_broken_over_lines_is_one_header(header):
    assert new_text(f"Prima.\n\n{header}\n\n> oud") == "Prima."


def test_the_header_on_the_same_line_as_the_reply_is_split_off():
    assert new_text("reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi") == "reply"
    # Lower case "op" inside a sentence never starts a header, even with a date and a colon.
    sentence = "Ik heb op 3 maart 2024 om 14:00 gemaild en de winkel schreef:"
    assert new_text(f"{sentence}\nwe sturen het op.") == f"{sentence}\nwe sturen het op."


@pytest.mark.parametrize("body", [
    "",
    "\n\n  \n",
    "On Mon, 4 Mar 2024 at 10:00, Kopersbescherming <bot@x.example> wrote:\n"
    "> Je bestelling NL-1 is beschermd.\n> Klik: mailto:bot+buyer@x.example",
    "From: Kopersbescherming <bot@x.example>\nSent: Monday, 4 March 2024 10:00\n"
    "To: koper@x.example\nSubject: Je bestelling NL-1\n\nJe bestelling NL-1 is beschermd.",
    "-----Original Message-----\nFrom: bot@x.example\n\nJe bestelling NL-1 is beschermd.",
    "Sent from my iPhone\n\nOn Mon, 4 Mar 2024 at 10:00, Bot <bot@x.example> wrote:\n> Hallo",
    "> only a quote\n> of our mail",
])
def test_a_reply_without_new_text_yields_nothing(body):
    assert new_text(body) == ""


def test_an_html_reply_with_only_the_quote_yields_nothing():
    html = ('<div dir="ltr"><br></div><div class="gmail_quote"><div>Op ma 4 mrt. schreef Bot:'
            '</div><blockquote>Je bestelling NL-1 is beschermd.</blockquote></div>')
    assert new_text(html_to_text(html)) == ""


@pytest.mark.parametrize("closing", [
    "Met vriendelijke groet,\nSanne",
    "Met vriendelijke groet, Sanne",
    "Vriendelijke groeten,\nSanne de Vries\nFietsen BV\n06-12345678",
    "Cordialement, Marie",
    "Bien cordialement,\nMarie Dupont",
    "Regards, John Doe, CEO",
    "Kind regards,\nJohn",
    "Cordiali saluti,\nGiulia Rossi",
    "Distinti saluti, Marco",
    "Mit freundlichen Grüßen\nHans Müller",
    "Viele Grüße, Anna",
    "Sent from my iPhone",
    "Envoyé à partir de Outlook pour iOS",
    "Gesendet von Outlook für Android",
    "Verzonden vanaf mijn iPad",
    "Inviato da iPhone",
    "Von meinem iPhone gesendet",
    "Get Outlook for Android",
    "Sent from my iPhone\nSome text a phone put below it",
    "___________________________\nwinkel-lijst mailing list\nhttps://lists.x.example/listinfo",
])
def test_closings_and_signatures_go(closing):
    body = "Het pakket is nooit aangekomen.\nKunnen jullie helpen?"
    assert new_text(f"{body}\n\n{closing}") == body
    assert new_text(f"{body}\n\n{closing}\n\nOn Mon, 4 Mar 2024 at 10:00, a@b.example wrote:\n> x") == body


@pytest.mark.parametrize("text", [
    "Sent from my desk, is much easier than my mobile phone.",
    "Sent from my phone because I am travelling",
    "Verzonden vanaf mijn telefoon en daarna niets meer gehoord",
    "Groeten uit Parijs, waar het pakket wel aankwam.",
    "Thanks, but the refund never arrived.",
    "Cordialement ne suffit pas, je veux mon argent.",
    "Regards aside, where is my parcel?",
    "Cheers",
])
def test_words_that_only_look_like_a_closing_stay(text):
    body = f"Het pakket is nooit aangekomen.\n\n{text}"
    assert new_text(body) == body


def test_without_closing_removes_only_the_closing():
    assert without_closing("Hello\n\nSent from my iPhone") == "Hello"
    assert without_closing("Test reply\n\nRegards, Roman") == "Test reply"
    assert without_closing("Hello\n> quote") == "Hello\n> quote"


def test_bottom_posting_keeps_the_text_below_the_quote():
    mail = ("On Mon, 4 Mar 2024 at 10:00, Bot <bot@x.example> wrote:\n> Did it arrive?\n>\n\n"
            "No, it never arrived.\nPlease help.")
    assert new_text(mail) == "No, it never arrived.\nPlease help."


def test_inline_answers_under_a_header_keep_the_quotes_they_answer():
    mail = ("On Mon, 4 Mar 2024 at 10:00, Bot <bot@x.example> wrote:\n> Question one?\n"
            "Answer one.\n> Question two?\nAnswer two.")
    assert new_text(mail) == "> Question one?\nAnswer one.\n> Question two?\nAnswer two."


def test_text_around_a_quoted_mail_keeps_both_texts():
    mail = ("Top.\n\nOn Mon, 4 Mar 2024 at 10:00, Bot <bot@x.example> wrote:\n> quoted\n\n"
            "Bottom.")
    assert new_text(mail) == "Top.\n\nBottom."


def test_a_trailing_quote_block_is_history():
    assert new_text("Answer.\n\n> old\n> mail\n>") == "Answer."
    assert new_text("Answer.\r\n> old\r\n") == "Answer."
    assert new_text("Answer.\rsecond line\r> old") == "Answer.\nsecond line"


def test_supercite_quotes_and_links_broken_out_of_a_quote_are_quotes():
    assert new_text("Blah\n\nJD> old line\nJD> more") == "Blah"
    assert new_text("Blah\n\n> View (http://x.example/a\n_nonce=3dd)\n>") == "Blah"
    assert new_text("Blah\n\n>\n (http://x.example/c/Yz) >\n> old") == "Blah"


def test_a_delimiter_ends_the_text_only_below_it():
    assert new_text("Answer.\n-- \nJohn\n06-1234") == "Answer."
    assert new_text("Answer.\n----\nfooter") == "Answer."
    assert new_text("-----\nAnswer below a rule.") == "-----\nAnswer below a rule."


def test_outlook_header_block_after_text_is_history():
    mail = ("Zie bijlage.\nVan: Shop <shop@x.example>\nVerzonden: maandag 4 maart 2024 10:00\n"
            "Aan: koper@x.example\nOnderwerp: Bestelling\n\nOude tekst.")
    assert new_text(mail) == "Zie bijlage."
    # Two fields after a blank line are enough; two fields glued to the text are not.
    assert new_text("Zie bijlage.\n\nVan: shop@x.example\nAan: koper@x.example\n\nOud") == (
        "Zie bijlage.")
    assert new_text("Zie bijlage.\nVan: shop@x.example\nAan: koper@x.example\n\nOud") == (
        "Zie bijlage.\nVan: shop@x.example\nAan: koper@x.example\n\nOud")
    assert new_text("Datum: morgen\nAan: de balie\nGraag.") == "Datum: morgen\nAan: de balie\nGraag."


def test_line_kinds_have_names():
    assert {kind.name for kind in Kind} == {
        "EMPTY", "TEXT", "QUOTE", "ATTRIBUTION", "HEADER", "DELIMITER", "SIGNATURE"}


def test_html_to_text_shows_what_a_browser_shows():
    html = ("<html><head><title>t</title><style>p {}</style></head><body>"
            "<div>Hallo<br>daar\n  en   hier</div><p>Alinea</p><pre>a\n  b</pre>"
            "<script>x()</script><blockquote>oud</blockquote><div class='x gmail_quote'>q</div>"
            "<div class='moz-cite-prefix'>Op ... schreef:</div>tail &amp; more</body></html>")
    assert html_to_text(html) == "Hallo\ndaar en hier\nAlinea\na\nb\ntail & more"


def test_html_to_text_drops_outlooks_quoted_siblings():
    html = ("<div><p>Mijn antwoord</p><div id='divRplyFwdMsg'>Van: Bot</div>"
            "<p>Oude mail</p>na</div><p>buiten</p>")
    assert html_to_text(html) == "Mijn antwoord\n\nbuiten"
    assert html_to_text("") == ""
    assert html_to_text("<!-- only a comment -->") == ""


@pytest.mark.parametrize("text", [
    "2024-03-01 heb ik betaald.",
    "2024-03-01 om 14:00 betaald.",
    "2024-03-01 kreeg ik een mail van shop@x.example",
    "See you On Monday at 10:00 then",
    "reply On 4 March 2024, Shop wrote:",
    "On 4 March 2024 the shop wrote a long answer that went on and on about the weather, the "
    "traffic, the courier, their holidays and why nothing of it was their fault:",
    "http://shop.example/order/1\n> old\n> older\nmine",
    "> a (b)\nword)\n> c\nmine",
    "Thanks On 10:00 wait",
    "Ho pagato. Il 3 marzo 2024 alle 10:00 il negozio ha scritto:\nche mi rimborsava.",
    "Buongiorno,\nIl 3 marzo 2024 alle 10:00 il negozio ha scritto:\n\n\"rimborso entro 5 giorni\"\n"
    "Ma non è successo niente.",
    "Op 3 maart 2024 om 10:00 schreef de winkel:\nwe storten het terug. Niets gezien.",
    "J'ai payé. Le 3 mars 2024 à 10:00 la boutique a écrit :\nqu'elle me remboursait.",
])
def test_lines_that_only_resemble_a_header_are_text(text):
    assert new_text(text) == text


def test_lines_are_read_up_to_the_limit():
    assert new_text("a\n" * 6000) == "\n".join(["a"] * 5000)
    assert new_text("a\r\nb\rc") == "a\nb\nc"
    long_line = "word " * 80
    assert new_text(f"Body.\n\n{long_line}") == f"Body.\n\n{long_line.strip()}"
    assert new_text(f"Body.\n\nRegards,\n{long_line}") == f"Body.\n\nRegards,\n{long_line.strip()}"


def test_the_text_around_a_quote_is_joined_by_one_empty_line():
    mail = "Top.\nOn Mon, 4 Mar 2024 at 10:00, Bot <bot@x.example> wrote:\n> quoted\nBottom.\nMore."
    assert new_text(mail) == "Top.\n\nBottom.\nMore."


def test_a_signature_line_above_everything_leaves_nothing():
    assert new_text("Verzonden vanaf mijn iPhone\nKopie van uw bericht:\nJe bestelling is beschermd.") == ""


@pytest.mark.parametrize("below, removed", [
    ("Sanne\nFietsen BV\nAmsterdam\n06-12345678", True),
    ("Sanne\nFietsen BV\nAmsterdam\n06-12345678\nwww.fietsen.example", False),
    ("Sanne\n\n\n", True),
    ("Ik hoop dat u snel antwoordt.", False),
    ("Kunt u mij bellen?", False),
    ("Bel me!", False),
    ("Mijn vraag:", False),
    ("Sanne de Vries, afdeling klantenservice van Fietsen BV te Amsterdam", False),
])
def test_a_sign_off_goes_with_at_most_four_short_lines_below_it(below, removed):
    body = "Het pakket is nooit aangekomen."
    mail = f"{body}\n\nMet vriendelijke groet,\n{below}"
    assert new_text(mail) == (body if removed else mail.strip())


def test_a_bare_sign_off_at_the_end_stays():
    assert new_text("Body.\n\nRegards,") == "Body.\n\nRegards,"
    assert new_text("Body.\n\nRegards, Sanne.") == "Body."


def test_html_to_text_keeps_no_private_marks_and_survives_broken_text():
    assert html_to_text("a\ue000b<br>c") == "ab\nc"
    assert html_to_text("a\ud800b") == "a?b"
    assert html_to_text("<style class='gmail_quote'>x</style><p class='note'>kept</p>") == "kept"


def test_an_attribution_without_address_needs_a_quote_below():
    # Below it a quote, a named quote, or a frame of dashes: a client wrote it.
    assert new_text("Before.\n\nOn Wed, Sep 25, 2013, at 03:57 PM, shop wrote:\n\n> old") == "Before."
    assert new_text("Before.\n\nOn Wed, Sep 25, 2013, at 03:57 PM, shop wrote:\n\nShop> old\n\nx") == (
        "Before.")
    assert new_text("Before.\n\n------On 12/29/1987 17:32 PM, Shop wrote-----\n\nold") == "Before."
    # A thing or a pronoun as the writer: above the sender's own words, the line is a sentence.
    text = "Before.\n\nOn Wed, Sep 25, 2013, at 03:57 PM, the shop wrote:\n\nmine"
    assert new_text(text) == text


@pytest.mark.parametrize("header", [
    "On Tue, 2011-03-01 at 18:02 +0530, X wrote:",
    "Le 19/03/2014 11:34, X a écrit :",
    "Am 25.06.2015 um 10:55 schrieb X:",
    "On Nov 26, 2013 you wrote:",
    "On Wed, Sep 25, 2013, at 03:57 PM, shop wrote:",
    "Op 25-06-2015 om 10:55 schreef Sanne:",
    "Il giorno 25/06/2015 alle 10:55, X ha scritto:",
])
def test_a_client_attribution_alone_on_its_line_ends_the_text_without_a_quote_below(header):
    """A date or time, the verb and the colon, alone on the line, with a name as the writer: the
    quote header of a client that does not mark the quote with ">" (issue 16 §7)."""
    mail = f"Nee, nog steeds niets.\n\n{header}\nIs het pakket aangekomen?\nGroet, de winkel"
    assert new_text(mail) == "Nee, nog steeds niets."


@pytest.mark.parametrize("mail, reply", [
    ("Answer.\n\n--\nEarlier discussion\nmore of it", "Answer."),
    ("Answer.\n__\nwinkel-lijst mailing list\nhttps://lists.x.example", "Answer."),
    ("Answer.\n\n---\nfooter", "Answer."),
    ("Answer.\n\n-Abhishek Kona", "Answer."),
    ("Answer.\n\n-- Sanne", "Answer."),
    ("Answer.\n\nStavros Xxxxxx\nvia mobile", "Answer."),
    ("Answer.\n\nGina Xxxxx\ngina@x.example\n(555) 346-9947\nwww.x.example", "Answer."),
    ("Answer.\n\nThank you,\nNoam", "Answer."),
    # Text that only looks like it stays.
    ("OK\nSent from my iPhone", "OK"),
    ("-Jan", "-Jan"),
    ("Answer.\n\nGina Xxxxx\nBel me morgen terug.", "Answer.\n\nGina Xxxxx\nBel me morgen terug."),
    ("Answer.\n\n- het pakket\n- de bon", "Answer.\n\n- het pakket\n- de bon"),
])
def test_rules_list_footers_and_name_sign_offs_go(mail, reply):
    assert new_text(mail) == reply


def test_a_prompt_left_as_it_was_is_not_the_senders_text():
    prefilled = "[Beschrijf hier in je eigen woorden wat er misging]\n\nHet pakket kwam nooit aan."
    assert new_text(prefilled) == "Het pakket kwam nooit aan."
    assert new_text("[Schrijf hier je vraag]\n") == ""
    assert new_text("Zie [bijlage] hieronder.") == "Zie [bijlage] hieronder."  # inside a sentence
