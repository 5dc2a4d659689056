"""SPEC §4: the documents a shop sends with its answer reach the buyer. When the shop refuses a
refund and the case goes straight to the service team, the buyer's mail carries them, over a
real SMTP relay and byte for byte; documents past the size one mail may carry are named in the
mail instead of attached."""

from __future__ import annotations

import email
import email.policy
import os
from datetime import datetime, timezone

import pytest

from conftest import MERCHANTS, ORDERS, Mailbox, click, make_config
from mailbot import imports, jobs, wiring
from mailbot.outbound import compose

BUYER, SHOP = "jan@buyer.example", "info@fietsen.example"
# Random bytes: a PDF whose every byte counts (base64 and back must give it whole).
# Random bytes without "/": a name such as /JS or /Launch in random bytes (1 file in ~60 of
# this size) makes the active-content check refuse the document, as it should.
RETURN_NOTE = b"%PDF-1.4\n" + os.urandom(300_000).replace(b"/", b"x")
INVOICE = b"%PDF-1.4\n" + os.urandom(200_000).replace(b"/", b"x")


@pytest.fixture
def relayed(tmp_path, smtp_sink):
    """The bot with an SMTP relay (an aiosmtpd sink keeping what it accepted) and its listener."""
    sink = smtp_sink()
    app = wiring.build(make_config(tmp_path, relay={"transport": "smtp", "port": sink.port},
                                   smtp={"max_message_size": 2_000_000}))
    (tmp_path / "m.csv").write_text(MERCHANTS)
    (tmp_path / "o.csv").write_text(ORDERS)
    imports.import_merchants(app.db(), str(tmp_path / "m.csv"))
    imports.import_orders(app.db(), str(tmp_path / "o.csv"), app.tz)
    box = Mailbox(app)
    box.start()
    yield app, box, sink
    box.stop()
    app.close()


def _delivered(app, sink) -> list[tuple[list[str], email.message.EmailMessage]]:
    """What reached the relay since the last call: envelope recipients and message (one SMTP
    transaction per recipient: each has its own VERP return path)."""
    before = len(sink.messages)
    jobs.deliver(app, datetime.now(timezone.utc))
    return [(rcpt_tos, email.message_from_bytes(content, policy=email.policy.default))
            for _, rcpt_tos, content in sink.messages[before:]]


def _one(mails, address):
    found = [m for rcpt_tos, m in mails if address in rcpt_tos]
    assert len(found) == 1, [m["Subject"] for m in found]
    return found[0]


def _refused_with(app, box, sink, documents):
    jobs.tick(app, datetime.now(timezone.utc))
    reminder = _one(_delivered(app, sink), BUYER)
    click(box, reminder, "no_refund", BUYER, body="Ik heb de fiets teruggestuurd.")
    case_mail = _one(_delivered(app, sink), SHOP)
    click(box, case_mail, "refund_none", SHOP,
          body="Terugbetaling: nee\nToelichting: De retour kwam beschadigd aan, zie bijlagen.",
          attachments=[(name, "application/pdf", data) for name, data in documents])
    return _one(_delivered(app, sink), BUYER)


def test_the_shops_documents_reach_the_buyer_byte_for_byte(relayed):
    app, box, sink = relayed
    escalated = _refused_with(app, box, sink, [("retourbon.pdf", RETURN_NOTE),
                                              ("factuur.pdf", INVOICE)])
    assert app.db().execute("SELECT escalation_reason FROM cases").fetchone()[0] == \
        "merchant_refused_refund"
    attached = {part.get_filename(): part.get_content() for part in escalated.iter_attachments()}
    assert attached == {"retourbon.pdf": RETURN_NOTE, "factuur.pdf": INVOICE}
    body = escalated.get_body(("plain",)).get_content()
    assert "De retour kwam beschadigd aan" in body
    assert "retourbon.pdf" in body and "factuur.pdf" in body and "Te groot" not in body


def test_documents_past_the_size_of_one_mail_are_named_not_attached(relayed, monkeypatch):
    app, box, sink = relayed
    monkeypatch.setattr(compose, "ATTACHED_BYTES", 400_000)
    escalated = _refused_with(app, box, sink, [("retourbon.pdf", RETURN_NOTE),
                                              ("factuur.pdf", INVOICE)])
    assert {p.get_filename(): p.get_content() for p in escalated.iter_attachments()} == {
        "retourbon.pdf": RETURN_NOTE}
    for part in ("plain", "html"):
        # The HTML part keeps "e-mail" whole in a no-wrap span (design10 point 8).
        body = escalated.get_body((part,)).get_content().replace(
            '<span style="white-space:nowrap">e-mail</span>', "e-mail")
        assert "Te groot om bij deze e-mail te voegen; ons serviceteam bewaart ze: factuur.pdf" \
            in body
    assert len(sink.messages[-1][2]) < 400_000 * 4 // 3 + 100_000


def test_the_team_is_told_where_documents_too_large_to_attach_are(relayed, monkeypatch):
    """The operators' own mail does not tell them "our service team keeps them": it names the
    files and the export that holds them, and its lead does not claim every document is attached."""
    from conftest import OPERATOR
    app, box, sink = relayed
    monkeypatch.setattr(compose, "ATTACHED_BYTES", 400_000)
    _refused_with(app, box, sink, [("retourbon.pdf", RETURN_NOTE), ("factuur.pdf", INVOICE)])
    team = [email.message_from_bytes(content, policy=email.policy.default)
            for _, rcpt_tos, content in sink.messages if OPERATOR in rcpt_tos]
    escalation = next(m for m in team if m["Subject"].startswith("Besluit nodig"))
    case_id = app.db().execute("SELECT id FROM cases").fetchone()[0]
    for part in ("plain", "html"):
        body = " ".join(escalation.get_body((part,)).get_content().replace("\u2011", "-").split())
        assert (f"Te groot om mee te sturen: factuur.pdf. Je vindt ze in de export van de case: "
                f"mailbot case {case_id} export") in body
        assert "ons serviceteam bewaart ze" not in body
        assert "alle documenten zitten als bijlage" not in body
