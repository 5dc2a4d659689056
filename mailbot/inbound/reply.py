"""Finding the new text of a reply: quoted history, quote headers and signatures are cut off.

People top-post above a copy of our mail, which may contain a filled-in form or action names that
must never be read as their answer. Each line gets a ``Kind`` -- empty, the sender's text, quote
(``>``), attribution ("On <date>, <someone> wrote:" in nl, fr, it, de, en and more), header of
an embedded mail (an Outlook header block, "-----Original Message-----"), delimiter or mobile
signature -- and one scan over the kinds decides what is new: text above an embedded mail, text
below a leading quote block, or everything when the reply is written inline. A sign-off and the
name below it go too. The approach follows Discourse's email_reply_trimmer; the rules and
patterns here are our own. Every step is linear in the size of the mail, and bounded: each line
is matched by patterns without nested quantifiers, lines longer than any quote header or
signature (``_LONGEST_HEADER``) are text without a look, and only the first ``_MOST_LINES``
lines are read. HTML is made text first (``html_text``).
"""

from __future__ import annotations

import re
from enum import Enum


class Kind(Enum):
    """What one line of a mail is."""

    EMPTY = "empty"
    TEXT = "text"  # the sender's words, as far as the line itself tells
    QUOTE = "quote"  # "> ..." or "JD> ...": a quoted line
    ATTRIBUTION = "attribution"  # "On <date>, <someone> wrote:", also broken over lines
    HEADER = "header"  # an embedded mail's header: Outlook block, "Original Message", framed title
    DELIMITER = "delimiter"  # "-- ", a rule: a signature or a footer follows
    SIGNATURE = "signature"  # "Sent from my iPhone": the mail ends here


# No quote header or signature line is longer; longer lines are text without a look.
_LONGEST_HEADER = 300
# Nobody writes more as a reply: a mail is read up to here, so that the work per mail is bounded
# (the whole mail stays stored for operators).
_MOST_LINES = 5000

_WROTE = (r"wrote|schreef|het volgende geschreven|a écrit|a ecrit|schrieb|ha scritto|scrisse|"
          r"escribió|escribio|escreveu|skrev|napisał\(a\)|napisał|napisal|napsal|написал|"
          r"написала|пише|kirjoitti|yazdı|sent")
# The first letters of the verbs, looked at before the alternation is tried: under re.I the
# alternation costs 8 µs a position, and most positions start with another letter.
_VERB_FIRST = "".join(sorted({verb[0] for verb in _WROTE.split("|")}))
_VERB = re.compile(rf"(?<!\w)(?=[{_VERB_FIRST}])(?:{_WROTE})(?!\w)", re.I)
_INTRO = re.compile(r"^\s*(?:-+\s*)?(?:on|op|le|am|il|el|em|den|dne|w dniu|på|at|il giorno)\s",
                    re.I)
# An attribution on the same line as the reply ("reply On <date>, <a@b> wrote:"): capitalised,
# as clients write it, so that "op"/"le"/"on" inside a sentence never starts one, and with the
# address, which a sentence that quotes the shop ("Il 3 marzo il negozio ha scritto:") lacks.
_INLINE_INTRO = re.compile(r"(?<=\S)[\s-]+(?=(?:On|Op|Le|Am|Il giorno|Il) )")
# What a client puts in every attribution and a sentence rarely has: a time, a date, an address.
_ADDRESS = re.compile(r"\w@\w")
# A line that starts with a date, or with a weekday and a date.
_DATE_START = re.compile(r"^\s*(?:\w+,?\s+)?\d")
_TIME_OR_ADDRESS = re.compile(r"\d{1,2}[:.h]\d{2}|\w@\w")
_EVIDENCE = re.compile(r"\d{1,2}[:.h]\d{2}|\w@\w|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
                       r"|(?<!\d)\d{1,2}(?!\d)\D{1,20}(?<!\d)(?:19|20)\d{2}(?!\d)")
