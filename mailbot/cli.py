"""The command line of SPEC §9, kept thin: arguments in, jobs / service / views out.

Every command exits non-zero with a one-line reason on bad input (``mailbot: ...`` on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from datetime import datetime, timedelta, timezone

from . import config as config_mod
from . import digest, imports, jobs, service, views, wiring
from .core.events import MerchantInsolvent, OperatorDecide, OperatorRequest
from .core.model import CaseState, OPERATOR_OUTCOMES, Outcome, Role
from .store import records
from .store.db import transaction


class UsageError(Exception):
    """Bad input on the command line; the message is the one line printed."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailbot", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="TOML config file (default: $MAILBOT_CONFIG or built-in)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="SMTP listener and scheduler until SIGTERM/SIGINT")
    imp = sub.add_parser("import", help="import merchants or orders")
    imp.add_argument("what", choices=["merchants", "orders"])
    imp.add_argument("file")
    tick = sub.add_parser("tick", help="apply every timer due at --now")
    tick.add_argument("--now", help="ISO-8601 time (default: the clock)")
    sub.add_parser("deliver", help="deliver what is due in the outbox")
    status = sub.add_parser("status", help="an order's protection and case")
    status.add_argument("shop_id")
    status.add_argument("order_number")
    status.add_argument("--json", action="store_true")
    cases = sub.add_parser("cases", help="list cases")
    cases.add_argument("--state", choices=[str(s) for s in CaseState])
    cases.add_argument("--json", action="store_true")
    case = sub.add_parser("case", help="one case; or an operator's decision or request")
    case.add_argument("case_id", type=int)
    case.add_argument("action", nargs="?", choices=["decide", "request-documents"])
    case.add_argument("argument", nargs="?")
    case.add_argument("--message")
    case.add_argument("--json", action="store_true")
    merchant = sub.add_parser("merchant", help="declare a merchant insolvent")
    merchant.add_argument("merchant_id")
    merchant.add_argument("action", choices=["insolvent"])
    dig = sub.add_parser("digest", help="print the operators' digest")
    dig.add_argument("--since", default="24h", help="a duration such as 24h, 7d, 90m")
    dig.add_argument("--send", action="store_true", help="also mail it to the operators")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = config_mod.load(args.config)
        app = wiring.build(config)
        return COMMANDS[args.command](app, args) or 0
    except (UsageError, config_mod.ConfigError, imports.BadFile) as exc:
        print(f"mailbot: {exc}", file=sys.stderr)
        return 2


def _now(text: str | None, tz) -> datetime:
    """``--now``: an ISO-8601 time; without an offset it is read in the configured zone."""
    if not text:
        return datetime.now(timezone.utc)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now: not an ISO-8601 time: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _serve(app, args):
    from .scheduler import serve
    serve(app)


def _import(app, args):
    db = app.db()
    if args.what == "merchants":
        report = imports.import_merchants(db, args.file)
    else:
        report = imports.import_orders(db, args.file, app.tz)
    for number, reason in report.rejected:
        print(f"row {number}: rejected: {reason}")
    print(f"{args.what}: {report.imported} imported, {report.unchanged} unchanged, "
          f"{len(report.rejected)} rejected")
    return 1 if report.rejected else 0


def _tick(app, args):
    print(f"timers applied: {jobs.tick(app, _now(args.now, app.tz))}")


def _deliver(app, args):
    counts = jobs.deliver(app, datetime.now(timezone.utc))
    print(", ".join(f"{v} {k}" for k, v in counts.items()))


def _load_order(app, shop_id, order_number):
    db = app.db()
    order_id = records.order_id(db, shop_id, order_number)
    if order_id is None:
        raise UsageError(f"no order {order_number!r} of shop {shop_id!r}")
    return records.load(db, order_id)


def _status(app, args):
    state = _load_order(app, args.shop_id, args.order_number)
    data = views.status_json(app.db(), state, app.tz)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    p, c = data["protection"], data["case"]
    print(f"order {args.shop_id}/{args.order_number}: protection {p['state']} "
          f"until {p['ends_at']}" + (" (extended)" if p["extended"] else ""))
    if c:
        _print_case(c)


def _print_case(c):
    print(views.case_text(c), end="")


def _cases(app, args):
    rows = views.cases(app.db(), args.state)
    for row in rows:
        row["opened_at"] = records.parse_dt(row["opened_at"]).astimezone(app.tz).isoformat()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        print(f"{r['id']:>6}  {r['state']:<18} {r['reason']:<13} {r['shop_id']}/"
              f"{r['order_number']}  {r['escalation_reason'] or r['outcome'] or ''}")


def _case(app, args):
    db = app.db()
    order_id = records.order_of_case(db, args.case_id)
    if order_id is None:
        raise UsageError(f"no case {args.case_id}")
    if args.action is None:
        data = views.case_file_json(db, records.load(db, order_id), app.tz)
        if args.json:
            print(json.dumps(data, ensure_ascii=False))
        else:
            _print_case(data)
        return
    message = (args.message or "").strip()
    if not message:
        raise UsageError(f"case {args.action} needs --message TEXT")
    if args.action == "decide":
        if args.argument not in [str(o) for o in OPERATOR_OUTCOMES]:
            raise UsageError("decide needs an outcome: "
                             + ", ".join(str(o) for o in OPERATOR_OUTCOMES))
        event = OperatorDecide(Outcome(args.argument), message)
    else:
        if args.argument not in ("buyer", "merchant"):
            raise UsageError("request-documents needs a party: buyer or merchant")
        event = OperatorRequest(Role(args.argument), message)
    result = service.handle(app, order_id, event, datetime.now(timezone.utc))
    if str(result.result) != "applied":
        state = records.load(db, order_id)
        raise UsageError(f"case {args.case_id} is {state.case.state}: "
                         f"{args.action} is not open")
    print(f"case {args.case_id}: {args.action} {args.argument} done")


def _merchant(app, args):
    db = app.db()
    if records.merchant(db, args.merchant_id) is None:
        raise UsageError(f"no merchant {args.merchant_id!r}")
    with transaction(db):
        records.set_insolvent(db, args.merchant_id)
    now = datetime.now(timezone.utc)
    escalated = 0
    for order_id in records.open_case_orders(db, args.merchant_id):
        if str(service.handle(app, order_id, MerchantInsolvent(), now).result) == "applied":
            escalated += 1
    print(f"merchant {args.merchant_id}: insolvent; {escalated} open case(s) escalated")


_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_ISO_DURATION = re.compile(r"^p(?:(\d+)w)?(?:(\d+)d)?(?:t(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?)?$")


def _duration(text: str) -> timedelta:
    """``24h``, ``7d``, ``90m``, ``2w`` or an ISO-8601 duration such as ``P1D`` or ``PT12H``."""
    text = text.strip().lower()
    if match := _DURATION.match(text):
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return timedelta(**{unit: int(match.group(1))})
    if (match := _ISO_DURATION.match(text)) and text not in ("p", "pt"):
        w, d, h, m, s = (int(g or 0) for g in match.groups())
        return timedelta(weeks=w, days=d, hours=h, minutes=m, seconds=s)
    raise UsageError(f"--since: not a duration like 24h, 7d, 90m or P1D: {text!r}")


def _digest(app, args):
    since = _duration(args.since)
    now = datetime.now(timezone.utc)
    print(digest.text(app, now, since), end="")
    if args.send:
        digest.send(app, now, since)


COMMANDS = {"serve": _serve, "import": _import, "tick": _tick, "deliver": _deliver,
            "status": _status, "cases": _cases, "case": _case, "merchant": _merchant,
            "digest": _digest}
