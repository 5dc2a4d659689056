"""The CPU a fired timer costs (issue 18 §5, bench/run.py's tick): what the renderer and the signer
no longer do for every mail, and that a mail's words stay the same for it."""

from __future__ import annotations

import binascii
import email
import email.policy
import random
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import jinja2
import pytest

from mailbot import service
from mailbot.core.events import TimerFired, TimerKind
from mailbot.outbound import compose, render
from mailbot.outbound.render import Renderer
from mailbot.tokens import Signer

NOW = datetime.now(timezone.utc)


def reminder(app, number: str = "NL-1"):
    """A buyer's reminder as ``jobs.tick`` plans it: rendered and composed."""
    order_id = app.db().execute("SELECT id FROM orders WHERE order_number = ?",
                                [number]).fetchone()[0]
    return service.plan(app, order_id, TimerFired(TimerKind.REMINDER), NOW)


def test_macros_and_translations_are_called_without_jinjas_lookups(app, monkeypatch):
    """Jinja's ``Context.call`` asks every callable, each time, whether it wants the context
    (``_PassArg.from_obj``, twice): a hundred times a mail. Macros and translations take the eval
    context, known by their type."""
    reminder(app)  # templates compiled, sentences kept
    asked = []
    from_obj = jinja2.utils._PassArg.from_obj
    monkeypatch.setattr(jinja2.utils._PassArg, "from_obj",
                        classmethod(lambda cls, obj: asked.append(obj) or from_obj(obj)))
    planned = reminder(app)
    assert planned.mails and b"NL-1" in planned.mails[0].raw
    # What is left: ``self.subject()`` and the like, and ``select("in", ...)``'s test.
    assert len(asked) <= 40, len(asked)  # 210 before


def test_a_translation_in_a_loop_derives_no_context(monkeypatch):
    """Jinja copies the whole context for a ``pass_context`` callable called in a loop that sets
    a variable (to pass it on); a translation reads nothing of it but the escaping."""
    env = Renderer(ZoneInfo("Europe/Amsterdam"))._envs["nl", "html"]
    derived = []
    original = jinja2.runtime.Context.derived
    monkeypatch.setattr(jinja2.runtime.Context, "derived",
                        lambda self, *a: derived.append(1) or original(self, *a))
    template = env.from_string(
        '{% for n in [1, 2] %}{% set k = n %}{{ _("Order") }} {{ k }} {% endfor %}')
    assert template.render() == "Bestelling 1 Bestelling 2 "
    assert derived == []


def test_blocks_that_read_nothing_of_the_mail_are_rendered_once(app):
    """The sender's name and the footer are the same for every mail of a language: the second
    mail takes them as the first rendered them; the subject, which names the order, is
    rendered again."""
    reminder(app, "NL-1")
    env = app.renderer._envs["nl", "text"]
    asked = []
    translate = env.globals["gettext"]

    @jinja2.pass_eval_context
    def counting(eval_ctx, *args, **variables):
        asked.append(args[0])
        return translate(eval_ctx, *args, **variables)
    env.globals["gettext"] = env.globals["_"] = counting
    try:
        planned = reminder(app, "NL-1")
    finally:
        env.globals["gettext"] = env.globals["_"] = translate
    assert b"Kopersbescherming" in planned.mails[0].raw  # the sender's name, kept
    assert "Buyer protection" not in asked
    assert not [m for m in asked if m.startswith("This e-mail was sent automatically")]
    assert "Did everything from %(shop)s arrive safely?" in asked


def kept(blocks: dict[str, str], **context) -> tuple[str, set[str]]:
    """``child.j2`` rendered twice with ``context`` (the second from what was kept), and the
    names of its blocks that were kept."""
    env = render._Environment(loader=jinja2.DictLoader(blocks))
    env.globals.update(brand="Shop", _=lambda s: s.upper())
    template = env.get_template("child.j2")
    original = dict(template.blocks)
    render._keep_constant_blocks(env, template)
    template.render(context)
    return template.render(context), {name for name, block in template.blocks.items()
                                      if block is not original[name]}


def test_only_blocks_of_globals_alone_are_kept():
    out, names = kept({"child.j2": "{% block a %}{{ brand }} {{ _('x') }}{% endblock %}|"
                                   "{% block b %}{{ order }}{% endblock %}|"
                                   "{% block c %}{% for i in range(2) %}{{ i }}{% endfor %}"
                                   "{% endblock %}|{% block d %}{{ [1, 2]|random }}{% endblock %}"
                                   "|{% block e %}{% block f %}{{ brand }}{% endblock %}"
                                   "{% endblock %}|{% block g %}{% include 'part.j2' %}"
                                   "{% endblock %}",
                       "part.j2": "{{ order }}"}, order="NL-1")
    assert out.startswith("Shop X|NL-1|01|") and out.endswith("|Shop|NL-1")
    assert names == {"a", "f"}


