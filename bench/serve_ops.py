"""How ``mailbot serve`` behaves as a service: stop times per case, idle CPU and log volume.

    python bench/serve_ops.py [--runs 5] [--group-runs 20] [--idle 180]

Stop time is from the signal to serve's exit (median of the runs): port in use (from start, so
it includes Python's start-up), a plain SIGTERM, SIGTERM after the processing child was killed
and restarted, SIGTERM to the whole process group (systemd's default). Idle: serve started on an
empty database and left alone for ``--idle`` seconds; CPU of serve and its child as a share of
one core, and log lines extrapolated to an hour.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_serve import Serve  # noqa: E402


def _cpu_ticks(pids) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def stop_times(runs: int, group_runs: int) -> dict[str, float]:
    cases: dict[str, list[float]] = {}
    for case, count in (("port in use", runs), ("SIGTERM", runs),
                        ("child killed and restarted, then SIGTERM", runs),
                        ("SIGTERM to the process group", group_runs)):
        for _ in range(count):
            folder = Path(tempfile.mkdtemp(prefix="mailbot-stop-"))
            if case == "port in use":
                with socket.socket() as taken:
                    taken.bind(("127.0.0.1", 0))
                    taken.listen()
                    started = time.monotonic()
                    s = Serve(folder, port=taken.getsockname()[1])
                    s.proc.wait(timeout=30)
                    cases.setdefault(case, []).append(time.monotonic() - started)
                continue
            s = Serve(folder)
            try:
                s.wait_running()
                if case.startswith("child killed"):
                    os.kill(s.children()[0], signal.SIGKILL)
                    s.wait_running(children=2)
                cases.setdefault(case, []).append(s.stop(group=case.endswith("group")))
            finally:
                s.kill()
    return {case: statistics.median(times) for case, times in cases.items()}


def idle(seconds: float) -> tuple[float, float]:
    s = Serve(Path(tempfile.mkdtemp(prefix="mailbot-idle-")))
    try:
        s.wait_running()
        time.sleep(2)  # start-up work done
        pids = [s.proc.pid, *s.children()]
        cpu0, lines0, t0 = _cpu_ticks(pids), len(s.log().splitlines()), time.monotonic()
        time.sleep(seconds)
        cpu, lines, took = _cpu_ticks(pids) - cpu0, len(s.log().splitlines()) - lines0, \
            time.monotonic() - t0
        s.stop()
    finally:
        s.kill()
    return cpu / os.sysconf("SC_CLK_TCK") / took * 100, lines / took * 3600


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--group-runs", type=int, default=20)
    p.add_argument("--idle", type=float, default=180)
    args = p.parse_args()
    for case, median in stop_times(args.runs, args.group_runs).items():
        print(f"stop, {case}: median {median:.2f} s")
    cpu, lines = idle(args.idle)
    print(f"idle: {cpu:.2f} % of one core, {lines:.0f} log lines per hour")


if __name__ == "__main__":
    main()
