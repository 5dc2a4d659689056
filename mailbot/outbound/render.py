"""Rendering mails from Jinja2 templates in the recipient's language, as text and as HTML.

Each mail is one template under ``templates/`` whose body is written once with format-neutral
macros (``m.p``, ``m.actions``, ``m.facts`` ...). It is rendered twice: by a text environment
(no escaping, ``_text.j2`` macros) and by an HTML environment (autoescape, ``_html.j2`` macros),
each with the gettext catalog of the locale (Babel .po files compiled in memory at start-up) and
Babel filters for money and dates in that locale and the configured time zone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import Translations
from markupsafe import Markup

from .. import resources
from ..core.model import LOCALES


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


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
    query = []
    if subject.strip():
        query.append("subject=" + quote(subject.strip(), safe=""))
    if body.strip():
        # RFC 6068 §5: line breaks in a body are encoded as %0D%0A.
        query.append("body=" + quote(body.strip().replace("\n", "\r\n"), safe=""))
    return f"mailto:{address}" + ("?" + "&".join(query) if query else "")


class Renderer:
    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self._envs: dict[tuple[str, str], jinja2.Environment] = {}
        for locale in LOCALES:
            translations = load_translations(locale)
            for fmt in ("text", "html"):
                self._envs[locale, fmt] = self._environment(locale, fmt, translations)

    def _environment(self, locale: str, fmt: str, translations) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(resources.templates())),
            autoescape=(fmt == "html"), extensions=["jinja2.ext.i18n"],
            trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
            auto_reload=False,  # templates are package data: no stat() per render
        )
        env.install_gettext_translations(translations, newstyle=True)
        tz = self.tz
        env.filters.update(
            money=lambda amount, currency="EUR": format_currency(
                Decimal(amount), currency, locale=locale),
            date=lambda d: format_date(d.astimezone(tz) if isinstance(d, datetime) else d,
                                       "long", locale=locale),
            datetime=lambda d: format_datetime(d.astimezone(tz), "d MMMM y, HH:mm",
                                               tzinfo=tz, locale=locale),
            mailto=mailto,
        )
        env.globals.update(layout=f"_layout.{fmt}.j2", fmt=fmt, locale=locale)
        env.globals["m"] = env.get_template(f"_{fmt}.j2").module
        return env

    def render(self, template: str, locale: str, context: dict) -> Rendered:
        text_tmpl = self._envs[locale, "text"].get_template(f"{template}.j2")
        html_tmpl = self._envs[locale, "html"].get_template(f"{template}.j2")
        subject = "".join(text_tmpl.blocks["subject"](text_tmpl.new_context(context)))
        return Rendered(
            subject=" ".join(subject.split()),
            text=_tidy(text_tmpl.render(context)),
            html=html_tmpl.render(context),
        )


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