# Right before the verb: "Some One <some@one.example> wrote:".
_ADDRESS_END = re.compile(r"\S@[^\s@]+[\s>)\]\"']*$")
# How far an attribution's verb may stand from its end ("schrieb Name <a@b> am <date>:"), and
# its address from the verb.
_VERB_REACH = 90
_DATE_FIRST = re.compile(r"^\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})\b")
_ADDRESS_LAST = re.compile(r"<[^\s<>@]+@[^\s<>@]+>\s*:?\s*$")
_TIME = re.compile(r"\d{1,2}:\d{2}")
_TIME_ZONE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})? (?:GMT|UTC)(?:[+-]\d{1,2}(?::\d{2})?)?\b")
_FRAMED = re.compile(r"^\s*[-*_=]{3,}\s*\*?[^-*_=]{3,60}?\*?\s*[-*_=]{3,}\s*$")
_ORIGINAL = re.compile(
    r"^\s*[-*_=\s]*(original message|mensaje original|message d'origine|message original|"
    r"oorspronkelijk bericht|origineel bericht|ursprüngliche nachricht|original-nachricht|"
    r"messaggio originale|mensagem original|forwarded message|doorgestuurd bericht|"
    r"message transféré|weitergeleitete nachricht|messaggio inoltrato|begin forwarded message)"
    r"\s*:?\s*[-*_=\s]*$", re.I)
_HEADER_FIELD = re.compile(
    r"^\s*\*?(from|van|de|da|von|från|fra|od|от|sent|date|to|subject|cc|verzonden|datum|aan|"
    r"onderwerp|envoyé|objet|à|a|inviato|data|oggetto|risposta|gesendet|an|betreff|skickat|till|"
    r"reply-to|"
    r"ämne|sendt|til|emne|отправлено|кому|тема)\s*\*?\s*:", re.I)
_HEADER_FROM = re.compile(r"^\s*\*?(from|van|de|da|von|från|fra|od|от)\s*\*?\s*:\s*\S", re.I)
_LINK_ONLY = re.compile(r"^\s*[(<]?https?://\S+[)>]?\s*>?\s*$")
_QUOTE = re.compile(r"^\s*(?:>|[A-Za-z]{1,3}>)")
# A quote marked with the writer's name, as some clients do: "Richard> ...".
_NAMED_QUOTE = re.compile(r"^\s*[A-Za-z]{1,12}>")
# A signature or footer rule: "-- " (RFC 3676 §4.3), "--", "__" above a list footer, longer rules.
_DELIMITER = re.compile(r"^\s*([-_=*~]{4,}|-{1,3}|_{2,3}|ᐧ)\s*$")
# "Sent from my iPhone" and its translations; a comma or a conjunction after it is a sentence.
_SIGNATURE = re.compile(
    r"^(?!.*\b(?:because|omdat|want|parce|car|perché|weil|denn|and|en|et|und|but|maar|mais|ma"
    r"|aber|so|dus|donc|quindi|also|then|dan|alors|poi|dann)\b)"
    r"\s*[(<]*\s*("
    r"(sent|envoyé|verzonden|verstuurd|inviato|enviado|sendt|skickat|wysłane|отправлено|gesendet)"
    r"\s+(from|with|via|by|depuis|de|du|à partir de|a partir de|met|vanaf|vanuit|van|da|dal|"
    r"dall'|desde|do|fra|från|z|с|von|mit)\b[^,;!?]{0,60}"
    r"|von meinem [^,;!?]{0,60} gesendet\.?"
    r"|diese nachricht wurde von meinem [^,;!?]{0,80}gesendet\.?"
    r"|get \[?outlook for [^,;!?]{0,60}|ottieni outlook per [^,;!?]{0,40}"
    r"|outlook voor [^,;!?]{0,40}"
    r"|[^,;!?]{0,30}\b(from|via) (my |mijn |mon |il mio )?(mobile|iphone|ipad|android|phone|cell)\b"
    r"[^,;!?]{0,12}"
    r"|從我的 .{0,20} 傳送"
    r")\s*[)>]*\s*$", re.I)
