"""The intake worker processes of ``serve``, by lane, and their budgets enforced from outside.

``[processing] workers`` processes share the lanes (``inbound/lanes.py``): with one, it takes every
lane. With more, all but two take the parties' lane only (at least one), so a stranger's or a
robot's mail never occupies the worker a party's mail waits for; the other two (one with two
workers) take the strangers' and the robots' mail first and the parties' when their own lanes are
empty, so that every worker serves the parties while no stranger or robot writes. Each worker
writes the mail in hand to shared memory; the supervisor calls ``check()`` five times a second and
kills with SIGKILL a worker whose mail has run past its lane's budget, even inside a C call or a
regex that holds the GIL. That try was counted before it began (``intake.process``): the mail's
lease runs out a little after the budget, the next try is killed the same way, and at its third
start the mail is quarantined. The killed worker is replaced at once and goes on with the next
mail; a worker that dies by itself is replaced after a growing pause, like the jobs child.
Workers do not send: after a batch a worker writes a byte to a pipe that all of them share, and
``wait`` passes that word on to the supervisor at once, which wakes the jobs child's delivery.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass

from ..inbound.lanes import LANES, PARTY, ROBOT, STRANGER, budget
from . import worker

log = logging.getLogger("mailbot.serve")

RESTART_PAUSE = (1, 60)  # first and longest pause before restarting a worker that keeps dying
STEADY_SECONDS = 60  # a worker that ran this long is restarted at once
_SPAWN = multiprocessing.get_context("spawn")


def assign(workers: int) -> list[tuple[str, ...] | None]:
    """The lanes of each worker in its order of preference (None: every lane, in arrival
    order)."""
    if workers == 1:
        return [None]
    if workers == 2:
        return [(PARTY,), (STRANGER, ROBOT, PARTY)]
    return [(PARTY,)] * (workers - 2) + [(STRANGER, PARTY), (ROBOT, PARTY)]


@dataclass
class Slot:
    lanes: tuple[str, ...] | None
    process: object = None
    in_hand: object = None
    wake_w: object = None
    started: float = 0.0
    pause: float = 0.0
    resume_at: float = 0.0
    killed: bool = False  # by the budget: replaced at once


class Pool:
    def __init__(self, config, target=worker.main):
        self.config, self.target = config, target
        self.slots = [Slot(lanes) for lanes in assign(config.processing.workers)]
        # "Answers stored", from every worker. Both ends live as long as the pool: a worker
        # replaced after a kill gets the same pipe, and none of them ever sees it close.
        self._stored, self._stored_w = _SPAWN.Pipe(duplex=False)

    def start(self) -> None:
        for slot in self.slots:
            self._start(slot)

    def _start(self, slot: Slot) -> None:
        wakes, slot.wake_w = _SPAWN.Pipe(duplex=False)
        os.set_blocking(slot.wake_w.fileno(), False)
        slot.in_hand = _SPAWN.Array("d", 3, lock=False)
        slot.process = _SPAWN.Process(target=self.target, name="mailbot-intake", daemon=True,
                                      args=(self.config, slot.lanes, slot.in_hand, wakes,
                                            self._stored_w))
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides
        try:
            slot.process.start()
        finally:
            signal.signal(signal.SIGINT, previous)
        wakes.close()
        slot.started, slot.killed = time.monotonic(), False

    def wake(self) -> None:
        """The listener stored a mail: every worker looks (the one of its lane takes it)."""
        for slot in self.slots:
            try:
                os.write(slot.wake_w.fileno(), b"\0")
            except (BlockingIOError, OSError, AttributeError):
                pass  # full (wakes enough pending), or being replaced

    def wait(self, seconds: float) -> bool:
        """Waits at most ``seconds``; True as soon as a worker has stored answers (the words of
        every worker since the last call count as one: one delivery run sends them all)."""
        if not self._stored.poll(seconds):
            return False
        os.read(self._stored.fileno(), 4096)  # readable, so this does not block
        return True

    def check(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            process = slot.process
            if process.exitcode is None:
                self._budget(slot, now)
                continue
            if not slot.resume_at:
                ran = now - slot.started
                slot.pause = 0.0 if slot.killed or ran >= STEADY_SECONDS else min(
                    max(slot.pause * 2, RESTART_PAUSE[0]), RESTART_PAUSE[1])
                if not slot.killed:
                    log.error("serve.intake_died exitcode=%s restart_in=%ss", process.exitcode,
                              slot.pause)
                slot.resume_at = now + slot.pause
                slot.wake_w.close()
            if now >= slot.resume_at:
                slot.resume_at = 0.0
                self._start(slot)

    def _budget(self, slot: Slot, now: float) -> None:
        inbox_id, lane, started = slot.in_hand[:]
        if not inbox_id:
            return
        seconds = budget(self.config, LANES[int(lane)])
        if now - started > seconds:
            os.kill(slot.process.pid, signal.SIGKILL)
            slot.process.join(timeout=1)
            slot.killed = True
            log.error("serve.mail_overran inbox_id=%d lane=%s budget=%ss pid=%s", inbox_id,
                      LANES[int(lane)], seconds, slot.process.pid)

    def stop(self, wait: bool = False, seconds: float = 5) -> None:
        for slot in self.slots:
            if slot.process.exitcode is None:
                slot.process.terminate()
        if not wait:
            return
        deadline = time.monotonic() + seconds
        for slot in self.slots:
            slot.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if slot.process.exitcode is None:
                slot.process.kill()
                slot.process.join(timeout=1)
