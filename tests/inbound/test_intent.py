"""Free-text intent (``inbound/intent.py``, SPEC §5): plain requests in nl, fr, it, en and de are
read as the one action they ask for; anything ambiguous, or anything that would end a protection
or close a case, is read as nothing."""

from __future__ import annotations

import re

import pytest

from mailbot.core.model import BUYER_ACTIONS, VARIANT_ACTIONS, Action, Variant
from mailbot.inbound.intent import READ_CHARACTERS, detect

ORDER_MISSING = {
    "nl": [
        "Mijn pakket is niet aangekomen.", "Ik heb mijn bestelling nooit ontvangen.",
        "De bestelling is nog steeds niet geleverd.", "Ik heb niets ontvangen.",
        "Het pakket is nooit bezorgd.", "Er is niks aangekomen bij mij.",
        "Ik heb het artikel nog niet ontvangen", "Bestelling niet ontvangen",
        "Mijn zending is na drie weken nog niet binnengekomen.",
        "Helaas, het pakje is niet bij mij afgeleverd en ook niet bezorgd.",
        "ik heb de spullen niet ontvangen", "Het product is nooit aangekomen!",
        "Tot op heden heb ik niks ontvangen van de winkel.",
        "Hallo, mijn order is nog niet geleverd, kunnen jullie helpen?",
        "Ik wacht al weken: geen pakket ontvangen.",
    ],
    "fr": [
        "Je n'ai pas reçu ma commande.", "Mon colis n'est jamais arrivé.",
        "Je n'ai toujours pas reçu le colis.", "Je n'ai rien reçu.",
        "La commande n'a jamais été livrée.", "Colis pas reçu",
        "Je n'ai pas encore reçu mon article.", "Le paquet n'est pas arrivé.",
        "Ma commande ne m'est jamais parvenue.", "Rien reçu à ce jour.",
        "Bonjour, je n'ai jamais reçu la marchandise.", "Le produit n'est toujours pas arrivé !",
        "Je n’ai pas reçu mon colis", "Commande jamais livrée",
        "Après trois semaines, la livraison n'est pas arrivée.",
    ],
    "it": [
        "Non ho ricevuto il pacco.", "Il mio ordine non è mai arrivato.",
        "Non ho ancora ricevuto l'ordine.", "Il pacco non è stato consegnato.",
        "Non mi è mai arrivato niente.", "Ordine mai arrivato",
        "Non ho mai ricevuto la merce.", "La spedizione non è arrivata.",
        "Il prodotto non mi è stato consegnato.", "Pacco non ricevuto",
        "Buongiorno, l'articolo non è ancora arrivato.", "Non ho ricevuto niente.",
        "Dopo tre settimane il pacchetto non è arrivato!", "Ordine non consegnato",
        "Non ho ricevuto il mio acquisto",
    ],
    "en": [
        "I have not received my order.", "My parcel never arrived.",
        "I didn't receive the package.", "The order has not been delivered.",
        "Nothing has arrived yet.", "I still haven't received my item.",
        "Order not received", "The package hasn't arrived.",
        "My parcel was never delivered.", "I never received the goods.",
        "Hi, my order still has not arrived, can you help?", "Package not delivered!",
        "I haven’t received anything", "The shipment never showed up... never turned up",
        "It's been three weeks and my purchase has not arrived.",
    ],
    "de": [
        "Ich habe meine Bestellung nicht erhalten.", "Mein Paket ist nie angekommen.",
        "Die Lieferung ist noch nicht angekommen.", "Ich habe nichts erhalten.",
        "Das Paket wurde nicht zugestellt.", "Bestellung nicht erhalten",
        "Die Ware ist bis heute nicht eingetroffen.", "Paket nie angekommen",
        "Ich habe das Päckchen immer noch nicht erhalten.", "Die Sendung ist nicht angekommen.",
        "Hallo, meine Bestellung wurde nie geliefert.", "Der Artikel ist nicht angekommen!",
        "Ich habe bis heute nichts erhalten", "Das Produkt wurde nicht geliefert",
        "Nach drei Wochen ist mein Paket noch nicht angekommen.",
    ],
}

