"""Outbound mail through an SMTP relay: 250, 4xx and 5xx answers become sent, retry and dead, and
mail waiting for a relay that is down goes out once it answers, from the VERP return path."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import free_port, make_config
from mailbot import jobs, wiring
from mailbot.outbound.transport import PermanentError, SmtpTransport, TemporaryError

MAIL = b"Subject: t\r\n\r\nx\r\n"


@pytest.mark.parametrize("answer, error", [("250 OK", None), ("451 try later", TemporaryError),
                                           ("554 no", PermanentError)])
def test_smtp_relay_transport(smtp_sink, answer, error):
    sink = smtp_sink(answer)
    with SmtpTransport("127.0.0.1", sink.port, "bot.example") as transport:
        for _ in range(3):
            if error:
                with pytest.raises(error):
                    transport.send("bot+v@bot.example", ["a@x.example"], MAIL)
            else:
                transport.send("bot+v@bot.example", ["a@x.example"], MAIL)
    assert len(sink.messages) == (3 if error is None else 0)
    if error is None:
        assert sink.messages[0][0] == "bot+v@bot.example"


def test_relay_down_retries_then_delivers(tmp_path, app, smtp_sink):
    port = free_port()
    relay_app = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": port}))
    now = datetime.now(timezone.utc)
    jobs.tick(relay_app, now)
    assert jobs.deliver(relay_app, now)["retry"] == 3
    sink = smtp_sink(port=port)
    assert jobs.deliver(relay_app, now + timedelta(minutes=5))["sent"] == 3
    assert all(m[0].startswith("bot+") for m in sink.messages)  # VERP return path