# Closing words that end a mail in nl, fr, it, de, en; a name (and a title) may follow.
_SIGN_OFF = re.compile(
    r"^\s*(?:(?:met )?(?:vriendelijke|hartelijke|beste|lieve) groet(?:en)?|groet(?:en|jes)?|mvg"
    r"|(?:bien )?cordialement|bien à vous|(?:meilleures |sincères )?salutations|amicalement"
    r"|(?:cordiali|distinti) saluti|saluti|un saluto|cordialmente"
    r"|mit freundlichen grüßen|(?:freundliche|viele|beste|liebe) grüße|mfg|lg"
    r"|(?:best |kind |warm |warmest )?regards|best wishes|sincerely|yours (?:sincerely|truly)"
    r"|cheers|thank you)(?P<rest>\s*[,.!]?.*)$", re.I)
# What may follow a sign-off on its line: ", Sanne", ", John Doe, CEO".
# Words are separated by spaces or a comma, never by nothing: "\s*,?\s*" between two runs of
# letters let the engine split one long word in every way (n**6 on "Aaaa...#", 3.8 s at 64).
_NAME = re.compile(r"^\s*[,.!]?\s*(?:[A-ZÀ-Þ][\w.'&-]*(?:(?:\s+|\s*,\s*)[\w.'&-]+){0,5})?\s*$")
_NAME_LINES = 4  # name, title, company, phone
# A sign-off of a dash and the name alone: "-Abhishek Kona", "-- Sanne".
_DASH_NAME = re.compile(r"^\s*-{1,2}\s?[A-ZÀ-Þ][\w.'-]*(?:\s+[A-ZÀ-Þ][\w.'-]*){0,2}\s*$")
# What a contact block below a name holds: an address, a phone number, a web site.
_CONTACT = re.compile(r"\S@\S+\.\w|\+?\(?\d[\d ().-]{7,}\d|^\s*(?:https?://|www\.)\S+\s*$")
# A name alone on its line (one to three capitalised words), as above a mobile signature.
_BARE_NAME = re.compile(r"^\s*[A-ZÀ-Þ][\w.'-]*(?:\s+[A-ZÀ-Þ][\w.'-]*){0,2}\s*$")
_NAME_LINE_LENGTH = 60


_EMBEDDED = (Kind.ATTRIBUTION, Kind.HEADER)
# In a sentence that tells what happened, the writer is a thing with an article or a pronoun ("il
# negozio ha scritto:", "schreef de winkel:", "the shop wrote:", "I wrote:"); a client writes a
# name, an address or "you".
_NARRATIVE = re.compile(
    r"\b(?:il|lo|la|le|les|de|het|the|der|die|das|un|une|een|mijn|my|mon|ma|mio|mein|unser|onze"
    r"|notre|nostro|our)\s+[a-zà-ÿ]|(?<![\w'])(?:I|ik|je|j'ai|io|ich|we|wij|nous|noi|wir)(?!\w)")


def _looks_like_attribution(line: str) -> bool:
    """A whole quote header on one line: "On <date>, <someone> wrote:", "Some One <a@b> wrote:",
    "<date> <someone> написал:", "Am <date> schrieb Name <a@b>:" (callers pass at most
    ``_LONGEST_HEADER`` characters)."""
    for verb in _VERB.finditer(line):
        after = line[verb.end():].strip()
        if after.strip("-: ") and not (after.endswith(":") and len(after) <= _VERB_REACH):
            continue  # more than an address and a date after the verb: a sentence goes on
        if _INTRO.match(line) and _EVIDENCE.search(line):
            return True
        if _ADDRESS_END.search(line[max(verb.start() - _VERB_REACH, 0):verb.start()]):
            return True
        if after == ":" and _DATE_START.match(line) and _EVIDENCE.search(line):
            return True  # "<date>, <someone> написал:", "понедельник, 6 октября 2014 г. ..."
    return False