REFUND_MISSING = {
    "nl": [
        "Ik heb mijn terugbetaling niet ontvangen.", "Ik heb mijn geld nog niet terug ontvangen.",
        "Ik heb geen terugbetaling gekregen.", "Mijn geld is nog niet teruggestort.",
        "De terugbetaling is nooit aangekomen.", "Ik ben nog niet terugbetaald.",
        "Geen geld terug ontvangen", "Het bedrag is niet teruggestort.",
        "Ik heb mijn geld niet teruggekregen.", "Terugbetaling niet ontvangen",
        "De restitutie heb ik nooit ontvangen.", "Nog steeds geen terugstorting!",
        "Hallo, ik wacht op mijn geld: het is niet terugbetaald.",
        "De winkel beloofde een terugbetaling maar die is niet aangekomen.",
        "Ik heb mijn geld nooit terug gezien, geen terugbetaling.",
    ],
    "fr": [
        "Je n'ai pas reçu mon remboursement.", "Je n'ai toujours pas été remboursé.",
        "Je n'ai jamais été remboursée.", "Aucun remboursement reçu.",
        "Le remboursement n'est jamais arrivé.", "Pas de remboursement à ce jour.",
        "Je n'ai pas encore été remboursé", "Remboursement pas reçu",
        "Je n'ai pas reçu l'argent.", "Le virement du remboursement n'est pas arrivé.",
        "Toujours pas remboursé !", "Je n’ai jamais reçu mon remboursement",
        "La boutique ne m'a pas remboursé.", "Remboursement jamais reçu",
        "Bonjour, je n'ai toujours pas reçu le remboursement promis.",
    ],
    "it": [
        "Non ho ricevuto il rimborso.", "Non ho ricevuto nessun rimborso.",
        "Non sono stato rimborsato.", "Nessun rimborso ricevuto.",
        "Il rimborso non è mai arrivato.", "Non sono ancora stata rimborsata.",
        "Rimborso non ricevuto", "I soldi non sono mai arrivati.",
        "Non mi hanno rimborsato.", "Nessun rimborso finora!",
        "Il rimborso non è stato accreditato.", "Non ho mai ricevuto i soldi indietro.",
        "Buongiorno, il rimborso promesso non è arrivato.", "Non ho ancora ricevuto il rimborso",
        "Rimborso mai arrivato",
    ],
    "en": [
        "I have not received my refund.", "I haven't been refunded.",
        "No refund yet.", "The refund never arrived.", "I was never refunded.",
        "My money has not arrived.", "Refund not received", "I didn't receive the refund.",
        "I still have not been refunded!", "The refund hasn't arrived.",
        "They promised a refund but it never arrived.", "No refund received",
        "I haven’t received any money back", "The reimbursement was never received.",
        "Hi, I did not receive my refund, can you help?",
    ],
    "de": [
        "Ich habe meine Rückerstattung nicht erhalten.", "Ich habe keine Erstattung bekommen.",
        "Das Geld wurde nicht erstattet.", "Die Rückerstattung ist nie angekommen.",
        "Ich habe mein Geld nicht zurückbekommen.", "Keine Rückzahlung erhalten",
        "Der Betrag wurde nicht zurückerstattet.", "Erstattung nicht erhalten",
        "Ich habe bis heute keine Rückerstattung.", "Das Geld ist noch nicht angekommen.",
        "Mein Geld ist nie zurück gekommen.", "Keine Gutschrift bis heute!",
        "Hallo, die versprochene Erstattung ist nicht eingetroffen.",
        "Der Shop hat mir das Geld nicht zurückgezahlt.", "Rückerstattung nie erhalten",
    ],
}

