"""``mailbot serve``: the SMTP listener in this process, supervised children beside it.

The listener only stores mail and answers (``inbound.smtp``); intake worker processes by lane
(``pool``, which also enforces each mail's budget from here) process it, and a jobs child
(``processing``) runs timers, delivery and the digest. Start-up binds the listener first: a port
that is taken or invalid is one line and exit code 1, before any child exists. The supervisor
restarts a child that died (nothing is lost: the mail is stored) with a growing pause if it
keeps dying, and stops on SIGTERM or SIGINT whatever state the children are in: they get
SIGTERM, then SIGKILL after ``STOP_SECONDS``, while the listener gets as long to close (about
0.2 s in practice, 10 s at worst). Signal handlers only set a flag; no lock is shared with a
child (a lock held by a killed child hung the old supervisor forever). Workers are woken through
a pipe each when mail was stored, and every child sees its pipe close if the supervisor dies.
The jobs child is the one process of the node that sends: a worker that stored answers says so
(``Pool.wait``) and the supervisor wakes the child's delivery at once, through the child's pipe.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time

from . import pidfile, processing
from .pool import Pool
from ..inbound.smtp import listener
from ..store.db import where

log = logging.getLogger("mailbot.serve")

STOP_SECONDS = 5  # per step: the listener's stop, the child's own stop before SIGKILL
RESTART_PAUSE = (1, 60)  # first and longest pause before restarting a child that keeps dying
STEADY_SECONDS = 60  # a child that ran this long is restarted at once


class _Signals:
    received: int | None = None

    def __call__(self, signum, frame):
        self.received = signum


def serve(app) -> int:
    cfg = app.config.smtp
    address = f"{cfg.host}:{cfg.port}"
    try:
        pidfile.lock(app.config)  # its descriptor stays open: locked as long as serve runs
    except pidfile.Taken as exc:
        print(f"mailbot: {exc}", file=sys.stderr)
        return 1
    try:
        _probe(cfg.host, cfg.port)
        pipe, pipe_w = multiprocessing.get_context("spawn").Pipe(duplex=False)
        os.set_blocking(pipe_w.fileno(), False)  # _beat: the supervisor never waits on a child
        pool = Pool(app.config)
        smtp = listener(app, on_stored=lambda _id: pool.wake())
        smtp.start()
    except (OSError, OverflowError, ValueError, TimeoutError) as exc:
        print(f"mailbot: cannot listen on {address}: {_reason(exc)}", file=sys.stderr)
        return 1
    signals = _Signals()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signals)
    pidfile.write(app.config)
    _notify(b"READY=1")
    log.info("serve.started smtp=%s pid=%s root=%s database=%s", address, os.getpid(),
             app.config.storage.root, where(app.config.storage))
    # For the children, which inherit it: glibc gives each thread that allocates an arena of its
    # own, and a worker's few threads do well with two (3-4 MB less per intake worker,
    # bench/RESULTS.md). An operator's own setting wins.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    pool.start()
    child, started, pause = _start_child(app.config, pipe), time.monotonic(), 0.0
    code = 0
    while signals.received is None:
        _beat(pool, pipe_w)
        if not smtp._thread or not smtp._thread.is_alive():  # aiosmtpd has no public "alive"
            log.error("serve.listener_died")
            code = 1
            break
        if signals.received is None:
            pool.check()
        if child.is_alive() or signals.received is not None:
            continue
        ran = time.monotonic() - started
        pause = 0.0 if ran >= STEADY_SECONDS else min(max(pause * 2, RESTART_PAUSE[0]),
                                                      RESTART_PAUSE[1])
        # Nothing is lost (the mail is stored); the new child picks up what is left.
        log.error("serve.processing_died exitcode=%s restart_in=%ss", child.exitcode, pause)
        resume = time.monotonic() + pause
        while signals.received is None and time.monotonic() < resume:
            _beat(pool, pipe_w)  # the new child delivers at once: a wake meanwhile is spare
            pool.check()
        if signals.received is None:
            child, started = _start_child(app.config, pipe), time.monotonic()
    began = time.monotonic()
    _notify(b"STOPPING=1")
    log.info("serve.stopping signal=%s", signals.received and signal.Signals(signals.received).name)
    pool.stop()  # first: the children stop while the listener does
    _stop_child(child)
    _bounded(smtp.stop, STOP_SECONDS)
    pool.stop(wait=True, seconds=STOP_SECONDS)
    _stop_child(child, wait=True)
    pipe_w.close()
    pidfile.remove(app.config)
    log.info("serve.stopped seconds=%.2f", time.monotonic() - began)
    logging.shutdown()
    # Not a normal interpreter exit: it would wait without limit for the listener's executor
    # threads (a store in SQLite's busy wait); every mail that was answered 250 is on disk.
    os._exit(code)


def _beat(pool, pipe_w) -> None:
    """Waits 0.2 s, less when a worker has stored answers: then wakes the jobs child's
    delivery. The pipe keeps the byte while a child is restarted; the pipe full means wakes
    enough are pending."""
    if pool.wait(0.2):
        try:
            os.write(pipe_w.fileno(), b"\0")
        except BlockingIOError:
            pass


def _notify(state: bytes) -> None:
    """systemd's ``Type=notify`` (sd_notify(3)): one datagram to ``$NOTIFY_SOCKET`` -- READY=1
    once the listener answers, STOPPING=1 when a stop begins; nothing without systemd."""
    target = os.environ.get("NOTIFY_SOCKET")
    if not target:
        return
    if target.startswith("@"):  # an abstract socket (Linux): a leading NUL byte
        target = "\0" + target[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(state, target)
    except OSError as exc:  # systemd gone or the socket not ours: serving goes on
        log.warning("serve.notify_failed error=%s", exc)


def _probe(host: str, port: int) -> None:
    """Binds the address the way asyncio will (SO_REUSEADDR), to fail at once with the reason;
    aiosmtpd only reports a failed bind after its five-second start-up timeout."""
    if not 0 < port < 65536:  # getaddrinfo would take 70000 and bind port 4464
        raise ValueError("port must be 1-65535")
    for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                                flags=socket.AI_PASSIVE):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(sockaddr)


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _start_child(config, pipe):
    child = multiprocessing.get_context("spawn").Process(
        target=processing.main, args=(config, pipe), name="mailbot-processing", daemon=True)
    # Started with SIGINT ignored, which the child inherits: a Ctrl-C to the terminal's process
    # group reaches it before it installs its own handlers (only the supervisor decides).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    log.info("serve.processing_started pid=%s", child.pid)
    return child


def _stop_child(child, wait: bool = False) -> None:
    if child.exitcode is None:
        child.terminate()
    if not wait:
        return
    child.join(timeout=STOP_SECONDS)
    if child.exitcode is None:
        log.error("serve.processing_killed after=%ss", STOP_SECONDS)
        child.kill()
        child.join(timeout=1)


def _bounded(stop, seconds: float) -> None:
    thread = threading.Thread(target=stop, name="stop", daemon=True)
    thread.start()
    thread.join(timeout=seconds)