def _looks_like_header(line: str) -> bool:
    """A line that starts an embedded mail by itself."""
    if _ORIGINAL.match(line) or _FRAMED.match(line):
        return True
    end = line.rstrip()
    time = _TIME.search(line) is not None
    if _DATE_FIRST.match(line):
        # Gmail's "2016-03-03 17:21 GMT+01:00 Some One <a@b>:", also broken after "<" or
        # without the colon; "2013/7/20 Some One <a@b>".
        return (end.endswith((":", "<")) and (time or "@" in line)
                or _ADDRESS_LAST.search(line) is not None or _TIME_ZONE.search(line) is not None)
    # A header of some client: a time and an address, ending in a colon.
    return end.endswith(":") and "@" in line and time


def _split_inline(line: str) -> list[str]:
    """``line``, or the reply and the attribution that a client wrote on the same line."""
    if len(line) > _LONGEST_HEADER or not _VERB.search(line):
        return [line]
    for intro in _INLINE_INTRO.finditer(line):
        rest = line[intro.end():]
        if _ADDRESS.search(rest) and _looks_like_attribution(rest):
            return [line[:intro.start()], rest]
    return [line]


def _kind(line: str) -> Kind:
    if not line.strip():
        return Kind.EMPTY
    if _QUOTE.match(line):
        return Kind.QUOTE
    if len(line) > _LONGEST_HEADER:
        return Kind.TEXT
    if _DELIMITER.match(line):
        return Kind.DELIMITER
    if _SIGNATURE.match(line):
        return Kind.SIGNATURE
    if _looks_like_attribution(line):
        return Kind.ATTRIBUTION
    if _looks_like_header(line):
        return Kind.HEADER
    return Kind.TEXT


def _classify(lines: list[str]) -> list[Kind]:
    kinds = [_kind(line) for line in lines]
    for i, line in enumerate(lines):
        if kinds[i] is not Kind.TEXT or len(line) > _LONGEST_HEADER:
            continue
        if _HEADER_FIELD.match(line):
            _mark_header_block(lines, kinds, i)
        elif (_INTRO.match(line) or _ADDRESS.search(line) or _VERB.search(line)
              or line.rstrip().endswith("<")):
            _mark_broken_attribution(lines, kinds, i)
        # A link that a client broke out of a quote: "> View (http://x/a\n_b=1)\n>".
        elif 0 < i < len(lines) - 1 and kinds[i - 1] is kinds[i + 1] is Kind.QUOTE and (
                _LINK_ONLY.match(line) or " " not in line.strip() and line.rstrip().endswith(")")
                and lines[i - 1].count("(") > lines[i - 1].count(")")):
            kinds[i] = Kind.QUOTE
    _unless_quoted_below(lines, kinds)
    for i in range(1, len(kinds) - 1):
        # "Stavros\nvia mobile": the name right above a mobile signature, after the text, is
        # part of it.
        if (kinds[i + 1] is Kind.SIGNATURE and kinds[i] is Kind.TEXT and kinds[i - 1] is Kind.EMPTY
                and _BARE_NAME.match(lines[i]) and Kind.TEXT in kinds[:i - 1]):
            kinds[i] = Kind.SIGNATURE
    return kinds


def _client_attribution(line: str) -> bool:
    """A date or a time, the verb and the colon, alone on the line, with a name rather than a
    thing or a pronoun as the writer: "Le 19/03/2014 11:34, X a écrit :", "On Nov 26, 2013 you
    wrote:". Clients put such a line above the quoted mail even without ``>``."""
    if not line.rstrip().endswith(":") or not _EVIDENCE.search(line):
        return False
    verb = list(_VERB.finditer(line))  # one at least: the line is an attribution
    # The words around the verb, after the date or time: who wrote.
    evidence = list(_EVIDENCE.finditer(line))
    who = line[evidence[-1].end():] if evidence[-1].end() < verb[-1].start() else line
    return not _NARRATIVE.search(_VERB.sub(" ", who))