DISAGREES = {
    "nl": [
        "Ik ben het niet eens met het antwoord van de winkel.", "Ik ben het er niet mee eens.",
        "Niet akkoord.", "Ik ga niet akkoord met dit bedrag.", "Ik ben het oneens met de winkel.",
        "Dit is onacceptabel.", "Ik kan dit niet accepteren.", "Daar ben ik het niet mee eens!",
        "Ik ga hier niet akkoord mee", "Ik ben het helemaal niet eens met dit voorstel.",
        "Niet eens met de gedeeltelijke terugbetaling", "Dit bedrag kan ik niet aanvaarden.",
        "Sorry, maar ik ben het niet eens.", "Onacceptabel voorstel.",
        "Ik vind het niet acceptabel.",
    ],
    "fr": [
        "Je ne suis pas d'accord avec la réponse de la boutique.", "Pas d'accord.",
        "Je suis en désaccord.", "Je n'accepte pas ce montant.", "C'est inacceptable.",
        "Je refuse cette proposition.", "Je conteste la décision.", "Désaccord total !",
        "Je ne suis pas du tout d'accord", "Je ne suis vraiment pas d'accord avec ce remboursement partiel.",
        "Desaccord avec la boutique", "Je n’accepte pas cette offre.",
        "Non, pas d'accord.", "Proposition inacceptable.", "Je refuse.",
    ],
    "it": [
        "Non sono d'accordo con la risposta del negozio.", "Non sono d'accordo.",
        "Sono in disaccordo.", "Non accetto questo importo.", "È inaccettabile.",
        "Rifiuto la proposta.", "Contesto la decisione.", "Disaccordo totale!",
        "Non sono affatto d'accordo", "Non siamo d'accordo con il rimborso parziale.",
        "Non accetto l'offerta del negozio.", "Proposta inaccettabile.",
        "No, non sono d'accordo.", "Rifiuto questa offerta.", "Non sono per niente d'accordo.",
    ],
    "en": [
        "I do not agree with the shop's answer.", "I disagree.", "I don't agree.",
        "This is unacceptable.", "I cannot accept this amount.", "I reject the offer.",
        "I dispute the decision.", "Not acceptable!", "I don’t agree with the partial refund.",
        "I refuse this proposal.", "I can't accept that.", "Disagree",
        "Sorry, but I disagree with the shop.", "Unacceptable offer.", "I do not accept it.",
    ],
    "de": [
        "Ich bin mit der Antwort des Shops nicht einverstanden.", "Nicht einverstanden.",
        "Ich widerspreche.", "Das ist inakzeptabel.", "Ich akzeptiere das nicht.",
        "Ich lehne das Angebot ab.", "Ich bin damit nicht einverstanden!",
        "Das ist nicht akzeptabel.", "Ich akzeptiere den Betrag nicht",
        "Ich lehne die Teilerstattung ab.", "Unakzeptabel",
        "Ich bin überhaupt nicht einverstanden.", "Nein, nicht einverstanden.",
        "Ich widerspreche der Entscheidung.", "Ich lehne diesen Vorschlag entschieden ab.",
    ],
}

