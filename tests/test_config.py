"""Config that refuses nonsense in one line, and one data directory that every path hangs off."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot import config as config_mod


@pytest.mark.parametrize("data, says", [
    ({"smtp": {"port": 70000}}, "[smtp] port must be 1-65535"),
    ({"smtp": {"port": 0}}, "[smtp] port must be 1-65535"),
    ({"relay": {"port": -25}}, "[relay] port must not be negative"),
    ({"operators": {"addresses": []}}, "[operators] addresses must name at least one"),
    ({"operators": {"addresses": ["team"]}}, "not an email address: 'team'"),
    ({"operators": {"addresses": ["a@b.example", "x@@y"]}}, "not an email address: 'x@@y'"),
    ({"smtp": {"max_message_size": -1}}, "[smtp] max_message_size must not be negative"),
    ({"smtp": {"max_message_size": 10}}, "max_message_size must be at least 1024"),
    ({"smtp": {"anonymous_per_hour": -3}}, "[smtp] anonymous_per_hour must not be negative"),
    ({"limits": {"answers_per_address_per_hour": -3}},
     "[limits] answers_per_address_per_hour must not be negative"),
    ({"relay": {"retry_hours": 0}}, "[relay] retry_hours must be at least 1"),
    ({"storage": {"retention_days": 0}}, "[storage] retention_days must be at least 1"),
    ({"bot": {"domain": ""}}, "[bot] domain does not make a valid address"),
    ({"bot": {"domain": "localhost"}}, "[bot] domain does not make a valid address"),
    ({"bot": {"address_prefix": "bot+x"}}, "must not contain '+'"),
    ({"bot": {"from_address": "bot at example"}}, "[bot] from_address is not an email"),
    ({"storage": {"root": ""}}, "[storage] root must not be empty"),
])
def test_nonsense_is_refused_in_one_line(data, says):
    with pytest.raises(config_mod.ConfigError) as refused:
        config_mod.from_dict(data)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_paths_resolve_against_one_root(tmp_path):
    config = config_mod.from_dict({}, base=tmp_path)
    root = tmp_path / "var"
    assert config.storage.root == str(root)
    assert config.storage.database == str(root / "mailbot.db")
    assert config.storage.attachments == str(root / "attachments")
    assert config.relay.maildir == str(root / "sent")
    moved = config_mod.from_dict({"storage": {"root": "/srv/mailbot", "database": "db/m.db"},
                                  "relay": {"maildir": "/var/mail/out"}}, base=tmp_path)
    assert moved.storage.database == "/srv/mailbot/db/m.db"
    assert moved.storage.attachments == "/srv/mailbot/attachments"
    assert moved.relay.maildir == "/var/mail/out"


def test_relative_root_is_relative_to_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "mailbot.toml"
    path.write_text('[storage]\nroot = "data"\n')
    monkeypatch.chdir("/")
    config = config_mod.load(path)
    assert Path(config.storage.database) == tmp_path / "etc" / "data" / "mailbot.db"