def _unless_quoted_below(lines: list[str], kinds: list[Kind]) -> None:
    """An attribution without an address or a frame of dashes is one only if a quote (also
    "Richard> ...") or nothing follows it, or if a client wrote it (``_client_attribution``):
    "Il 3 marzo 2024 alle 10:00 il negozio ha scritto:" above the buyer's own words is a
    sentence, "Am 25.06.2015 um 10:55 schrieb X:" above unquoted text is a quote header."""
    i = 0
    while i < len(kinds):
        if kinds[i] is not Kind.ATTRIBUTION:
            i += 1
            continue
        end = i
        while end < len(kinds) and kinds[end] is Kind.ATTRIBUTION:
            end += 1
        below = _first(kinds, (Kind.TEXT, Kind.QUOTE, Kind.ATTRIBUTION, Kind.HEADER,
                               Kind.DELIMITER, Kind.SIGNATURE), end)
        if not lines[i].lstrip().startswith("-") and not any(
                _ADDRESS.search(line) for line in lines[i:end]) and not (
                end == i + 1 and _client_attribution(lines[i])) and (
                below is not None and kinds[below] is Kind.TEXT
                and not _NAMED_QUOTE.match(lines[below])):
            for k in range(i, end):
                kinds[k] = Kind.TEXT
        i = end


def _mark_broken_attribution(lines: list[str], kinds: list[Kind], i: int) -> None:
    """"On Mon, 3 Feb 2020 Some One\n\n<\nmailto:a@b>\n> wrote:", "Max <a@b> schrieb am Fr.,
    28.\nApr. 2017 um 11:53 Uhr:": an attribution broken over up to seven lines, read as one."""
    joined = lines[i]
    for j in range(i + 1, min(i + 7, len(lines))):
        if kinds[j] not in (Kind.TEXT, Kind.EMPTY, Kind.QUOTE, Kind.ATTRIBUTION) or (
                _INTRO.match(lines[j])):
            return  # another header starts: this line is not one
        joined += " " + lines[j].lstrip("> ")
        if len(joined) > _LONGEST_HEADER:
            return
        if _looks_like_attribution(joined):
            for k in range(i, j + 1):
                kinds[k] = Kind.ATTRIBUTION
            return
        if kinds[j] is Kind.ATTRIBUTION:
            return


def _mark_header_block(lines: list[str], kinds: list[Kind], i: int) -> None:
    """"From: ...\nSent: ...\nTo: ...": three header fields, or two after an empty line or a rule
    that are "From:" or hold an address or a time, start an embedded mail."""
    last, fields = i, 0
    for j in range(i, min(i + 8, len(lines))):
        if not lines[j].strip():
            break
        if _HEADER_FIELD.match(lines[j][:_LONGEST_HEADER]):
            last, fields = j, fields + 1
    block = " ".join(lines[i:last + 1])
    if fields >= 3 or fields == 2 and (i == 0 or kinds[i - 1] in (
            Kind.EMPTY, Kind.HEADER, Kind.DELIMITER)) and (
            _HEADER_FROM.match(lines[i]) or _TIME_OR_ADDRESS.search(block)):
        for k in range(i, last + 1):
            kinds[k] = Kind.HEADER


def _first(kinds: list[Kind], wanted, start: int = 0, stop: int | None = None) -> int | None:
    for i in range(start, len(kinds) if stop is None else stop):
        if kinds[i] in wanted:
            return i
    return None


