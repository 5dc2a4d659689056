"""The timeline's hash chain: every entry is linked in the transaction that writes it, any later
change or removal is found at the entry it touched, and a purge leaves a chain that verifies."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import click, only
from mailbot import jobs
from mailbot.core.effects import Entry
from mailbot.store import chain, records, retention


def _case_with_documents(app, box):
    now = datetime.now(timezone.utc)
    jobs.tick(app, now)
    reminder = only(box.deliver(), "jan@buyer.example")
    click(box, reminder, "not_received", "jan@buyer.example", body="Mijn fiets kwam nooit aan.",
          attachments=[("bon.pdf", "application/pdf", b"%PDF-1.4 personal receipt")])
    box.deliver()
    db = app.db()
    return db, db.execute("SELECT id FROM orders WHERE order_number = 'NL-1'").fetchone()[0], now


def test_every_entry_is_linked_to_the_one_before(app, box):
    db, order_id, _ = _case_with_documents(app, box)
    rows = chain.entries(db, order_id)
    assert len(rows) >= 3 and all(r["chain_sha256"] and r["content_sha256"] for r in rows)
    assert any(r["attachments"] for r in rows)
    assert chain.check(rows) == []
    # Each order has its own chain: another order's first entry starts from the genesis link.
    other = db.execute("SELECT id FROM orders WHERE order_number = 'FR-1'").fetchone()[0]
    first = chain.entries(db, other)[0]
    assert first["chain_sha256"] == chain.link(chain.GENESIS, other, first["at"], first["actor"],
                                               first["kind"], first["content_sha256"],
                                               first["done_by"], chain.VERSION)


def test_a_changed_or_removed_entry_is_found(app, box):
    db, order_id, _ = _case_with_documents(app, box)
    ids = [r[0] for r in db.execute("SELECT id FROM timeline WHERE order_id = ? ORDER BY id",
                                    [order_id])]
    db.execute("UPDATE timeline SET text = 'Alles goed ontvangen.' WHERE id = ?", [ids[1]])
    assert chain.check(chain.entries(db, order_id)) == [
        f"timeline entry 2 ({chain.entries(db, order_id)[1]['kind']} at "
        f"{chain.entries(db, order_id)[1]['at']}): text or documents changed"]
    db.execute("UPDATE timeline SET actor = 'merchant' WHERE id = ?", [ids[0]])
    found = chain.check(chain.entries(db, order_id))
    assert found[0].startswith("timeline entry 1 ") and "entry changed" in found[0]
    db.execute("DELETE FROM timeline WHERE id = ?", [ids[0]])
    found = chain.check(chain.entries(db, order_id))
    assert any(f.startswith("timeline entry 1 ") and "removed or inserted" in f for f in found)


def test_purge_leaves_a_chain_that_verifies(app, box):
    db, order_id, now = _case_with_documents(app, box)
    db.execute("UPDATE orders SET state = 'ended', ended_at = ? WHERE id = ?",
               ["2000-01-01T00:00:00+00:00", order_id])
    db.execute("UPDATE cases SET state = 'closed', closed_at = ? WHERE order_id = ?",
               ["2000-01-01T00:00:00+00:00", order_id])
    for path in Path(app.config.storage.attachments).rglob("*"):
        os.utime(path, (0, 0))
    before = chain.entries(db, order_id)
    done = retention.purge(db, app.attachments, now)
    assert done.texts >= 1
    after = chain.entries(db, order_id)
    # The parties' words and documents go; the bot's anonymous facts stay for the digest.
    parties = [r for r in after if r["actor"] not in ("bot", "timer")]
    assert parties and not any(r["text"] or r["attachments"] for r in parties)
    assert [r["content_sha256"] for r in after] == [r["content_sha256"] for r in before]
    assert chain.check(after) == []
    # A blanked entry still cannot be moved: its time is in the link.
    db.execute("UPDATE timeline SET at = ? WHERE order_id = ? AND id = (SELECT min(id) FROM "
               "timeline WHERE order_id = ?)", [(now - timedelta(days=9)).isoformat(), order_id,
                                                order_id])
    assert "entry changed" in chain.check(chain.entries(db, order_id))[0]


# Made by the release before done_by joined the chain (e17d02b's ``records.add_timeline``):
# version-1 links, an operator's decision with its done_by outside them.
BEFORE_DONE_BY = Path(__file__).parent.parent / "fixtures" / "timeline_before_done_by.json"


def test_entries_linked_before_done_by_joined_the_chain_still_verify():
    old = json.loads(BEFORE_DONE_BY.read_text(encoding="utf-8"))
    assert any(e["done_by"] for e in old) and not any("chain_version" in e for e in old)
    assert chain.check(old) == []
    assert chain.check([dict(e, chain_version=1) for e in old]) == []  # as the migration says


def test_the_operator_who_gave_a_command_is_in_the_chain(app, box):
    db, order_id, now = _case_with_documents(app, box)
    records.add_timeline(db, order_id, now, Entry("operator", "operator.request_documents",
                                                  "buyer: the receipt, please", by="alice"))
    rows = chain.entries(db, order_id)
    assert rows[-1]["done_by"] == "alice" and rows[-1]["chain_version"] == chain.VERSION == 2
    assert chain.check(rows) == []
    db.execute("UPDATE timeline SET done_by = 'bob' WHERE id = (SELECT max(id) FROM timeline)")
    assert "entry changed" in chain.check(chain.entries(db, order_id))[-1]
    # Nor can the entry be passed off as one linked before done_by was hashed.
    db.execute("UPDATE timeline SET chain_version = 1 WHERE id = (SELECT max(id) FROM timeline)")
    assert "entry changed" in chain.check(chain.entries(db, order_id))[-1]
