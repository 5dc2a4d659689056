"""The test suite's own promises: every test is ``unit`` or ``e2e`` (tests/conftest.py decides by
the fixtures it uses), a unit test that reaches a database, a socket or a process fails instead of
slowing the fast run, and README.md gives the command of that run."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import UnitTestDidIO

ROOT = Path(__file__).resolve().parent.parent


def test_a_unit_test_cannot_reach_a_database_a_socket_or_a_process(request):
    assert request.node.get_closest_marker("unit")
    with pytest.raises(UnitTestDidIO, match="sqlite3.connect"):
        sqlite3.connect(":memory:")
    with socket.socket() as sock, pytest.raises(UnitTestDidIO, match="socket.bind"):
        sock.bind(("127.0.0.1", 0))
    with pytest.raises(UnitTestDidIO, match="subprocess.Popen"):
        subprocess.run(["true"])


@pytest.mark.parametrize("locale", ["nl", "fr"])
def test_a_parametrized_test_without_fixtures_is_unit(request, locale):
    assert request.node.get_closest_marker("unit")
    assert not request.node.get_closest_marker("e2e")


def test_a_test_of_the_app_is_e2e_and_may_use_its_database(request, app):
    assert request.node.get_closest_marker("e2e")  # app uses tmp_path: a fixture of I/O
    assert not request.node.get_closest_marker("unit")
    assert app.db().execute("SELECT count(*) FROM orders").fetchone()[0] == 3


def test_the_readme_gives_the_fast_command_with_a_registered_mark():
    commands = (ROOT / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    assert commands.splitlines()[2] == ".venv/bin/pytest -q -m unit"
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    assert {m.split(":")[0] for m in options["ini_options"]["markers"]} == {"unit", "e2e"}
