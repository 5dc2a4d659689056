"""Our renderer against stock Jinja: ``outbound/render.py`` reaches into Jinja for speed (its own
``Context.call``, dict keys read as attributes, shared globals, blocks kept per environment). A
Jinja release that changes what those rely on must fail here, not in a mail: every sample of every
mail kind, in every language, renders to the same text, HTML and subject with a stock
``jinja2.Environment`` and no kept blocks."""

from __future__ import annotations

import jinja2
import pytest

from conftest import make_config
from mailbot import wiring
from mailbot.outbound import render, samples
from mailbot.outbound.render import LOCALES, Renderer


def test_every_sample_renders_the_same_as_with_stock_jinja(tmp_path, monkeypatch):
    app = wiring.build(make_config(tmp_path))
    try:
        ours = app.renderer
        with monkeypatch.context() as m:
            m.setattr(render, "_Environment", jinja2.Environment)
            m.setattr(render, "_keep_constant_blocks", lambda env, template: None)
            stock = Renderer(app.tz)
        assert type(stock._envs["nl", "html"]) is jinja2.Environment
        compared = 0
        for locale in LOCALES:
            for s, ctx in samples.contexts(app, app.db(), locale):
                # Twice with ours: the second render reads what the first one kept.
                for _ in range(2):
                    assert ours.render(s.name, locale, ctx) == stock.render(s.name, locale, ctx), \
                        (s.name, s.label, locale)
                compared += 1
        assert compared >= 200
    finally:
        app.close()
