"""``mailbot case ID export`` and ``mailbot verify-export``: the zip holds a readable timeline,
the case as JSON, the inbound mail byte for byte (its DKIM signature still verifies), the
documents and a manifest; verify passes on it and names each file or entry that was changed."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import zipfile
from datetime import datetime, timezone
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import dkim
import pytest
from bs4 import BeautifulSoup
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import SMTP_POLICY, actions, only, write_config
from mailbot import cli, jobs
from mailbot.core.effects import Entry
from mailbot.store import records

RECEIPT = b"%PDF-1.4 the receipt of the bike"


@pytest.fixture(scope="module")
def buyer_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _dns(key):
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    return lambda name, timeout=5: record if name == b"s1._domainkey.buyer.example." else None


@pytest.fixture
def exported(app, box, tmp_path, buyer_key):
    """A case opened by a DKIM-signed mail with a document, exported to a zip."""
    jobs.tick(app, datetime.now(timezone.utc))
    reminder = only(box.deliver(), "jan@buyer.example")
    link = urlsplit(actions(reminder)["not_received"])
    mail = EmailMessage()
    mail["From"] = "jan@buyer.example"
    mail["To"] = unquote(link.path)
    mail["Subject"] = parse_qs(link.query)["subject"][0]
    mail["Date"] = email.utils.formatdate()
    mail["Message-ID"] = email.utils.make_msgid(domain="buyer.example")
    mail.set_content("Mijn fiets kwam nooit aan.")
    mail.add_attachment(RECEIPT, maintype="application", subtype="pdf", filename="bon.pdf")
    raw = mail.as_bytes(policy=SMTP_POLICY)
    key = buyer_key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption())
    raw = dkim.sign(raw, b"s1", b"buyer.example", key) + raw
    box.send(raw, "jan@buyer.example", [mail["To"]])
    box.deliver()
    case_id = app.db().execute("SELECT id FROM cases").fetchone()[0]
    dest = tmp_path / "case.zip"
    assert cli.main(["--config", str(write_config(tmp_path, app.config)), "case", str(case_id),
                     "export", str(dest)]) == 0
    return dest, case_id


def _verify(path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["verify-export", str(path)])
    return code, capsys.readouterr().out


def _rewrite(src, dest, change) -> None:
    """A copy of the zip with ``change(name, data) -> data | None`` (None: left out)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dest, "w") as new:
        for name in old.namelist():
            data = change(name, old.read(name))
            if data is not None:
                new.writestr(name, data)


def test_the_export_holds_everything_and_verifies(app, exported, buyer_key, capsys):
    dest, case_id = exported
    with zipfile.ZipFile(dest) as zf:
        names = set(zf.namelist())
        case = json.loads(zf.read("case.json"))
        manifest = json.loads(zf.read("manifest.json"))
        page = BeautifulSoup(zf.read("timeline.html"), "html.parser")
        emls = {n: zf.read(n) for n in names if n.startswith("mail/")}
        document = zf.read(f"documents/{case['documents'][0]['sha256']}")
    assert set(manifest["files"]) == names - {"manifest.json"}
    db = app.db()
    raws = [bytes(r[0]) for r in db.execute(
        "SELECT r.raw FROM inbox i JOIN inbox_raw r ON r.inbox_id = i.id WHERE i.order_id = ? "
        "ORDER BY i.id", [case_id])]
    assert sorted(emls.values()) == sorted(raws) and len(raws) >= 1
    signed = [raw for raw in emls.values() if b"DKIM-Signature" in raw]
    assert len(signed) == 1 and dkim.verify(signed[0], dnsfunc=_dns(buyer_key))
    assert document == RECEIPT
    assert case["dispute_id"] == str(case_id) and case["reason"] == "not_received"
    assert case["disputed_transactions"][0]["seller_transaction_id"] == "NL-1"
    assert case["dispute_amount"] == {"currency_code": "EUR", "value": "49.95"}
    assert case["messages"][0]["content"].startswith("Mijn fiets kwam nooit aan")
    assert case["seller_response_due_date"]
    assert manifest["chain_head"] == case["timeline"][-1]["chain_sha256"]
    rows = page.find_all("tr")
    assert any("case.opened" in r.get_text() and "Mijn fiets" in r.get_text() for r in rows)
    assert page.find("a", string="bon.pdf")["href"] == f"documents/{case['documents'][0]['sha256']}"
    code, out = _verify(dest, capsys)
    assert code == 0 and "OK" in out and manifest["chain_head"] in out


