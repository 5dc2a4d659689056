"""``mailbot case ID export DEST.zip``: everything about one case in one zip.

The zip holds ``timeline.html`` (readable, printable from any browser), ``case.json``
(``casefile/case_json``), every inbound mail of the order byte for byte as it was received
(``mail/<inbox id>.eml``: the senders' DKIM signatures stay verifiable, RFC 6376), every document
still kept (``documents/<sha256>``, the name the timeline gives it is in ``case.json``), and
``manifest.json`` with the SHA-256 of every other file and the head of the timeline's hash chain.
No PDF: the libraries that lay out HTML as PDF either need system libraries on every machine
(WeasyPrint: Pango) or are thinly kept; the HTML prints to PDF from a browser.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import jinja2

from ..store import chain, records
from ..store.records import iso
from .case_json import case_object

FORMAT = "mailbot-case-file/1"
MANIFEST = "manifest.json"
_TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("mailbot.casefile", "."), autoescape=True,
    undefined=jinja2.StrictUndefined).get_template("timeline.html.j2")


@dataclass(frozen=True)
class Exported:
    files: int
    entries: int
    head: str


def export(app, case_id: int, dest: str | Path, now: datetime | None = None) -> Exported:
    db = app.db()
    order_id = records.order_of_case(db, case_id)
    state = records.load(db, order_id) if order_id is not None else None
    if state is None or state.case is None:
        raise LookupError(f"no case {case_id}")
    files: dict[str, bytes] = {}
    documents = {}
    for entry in chain.entries(db, order_id):
        for d in entry["attachments"]:
            data = app.attachments.read(d["sha256"])
            if data is not None:
                documents[d["sha256"]] = f"documents/{d['sha256']}"
                files[documents[d["sha256"]]] = data
    mails = []
    for inbox_id, received_at, disposition, raw in db.execute(
            "SELECT i.id, i.received_at, i.disposition, r.raw FROM inbox i JOIN inbox_raw r "
            "ON r.inbox_id = i.id WHERE i.order_id = ? AND length(r.raw) > 0 ORDER BY i.id",
            [order_id]).fetchall():
        mails.append({"file": f"mail/{inbox_id}.eml", "received_at": received_at,
                      "disposition": disposition})
        files[mails[-1]["file"]] = bytes(raw)
    case = case_object(db, state, app.tz, documents)
    case["inbound_mails"] = mails
    head = case["timeline"][-1]["chain_sha256"] if case["timeline"] else chain.GENESIS
    files["case.json"] = json.dumps(case, ensure_ascii=False, indent=1).encode()
    files["timeline.html"] = _TEMPLATE.render(
        case=case, order=case["disputed_transactions"][0], files=documents, mails=mails,
        head=head).encode()
    manifest = {"format": FORMAT, "case_id": case_id,
                "created_at": iso(now or datetime.now(timezone.utc)), "chain_head": head,
                "files": {name: hashlib.sha256(data).hexdigest()
                          for name, data in sorted(files.items())}}
    files[MANIFEST] = json.dumps(manifest, indent=1).encode()
    with zipfile.ZipFile(dest, "x", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return Exported(len(files), len(case["timeline"]), head)