# Statements that ask for none of the actions free text may take: thanks, questions, receipts,
# wishes to end or withdraw, agreement, and other things not received.
NOTHING = {
    "nl": [
        "Ik heb mijn pakket ontvangen, alles is in orde.", "Bedankt, alles is goed.",
        "Ik wil de bescherming beëindigen.", "Ik trek mijn klacht in.",
        "Ik ben het eens met het voorstel.", "Akkoord.", "Ik heb geen antwoord gekregen.",
        "Ik heb de factuur niet ontvangen.", "Wanneer komt mijn pakket aan?",
        "De terugbetaling is ontvangen, dank je.", "Kan ik de bescherming verlengen?",
        "Ik heb de bevestiging niet ontvangen.",
    ],
    "fr": [
        "J'ai bien reçu mon colis, tout va bien.", "Merci, tout est en ordre.",
        "Je veux clôturer la protection.", "Je retire ma demande.", "Je suis d'accord.",
        "D'accord.", "Je n'ai pas reçu de réponse.", "Je n'ai pas reçu la facture.",
        "Quand mon colis arrivera-t-il ?", "J'ai reçu le remboursement, merci.",
    ],
    "it": [
        "Ho ricevuto il pacco, tutto bene.", "Grazie, tutto a posto.",
        "Voglio chiudere la protezione.", "Ritiro la mia richiesta.", "Sono d'accordo.",
        "Va bene.", "Non ho ricevuto nessuna risposta.", "Non ho ricevuto la fattura.",
        "Quando arriva il mio pacco?", "Ho ricevuto il rimborso, grazie.",
    ],
    "en": [
        "I received my parcel, all is fine.", "Thanks, everything is fine.",
        "I want to end the protection.", "I withdraw my complaint.", "I agree.",
        "OK.", "I have not received a reply.", "I didn't receive the invoice.",
        "When will my parcel arrive?", "I received the refund, thanks.",
        "I didn't get a reply from the shop.", "I have no idea when it will arrive.",
    ],
    "de": [
        "Ich habe mein Paket erhalten, alles gut.", "Danke, alles in Ordnung.",
        "Ich möchte den Schutz beenden.", "Ich ziehe meine Beschwerde zurück.",
        "Ich bin einverstanden.", "Einverstanden.", "Ich habe keine Antwort bekommen.",
        "Ich habe die Rechnung nicht erhalten.", "Wann kommt mein Paket an?",
        "Ich habe die Rückerstattung erhalten, danke.",
    ],
}

LANGUAGES = ("nl", "fr", "it", "en", "de")
ACTIVE = BUYER_ACTIONS  # an active protection: the buyer may open a case
AFTER_FULL_REFUND = VARIANT_ACTIONS[Variant.A]
AFTER_PARTIAL_REFUND = VARIANT_ACTIONS[Variant.B]
AFTER_NO_REFUND = VARIANT_ACTIONS[Variant.C]

