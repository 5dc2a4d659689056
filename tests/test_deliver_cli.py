"""``mailbot deliver`` says why each mail waits and fails when nothing could be delivered; like
every command but serve it prints its own result only (no event lines on stderr)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from aiosmtpd.controller import Controller

from conftest import free_port, make_config, write_config
from mailbot import jobs, wiring
from test_installed_command import import_one_order, run


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: queued as 4F3A2B"


def test_deliver_prints_retry_causes_and_exit_status(tmp_path):
    relay_port = free_port()
    config = write_config(tmp_path, relay={"transport": "smtp", "port": relay_port})
    import_one_order(tmp_path, config)
    tick = run(["tick"], tmp_path, config)
    assert tick.stdout == "timers applied: 1\n" and tick.stderr == ""

    down = run(["deliver"], tmp_path, config)
    assert down.returncode == 1 and down.stderr == ""
    assert f"to b@x.example: retry: relay 127.0.0.1:{relay_port} unreachable" in down.stdout
    assert down.stdout.splitlines()[-1] == "0 sent, 1 retry, 0 dead"

    server = Controller(Sink(), hostname="127.0.0.1", port=relay_port)
    server.start()
    try:
        nothing_due = run(["deliver"], tmp_path, config)  # the retry waits its turn
    finally:
        server.stop()
    assert nothing_due.returncode == 0 and nothing_due.stdout == "0 sent, 0 retry, 0 dead\n"


def test_delivery_events_name_the_cause_and_the_relay_queue_id(tmp_path, app, caplog):
    port = free_port()
    relay_app = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": port}))
    now = datetime.now(timezone.utc)
    jobs.tick(relay_app, now)
    with caplog.at_level(logging.INFO, logger="mailbot"):
        jobs.deliver(relay_app, now)
        server = Controller(Sink(), hostname="127.0.0.1", port=port)
        server.start()
        try:
            assert jobs.deliver(relay_app, now + timedelta(minutes=5))["sent"] == 3
        finally:
            server.stop()
    retries = [r.message for r in caplog.records if r.message.startswith("delivery.retry")]
    sent = [r.message for r in caplog.records if r.message.startswith("delivery.sent")]
    assert len(retries) == 3 and all("unreachable" in line for line in retries)
    assert len(sent) == 3
    assert all("queue_id=4F3A2B reply='250 2.0.0 Ok: queued as 4F3A2B'" in line for line in sent)
