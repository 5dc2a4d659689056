"""The twelfth design review of the buyers' and shops' mails (review 12D, design12): a case closed
because the buyer did not react says what the shop's answer means and what the buyer can still
do; subject, heading and first sentence say different things; buttons keep their padding in
Outlook; a corrected decision names what it replaces; a buyer asked to return first reads what to
do if they disagree; the shop's intake report and reply form say what is true. Checked on the
samples of ``outbound/samples.py`` in nl, fr and it."""

from __future__ import annotations

import difflib
import re

import pytest
from bs4 import BeautifulSoup

from test_design_last import mails  # noqa: F401 (the rendered samples, a module fixture)
from mailbot.outbound.render import LOCALES


def flat(text: str) -> str:
    return re.sub(r"[\u00a0\u202f\u2011\s]+", " ", text).strip()


def body_text(mail) -> str:
    """The HTML part's text below the heading, flattened."""
    soup = BeautifulSoup(mail.html, "html.parser")
    return flat(soup.select_one("h1").parent.get_text())


# -- 1. buyer.case_closed.no_reaction: no dead end ---------------------------------------------

NO_REACTION = {
    "nl": ("Je melding is gesloten", "Fietsen de Wit heeft toegezegd je € 120,00 terug te betalen.",
           "Neem dan rechtstreeks contact op met Fietsen de Wit",
           "je rechten als consument tegenover Fietsen de Wit blijven gewoon gelden",
           "geschillencommissie"),
    "fr": ("Votre dossier est clos", "a promis de vous rembourser 120,00 €.",
           "contactez directement", "vos droits de consommateur envers", "médiateur"),
    "it": ("La tua pratica è chiusa", "ha promesso di rimborsarti 120,00 €.",
           "contatta direttamente", "i tuoi diritti di consumatore", "giudice"),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_case_closed_for_no_reaction_says_what_the_shops_answer_means(mails, locale):
    """The heading is neutral; the buyer reads that the shop promised the refund, whom to turn
    to if it does not come (a reply to a closed case without a payment owed is not passed on:
    core.case._not_open), and the consumer-rights paragraph of a rejected claim."""
    mail = mails["buyer.case_closed.no_reaction", locale]
    heading, promised, contact, rights, body = NO_REACTION[locale]
    soup = BeautifulSoup(mail.html, "html.parser")
    assert flat(soup.select_one("h1").get_text()) == heading
    for part in (body_text(mail), flat(mail.text)):
        for said in (promised, contact, rights, body):
            assert flat(said) in part
    # Never the promise of a reply that reaches the team: the case takes no message any more.
    reply = {"nl": "Antwoord dan op deze e-mail", "fr": "répondez simplement à cet e-mail",
             "it": "rispondi a questa e-mail"}[locale]
    assert reply not in mail.text
    # The same rights sentence as a rejected claim's, not a copy of it.
    rejected = flat(mails["buyer.case_closed.claim_rejected", locale].text)
    last = flat(NO_REACTION[locale][4])
    tail = next(s for s in re.split(r"(?<=\.) ", flat(mail.text)) if last in s)
    assert tail in rejected


# -- 3. buttons in Outlook for Windows ----------------------------------------------------------

def style_of(tag) -> dict:
    return dict(part.split(":", 1) for part in tag.get("style", "").split(";") if ":" in part)


def test_every_button_keeps_its_padding_in_outlook(mails):
    """Outlook for Windows ignores the padding of a link (display:block or not), so a button
    whose padding sat only on its <a> shrank to its text there: the cell carries the same
    padding as mso-padding-alt (read by Outlook alone), is centred by align= and keeps its
    bgcolor; elsewhere the block link fills the whole button."""
    seen = 0
    for (key, locale), mail in mails.items():
        soup = BeautifulSoup(mail.html, "html.parser")
        for cell in soup.select("td[class*=mb-btn-]"):
            link, cell_style = cell.a, style_of(cell)
            link_style = style_of(link)
            where = (key, locale, link.get_text())
            assert link_style["display"] == "block", where
            assert cell_style.get("mso-padding-alt") == link_style["padding"], where
            assert cell.get("align") == "center" and cell.get("bgcolor"), where
            assert cell.get("height") == "44", where
            seen += 1
    assert seen > 100


# -- 2. subject, heading and first sentence say different things ---------------------------------

def first_sentence(mail) -> str:
    """The first sentence of the first paragraph under the heading (the large figure of a money
    mail is no sentence)."""
    soup = BeautifulSoup(mail.html, "html.parser")
    para = next(p for p in soup.select_one("h1").find_all_next("p")
                if "mb-figure" not in p.get("class", ()))
    return re.split(r"(?<=[.!?])\s+", flat(para.get_text()))[0]


def near(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def test_the_first_sentence_does_not_repeat_the_heading_or_the_subject(mails):
    """ "Fietsen de Wit weigert je terug te betalen" was the subject and, word for word, the first
    sentence under "Fietsen de Wit betaalt niet terug: …": the heading carries the outcome, the
    lead sentence the next step or its timing, in every buyer's and shop's mail."""
    repeats = []
    for (key, locale), mail in mails.items():
        if key.startswith("operator."):
            continue
        news = flat(mail.subject).rpartition(" · ")[0]
        heading = flat(BeautifulSoup(mail.html, "html.parser").select_one("h1").get_text())
        first = first_sentence(mail)
        for other in (heading, news):
            if near(first, other) >= 0.8:
                repeats.append((key, locale, first, other))
    assert not repeats


# -- 4. a corrected decision says what it replaces ------------------------------------------------

CORRECTED = {
    ("buyer", "nl"): "Eerder wezen we je melding af. Dit besluit vervangt ons eerdere besluit.",
    ("buyer", "fr"): "Nous n’avions d’abord pas retenu votre demande. Cette décision remplace "
                     "notre décision précédente.",
    ("buyer", "it"): "In precedenza non avevamo accolto la tua richiesta. Questa decisione "
                     "sostituisce quella precedente.",
    ("merchant", "nl"): "Eerder wezen we de melding van de koper af. Dit besluit vervangt ons "
                        "eerdere besluit.",
    ("merchant", "fr"): "Nous n’avions d’abord pas retenu la demande de l’acheteur. Cette "
                        "décision remplace notre décision précédente.",
    ("merchant", "it"): "In precedenza non avevamo accolto la richiesta dell’acquirente. Questa "
                        "decisione sostituisce quella precedente.",
}


@pytest.mark.parametrize("role, locale", list(CORRECTED))
def test_a_corrected_decision_leads_with_what_it_replaces(mails, role, locale):
    """ "Dit besluit vervangt ons eerdere besluit" stood as a plain line after the box, and
    named no earlier decision: the lead now begins with it (core.case puts the earlier outcome
    in the mail's ``previous``)."""
    mail = mails[f"{role}.case_closed.corrected", locale]
    lead = flat(BeautifulSoup(mail.html, "html.parser").select_one("p.mb-lead").get_text())
    assert lead.startswith(flat(CORRECTED[role, locale])), lead
    text = flat(mail.text)
    assert flat(CORRECTED[role, locale]) in text
    assert text.count(flat(CORRECTED[role, locale]).rpartition(". ")[2]) == 1


# -- 5. decision.A.after_return: what to do if the buyer objects to returning first --------------

OBJECT = {"nl": "Wil je de artikelen liever niet eerst terugsturen? Antwoord dan op deze e-mail: "
                "we sturen je bericht door naar Fietsen de Wit.",
          "fr": "Vous ne souhaitez pas renvoyer d’abord les articles ? Répondez à cet e-mail : "
                "nous transmettons votre message à Boutique Rive Gauche.",
          "it": "Non vuoi rispedire prima la merce? Rispondi a questa e-mail: inoltriamo il tuo "
                "messaggio a Negozio del Sole."}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_buyer_asked_to_return_first_reads_what_to_do_if_they_object(mails, locale):
    """SPEC §3 gives variant A two links only, so no "I do not agree" button: one sentence says
    what a reply does while the case awaits the buyer (it is relayed to the shop), in both
    parts; the two answers stay buttons of equal weight."""
    mail = mails["buyer.decision.A.after_return", locale]
    soup = BeautifulSoup(mail.html, "html.parser")
    cells = soup.select("td[class*=mb-btn-]")
    assert [c.a["data-action"] for c in cells] == ["refund_received", "refund_not_received"]
    assert {tuple(c["class"]) for c in cells} == {("mb-btn-choice",)}
    assert flat(OBJECT[locale]) in body_text(mail) and flat(OBJECT[locale]) in flat(mail.text)
    # Only where the buyer is asked to return first.
    assert flat(OBJECT[locale]) not in flat(mails["buyer.decision.A", locale].text)


# -- 6. the shop's intake report and reply form ---------------------------------------------------

REPORT_SUBJECT = {"nl": "Fietsen de Wit: weekoverzicht orderbevestigingen van 16 t/m 22 november "
                        "2026",
                  "fr": "Boutique Rive Gauche : vos confirmations du 16 au 22 novembre 2026",
                  "it": "Negozio del Sole: riepilogo delle conferme d’ordine dal 16 al 22 "
                        "novembre 2026"}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_weekly_report_names_the_shop_and_says_what_was_missing(mails, locale):
    """merchant.intake_report: the subject named no shop, and "our daily e-mail said what was
    missing" sent the shop to another mail: each unreadable confirmation now says it, in the
    words of the daily list (intake_unread)."""
    mail = mails["merchant.intake_report", locale]
    assert flat(mail.subject) == flat(REPORT_SUBJECT[locale])
    daily = mails["merchant.intake_unread", locale].text.splitlines()
    missing = flat(next(line for line in daily if line.startswith("- Thank you for your order!"))
                   .partition(" – ")[2])
    soup = BeautifulSoup(mail.html, "html.parser")
    unread = [flat(li.get_text()) for li in soup.select("li") if "orders@shop.example" in li.text]
    assert len(unread) == 1 and unread[0].endswith(" – " + missing), (unread, missing)
    assert missing in flat(mail.text)
    assert "dagelijkse" not in mail.text  # nl: "Onze dagelijkse e-mail … stond wat er ontbrak"


PART = {"nl": "Betaal je een deel terug? Vul dan “ja” of “ja, na retour” in en zet het lagere "
              "bedrag achter “Bedrag”.",
        "fr": "Vous remboursez une partie du montant ? Répondez « oui » ou « oui, après retour » "
              "et indiquez après « Montant » le montant que vous remboursez.",
        "it": "Rimborsi solo una parte dell’importo? Rispondi «sì» o «sì, dopo il reso» e indica "
              "dopo «Importo» l’importo che rimborsi."}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_shops_reply_form_says_how_to_refund_a_part(mails, locale):
    """The form "Terugbetaling: ja / ja, na retour / nee" has no "part" choice: a hint under it
    says to answer yes with a lower amount, which is what inbound/forms.py reads."""
    from mailbot.core.model import RefundChoice
    from mailbot.inbound.forms import read_decision
    mail = mails["merchant.case_opened", locale]
    assert flat(PART[locale]) in body_text(mail) and flat(PART[locale]) in flat(mail.text)
    # As the hint says: the form with "yes" and a lower amount is read as a part refunded.
    form = next(line for line in mail.text.splitlines() if " / " in line).strip()
    quoted = re.findall(r"[“«]\u202f?([^”»]+?)\u202f?[”»]", PART[locale])
    yes, amount = quoted[0].strip(), quoted[2].strip()
    said = read_decision(f"{form.partition(':')[0].strip()}: {yes}\n{amount}: 120,00\nx")
    assert said.choice is RefundChoice.YES and said.amount_text == "120,00"


LISTED = {"nl": "[1] Ja, ik heb de terugbetaling ontvangen: mailto:",
          "fr": "[1] Oui, j’ai reçu le remboursement\u202f: mailto:",
          "it": "[1] Sì, ho ricevuto il rimborso: mailto:"}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_text_parts_links_are_listed_with_their_labels(mails, locale):
    """The text part's last block was two to five bare 250-character mailto addresses: each is
    listed with the label of its choice, in the locale's typography ("[1] label: mailto:…")."""
    text = mails["buyer.decision.A", locale].text
    body = text.partition("\n-- \n")[0]
    links = [line for line in body.splitlines() if re.match(r"\[\d+\] ", line)]
    assert len(links) == 2 and links[0].startswith(LISTED[locale]), links
    # Every listed link has its label, the label its line above ("* label [1]").
    for line in links:
        number, _, rest = line.partition(" ")
        label = rest.rpartition(" mailto:")[0].rstrip(":\u202f")
        assert f"* {label} {number}" in body, line
