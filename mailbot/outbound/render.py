"""Rendering mails from Jinja2 templates in the recipient's language, as text and as HTML.

The core names a mail by party and kind (``buyer.case_closed``, ``merchant.case_closed``); one
template file per kind (``templates/case_closed.j2``) serves every party, with party-specific
sentences chosen on ``role``. Each template fills the blocks of the layout (subject, heading,
preheader, summary card, body) with format-neutral macros (``m.p``, ``m.actions``, ``m.facts``
...) and is rendered twice: by a text environment (no escaping, ``_text.j2`` macros) and by an
HTML environment (autoescape, ``_html.j2`` macros), each with the gettext catalog of the locale
(Babel .po files compiled in memory at start-up) and Babel filters for money and dates in that
locale and the configured time zone.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime, get_timezone_name
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations
from markupsafe import Markup

from .. import resources
from ..core.model import LOCALES

# Every template name the core and the shell emit (the outbox ``template`` column keeps them).
NAMES = (
    "buyer.reminder", "buyer.protection_ended", "buyer.extended", "buyer.extend_needs_plus",
    "buyer.extend_used", "buyer.other_received", "buyer.choose_action", "buyer.not_active",
    "buyer.not_open", "buyer.confirm_sender", "buyer.case_opened", "buyer.decision",
    "buyer.case_escalated", "buyer.case_closed", "buyer.documents_requested",
    "buyer.documents_refused", "buyer.message_relayed", "buyer.message_received",
    "merchant.case_opened", "merchant.nudge", "merchant.bad_decision", "merchant.confirm_sender",
    "merchant.not_open", "merchant.decision_recorded", "merchant.case_escalated",
    "merchant.case_closed", "merchant.case_closed_already", "merchant.documents_requested",
    "merchant.documents_refused", "merchant.message_relayed", "merchant.message_received",
    "buyer.team_message", "merchant.team_message",
    "operator.case_escalated", "operator.message_relayed", "operator.other_request",
    "operator.command_help", "operator.command_done", "operator.delivery_failed",
    "operator.digest", "buyer.storage_full", "merchant.storage_full", "operator.relays_held",
    # Orders by mail (orders_by_mail/notices.py): about no order, to the shop.
    "merchant.intake_held", "merchant.intake_unread", "merchant.intake_report",
)


QUOTES = {"fr": ("\u00ab\u202f", "\u202f\u00bb"), "it": ("\u00ab", "\u00bb")}

# A moment as people write it: "om 23:59 uur", "à 23 h 59", "alle 23:59".
# No-break spaces (U+00A0) keep "23:59 uur" and "23 h 59" on one line on a phone.
AT_TIME = {"nl": "EEEE d MMMM y 'om' HH:mm'\u00a0uur'",
           "fr": "EEEE d MMMM y 'à' H'\u00a0h\u00a0'mm",
           "it": "EEEE d MMMM y 'alle' HH:mm"}


# A date in a subject line, where the weekday and the year only make it long: "26 november".
SHORT_DATE = "d MMMM"

# A moment in the operators' mails (case file, cards, digest), one way in each: "23 november
# 2026, 14:02", "23 novembre 2026, 14 h 02". The month in full: CLDR's abbreviations differ in
# their full stop from one locale and release to the next ("dec" / "déc.").
DATETIME = {"nl": "d MMMM y, HH:mm", "fr": "d MMMM y, H'\u00a0h\u00a0'mm", "it": "d MMMM y, HH:mm"}

# What a reader sees of the HTML part, between its tags, never breaks at a hyphen where a phone
# would split a word or a name: "e-mail" (and "e-mails", "e-mailadres"), a French imperative and
# its pronoun ("Envoyez-le", which left "le," alone at the start of a line at 375 px), and an
# order number, a file name or an address ("NL-2026-10481", "factuur-10481.pdf": a hyphenated
# word with a digit or an "@") each go in a no-wrap span with their ASCII hyphens. Not U+2011:
# older Outlook fonts lack the glyph, and a reader who searches or copies the word would not
# find "e-mail" (review 10D item 8); the text part keeps plain hyphens too. Tags, links, the
# <title> (the subject) and the <style> are left as they are, and so is a value the template
# already set in a no-wrap span (the ``nobreak`` filter).
_TAGS = re.compile(r"(<(?:title>.*?</title>|style>.*?</style>|[^>]*>))", re.S)  # "<" first: faster
NOWRAP = '<span style="white-space:nowrap">'


def no_break_hyphens(html: str) -> str:
    parts = _TAGS.split(html)
    for i in range(0, len(parts), 2):
        # Most of a mail's text runs have no hyphen: the test skips a regex call for each.
        if "-" in parts[i] and (not i or parts[i - 1] != NOWRAP):
            parts[i] = _JOINED.sub(_nowrap, parts[i])
    return "".join(parts)


# Words joined by hyphens: "NL-2026-10481", "e-mail", "Envoyez-le", "porte-monnaie".
_JOINED = re.compile(r"[\w.@+]*\w-[\w.@+-]*\w")
_NAME = re.compile(r"[\d@]")
# A hyphenated word this short ("ci-dessous", "peut-être", "porte-clés") stays whole.
_SHORT = 12
# "e-mail" and its compounds starting a word ("e-mails", "E-mailadres"), not "re-mail".
_E_MAIL = re.compile(r"(?<!\w)[eE]-mail")
# A French imperative and its pronoun(s): "Envoyez-le", "faites-le-nous".
_PRONOUN = re.compile(r"\w+(?:-(?:le|la|les|nous|vous|lui|leur|moi))+")


def no_widow(label):
    """``label`` with a no-break space (U+00A0) between its last two words, if it has three or
    more: a two-word label that wraps is two lines of one word, and kept whole it could overflow."""
    head, space, last = label.rpartition(" ")
    return type(label)(head + "\u00a0" + last) if " " in head.strip() else label


def _nowrap(match: re.Match) -> str:
    word = match.group()
    # Longer than ~30 characters, a name must wrap somewhere on a 375 px screen: at its hyphens.
    # A short compound never has to: "ci-/dessous" at 375 px split a word for no gain.
    if (len(word) <= _SHORT or (len(word) <= 30 and _NAME.search(word)) or _E_MAIL.search(word)
            or _PRONOUN.fullmatch(word)):
        return NOWRAP + word + "</span>"
    return word


class _Translate:
    """A catalog's ``gettext`` or ``ngettext`` as the templates call it (Jinja's "newstyle"):
    the translation is a format string for the keyword arguments, escaped in the HTML part, and
    ngettext's count is ``num`` as well, joined to its noun by a no-break space in HTML. Two
    additions: a value that ends a sentence with its
    own full stop ("Fietsen B.V.") gets no second one (the translation's full stop after it is
    dropped), a word the locale elides before a vowel is elided before a value that starts with
    one (fr "de %(shop)s" with Amazon: "d’Amazon"; it "entro il %(due)s" on the 8th: "entro
    l’8"), and the words of plain arguments are kept, since a mail repeats the same sentences
    and every mail of a locale its footer. It reads nothing of the render but the escaping, so
    it takes the eval context, not the context (Jinja derives a new context for a
    ``pass_context`` callable in a loop)."""

    def __init__(self, lookup, plural: bool, locale: str = ""):
        self._lookup, self._plural, self._kept = lookup, plural, {}
        self._elide_day, self._elide_word = locale == "it", locale == "fr"

    @jinja2.pass_eval_context
    def __call__(self, eval_ctx, *args, **variables):
        if not variables and len(args) == 1 and type(args[0]) is str:
            key = (eval_ctx.autoescape, args[0])  # a sentence without values, most of a mail's
        else:
            # A type is part of the key: Markup("a") == "a" but they format differently.
            key, types = None, tuple(map(type, (*args, *variables.values())))
            if _PLAIN.issuperset(types):
                key = (eval_ctx.autoescape, args, tuple(variables.items()), types)
        out = self._kept.get(key) if key is not None else None
        if out is not None:
            return out
        if self._plural:
            variables.setdefault("num", args[2])
        out = self._lookup(*args)
        if self._elide_word and variables and "%(" in out:
            out = _elided_words(out, variables)
        out = (Markup(out) if eval_ctx.autoescape else out) % variables
        out = type(out)(_DOUBLE_STOP.sub(".", out)) if ".." in out else out
        if self._plural and eval_ctx.autoescape and out.startswith(f"{variables['num']} "):
            # A count keeps its noun on its line at 375 px ("12 / dagen" split them).
            cut = len(str(variables["num"]))
            out = out[:cut] + "\u00a0" + out[cut + 1:]
        if self._elide_day and any(isinstance(v, str) and _ELIDED_DAY.match(v)
                               for v in variables.values()):
            out = type(out)(_ARTICLE_BEFORE_DAY.sub(_elided, out))
        if key is not None:
            if len(self._kept) >= 1024:  # order numbers and names vary: at most ~0.5 MB
                self._kept.clear()
            self._kept[key] = out
        return out


# Italian elides the article before a day said with a vowel: "l’8 dicembre", "entro l’11",
# "dall’8 al 15" (Accademia della Crusca, "L’articolo con le date e le cifre"); the 1st is
# "il 1°" (read "il primo"). The catalog writes the article ("entro il %(due)s"), which fits
# every other day: where a value is such a day, its article is elided.
_ELIDED_DAY = re.compile(r"(?:8|11)(?![\d,.])")
_ARTICLE_BEFORE_DAY = re.compile(r"\b(il|al|dal|del|nel|sul) (?=(?:8|11)(?![\d,.]))")


def _elided(match: re.Match) -> str:
    article = match.group(1)
    return "l\u2019" if article == "il" else article + "l\u2019"


# French elides de, que (and its compounds) and the article le/la before a vowel: "la réponse
# d’Amazon", "jusqu’à" (Grevisse, Le Bon Usage § 44-45); so before a name, "d’Ikea", "d’Yves
# Rocher", but "de Yahoo" (y before a vowel is a consonant). Before an h the name decides (mute
# "d’Hermès", aspirated "de Hema"), which no rule can tell: a name with an h keeps "de". The
# catalog writes the full word ("la réponse de %(shop)s"), which fits every other value.
_ELIDABLE_WORD = re.compile(r"\b(de|que|lorsque|puisque|jusque|le|la|De|Que|Le|La) %\((\w+)\)s")
_VOWEL_START = re.compile(r"[aeiouàâäéèêëîïôöûüœæ]|y(?![aeiouy])", re.IGNORECASE)


def _elided_words(msg: str, variables: dict) -> str:
    def elide(match: re.Match) -> str:
        value = variables.get(match.group(2))
        if isinstance(value, str) and _VOWEL_START.match(value):
            return match.group(1)[:-1] + "\u2019" + match.group(0)[len(match.group(1)) + 1:]
        return match.group(0)
    return _ELIDABLE_WORD.sub(elide, msg)


def _install_translations(env: jinja2.Environment, translations: Translations,
                          locale: str = "") -> None:
    """``gettext``, ``ngettext`` and ``_`` as ``_Translate`` (pgettext and npgettext as Jinja
    installs them: a few operators' words)."""
    env.install_gettext_translations(translations, newstyle=True)
    # The functions Jinja's i18n extension picks from a catalog.
    env.globals["gettext"] = _Translate(translations.ugettext, plural=False, locale=locale)
    env.globals["ngettext"] = _Translate(translations.ungettext, plural=True, locale=locale)
    env.globals["_"] = env.globals["gettext"]


_DAY = re.compile(r"\bd\b")  # the day of the month in a CLDR pattern ("dd" is not used)
# A space between the day, month and year fields of a CLDR pattern ("d MMMM y", "MMMM y").
_DATE_SPACE = re.compile(r"(?<=[dMy]) (?=[dMy])")
_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")
# Types whose equal values print alike (not Decimal: Decimal("1.0") == Decimal("1.00")).
_PLAIN = frozenset({str, Markup, int})


class _Context(jinja2.runtime.Context):
    """Jinja's context, with a short way into what the templates call most, a hundred times a
    mail: macros and the translations. Both take the eval context (the escaping) and nothing
    else; Jinja's ``Context.call`` finds that out again on every call, by attribute lookups
    that cost a tenth of a render. Any other callable goes Jinja's way."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 (Jinja's names)
        if type(__obj) not in _TAKE_EVAL_CONTEXT:
            return super().call(__obj, *args, **kwargs)
        # What Jinja does for a callable whose ``__call__`` is ``pass_eval_context``.
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(__self.eval_ctx, *args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")


_TAKE_EVAL_CONTEXT = frozenset({jinja2.runtime.Macro, _Translate})


class _Environment(jinja2.Environment):
    """Jinja's environment, three things faster and alike in what they give: the context above,
    the mail's facts (dicts) read as attributes, and the globals a new context copies."""

    context_class = _Context

    def getattr(self, obj, attribute):
        # ``order.number``: Jinja tries the attribute first, and a dict's AttributeError costs
        # a microsecond, thirty times a mail. A plain dict has no attributes but its class's,
        # so for any other name the key is what Jinja would find.
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError, AttributeError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def make_globals(self, d):
        # A template loaded without globals of its own (all of ours) has the environment's as
        # they are: a new context copies a dict in C and a ChainMap key by key in Python (four
        # contexts a mail). Jinja's ChainMap keeps a template's own globals off the others'.
        return self.globals if not d else super().make_globals(d)


_DICT_ATTRIBUTES = frozenset(dir(dict))


def _keep_constant_blocks(env: jinja2.Environment, template: jinja2.Template) -> None:
    """Blocks of ``template`` that read nothing of the render (a mail's sender name and footer,
    a heading without a value) are rendered once per escaping and kept: a block reads only
    the names it names, and these name only the environment's globals (the translations,
    macros, constants), which are the same for every mail. A block is not kept if it names
    anything else (the mail's values, a local variable, ``self``, ``super``), holds another
    block (a child may override it), includes or imports a template (which may read the
    render's values), or uses ``random`` or ``lipsum``."""
    tree = env.parse(env.loader.get_source(env, template.name)[0], template.name)
    for node in tree.find_all(jinja2.nodes.Block):
        # NSRef: ``{% set ns.attr = ... %}`` writes to the namespace ``ns``.
        names = {name.name for name in node.find_all((jinja2.nodes.Name, jinja2.nodes.NSRef))}
        if (node.name in template.blocks and names <= env.globals.keys() - {"lipsum"}
                and next(node.find_all(_NOT_KEPT), None) is None
                and all(f.name != "random" for f in node.find_all(jinja2.nodes.Filter))):
            template.blocks[node.name] = _kept_block(template.blocks[node.name], names,
                                                     env.globals)


_NOT_KEPT = (jinja2.nodes.Block, jinja2.nodes.Include, jinja2.nodes.Import,
             jinja2.nodes.FromImport, jinja2.nodes.ContextReference)


def _kept_block(render_block, names: set[str], env_globals: dict):
    kept: dict[bool, tuple[str, ...]] = {}

    def block(context):
        # Unless the render's own values shadow a global the block names.
        if any(context.resolve_or_missing(name) is not env_globals[name] for name in names):
            return render_block(context)
        autoescape = context.eval_ctx.autoescape  # {% autoescape %} may change it
        out = kept.get(autoescape)
        if out is None:
            out = kept[autoescape] = tuple(render_block(context))
        return out
    return block


def template_file(name: str) -> str:
    """``buyer.case_closed`` and ``merchant.case_closed`` are one file: ``case_closed.j2``."""
    return name.partition(".")[2] + ".j2"



# Babel parses the locale and the pattern again on every call: 30 % of a render. A mail shows a
# handful of dates and amounts, mostly the same ones for every mail of a case.
@functools.lru_cache(maxsize=4096)
def _formatted(value, pattern: str, tz: ZoneInfo, locale: str) -> str:
    if isinstance(value, datetime):
        return format_datetime(value, pattern, tzinfo=tz, locale=locale)
    return format_date(value, pattern, locale=locale)


@functools.lru_cache(maxsize=4096)
def _zone_name(tz: ZoneInfo, locale: str) -> str:
    """The zone as a reader says it (CLDR's generic name: "Midden-Europese tijd", "heure
    d’Europe centrale", "ora dell’Europa centrale"), or its IANA id where CLDR has no name for
    it (UTC comes out as "unknown region"). French and Italian write it lowercase mid-sentence."""
    name = get_timezone_name(tz, width="long", locale=locale)
    if "(" in name:
        return tz.key
    return name[:1].lower() + name[1:] if locale in ("fr", "it") else name


def _money(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)

@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sender_name: str = ""


def load_translations(locale: str) -> Translations:
    with (resources.locales() / locale / "LC_MESSAGES" / "mailbot.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def mailto(address: str, subject="", body="") -> str:
    """An RFC 6068 mailto URI with a prefilled subject and body (UTF-8, percent-encoded)."""
    subject = subject.unescape() if isinstance(subject, Markup) else str(subject)
    body = body.unescape() if isinstance(body, Markup) else str(body)
    return f"mailto:{address}" + _mailto_query(subject.strip(), body.strip())


# The text and the HTML part of a mail ask for the same queries, and a body is often the same
# prompt in every mail of a locale (its subject names the order): urllib's quote costs a Python
# call per character.
@functools.lru_cache(maxsize=1024)
def _mailto_query(subject: str, body: str) -> str:
    query = []
    if subject:
        query.append("subject=" + _quoted(subject))
    if body:
        # RFC 6068 §5: line breaks in a body are encoded as %0D%0A.
        query.append("body=" + _quoted(body.replace("\n", "\r\n")))
    return "?" + "&".join(query) if query else ""


@functools.lru_cache(maxsize=1024)
def _quoted(value: str) -> str:
    return quote(value, safe="")


class Renderer:
    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self._envs: dict[tuple[str, str], jinja2.Environment] = {}
        self._templates: dict[tuple[str, str, str], jinja2.Template] = {}
        self._prepared: set[jinja2.Template] = set()
        for locale in LOCALES:
            translations = load_translations(locale)
            for fmt in ("text", "html"):
                self._envs[locale, fmt] = self._environment(locale, fmt, translations)

    def _environment(self, locale: str, fmt: str, translations) -> jinja2.Environment:
        env = _Environment(
            loader=jinja2.FileSystemLoader(str(resources.templates())),
            autoescape=(fmt == "html"), extensions=["jinja2.ext.i18n"],
            trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
            auto_reload=False,  # templates are package data: no stat() per render
        )
        _install_translations(env, translations, locale)
        tz = self.tz

        def day(d, pattern="EEEE d MMMM y"):
            d = d.astimezone(tz) if isinstance(d, datetime) else d
            if fmt == "html":
                # A phone wraps "dimanche 13 décembre 2026" after the weekday, never inside the
                # date ("13 / décembre", "22 / novembre 2026"): no-break spaces join its day,
                # month and year, as they join "€ 249,95". The text part keeps plain spaces,
                # and so does the <title>: it is the subject as sent (``subject_line``).
                pattern = _DATE_SPACE.sub("\u00a0", pattern)
            if d.day == 1 and locale in ("fr", "it"):
                # French writes "1er décembre", Italian "1° dicembre" ("entro il 1° dicembre"),
                # also when the month follows later: "du 1er au 7 décembre".
                pattern = _DAY.sub("d'er'" if locale == "fr" else "d'°'", pattern, count=1)
            return _formatted(d, pattern, tz, locale)

        env.filters.update(
            money=lambda amount, currency="EUR": _money(Decimal(amount), currency, locale),
            # An amount as the reader types it on a command line ("249,95" in nl/fr/it): no
            # currency, no grouping; money.parse_amount reads both marks.
            number=lambda amount: format_decimal(Decimal(amount), "0.00", locale=locale),
            date=day,
            # A deadline is the last whole day to act: core deadlines end at 23:59 local time,
            # and one that ends at midnight leaves the day before as the last day.
            deadline=lambda d, pattern="EEEE d MMMM y": day(d - timedelta(seconds=1), pattern),
            deadline_at=lambda d: day(d, AT_TIME[locale]),
            # The last whole day of a period that ends at ``d``: a week's report sent on the
            # 23rd covers "16 t/m 22 november", seven days.
            day_before=lambda d, pattern="EEEE d MMMM y": day(d - timedelta(days=1), pattern),
            datetime=lambda d: day(d, DATETIME[locale]),
            mailto=mailto,
            # A shortened quote ends in one ellipsis character, as the copy writes it everywhere,
            # not Jinja's three full stops.
            truncate=lambda s, length=255: jinja2.filters.do_truncate(env, s, length, end="…"),
            zone_name=lambda key: _zone_name(ZoneInfo(key), locale),
            # Order numbers such as NL-2026-10481 must not wrap at their hyphens.
            nobreak=(lambda v: Markup(NOWRAP + "%s</span>") % v)
            if fmt == "html" else str,
            # A button's label never leaves its last word alone on a line ("…melding / in" at
            # 360 px): a no-break space joins the last two words. The text part keeps its spaces.
            no_widow=no_widow if fmt == "html" else str,
        )
        # French sets a narrow no-break space before a colon, so the colon never wraps alone,
        # and inside its guillemets; Italian quotes with guillemets too, Dutch with “ ”.
        env.globals.update(layout=f"_layout.{fmt}.j2", fmt=fmt, locale=locale, SHORT_DATE=SHORT_DATE,
                           colon="\u202f:" if locale == "fr" else ":",
                           quotes=QUOTES.get(locale, ("\u201c", "\u201d")))
        env.globals["m"] = env.get_template(f"_{fmt}.j2").module
        return env

    def _template(self, locale: str, fmt: str, name: str) -> jinja2.Template:
        """A mail's template, its layout's and its own constant blocks kept (first use)."""
        template = self._templates.get((locale, fmt, name))
        if template is None:
            env = self._envs[locale, fmt]
            template = env.get_template(name)
            layout = env.get_template(env.globals["layout"])
            for each in {template, layout} - self._prepared:
                _keep_constant_blocks(env, each)
                self._prepared.add(each)
            self._templates[locale, fmt, name] = template
        return template

    def render(self, template: str, locale: str, context: dict) -> Rendered:
        context = {**context, "role": template.partition(".")[0]}
        text_tmpl = self._template(locale, "text", template_file(template))
        html_tmpl = self._template(locale, "html", template_file(template))
        layout = self._envs[locale, "text"].get_template("_layout.text.j2")
        # The subject and the sender's name as the text part words them; one context for both.
        blocks = text_tmpl.new_context(context)

        def block(name):
            render_block = (text_tmpl if name in text_tmpl.blocks else layout).blocks[name]
            return one_line("".join(render_block(blocks)))

        subject = block("subject")
        return Rendered(
            subject=subject,
            text=numbered_links(_tidy(text_tmpl.render(context)),
                                self._envs[locale, "text"].globals["colon"]),
            # The <title> is the subject as sent: the HTML part's dates join with no-break spaces.
            html=no_break_hyphens(html_tmpl.render({**context, "subject_line": subject})),
            sender_name=sender_name(context, block("sender")),
        )


def sender_name(context: dict, service: str) -> str:
    """The From display name: the configured brand before the service's name ("Trustmark
    Kopersbescherming"), as the mail's top bar shows them; a bare "Kopersbescherming" looks
    generic in an inbox list."""
    bot = context.get("bot")
    brand = getattr(bot, "brand", "") if bot is not None else ""
    return f"{brand} {service}" if brand else service


def one_line(text: str) -> str:
    """Whitespace runs as one space, keeping the no-break spaces that French typography needs."""
    return _SPACES.sub(" ", text).strip()


_SPACES = re.compile(r"[^\S\u00a0\u202f]+")


# Found by "<mailto:", the space before it taken by hand: " ?<mailto:" (the space optional) made
# the regex try every space of the text.
_MAILTO = re.compile(r"<(mailto:[^>\s]+)>")


def numbered_links(text: str, colon: str = ":") -> str:
    """The text part's prefilled mailto links (200 characters and more, percent-encoded) as "[1]"
    after each choice and listed, numbered, after the mail's last paragraph above the signature:
    the choices read as a list, and every link is still there for a client that shows no HTML
    (SPEC §9: "the text part lists the same links"). A choice's link is listed with its label
    ("[1] Ja, ik heb de terugbetaling ontvangen: mailto:…", review 12D item 10): a column of
    bare 250-character addresses said nothing of which was which. ``colon`` is the locale's
    (French: a narrow no-break space before it)."""
    urls: list[str] = []
    labels: dict[str, str] = {}
    pieces, end = [], 0
    for match in _MAILTO.finditer(text):
        if match.group(1) not in urls:
            urls.append(match.group(1))
            # A choice is a line "* label <mailto:…>" (_text.j2); a link inside a sentence has none.
            line = text[text.rfind("\n", 0, match.start()) + 1:match.start()]
            labels[match.group(1)] = line[2:].strip() if line.startswith("* ") else ""
        # " <mailto:...>" as a whole: a space before the link goes with it.
        start = match.start() - (match.start() > end and text[match.start() - 1] == " ")
        pieces += (text[end:start], f" [{urls.index(match.group(1)) + 1}]")
        end = match.end()
    if not urls:
        return text
    pieces.append(text[end:])
    body, sep, signature = "".join(pieces).partition("\n-- \n")
    listed = "\n".join(f"[{i}] {labels[url]}{colon} {url}" if labels[url] else f"[{i}] {url}"
                       for i, url in enumerate(urls, 1))
    return f"{body.rstrip()}\n\n{listed}\n{sep}{signature}"


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces: text mail reads well in any client."""
    lines, blank = [], False
    for line in text.splitlines():
        # "-- " keeps its space: it is the signature separator of RFC 3676 §4.3.
        line = line if line == "-- " else line.rstrip()
        if not line:
            if not blank and lines:
                lines.append("")
            blank = True
            continue
        blank = False
        lines.append(line)
    return "\n".join(lines).strip() + "\n"
