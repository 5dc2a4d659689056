"""Writes the order-confirmation corpus (``corpus/*.eml`` and ``corpus/expected.json``).

Each mail follows the default order-confirmation template of a common shop system -- Shopify,
WooCommerce, Magento 2, PrestaShop 1.7, Lightspeed eCom, Shopware 6 -- in nl, fr and it, as the
shop system's own translation words it (labels, amount styles, number formats), once with the
schema.org ``Order`` markup a shop adds for Gmail (JSON-LD or microdata) and once without. A few
mails more carry the awkward cases met in real mail: HTML only, text only, a broken JSON-LD block
before a good one, windows-1252 and base64 bodies, thousands separators. ``expected.json`` holds the
fields each mail must give, written here from the data the mail was made from, not from the
extractor. Run ``python tests/orders_by_mail/make_corpus.py`` after changing a template.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

HERE = Path(__file__).parent / "corpus"
DATE = "Mon, 07 Dec 2026 14:03:12 +0100"
SHOPS = {"nl": ("Fietsen BV", "info@fietsen.example"),
         "fr": ("Boutique Rive", "contact@rive.example"),
         "it": ("Negozio Sole", "ordini@sole.example")}
BUYERS = {"nl": ("Jan de Vries", "jan@buyer.example"),
          "fr": ("Marie Dubois", "marie@buyer.example"),
          "it": ("Luca Rossi", "luca@buyer.example")}
NBSP, NNBSP = "\u00a0", "\u202f"


def money(lang: str, value: str, style: str = "") -> str:
    """``value`` like "1254.95" the way the shop system writes it in ``lang``."""
    whole, cents = value.split(".")
    group = {"nl": ".", "it": ".", "fr": NNBSP}[lang]
    grouped = f"{int(whole):,}".replace(",", group)
    number = f"{grouped},{cents}"
    if style == "shopify":
        return {"nl": f"€{number} EUR", "fr": f"{number}{NBSP}€ EUR",
                "it": f"€{number} EUR"}[lang]
    return {"nl": f"€{NBSP}{number}", "fr": f"{number}{NBSP}€",
            "it": f"{number}{NBSP}€"}[lang]


def table(rows) -> str:
    return "<table>" + "".join(f"<tr><td>{a}</td><td align=\"right\">{b}</td></tr>"
                               for a, b in rows) + "</table>"


def jsonld(number: str, total: str, shop: str) -> str:
    data = {"@context": "http://schema.org", "@type": "Order", "merchant": {
        "@type": "Organization", "name": shop}, "orderNumber": number, "priceCurrency": "EUR",
        "price": total, "orderStatus": "http://schema.org/OrderProcessing"}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def microdata(number: str, total: str, shop: str) -> str:
    return ('<div itemscope itemtype="http://schema.org/Order">'
            f'<div itemprop="merchant" itemscope itemtype="http://schema.org/Organization">'
            f'<meta itemprop="name" content="{shop}"/></div>'
            f'<meta itemprop="orderNumber" content="{number}"/>'
            '<meta itemprop="priceCurrency" content="EUR"/>'
            f'<meta itemprop="price" content="{total}"/>'
            '<link itemprop="orderStatus" href="http://schema.org/OrderProcessing"/></div>')


# Each template: (subject, body rows as (label, value) lines, heading lines); amounts are
# (subtotal, shipping, tax, total) as "45.00" strings.
def shopify(lang, n, a, shop):
    sub, ship, tax, tot = (money(lang, x, "shopify") for x in a)
    w = {"nl": (f"Bestelling #{n} bevestigd", f"Bestelling #{n}", "Bedankt voor je aankoop!",
                [("Subtotaal", sub), ("Verzending", ship), ("Btw", tax), ("Totaal", tot)]),
         "fr": (f"Commande n°{n} confirmée", f"Commande n°{n}", "Merci pour votre achat !",
                [("Sous-total", sub), ("Expédition", ship), ("Taxes", tax), ("Total", tot)]),
         "it": (f"Ordine #{n} confermato", f"Ordine #{n}", "Grazie per l'acquisto!",
                [("Subtotale", sub), ("Spedizione", ship), ("Imposte", tax), ("Totale", tot)])}
    subject, top, thanks, rows = w[lang]
    return subject, [shop, top, thanks], rows


def woocommerce(lang, n, a, shop):
    sub, ship, tax, tot = (money(lang, x) for x in a)
    w = {"nl": (f"Je bestelling bij {shop} is ontvangen!", "Bedankt voor je bestelling",
                f"[Bestelling #{n}] (7 december 2026)",
                [("Subtotaal:", sub), ("Verzending:", f"{ship} via PostNL"),
                 ("Betaalmethode:", "iDEAL"), ("Totaal:", f"{tot} (incl. {tax} btw)")]),
         "fr": (f"Votre commande {shop} a été reçue !", "Merci pour votre commande",
                f"[Commande n°{n}] (7 décembre 2026)",
                [("Sous-total :", sub), ("Expédition :", f"{ship} via Colissimo"),
                 ("Moyen de paiement :", "Carte bancaire"),
                 ("Total :", f"{tot} (dont {tax} TVA)")]),
         "it": (f"Il tuo ordine su {shop} è stato ricevuto!", "Grazie per il tuo ordine",
                f"[Ordine #{n}] (7 dicembre 2026)",
                [("Subtotale:", sub), ("Spedizione:", f"{ship} tramite BRT"),
                 ("Metodo di pagamento:", "PayPal"), ("Totale:", f"{tot} (include {tax} IVA)")])}
    subject, head, line, rows = w[lang]
    return subject, [head, line], rows


def magento(lang, n, a, shop):
    sub, ship, tax, tot = (money(lang, x) for x in a)
    net = money(lang, f"{float(a[3]) - float(a[2]):.2f}")
    w = {"nl": (f"Uw {shop} bestelbevestiging", f"Uw bestelling #{n}", "Geplaatst op 7 dec. 2026",
                [("Subtotaal", sub), ("Verzending &amp; verwerking", ship),
                 ("Eindtotaal (excl. btw)", net), ("Btw", tax), ("Eindtotaal (incl. btw)", tot)]),
         "fr": (f"Confirmation de votre commande {shop}", f"Votre commande #{n}",
                "Passée le 7 déc. 2026",
                [("Sous-total", sub), ("Frais d'expédition et de traitement", ship),
                 ("Montant global HT", net), ("TVA", tax), ("Montant global TTC", tot)]),
         "it": (f"Conferma dell'ordine {shop}", f"Il tuo ordine #{n}", "Effettuato il 7 dic 2026",
                [("Subtotale", sub), ("Spedizione e gestione", ship),
                 ("Totale complessivo (escl. tasse)", net), ("Tasse", tax),
                 ("Totale complessivo (incl. tasse)", tot)])}
    subject, head, placed, rows = w[lang]
    return subject, [head, placed], rows


def prestashop(lang, n, a, shop):
    sub, ship, tax, tot = (money(lang, x) for x in a)
    w = {"nl": (f"[{shop}] Bestelbevestiging", "Bestelgegevens",
                f"Bestelling: {n} geplaatst op 07-12-2026 14:03:12", "Betaling: Bankoverschrijving",
                [("Producten", sub), ("Kortingen", money(lang, "0.00")), ("Verzending", ship),
                 ("Totaal btw", tax), ("Totaal betaald", tot)]),
         "fr": (f"[{shop}] Confirmation de commande", "Détails de la commande",
                f"Commande : {n} passée le 07/12/2026 14:03:12", "Paiement : Carte bancaire",
                [("Produits", sub), ("Réductions", money(lang, "0.00")), ("Livraison", ship),
                 ("TVA totale", tax), ("Total payé", tot)]),
         "it": (f"[{shop}] Conferma d'ordine", "Dettagli dell'ordine",
                f"Ordine: {n} effettuato il 07/12/2026 14:03:12", "Pagamento: Carta di credito",
                [("Prodotti", sub), ("Sconti", money(lang, "0.00")), ("Spedizione", ship),
                 ("IVA totale", tax), ("Totale pagato", tot)])}
    subject, head, line, pay, rows = w[lang]
    return subject, [head, line, pay], rows


def lightspeed(lang, n, a, shop):
    sub, ship, tax, tot = (money(lang, x) for x in a)
    w = {"nl": (f"Bedankt voor je bestelling bij {shop}", f"Bestelling {n}",
                [("Subtotaal (excl. btw)", sub), ("Verzendkosten", ship), ("Btw 21%", tax),
                 ("Totaal (incl. btw)", tot)]),
         "fr": (f"Merci pour votre commande chez {shop}", f"Commande {n}",
                [("Sous-total (HT)", sub), ("Frais d'envoi", ship), ("TVA 20 %", tax),
                 ("Total (TTC)", tot)]),
         "it": (f"Grazie per il tuo ordine presso {shop}", f"Ordine {n}",
                [("Subtotale (IVA esclusa)", sub), ("Spese di spedizione", ship), ("IVA 22%", tax),
                 ("Totale (IVA inclusa)", tot)])}
    subject, head, rows = w[lang]
    return subject, [head], rows


def shopware(lang, n, a, shop):
    sub, ship, tax, tot = (money(lang, x) for x in a)
    net = money(lang, f"{float(a[3]) - float(a[2]):.2f}")
    w = {"nl": (f"Bestelbevestiging {shop}", f"Bedankt voor je bestelling bij {shop}.",
                f"Bestelnummer: {n}",
                [("Verzendkosten:", ship), ("Totaal netto:", net), ("plus 21% btw", tax),
                 ("Totaal bruto:", tot)]),
         "fr": (f"Confirmation de commande {shop}", f"Merci pour votre commande chez {shop}.",
                f"Numéro de commande : {n}",
                [("Frais de port :", ship), ("Total net :", net), ("plus 20 % TVA", tax),
                 ("Total brut :", tot)]),
         "it": (f"Conferma d'ordine {shop}", f"Grazie per il tuo ordine presso {shop}.",
                f"Numero d'ordine: {n}",
                [("Spese di spedizione:", ship), ("Totale netto:", net), ("più 22% IVA", tax),
                 ("Totale lordo:", tot)])}
    subject, thanks, line, rows = w[lang]
    return subject, [thanks, line], rows


PLATFORMS = {
    "shopify": (shopify, "#{}", jsonld),
    "woocommerce": (woocommerce, "{}", jsonld),
    "magento": (magento, "{}", microdata),
    "prestashop": (prestashop, "{}", microdata),
    "lightspeed": (lightspeed, "{}", jsonld),
    "shopware": (shopware, "{}", microdata),
}
NUMBERS = {"shopify": ["1001", "NL1042", "2317"], "woocommerce": ["4521", "877", "13002"],
           "magento": ["000000123", "000004711", "200000087"],
           "prestashop": ["XKBKNABJK", "QWMZRTPLE", "HBTYGRWAP"],
           "lightspeed": ["ORD01234", "ORD55120", "ORD00917"],
           "shopware": ["10045", "10312", "20077"]}
AMOUNTS = [("45.00", "4.95", "8.67", "54.95"), ("1180.00", "0.00", "204.79", "1254.95"),
           ("19.99", "3.50", "4.08", "23.49")]


def build(platform: str, lang: str, index: int, with_markup: bool, parts: str = "both",
          charset: str = "utf-8", broken_jsonld: bool = False, lang_in: str = "html"):
    template, number_style, markup = PLATFORMS[platform]
    number = NUMBERS[platform][index]
    amounts = AMOUNTS[(index + len(platform)) % len(AMOUNTS)]
    shop, shop_address = SHOPS[lang]
    buyer_name, buyer = BUYERS[lang]
    subject, heads, rows = template(lang, number, amounts, shop)
    html = "".join(f"<p>{h}</p>" for h in heads) + table(rows)
    if with_markup:
        html = markup(number_style.format(number), amounts[3], shop) + html
    if broken_jsonld:
        html = '<script type="application/ld+json">{"@type": "WebPage", name: x}</script>' + html
    lang_attr = f' lang="{lang}"' if lang_in == "html" else ""
    html = f"<!DOCTYPE html><html{lang_attr}><head><meta charset=\"{charset}\"></head><body>" \
           f"{html}</body></html>"
    text = "\n".join(heads) + "\n\n" + "\n".join(f"{a.replace('&amp;', '&')} {b}"
                                                   for a, b in rows) + "\n"
    msg = EmailMessage()
    msg["From"] = f"{shop} <{shop_address}>"
    msg["To"] = f"{buyer_name} <{buyer}>"
    msg["Subject"] = subject
    msg["Date"] = DATE
    msg["Message-ID"] = f"<{platform}-{lang}-{index}@{shop_address.split('@')[1]}>"
    if charset != "utf-8":  # windows-1252 has no narrow no-break space: Outlook writes a wide one
        text, html = text.replace(NNBSP, NBSP), html.replace(NNBSP, NBSP)
    cte = "base64" if charset != "utf-8" else None
    if parts in ("both", "text"):
        msg.set_content(text, charset=charset, **({"cte": cte} if cte else {}))
    if parts == "both":
        msg.add_alternative(html, subtype="html", charset=charset)
    elif parts == "html":
        msg.set_content(html, subtype="html", charset=charset)
    expected = {"order_number": number, "amount": amounts[3], "currency": "EUR", "buyer": buyer,
                "locale": lang if lang_in else None}
    if lang_in == "header":  # after set_content, which clears every Content-* header
        msg["Content-Language"] = lang
    if msg.is_multipart():
        msg.set_boundary(f"=={platform}-{lang}-{index}==")  # the same bytes on every run
    return msg.as_bytes(policy=SMTP), expected


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for old in HERE.glob("*.eml"):
        old.unlink()
    cases = []
    for platform in PLATFORMS:
        for index, lang in enumerate(("nl", "fr", "it")):
            for with_markup in (True, False):
                cases.append((f"{platform}-{lang}-{'markup' if with_markup else 'words'}",
                              dict(platform=platform, lang=lang, index=index,
                                   with_markup=with_markup)))
    cases += [
        ("shopify-nl-html-only", dict(platform="shopify", lang="nl", index=1, with_markup=False,
                                      parts="html")),
        ("woocommerce-fr-text-only", dict(platform="woocommerce", lang="fr", index=0,
                                          with_markup=False, parts="text", lang_in="header")),
        ("lightspeed-it-broken-jsonld", dict(platform="lightspeed", lang="it", index=1,
                                             with_markup=True, broken_jsonld=True)),
        ("prestashop-fr-windows-1252", dict(platform="prestashop", lang="fr", index=1,
                                            with_markup=False, charset="windows-1252")),
        ("magento-it-no-language", dict(platform="magento", lang="it", index=2, with_markup=False,
                                        lang_in="")),
        ("shopware-nl-html-only-markup", dict(platform="shopware", lang="nl", index=1,
                                              with_markup=True, parts="html")),
    ]
    expected = {}
    for name, kwargs in cases:
        raw, fields = build(**kwargs)
        (HERE / f"{name}.eml").write_bytes(raw)
        expected[f"{name}.eml"] = fields
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(cases)} mails in {HERE}")


if __name__ == "__main__":
    main()