@pytest.mark.parametrize("context, expected", [({}, "Shop"), ({"brand": "Own"}, "Own")])
def test_a_value_of_the_mail_that_shadows_a_global_is_read(context, expected):
    out, names = kept({"child.j2": "{% block a %}{{ brand }}{% endblock %}"}, **context)
    assert out == expected and names == {"a"}
    env = render._Environment(loader=jinja2.DictLoader({"child.j2": "{% block a %}{{ brand }}"
                                                                    "{% endblock %}"}))
    env.globals["brand"] = "Shop"
    template = env.get_template("child.j2")
    render._keep_constant_blocks(env, template)
    assert [template.render(brand=b) for b in ("A", None, "B")] == ["A", "None", "B"]
    assert template.render() == "Shop"


def test_each_address_of_a_mail_is_signed_once(app, monkeypatch):
    """A buyer's reminder names six addresses (five choices and the reply address, which is also
    its Reply-To): six HMACs, not seven; the same addresses again for the next mail of the order
    cost none."""
    macs = []
    mac = Signer._mac
    monkeypatch.setattr(Signer, "_mac", lambda self, body: macs.append(body) or mac(self, body))
    msg = email.message_from_bytes(reminder(app).mails[0].raw, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    addresses = set(re.findall(r"bot\+[a-z2-7]{29}@[\w.]+", text + msg["Reply-To"]))
    assert len(addresses) == 6 and msg["Reply-To"] in addresses
    assert len(macs) == len(set(macs)) == 6
    reminder(app)
    assert len(macs) == 6
    assert [app.signer.parse(a) is not None for a in addresses] == [True] * 6


def test_e_mail_is_kept_whole_as_the_word_boundary_found_it():
    """``no_break_hyphens`` finds "e-mail" among the hyphenated words (one regex, tried only on
    a text run with a hyphen) and keeps it whole in a no-wrap span, ASCII hyphen and all
    (design10 point 8: no U+2011); the pattern it once used, ``\\b([eE])-mail``, tried every
    position of a text run. Without its spans the text is unchanged."""
    old = re.compile(r"\b([eE])-mail")
    nowrap = re.compile(r'<span style="white-space:nowrap">([^<]*)</span>')
    pieces = ["e", "E", "-", "mail", "-mail", " ", "é", "_", "1", "x", "\n", "né-mail"]
    rng = random.Random(18)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        out = render.no_break_hyphens(text)
        assert nowrap.sub(r"\1", out) == text, text
        assert not old.search(nowrap.sub("|", out)), (text, out)  # every one kept whole
    assert render.no_break_hyphens("<p>E-mail, e-mails, track-and-trace-code</p>") == (
        '<p><span style="white-space:nowrap">E-mail</span>, '
        '<span style="white-space:nowrap">e-mails</span>, track-and-trace-code</p>')


def test_a_short_compound_is_kept_whole():
    """Review 12B item 13: "ci-/dessous" broke at its hyphen at 375 px. A compound of at most
    twelve characters is kept whole; a longer one may still wrap at its hyphens."""
    nowrap = '<span style="white-space:nowrap">'
    assert render.no_break_hyphens("<p>ci-dessous, peut-être, qui sotto</p>") == (
        f"<p>{nowrap}ci-dessous</span>, {nowrap}peut-être</span>, qui sotto</p>")
    assert nowrap not in render.no_break_hyphens("<p>kopersbescherming-PLUS-pakket</p>")


def test_a_moments_date_is_kept_per_offset():
    """A tick dates all its mails with one moment, written once; the same instant in another
    zone is an equal datetime with another Date line."""
    utc = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
    amsterdam = utc.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert utc == amsterdam
    assert compose._date(utc, utc.utcoffset()) == "Mon, 07 Dec 2026 10:00:00 +0000"
    assert compose._date(amsterdam, amsterdam.utcoffset()) == "Mon, 07 Dec 2026 11:00:00 +0100"
    assert compose._date(utc, utc.utcoffset()) == "Mon, 07 Dec 2026 10:00:00 +0000"


def test_a_dicts_keys_are_read_as_attributes_without_jinjas_detour(monkeypatch):
    """``order.number`` on a dict: the key, without Jinja's failed attribute lookup first; a name
    a dict has as an attribute (``items``) stays the attribute, as in Jinja."""
    env = Renderer(ZoneInfo("Europe/Amsterdam"))._envs["nl", "html"]
    detours = []
    getattr_ = jinja2.Environment.getattr
    monkeypatch.setattr(jinja2.Environment, "getattr",
                        lambda self, o, a: detours.append(a) or getattr_(self, o, a))
    template = env.from_string("{{ order.number }} {{ order.items is callable }} "
                               "{{ order.missing is defined }} {{ bot.brand }}")
    order = {"number": "NL-1", "items": 3}
    assert template.render(order=order, bot=jinja2.utils.Namespace(brand="B")) == \
        "NL-1 True False B"
    assert detours == ["items", "brand"]


def test_templates_share_the_environments_globals_unless_given_their_own():
    """A new context copies its template's globals: the environment's dict itself (copied in
    C), not a ChainMap over it (copied key by key in Python); a template's own globals stay
    its own."""
    env = render._Environment(loader=jinja2.DictLoader({"a.j2": "{{ x }}", "b.j2": "{{ x }}"}))
    env.globals["x"] = "env"
    assert env.get_template("a.j2").globals is env.globals
    own = env.get_template("b.j2", globals={"x": "own"})
    assert own.render() == "own" and env.get_template("a.j2").render() == "env"
    assert env.globals["x"] == "env"


def test_links_are_numbered_as_the_optional_space_pattern_numbered_them():
    """``numbered_links`` finds links by "<mailto:" and takes a space before one by hand; the
    pattern it replaced, `` ?<(mailto:...)>``, tried every space of the text."""
    old = re.compile(r" ?<(mailto:[^>\s]+)>")

    def numbered_before(text):
        urls = []

        labels = {}

        def number(match):
            if match.group(1) not in urls:
                urls.append(match.group(1))
                # design12: a choice's line "* label <mailto:…>" lists the link with its label.
                at = match.start() + (match.group().startswith(" "))
                line = match.string[match.string.rfind("\n", 0, at) + 1:at]
                labels[match.group(1)] = line[2:].strip() if line.startswith("* ") else ""
            return f" [{urls.index(match.group(1)) + 1}]"
        text = old.sub(number, text)
        if not urls:
            return text
        body, sep, signature = text.partition("\n-- \n")
        listed = "\n".join(f"[{i}] {labels[url]}: {url}" if labels[url] else f"[{i}] {url}"
                           for i, url in enumerate(urls, 1))
        return f"{body.rstrip()}\n\n{listed}\n{sep}{signature}"

    pieces = [" ", "  ", "<mailto:a@b>", "<mailto:c?x=1>", "<mailto:>", "<mailto:a b>", "x",
              "\n", "\n-- \n", "<", ">", "mailto:", "* Ja "]
    rng = random.Random(6068)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 9)))
        assert render.numbered_links(text) == numbered_before(text), text


