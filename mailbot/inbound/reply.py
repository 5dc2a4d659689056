"""Finding the new text of a reply: quoted history, quote headers and signatures are cut off.

People top-post above a copy of our mail, which may contain a filled-in form or action names that
must never be read as their answer. Each line is classified -- empty, delimiter, mobile
signature, start of an embedded mail (an "On ... wrote:" header in nl, fr, it, de, en and more,
an Outlook header block, "-----Original Message-----"), quote (``>``) or text -- and the shape of
the whole mail decides what is new: text above an embedded mail, text below a leading quote
block, or everything when the reply is written inline. The approach follows Discourse's
email_reply_trimmer; the rules and patterns here are our own.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

_WROTE = (r"wrote|schreef|a écrit|a ecrit|schrieb|ha scritto|scrisse|escribió|escribio|escreveu|"
          r"skrev|napisał\(a\)|napisał|napisal|napsal|написал|написала|пише|kirjoitti|yazdı|sent")
_W = rf"(?:{_WROTE})(?!\w)"
_INTRO = r"(on|op|le|am|il|el|em|den|dne|w dniu|på|at)\b"
_INTRO_LINE = re.compile(rf"^\s*(-+\s*)?{_INTRO}\s|^\s*il giorno\b", re.I)
# "On <date>, <someone> wrote:" and its translations, colon or not; "<someone> wrote:".
_WROTE_LINE = re.compile(
    rf"^\s*(-+\s*)?{_INTRO}\s.{{0,200}}{_W}|^[^>].{{0,200}}{_W}\s*(-*|:)\s*$|^\s*{_W}.*:\s*$"
    rf"|^[^>].{{0,200}}{_W}.{{0,60}}:\s*$"
    rf"|^[^>].{{0,200}}@.{{0,100}}\s{_W}|^[^>].{{0,200}}\s{_W}\s.{{0,100}}@",
    re.I)
# A header line with a date first: "2016-03-03 17:21 Some One", "26.06.2014, 14:41, X <x@y>:".
_DATE_FIRST = re.compile(r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.*(\d{1,2}:\d{2}|<\S+@)"
                         r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b.*:\s*$)")
# A line ending with a colon that names an address and a time: a quote header of some client.
_ADDRESS_TIME = re.compile(r"^[^>].*\d{1,2}:\d{2}.*@.*:\s*$|^[^>].*@.*\d{1,2}:\d{2}.*:\s*$")
_FRAMED = re.compile(r"^\s*[-*_=]{3,}\s*\*?[^-*_=]{3,60}?\*?\s*[-*_=]{3,}\s*$")
_ORIGINAL = re.compile(
    r"^\s*[-*_=\s]*(original message|mensaje original|message d'origine|message original|"
    r"oorspronkelijk bericht|origineel bericht|ursprüngliche nachricht|original-nachricht|"
    r"messaggio originale|mensagem original|forwarded message|doorgestuurd bericht|"
    r"message transféré|weitergeleitete nachricht|messaggio inoltrato|begin forwarded message)"
    r"\s*:?\s*[-*_=\s]*$", re.I)
_HEADER = re.compile(
    r"^\s*\*?(from|van|de|da|von|från|fra|od|от|sent|date|to|subject|cc|verzonden|datum|aan|"
    r"onderwerp|envoyé|objet|à|a|inviato|data|oggetto|risposta|gesendet|an|betreff|skickat|till|"
    r"ämne|sendt|til|emne|отправлено|кому|тема)\s*\*?\s*:", re.I)
_HEADER_FROM = re.compile(r"^\s*\*?(from|van|de|da|von|från|fra|od|от)\s*\*?\s*:\s*\S", re.I)
_DELIMITER = re.compile(r"^\s*([-_=*~]{4,}|--|-|ᐧ)\s*$")
_SIGNATURE = re.compile(
    r"^\s*[(<]*\s*("
    r"(sent|envoyé|verzonden|verstuurd|inviato|enviado|sendt|skickat|wysłane|отправлено|gesendet)"
    r"\s+(from|with|via|by|depuis|de|du|met|vanaf|vanuit|van|da|dal|dall'|desde|do|fra|från|"
    r"z|с|von|mit)\b.{0,80}"
    r"|von meinem .{0,60} gesendet\.?"
    r"|diese nachricht wurde von meinem .{0,80}gesendet\.?"
    r"|get \[?outlook for .{0,80}|ottieni outlook per .{0,40}|outlook voor .{0,40}"
    r"|.{0,30}\b(from|via) (my |mijn |mon |il mio )?(mobile|iphone|ipad|android|phone|cell)\b.{0,12}"
    r"|從我的 .{0,20} 傳送"
    r")\s*[)>]*\s*$", re.I)
# A quote header written on the same line as the reply ("reply On ... wrote:"): split it off.
_INLINE_HEADER = re.compile(rf"(?<=\S)\s*(-*\s*(On|Le|Op|Am|Il giorno)\s.{{5,200}}{_W}\s*:?)",
                            re.I)


# Substrings without which a line cannot be a header or a signature: cheap tests (plain
# substring search) that spare most text lines the costly patterns.
_HEADER_HINTS = (":", "-", "*", "_", "=", "wrote", "schreef", "écrit", "ecrit", "schrieb",
                 "scritto", "scrisse", "escrib", "escreveu", "skrev", "napisa", "napsal",
                 "написал", "пише", "kirjoitti", "yazdı", "sent")
_SIGNATURE_HINTS = ("sent", "envoy", "verzonden", "verstuurd", "inviato", "enviado", "sendt",
                    "skickat", "wysłane", "отправлено", "gesendet", "von meinem",
                    "diese nachricht", "outlook", "mobile", "iphone", "ipad", "android", "phone",
                    "cell", "從我的")


def _hints(line: str, hints) -> bool:
    low = line.lower()
    return any(hint in low for hint in hints)


def _kind(line: str) -> str:
    if not line.strip():
        return "e"
    if line.lstrip().startswith(">"):
        return "q"
    if _DELIMITER.match(line):
        return "d"
    if len(line) < 160 and _hints(line, _SIGNATURE_HINTS) and _SIGNATURE.match(line):
        return "s"
    if (_hints(line, _HEADER_HINTS) or _DATE_FIRST.match(line)) and (
            _WROTE_LINE.match(line) or _ORIGINAL.match(line) or _FRAMED.match(line)
            or _DATE_FIRST.match(line) or _ADDRESS_TIME.match(line)):
        return "b"
    return "t"


def _classify(lines: list[str]) -> list[str]:
    kinds = [_kind(line) for line in lines]
    for i, line in enumerate(lines):
        if kinds[i] != "t":
            continue
        # The second line of a header broken after "<": "postmaster@x.example>:".
        if i and kinds[i - 1] == "b" and re.search(r"(@\S*>?|>)\s*:\s*$", line):
            kinds[i] = "b"
            continue
        # "On Mon, 3 Feb ... <\ninfo@x> wrote:": a header broken over up to three lines.
        if _INTRO_LINE.match(line):
            for j in range(i + 1, min(i + 4, len(lines))):
                if re.search(_W, lines[j], re.I):
                    kinds[i:j + 1] = ["b"] * (j + 1 - i)
                    break
        # "Someone <mail>\nschrieb am ...:": the verb's line starts the header's second line.
        elif i + 1 < len(lines) and kinds[i + 1] == "b" and re.search(
                _W, lines[i + 1], re.I) and ("@" in line or line.rstrip().endswith("<")):
            kinds[i] = "b"
        # A header block: "From: ..." (or any header) followed by more header lines.
        elif _HEADER.match(line) and any(
                _HEADER.match(n) for n in [n for n in lines[i + 1:i + 6] if n.strip()][:2]) and (
                _HEADER_FROM.match(line) or i == 0 or kinds[i - 1] in "ebd"):
            kinds[i] = "b"
    return kinds


def new_text(text: str) -> str:
    """The part of ``text`` the sender wrote now."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = _INLINE_HEADER.sub(lambda m: "\n" + m.group(1), text).split("\n")
    kinds = _classify(lines)
    # Everything after a delimiter ("-- ", a rule of dashes) is signature or history.
    if "d" in kinds and any(k == "t" for k in kinds[:kinds.index("d")]):
        cut = kinds.index("d")
        lines, kinds = lines[:cut], kinds[:cut]
    keep = [i for i, k in enumerate(kinds) if k != "s"]
    lines, kinds = [lines[i] for i in keep], [kinds[i] for i in keep]
    pattern = "".join(kinds)

    below = re.search(r"^(b[^t]+)*b[bqe]+(t[te]*)$", pattern)
    first = re.search(r"t[te]*?(e*b)", pattern)
    if below:
        # The reply written below an embedded mail and its quote (bottom-posting).
        lines = lines[below.start(2):]
    elif first:
        rest = pattern[first.start(1):]
        wrapped = re.search(r"q[qbe]*(t[te]*)$", rest)
        if wrapped:
            # Text, a quoted mail, more text: the quoted mail goes, both texts stay.
            tail = lines[first.start(1) + wrapped.start(1):]
            lines = lines[:first.start(1)] + [""] + tail
        else:
            # Text above an embedded mail (top-posting): the mail below is history.
            lines = lines[:first.start(1)]
    elif match := re.search(r"te*([qe]*q[qe]*)$", pattern):
        # Text followed by a trailing quote block: the quote is history.
        lines = lines[:match.start(1)]
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
            if attrs.get("id") in ("divRplyFwdMsg", "appendonsend"):
                for sibling in list(tag.find_next_siblings()):
                    sibling.decompose()
            tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "li", "tr", "h1", "h2", "h3", "h4"]):
        block.insert_after("\n")
    text = soup.get_text()
    return "\n".join(line.strip() for line in text.splitlines()).strip()
