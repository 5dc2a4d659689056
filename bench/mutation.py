"""Mutation scores of the rule-bearing modules: how many small wrong changes the fast tests catch.

    python bench/mutation.py [--max-children N] [--keep] [--only PATTERN ...]

Runs mutmut (``pip install -e ".[mutation]"``) on ``core/``, ``tokens.py``, ``inbound/forms.py``,
``money.py`` (the amounts ``forms`` read before this round) and ``inbound/reply.py`` with the
fast tests only (core, forms, tokens, reply) as killers, in a temporary copy of the checkout so
that the work tree gets no ``mutants/`` folder. Prints one line per module (killed / mutants,
score) and, as its last line, one JSON object with the figures and the run time. A mutant that
survives is a rule that no fast test pins; ``--keep`` leaves the copy in place so that
``mutmut show NAME`` can be run there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTATE = ["mailbot/core/*", "mailbot/tokens.py", "mailbot/inbound/forms.py", "mailbot/money.py",
          "mailbot/inbound/reply.py"]
# The fast tests: pure, no SMTP, no database; together well under 10 s.
FAST_TESTS = ["tests/core", "tests/test_forms.py", "tests/test_tokens.py", "tests/test_corpus.py",
              "tests/inbound/test_reply*.py", "tests/inbound/test_intent.py"]
COPIED = ["mailbot", "tests", "bench", "templates", "locales", "pyproject.toml"]
GOALS = {"mailbot/core": 85, "mailbot/tokens.py": 85, "mailbot/inbound/forms.py": 85,
         "mailbot/money.py": 85, "mailbot/inbound/reply.py": 80}
_RESULT = re.compile(r"^\s*(mailbot\.[\w.]+?)\.x[_ǁ]\w*__mutmut_\d+: (\w[\w ]*)$", re.M)


def fast_tests(root: Path) -> list[str]:
    found = []
    for pattern in FAST_TESTS:
        found += sorted(str(p.relative_to(root)) for p in root.glob(pattern))
    return found


def prepare(copy: Path, mutate: list[str]) -> list[str]:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    # tests/test_corpus.py reads ../shared/corpus beside the checkout; mutmut runs the tests from
    # copy/mutants/, whose parent is the copy.
    shared = ROOT.parent / "shared"
    if shared.exists():
        (copy / "shared").symlink_to(shared)
    tests = fast_tests(ROOT)
    with open(copy / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write("\n[tool.mutmut]\n")
        f.write(f"source_paths = {json.dumps(['mailbot'])}\n")
        f.write(f"only_mutate = {json.dumps(mutate)}\n")
        f.write(f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n")
        f.write(f"pytest_add_cli_args = {json.dumps(['-p', 'no:cacheprovider', '-q'])}\n")
        f.write(f"also_copy = {json.dumps(['bench', 'templates', 'locales'])}\n")
    return tests


def module_of(dotted: str) -> str:
    """``mailbot.core.case`` -> ``mailbot/core``; other modules by file."""
    path = dotted.replace(".", "/")
    return "mailbot/core" if path.startswith("mailbot/core/") else path + ".py"


def scores(results: str) -> dict[str, dict]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for dotted, status in _RESULT.findall(results):
        for key in {module_of(dotted), dotted.replace(".", "/") + ".py"}:
            counts[key][status] += 1
    out = {}
    for key, c in sorted(counts.items()):
        total = sum(c.values())
        killed = c.get("killed", 0) + c.get("timeout", 0)
        out[key] = {"killed": killed, "mutants": total, "survived": c.get("survived", 0),
                    "no_tests": c.get("no tests", 0),
                    "score": round(100 * killed / total, 1) if total else None}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--only", nargs="+", default=MUTATE, metavar="PATTERN",
                        help="mutate only these files (globs as in MUTATE)")
    args = parser.parse_args()
    mutmut = Path(sys.executable).parent / "mutmut"
    if not mutmut.exists():
        print('mutmut is not installed: pip install -e ".[mutation]"', file=sys.stderr)
        return 2
    copy = Path(tempfile.mkdtemp(prefix="mailbot-mutation-"))
    try:
        tests = prepare(copy, args.only)
        started = time.perf_counter()
        tests_started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider"],
                       cwd=copy, check=True, stdout=subprocess.DEVNULL)
        tests_seconds = time.perf_counter() - tests_started
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        subprocess.run([str(mutmut), "run", "--max-children", str(args.max_children)],
                       cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = subprocess.run([str(mutmut), "results", "--all", "true"], cwd=copy, env=env,
                                 capture_output=True, text=True).stdout
        seconds = time.perf_counter() - started
    finally:
        if args.keep:
            print(f"kept {copy}")
        else:
            shutil.rmtree(copy, ignore_errors=True)
    figures = scores(results)
    print(f"{'module':<34} {'killed':>7} {'mutants':>8} {'score':>7}  goal")
    for key, f in figures.items():
        goal = GOALS.get(key)
        mark = "" if goal is None else f"{goal} %" + (" ok" if f["score"] >= goal else " MISSED")
        print(f"{key:<34} {f['killed']:>7} {f['mutants']:>8} {f['score']:>6} %  {mark}")
    print(f"fast tests: {len(tests)} files, {tests_seconds:.1f} s; mutation run: {seconds:.0f} s")
    print(json.dumps({"modules": figures, "fast_tests_seconds": round(tests_seconds, 1),
                      "run_seconds": round(seconds)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