def _select(kinds: list[Kind]) -> list[int | None]:
    """The indexes of the lines the sender wrote now, in order (``None`` stands for an empty
    line put between two kept parts)."""
    first_text = _first(kinds, (Kind.TEXT,))
    if first_text is None:
        return []  # nothing but quotes, headers and empty lines: no new text
    # The mail ends at a mobile signature, or at a delimiter below the sender's text.
    end = _first(kinds, (Kind.SIGNATURE,), 0, first_text)
    if end is None:
        end = _first(kinds, (Kind.SIGNATURE, Kind.DELIMITER), first_text)
    if end is not None and end < first_text:
        return []  # "Sent from my iPhone" above the quote: nothing new
    end = len(kinds) if end is None else end
    if _first(kinds, (Kind.HEADER,), 0, first_text) is not None:
        return []  # text below an Outlook header block or "Original Message" is the old mail
    # Quotes and headers after the last text line are history.
    while kinds[end - 1] is not Kind.TEXT:
        end -= 1
    # The closing run of text: from the first text line after the last quote or header.
    tail = end
    while tail > first_text and kinds[tail - 1] in (Kind.TEXT, Kind.EMPTY):
        tail -= 1
    while tail < end and kinds[tail] is Kind.EMPTY:
        tail += 1
    if _first(kinds, (Kind.ATTRIBUTION,), 0, first_text) is not None:
        # The mail starts with an attribution and a quote: the reply is written below it.
        if _first(kinds, (Kind.TEXT,), 0, tail) is None:
            return list(range(tail, end))
        return [i for i in range(end) if kinds[i] not in _EMBEDDED]
    # Top-posting: the first embedded mail right below the sender's text ends the new text.
    previous = None
    for i in range(first_text, end):
        if kinds[i] in _EMBEDDED and previous is Kind.TEXT:
            cut = i
            while kinds[cut - 1] is Kind.EMPTY:
                cut -= 1
            if tail > i and Kind.QUOTE in kinds[i:tail] and _first(kinds, (Kind.TEXT,), i, tail) is None:
                # Text, a quoted mail, more text: the quoted mail goes, both texts stay.
                return [*range(cut), None, *range(tail, end)]
            return list(range(cut))
        if kinds[i] is not Kind.EMPTY:
            previous = kinds[i]
    return list(range(end))


def _without_sign_off(lines: list[str]) -> list[str]:
    """``lines`` without a closing sign-off and the name, title or phone lines below it, or
    without a last line of a dash and a name."""
    last = len(lines)
    while last and not lines[last - 1].strip():
        last -= 1
    if last > 1 and _DASH_NAME.match(lines[last - 1]) and any(
            line.strip() for line in lines[:last - 1]):
        return lines[:last - 1]
    # A contact block without a sign-off: a name alone after an empty line, and below it at
    # most four lines that are each an address, a phone number or a web site.
    for i in range(max(last - 1 - _NAME_LINES, 1), last - 1):
        if (not lines[i - 1].strip() and _BARE_NAME.match(lines[i])
                and all(_CONTACT.search(line) for line in lines[i + 1:last])
                and any(line.strip() for line in lines[:i - 1])):
            return lines[:i - 1]
    for i in range(last - 1, max(last - 1 - _NAME_LINES, 0) - 1, -1):
        line = lines[i]
        if len(line) > _LONGEST_HEADER:
            break
        below = [n for n in lines[i + 1:last] if n.strip()]
        short = all(len(n.strip()) <= _NAME_LINE_LENGTH and not n.rstrip().endswith(
            (".", "?", "!", ":")) for n in below)
        if not short:
            break
        match = _SIGN_OFF.match(line)
        if match and _NAME.match(match["rest"]) and (below or match["rest"].strip(" ,.!")):
            return lines[:i]
    return lines


def _lines(text: str) -> list[str]:
    """The first ``_MOST_LINES`` lines of ``text``."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n", _MOST_LINES)[:_MOST_LINES]


# A whole line in brackets of four words or more: the prompt our prefilled mails put where the
# party must write ("[Write your question here]"); shorter ones ("[message body]") are people's.
PROMPT = re.compile(r"^\s*\[[^\]\s]+(?:\s+[^\]\s]+){3,}\s*\]\s*$")


def new_text(text: str) -> str:
    """The part of ``text`` the sender wrote now ("" when there is none)."""
    lines = [part for line in _lines(text) for part in _split_inline(line)]
    kinds = _classify(lines)
    kept = ["" if i is None else lines[i] for i in _select(kinds)]
    # A prompt such as "[Write your question here]" left as it was is not the sender's text.
    kept = [line for line in kept if not PROMPT.match(line)]
    return "\n".join(_without_sign_off(kept)).strip()


def without_closing(text: str) -> str:
    """``text`` without its closing: a mobile "sent from" line and all below it, a sign-off and
    the name below it -- what ``new_text`` removes besides the quoted history. (The benchmark
    compares with sources that keep closings in the reply.)"""
    lines = _lines(text)
    for i, line in enumerate(lines):
        if _kind(line) is Kind.SIGNATURE:
            lines = lines[:i]
            break
    return "\n".join(_without_sign_off(lines)).strip()