def test_verify_names_what_was_changed(exported, tmp_path, capsys):
    dest, _ = exported
    with zipfile.ZipFile(dest) as zf:
        case = json.loads(zf.read("case.json"))
        manifest = json.loads(zf.read("manifest.json"))
    document = f"documents/{case['documents'][0]['sha256']}"

    _rewrite(dest, tmp_path / "doc.zip", lambda n, d: b"%PDF-1.4 forged" if n == document else d)
    code, out = _verify(tmp_path / "doc.zip", capsys)
    assert code == 1 and f"CHANGED {document}: changed" in out
    assert f"{document}: not the document timeline entry" in out

    # A careful forger edits the buyer's words and fixes the manifest line too: the chain tells.
    number = next(i for i, e in enumerate(case["timeline"], 1) if e["kind"] == "case.opened")
    case["timeline"][number - 1]["text"] = "Alles goed ontvangen."
    forged = json.dumps(case).encode()
    manifest["files"]["case.json"] = hashlib.sha256(forged).hexdigest()
    _rewrite(dest, tmp_path / "text.zip", lambda n, d: forged if n == "case.json" else
             json.dumps(manifest).encode() if n == "manifest.json" else d)
    code, out = _verify(tmp_path / "text.zip", capsys)
    entry = case["timeline"][number - 1]
    assert code == 1 and out.splitlines()[0] == (
        f"CHANGED case.json: timeline entry {number} (case.opened at {entry['at']}): "
        "text or documents changed")

    # A removed entry fails the link of the entry after it.
    del case["timeline"][0]
    _rewrite(dest, tmp_path / "gone.zip",
             lambda n, d: json.dumps(case).encode() if n == "case.json" else d)
    code, out = _verify(tmp_path / "gone.zip", capsys)
    assert "CHANGED case.json: changed" in out
    assert "timeline entry 1 " in out and "removed or inserted" in out

    eml = next(n for n in manifest["files"] if n.startswith("mail/"))
    _rewrite(dest, tmp_path / "eml.zip", lambda n, d: None if n == eml else d)
    code, out = _verify(tmp_path / "eml.zip", capsys)
    assert code == 1 and f"CHANGED {eml}: missing" in out.splitlines()


def test_export_refuses_to_overwrite_and_an_unknown_case(app, exported, tmp_path, capsys):
    dest, case_id = exported
    config = str(write_config(tmp_path, app.config))
    assert cli.main(["--config", config, "case", str(case_id), "export", str(dest)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert cli.main(["--config", config, "case", "999", "export", str(tmp_path / "x.zip")]) == 2
    assert not (tmp_path / "x.zip").exists()
    (tmp_path / "no.zip").write_bytes(b"no zip")
    code, out = _verify(tmp_path / "no.zip", capsys)
    assert code == 1 and "not a readable zip" in out


def test_verify_finds_a_changed_done_by(app, exported, tmp_path, capsys):
    _, case_id = exported
    db = app.db()
    order_id = records.order_of_case(db, case_id)
    records.add_timeline(db, order_id, datetime.now(timezone.utc), Entry(
        "operator", "operator.request_documents", "buyer: the receipt, please", by="alice"))
    dest = tmp_path / "by.zip"
    assert cli.main(["--config", str(write_config(tmp_path, app.config)), "case", str(case_id),
                     "export", str(dest)]) == 0
    with zipfile.ZipFile(dest) as zf:
        case = json.loads(zf.read("case.json"))
        manifest = json.loads(zf.read("manifest.json"))
        page = zf.read("timeline.html").decode()
    assert case["timeline"][-1]["done_by"] == "alice" and "operator (alice)" in page
    assert _verify(dest, capsys)[0] == 0
    # Who gave the command is rewritten, with the manifest line fixed too: the chain tells.
    case["timeline"][-1]["done_by"] = "bob"
    forged = json.dumps(case).encode()
    manifest["files"]["case.json"] = hashlib.sha256(forged).hexdigest()
    _rewrite(dest, tmp_path / "bob.zip", lambda n, d: forged if n == "case.json" else
             json.dumps(manifest).encode() if n == "manifest.json" else d)
    code, out = _verify(tmp_path / "bob.zip", capsys)
    number = len(case["timeline"])
    assert code == 1 and out.splitlines()[0].startswith(
        f"CHANGED case.json: timeline entry {number} (operator.request_documents at ")
    assert "entry changed" in out.splitlines()[0]
