"""What each process of ``mailbot serve`` imports, and the memory they hold together (issue 18
§5: serve with its default 2 workers ≤ 250 MB, every process counted whole).

Each process of serve is a Python of its own (multiprocessing's "spawn"), so a library pays its
memory once per process that imports it: psycopg about 20 MB, cryptography 10, Jinja with Babel
9, apscheduler 10, aiosmtpd with asyncio 12. A library belongs only in the processes whose job
needs it: the listener stores mail (aiosmtpd), the intake workers process and answer it (Jinja,
Babel, the parsers, lxml), the jobs child runs timers and delivery (apscheduler, Jinja for the
reminders; it reads no mail); psycopg only on PostgreSQL, cryptography only when DKIM signs. The
modules are read from each running process through a ``sitecustomize`` on the path that writes
``sys.modules`` to a file on SIGUSR1.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pytest

from test_serve import Serve

PROBE = """
import os, signal, sys

def _write(*_):
    path = os.path.join(os.environ["MODULES_DIR"], str(os.getpid()))
    with open(path + ".part", "w") as out:
        out.write("\\n".join(sorted(sys.modules)))
    os.rename(path + ".part", path)

signal.signal(signal.SIGUSR1, _write)
"""

NEVER_WITHOUT_DKIM = {"cryptography"}
NOT_IN = {
    "listener": {"jinja2", "babel", "lxml", "flufl.bounce", "apscheduler", "mailbot.jobs",
                 "mailbot.outbound.render", "mailbot.inbound.intake"},
    "worker": {"apscheduler", "aiosmtpd", "asyncio"},
    "jobs": {"aiosmtpd", "lxml", "flufl.bounce", "mailbot.inbound.intake",
             "mailbot.inbound.parse"},
}
WITH_PSYCOPG = {"asyncio"}  # psycopg imports it: on PostgreSQL every process has it
RSS_LIMIT_MB = 250  # the goal for serve with its default 2 workers


@pytest.fixture
def serve_probed(tmp_path, monkeypatch):
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(PROBE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(probe), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MODULES_DIR", str(probe))
    started = Serve(tmp_path / "serve")
    yield started, probe
    started.kill()


def _roles(s: Serve) -> dict[int, str]:
    log = s.log()
    roles = {s.proc.pid: "listener"}
    roles.update((int(pid), "worker") for pid in re.findall(r"intake\.started pid=(\d+)", log))
    roles.update((int(pid), "jobs") for pid in re.findall(r"processing\.started pid=(\d+)", log))
    return roles


def _modules(s: Serve, probe: Path, pids) -> dict[int, set[str]]:
    for pid in pids:
        os.kill(pid, signal.SIGUSR1)
    s.wait_for(lambda: all((probe / str(pid)).exists() for pid in pids), "every module list")
    return {pid: set((probe / str(pid)).read_text().split()) for pid in pids}


def _tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [int(p) for p in children]


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024


def _carries(modules: set[str], package: str) -> bool:
    return package in modules or any(m.startswith(package + ".") for m in modules)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_each_process_of_serve_imports_only_what_its_job_needs(serve_probed, store):
    s, probe = serve_probed
    s.wait_for(lambda: sorted(_roles(s).values()) == ["jobs", "listener", "worker", "worker"],
               "the listener, 2 intake workers and the jobs child started")
    roles = _roles(s)
    modules = _modules(s, probe, roles)
    for pid, role in roles.items():
        assert _carries(modules[pid], "mailbot.config"), (role, "the probe read nothing")
        assert _carries(modules[pid], "psycopg") == (store == "postgresql"), role
        unwanted = NEVER_WITHOUT_DKIM | NOT_IN[role]
        if store == "postgresql":
            unwanted -= WITH_PSYCOPG
        carried = {p for p in unwanted if _carries(modules[pid], p)}
        assert not carried, f"the {role} (pid {pid}) imports {sorted(carried)}"
    worker = next(pid for pid, role in roles.items() if role == "worker")
    # The positive side: each process still has what it works with.
    assert {"jinja2", "babel", "mailbot.jobs"} <= modules[worker]
    assert "aiosmtpd" in modules[s.proc.pid]
    assert "apscheduler" in modules[next(p for p, r in roles.items() if r == "jobs")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_with_two_workers_holds_less_than_the_goal_once_started(serve_probed, store):
    """Every process counted whole (shared libraries once per process), as bench/run.py's
    ``peak_rss_mb``; here just after the start, the bench's figure is after 1,400 mails."""
    if store == "postgresql":
        pytest.skip("the goal is for the default store; psycopg adds its share per process")
    s, _ = serve_probed
    s.wait_for(lambda: sorted(_roles(s).values()) == ["jobs", "listener", "worker", "worker"],
               "the listener, 2 intake workers and the jobs child started")
    per_process = {pid: _rss_mb(pid) for pid in _tree(s.proc.pid)}
    assert sum(per_process.values()) <= RSS_LIMIT_MB, per_process


def test_psycopgs_errors_are_the_databases_once_it_is_imported():
    """psycopg is imported by the first PostgreSQL connection: from then on its errors are the
    database's (intake gives the try back for them), as they were when it was imported first."""
    import sqlite3

    import psycopg

    from mailbot.store.dialect import database_errors, operational_errors
    assert operational_errors() == (sqlite3.OperationalError, psycopg.OperationalError)
    assert database_errors() == (sqlite3.Error, psycopg.Error)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_children_of_serve_share_two_malloc_arenas(serve_probed):
    """glibc reads MALLOC_ARENA_MAX when a process starts: the children get it in their
    environment (the listener, started by the operator, keeps its own)."""
    s, _ = serve_probed
    s.wait_for(lambda: sorted(_roles(s).values()) == ["jobs", "listener", "worker", "worker"],
               "the listener, 2 intake workers and the jobs child started")
    for pid, role in _roles(s).items():
        if role != "listener":
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert b"MALLOC_ARENA_MAX=2" in environ, role