def test_quoted_printable_line_by_line_is_binasciis_of_the_whole(monkeypatch):
    """A part's lines are encoded one by one and kept: the same bytes as b2a_qp of the whole
    text (line lengths, soft breaks, white space and a lone "." at a line's end, the text's
    end with or without a line break), and a line seen before is not encoded again."""
    def whole(text):
        data = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode()
        payload = binascii.b2a_qp(data, istext=True)
        return payload if b"\n" in data else payload.replace(b"\n", b"\r\n")

    pieces = ["a", " ", "\t", ".", "=", "é", "\u2011", "\n", "\r\n", "\r", "x" * 80, "y" * 73,
              " \n", ".\n", "\n.", "=" * 30, "😀"]
    rng = random.Random(2045)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert compose._qp_part("plain", text).partition(b"\r\n\r\n")[2] == whole(text), text
    encoded = []
    b2a_qp = binascii.b2a_qp
    monkeypatch.setattr(binascii, "b2a_qp", lambda data, **kw: encoded.append(data) or
                        b2a_qp(data, **kw))
    compose._qp_part("html", "<p>Uw bestelling NL-1</p>\n<p>Met vriendelijke groet</p>\n")
    encoded.clear()
    compose._qp_part("html", "<p>Uw bestelling NL-2</p>\n<p>Met vriendelijke groet</p>\n")
    assert encoded == [b"<p>Uw bestelling NL-2</p>\r\n"]
