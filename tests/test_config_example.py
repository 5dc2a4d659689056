"""The documented config: ``config.example.toml`` names exactly the settings mailbot has, with
their defaults, and a key it does not name is refused rather than ignored."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from mailbot import config as config_mod

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_example_config_documents_exactly_the_defaults():
    example = tomllib.loads(EXAMPLE.read_text())
    defaults = config_mod.Config()
    assert set(example) == {f.name for f in fields(defaults)}
    for section in fields(defaults):
        keys = {f.name for f in fields(getattr(defaults, section.name))}
        assert set(example[section.name]) == keys, section.name
    config_mod.from_dict(example)  # and it loads


def test_unknown_config_key_is_refused():
    with pytest.raises(config_mod.ConfigError, match="unknown key"):
        config_mod.from_dict({"bot": {"domian": "x"}})
