"""The package's layers point one way: no module imports from a layer above its own, and the
bottom one, the core, does no I/O at all.

From the bottom: the pure core; small neutral helpers every layer may use (limits, money,
addresses, tokens, logs, config, resources); the store (tables); outbound mail; the service (the
one door for state changes); inbound mail; the jobs and presentations built on them (jobs,
imports, views, digest, the composition root); and the runtime and command line on top (serve/,
cli). A new module must be placed here, so that its layer is a decision and not an accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mailbot"

LAYERS = [
    {"core"},
    {"limits", "money", "addresses", "tokens", "logs", "config", "resources", "templates",
     "locales", "printable", "private_files"},
    {"store"},
    {"outbound"},
    {"service"},
    {"inbound", "orders_by_mail"},
    {"jobs", "imports", "views", "digest", "casefile", "wiring", "corrections", "rehearsal"},
    {"serve", "cli"},
]


def _layer(dotted: str) -> int:
    top = dotted.split(".")[1] if dotted.startswith("mailbot.") else dotted
    for level, names in enumerate(LAYERS):
        if top in names:
            return level
    raise AssertionError(f"mailbot.{top} is in no layer of tests/test_layers.py: place it")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                names = [target] if node.module else [f"{base}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(names)
    return found


def test_every_import_points_down_or_sideways():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        if module == "mailbot":
            continue
        own = _layer(module)
        for target in _imports(path, module):
            if target.startswith("mailbot.") and _layer(target) > own:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_the_layer_test_reads_relative_imports():
    # Without this, a reader that missed "from ..x import y" would pass the test above vacuously.
    intake = PACKAGE / "inbound" / "intake.py"
    assert {"mailbot.logs", "mailbot.store.db"} <= _imports(intake, "mailbot.inbound.intake")


# The core decides and nothing else: it imports nothing that reaches a disk, a socket, a process
# or the clock, so that its tables are tested without any of them.
IO_MODULES = {"sqlite3", "sqlite_utils", "aiosmtpd", "jinja2", "smtplib", "socket", "os",
              "pathlib", "time", "apscheduler"}


def test_core_imports_no_io_and_reads_no_clock():
    for path in sorted((PACKAGE / "core").glob("*.py")):
        imported = {name.split(".")[0] for name in _imports(path, _module(path))}
        assert not imported & IO_MODULES, path.name
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today"):
                pytest.fail(f"{path.name} reads the clock")