# (phrasings, the actions that may be taken now, the action they must read as)
TABLE = [
    (ORDER_MISSING, ACTIVE, Action.NOT_RECEIVED),
    (REFUND_MISSING, ACTIVE, Action.NO_REFUND),
    (ORDER_MISSING, AFTER_FULL_REFUND, Action.REFUND_NOT_RECEIVED),
    (REFUND_MISSING, AFTER_FULL_REFUND, Action.REFUND_NOT_RECEIVED),
    (REFUND_MISSING, AFTER_PARTIAL_REFUND, Action.REFUND_NOT_RECEIVED),
    (DISAGREES, AFTER_PARTIAL_REFUND, Action.REJECT_PARTIAL),
    (DISAGREES, AFTER_NO_REFUND, Action.DISAGREE),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("phrasings, allowed, action", TABLE,
                         ids=[f"{a}-{len(allowed)}" for _, allowed, a in TABLE])
def test_plain_requests_read_as_their_action(language, phrasings, allowed, action):
    assert len(phrasings[language]) >= 15
    # "Not yet" never disputes the shop's answer (issue 16 §7): those read as nothing there.
    expected = {text: None if action in DISPUTES and WAITING.search(text) else action
                for text in phrasings[language]}
    wrong = [(text, detect(text, allowed)) for text in phrasings[language]
             if detect(text, allowed) is not expected[text]]
    assert not wrong


DISPUTES = (Action.REFUND_NOT_RECEIVED, Action.REJECT_PARTIAL, Action.DISAGREE)
WAITING = re.compile(r"nog niet|pas encore|ancora|(?<!immer )noch nicht|\byet\b", re.I)


@pytest.mark.parametrize("text", [
    "Ik heb het geld nog niet ontvangen, maar de fiets is teruggestuurd",
    "Je n'ai pas encore reçu l'argent, mais le vélo a été renvoyé.",
    "Non ho ancora ricevuto i soldi, ma la bici è stata rispedita.",
    "I have not received the money yet, but the bike has been sent back.",
    "I haven't received the refund yet.",
    "Ich habe das Geld noch nicht erhalten, aber das Fahrrad ist zurückgeschickt.",
])
def test_not_yet_is_waiting_not_a_dispute(text):
    """Variant B, real clients: "nog niet" escalated the case at once as a dispute."""
    for allowed in (AFTER_FULL_REFUND, AFTER_PARTIAL_REFUND):
        assert detect(text, allowed) is None  # answered with the links: the buyer chooses
    # "Still not" is no waiting: the refund did not come.
    still = "Ik heb het geld nog steeds niet ontvangen."
    assert detect(still, AFTER_PARTIAL_REFUND) is Action.REFUND_NOT_RECEIVED
    assert detect("I still haven't received the refund.", AFTER_PARTIAL_REFUND) is \
        Action.REFUND_NOT_RECEIVED


@pytest.mark.parametrize("language", LANGUAGES)
def test_statements_that_ask_nothing_read_as_nothing(language):
    for allowed in (ACTIVE, AFTER_FULL_REFUND, AFTER_PARTIAL_REFUND, AFTER_NO_REFUND):
        wrong = [text for text in NOTHING[language] if detect(text, allowed) is not None]
        assert not wrong, allowed


@pytest.mark.parametrize("language", LANGUAGES)
def test_requests_never_read_as_an_action_that_is_not_open(language):
    # Disagreeing during an active protection, a missing order when only "accept/disagree" is
    # open: the actions are not offered, so nothing is read.
    for text in DISAGREES[language]:
        assert detect(text, ACTIVE) is None
    for text in ORDER_MISSING[language]:
        assert detect(text, AFTER_NO_REFUND) is None
        assert detect(text, (Action.WITHDRAW,)) is None


def test_two_requests_at_once_are_ambiguous():
    both = "Het pakket is nooit aangekomen en ik heb ook geen terugbetaling gekregen."
    assert detect(both, ACTIVE) is None
    # After the shop's answer both mean the refund did not arrive.
    assert detect(both, AFTER_FULL_REFUND) is Action.REFUND_NOT_RECEIVED
    assert detect("I disagree, and the refund never arrived.", AFTER_PARTIAL_REFUND) is None


def test_free_text_never_ends_a_protection_or_closes_a_case():
    for text in ("Alles is goed", "All fine, thanks", "I withdraw", "Refund received", "I accept"):
        for allowed in (ACTIVE, (Action.WITHDRAW,), AFTER_FULL_REFUND, AFTER_NO_REFUND):
            assert detect(text, allowed) is None


def test_quoted_lines_are_not_read():
    quoted = "Bedankt!\n> Klik hier als je pakket niet is aangekomen: niet ontvangen"
    assert detect(quoted, ACTIVE) is None
    assert detect("Niet ontvangen.\n> Alles in orde", ACTIVE) is Action.NOT_RECEIVED


def test_only_the_start_of_a_long_text_is_read():
    filler = "Ik heb lang gewacht. " * 50_000
    assert len(filler) > 100 * READ_CHARACTERS
    assert detect("Mijn pakket is nooit aangekomen.\n" + filler, ACTIVE) is Action.NOT_RECEIVED
    # Further down, a request is answered with the links instead.
    assert detect("Goedemiddag,\n" + filler + "Mijn pakket is nooit aangekomen.", ACTIVE) is None
    assert detect("niet " * 200_000, ACTIVE) is None


def test_a_request_on_a_line_of_its_own_is_read():
    """The request as one line of a mail, without a full stop, between a greeting and a name."""
    assert detect("Hallo,\nMijn pakket is nooit aangekomen\nGroet, Sanne", ACTIVE) is (
        Action.NOT_RECEIVED)
    assert detect("Hi,\nI disagree\nJohn", AFTER_NO_REFUND) is Action.DISAGREE


def test_indented_quoted_lines_are_not_read():
    quoted = "Bedankt!\n  > Klik hier als je pakket niet is aangekomen: niet ontvangen"
    assert detect(quoted, ACTIVE) is None
