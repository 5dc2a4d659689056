"""The command line as Unix tools behave: a reader that goes away early (``| head``) ends the
command quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import write_config

MAILBOT = Path(sys.executable).parent / "mailbot"


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    config = write_config(tmp_path)
    (tmp_path / "m.csv").write_text("id,name,emails,locale\n" + "".join(
        f"s{n},Shop,s{n}@shop.example,xx\n" for n in range(3000)))  # 3000 lines of output
    env = dict(os.environ, MAILBOT_CONFIG=str(config))
    process = subprocess.Popen([str(MAILBOT), "import", "merchants", "m.csv"], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # as `head` does once it has its lines
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert stderr == ""


def test_every_argument_of_every_command_says_what_it_is():
    """`mailbot help status` listed shop_id and order_number with no word on them (issue 19
    §4): every positional argument and option has its help."""
    import argparse
    from mailbot import cli
    commands = next(a for a in cli.parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    bare = [f"{name} {action.dest}" for name, sub in commands.choices.items()
            for action in sub._actions
            if not action.help and not isinstance(action, argparse._HelpAction)]
    assert bare == []
