"""Finding the new text of a reply: quoted history, quote headers and signatures are cut off.

People top-post above a copy of our mail, which may contain a filled-in form or action names that
must never be read as their answer. The text is cut at the first line that starts quoted history
(``>`` lines, "On ... wrote:" and its nl/fr/it/de forms, Outlook header blocks, "-----Original
Message-----" and translations) or a signature ("-- ", "Sent from my iPhone" and the like).
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

_QUOTE_HEADERS = [
    r"^\s*(on|op|le|am|il|el|em|den|på)\b.{0,200}\b(wrote|schreef|a écrit|a ecrit|schrieb|ha scritto|scrisse|escribió|escreveu|skrev)\s*:?\s*$",
    r"^\s*il giorno\b.{0,200}\bha scritto\s*:?\s*$",
    r"^\s*-{2,}\s*(original message|oorspronkelijk bericht|origineel bericht|message d'origine|message original|messaggio originale|ursprüngliche nachricht|original-nachricht|forwarded message|doorgestuurd bericht|message transféré|messaggio inoltrato)\s*-{2,}\s*$",
    r"^\s*_{10,}\s*$",  # Outlook's rule above the header block
    r"^\s*\*?(from|van|de|da|von)\s*\*?\s*:.*@",  # first line of a header block with an address
    r"^\s*\*?(from|van|de|da|von)\s*\*?\s*:\s*\S.*$(?=\n\s*\*?(sent|verzonden|envoyé|inviato|gesendet|date|datum|to|aan|à|a)\s*\*?\s*:)",
]
_SIGNATURES = [
    r"^-- ?$",
    r"^\s*(sent from|verzonden (vanaf|met|vanuit)|envoyé (de|depuis)|inviato da|gesendet von|von meinem)\b.{0,60}$",
    r"^\s*(get outlook for|ottieni outlook per|outlook voor)\b.*$",
]
_QUOTE_RE = re.compile("|".join(f"(?:{p})" for p in _QUOTE_HEADERS), re.IGNORECASE | re.MULTILINE)
_SIG_RE = re.compile("|".join(f"(?:{p})" for p in _SIGNATURES), re.IGNORECASE)


def new_text(text: str) -> str:
    """The part of ``text`` the sender wrote now."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cut = _QUOTE_RE.search(text)
    if cut:
        text = text[: cut.start()]
    lines = []
    for line in text.split("\n"):
        if line.lstrip().startswith(">"):
            break
        if _SIG_RE.match(line):
            break
        lines.append(line)
    return "\n".join(lines).strip()


_QUOTED_HTML = [
    ("blockquote", {}),
    (None, {"class": "gmail_quote"}),
    (None, {"class": "gmail_signature"}),
    (None, {"id": "divRplyFwdMsg"}),
    (None, {"id": "appendonsend"}),
    (None, {"class": "moz-cite-prefix"}),
    (None, {"class": "moz-signature"}),
    (None, {"type": "cite"}),
]


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, without quoted blocks, scripts and styles."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    for name, attrs in _QUOTED_HTML:
        for tag in soup.find_all(name, attrs=attrs):
            # Outlook puts the quoted mail after the header block, in siblings of the same parent.
            if attrs.get("id") == "divRplyFwdMsg":
                for sibling in list(tag.find_next_siblings()):
                    sibling.decompose()
            tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "li", "tr", "h1", "h2", "h3", "h4"]):
        block.insert_after("\n")
    text = soup.get_text()
    return "\n".join(line.strip() for line in text.splitlines()).strip()
