"""The command line of SPEC §9, kept thin: arguments in, jobs / service / views out.

Every command exits non-zero with a one-line reason on bad input (``mailbot: ...`` on stderr).
"""

from __future__ import annotations

import argparse
import email.errors
import email.header
import getpass
import importlib.metadata
import json
import logging
import os
import re
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from . import config as config_mod
from . import imports, logs, printable, private_files, rehearsal, views, wiring
from .core.case import PAID_OUTCOMES, operator_amount_problem, paid_days
from .core.effects import Result
from .core.events import (OperatorCorrect, OperatorDecide, OperatorMessage, OperatorPaid,
                          OperatorRequest)
from .core.model import (CaseState, MESSAGE_COMMAND, OPERATOR_COMMANDS, OPERATOR_OUTCOMES, Outcome,
                         PAID_COMMAND, Plan, Role)
from .inbound import forms
from .inbound.disposition import DISPOSITIONS
from .money import parse_amount
from .orders_by_mail.address import intake_address
from .store import admin, backup, datadir, records, reports, retention

# Mailing, intake, the case file and `check` are imported by the commands that use them: this
# module is what `serve`'s listener and each of its spawned children import first (the console
# script is their __main__), and none of them needs Jinja, the parsers or asyncio from here.


class UsageError(Exception):
    """Bad input on the command line; the message is the one line printed."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailbot", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"mailbot {_version()}")
    _global_options(p, default=None)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("help", help="this list, or one command's options").add_argument(
        "topic", nargs="?", metavar="COMMAND", help="the command to explain")
    sub.add_parser("serve", help="SMTP listener and scheduler until SIGTERM/SIGINT")
    sub.add_parser("check", help="database, relay and serve are working (one line each)")
    imp = sub.add_parser("import", help="import merchants or orders")
    imp.add_argument("what", choices=["merchants", "orders"], help="what the file holds")
    imp.add_argument("file", help="CSV (any delimiter, as Excel saves it), or JSON Lines "
                     "for orders; save .xlsx files as CSV first")
    imp.add_argument("--update", action="store_true",
                     help="apply changed values of orders imported before (no case yet)")
    imp.add_argument("--date-order", choices=imports.DATE_ORDERS,
                     help="how to read dates like 05/11/2026 when no date in the file tells "
                     "(default: decided from the file's unambiguous dates)")
    tick = sub.add_parser("tick", help="apply every timer due at --now")
    tick.add_argument("--now", help="ISO-8601 time (default: the clock)")
    tick.add_argument("--force", action="store_true",
                      help="allow --now more than 2 days ahead of the clock")
    sub.add_parser("deliver", help="deliver what is due in the outbox")
    status = sub.add_parser("status", help="an order's protection and case")
    status.add_argument("shop_id", help="the shop's id, as imported")
    status.add_argument("order_number", help="the shop's order number")
    status.add_argument("--json", action="store_true", help="the same as JSON")
    cases = sub.add_parser("cases", help="list cases")
    cases.add_argument("--state", choices=[str(s) for s in CaseState], help="only cases in it")
    cases.add_argument("--json", action="store_true", help="the same as JSON")
    case = sub.add_parser("case", help="one case; or an operator's decision, request, message "
                          "or correction of a decision")
    case.add_argument("case_id", type=int, help="the case's number (mailbot cases lists them)")
    case.add_argument("action", nargs="?",
                      choices=[*OPERATOR_COMMANDS, "correct", PAID_COMMAND, "export"],
                      help="decide OUTCOME, request-documents PARTY, message PARTY (the team's "
                      "message to that party, on any case), correct OUTCOME (a case "
                      "closed by an operator's decision), paid (the refund or compensation a "
                      "decision owes was paid), or export")
    case.add_argument("argument", nargs="?", help="the outcome, or the party asked or written to")
    case.add_argument("--message", help="to both parties (and the team), verbatim")
    case.add_argument("--message-buyer", help="decide, correct: to the buyer only, in place "
                      "of --message")
    case.add_argument("--message-merchant", help="decide, correct: to the merchant only, in "
                      "place of --message")
    case.add_argument("--amount", help="decide or correct into refunded_by_merchant or "
                      "compensated: what the buyer receives in total through this decision, "
                      "whoever pays: leave out what the shop has already paid back (default: "
                      "the order's amount, within the plan's [cover])")
    case.add_argument("--date", help="paid: the day it was paid, YYYY-MM-DD or D-M-YYYY, from the "
                      "decision's day to today (default: today)")
    case.add_argument("--json", action="store_true", help="the same as JSON")
    _change_options(case)
    merchant = sub.add_parser("merchant", help="declare a merchant insolvent or undo it; its "
                              "intake address for orders by mail")
    merchant.add_argument("merchant_id", help="the shop's id, as imported")
    merchant.add_argument("action", choices=["insolvent", "solvent", "intake-address"],
                          help="insolvent: escalate its open cases; solvent: new cases go to "
                          "the shop again; intake-address: the secret address for orders by mail")
    merchant.add_argument("--rotate", action="store_true", help="intake-address: a new one")
    merchant.add_argument("--plan", choices=list(Plan), default=Plan.BASIC,
                          help="intake-address: the plan of orders taken by mail")
    _change_options(merchant)
    _order_parsers(sub)
    dig = sub.add_parser("digest", help="print the operators' digest")
    dig.add_argument("--since", default="24h", help="a duration such as 24h, 7d, 90m")
    dig.add_argument("--send", action="store_true", help="also mail it to the operators")
    _outbox_inbox_parsers(sub)
    _data_parsers(sub)
    sub.add_parser("postfix-map", help="answer Postfix socketmap lookups at [postfix] socketmap")
    sub.add_parser("verify-export", help="check a case file made by case ID export").add_argument(
        "file", help="the zip made by `case ID export`")
    for command in sub.choices.values():
        # Also after the command (`mailbot cases --config x.toml`), as git and systemctl take
        # them; SUPPRESS keeps a value given before the command.
        _global_options(command, default=argparse.SUPPRESS)
    return p


def _global_options(p, default) -> None:
    p.add_argument("--config", default=default,
                   help="TOML config file (default: $MAILBOT_CONFIG or built-in)")
    p.add_argument("--verbose", action="store_true", default=default or False,
                   help="log events on stderr (commands other than serve log only warnings)")


def _version() -> str:
    try:
        return importlib.metadata.version("mailbot")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown"


def _change_options(p) -> None:
    p.add_argument("--as", dest="operator", default=None, metavar="NAME",
                   help="who gives the command, for the timeline and the team's mail "
                   "(default: the login name)")
    p.add_argument("--dry-run", action="store_true",
                   help="show what would change and what would be mailed; change nothing")
    p.add_argument("--yes", action="store_true",
                   help="carry it out without asking (needed off a terminal when it mails "
                   "people or deletes data)")


def _order_parsers(sub) -> None:
    order = sub.add_parser("order", help="correct or delete an order imported by mistake")
    order.add_argument("action", choices=["correct", "delete"],
                       help="correct: change the fields given; delete: an order without a case")
    order.add_argument("shop_id", help="the shop's id, as imported")
    order.add_argument("order_number", help="the shop's order number")
    for name in imports.ORDER_FIELDS[2:]:
        order.add_argument(f"--{name.replace('_', '-')}", dest=name,
                           help=f"the right {name.replace('_', ' ')} (correct)")
    _change_options(order)


def _data_parsers(sub) -> None:
    back = sub.add_parser("backup", help="consistent copy of the database and attachments")
    back.add_argument("dest", help="a new (or empty) folder for the copy")
    purge = sub.add_parser("purge", help="remove personal data of protections closed long ago")
    purge.add_argument("--older-than", help="closed this long ago, e.g. 730d or 104w "
                       "(default: [storage] retention_days)")
    purge.add_argument("--now", help="ISO-8601 time the age is counted from (default: the clock)")
    # No --yes: purging is the retention policy, run daily from a timer or cron.
    purge.add_argument("--dry-run", action="store_true",
                       help="count what would be removed; remove nothing")


def _outbox_inbox_parsers(sub) -> None:
    out = sub.add_parser("outbox", help="mail queued, retried, held, dead or bounced; resend, "
                         "flush, hold, release or delete")
    out.add_argument("action", nargs="?", choices=["resend", "flush", "hold", "release", "delete"],
                     help="resend ID (dead or bounced); flush (every mail backing off is due "
                     "now, and delivered); hold ID / release ID (keep a queued mail back, or let "
                     "it go); delete ID (a mail not sent)")
    out.add_argument("id", nargs="?", type=int, help="the outbox id")
    out.add_argument("--state", choices=admin.OUTBOX_STATES,
                     help="only mail in this state (default: all but sent)")
    out.add_argument("--json", action="store_true", help="the same as JSON")
    out.add_argument("--limit", type=int, default=admin.LIMIT, help="rows shown, newest first "
                     f"(default {admin.LIMIT})")
    _change_options(out)
    inb = sub.add_parser("inbox", help="mail held, unmatched, rate limited...; show one")
    inb.add_argument("action", nargs="?", choices=["show", "release", "replay"],
                     help="show ID; release ID (held for its sender: an operator vouches for "
                     "the From); replay ID... (run through intake again after a fix)")
    inb.add_argument("id", nargs="*", type=int, help="inbox ids")
    inb.add_argument("--disposition", choices=["held", "pending", *DISPOSITIONS],
                     metavar="DISPOSITION", help="only mail with this disposition, e.g. held, "
                     "unmatched, rate_limited, quarantined (default: all but applied)")
    inb.add_argument("--json", action="store_true", help="the same as JSON")
    inb.add_argument("--limit", type=int, default=admin.LIMIT, help="rows shown, newest first "
                     f"(default {admin.LIMIT})")
    inb.add_argument("--since", help="replay without ids: the mail of --disposition received "
                     "this long ago or later, e.g. 2h, 7d")
    _change_options(inb)


def main(argv: list[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a pipe closed early fails here, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (``mailbot outbox | head``): stop quietly as Unix tools do. Python's
        # "Note on SIGPIPE": stdout is pointed at /dev/null so that the flush at exit cannot
        # raise again; 141 is what a shell reports for a tool ended by SIGPIPE (128 + 13).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _main(argv: list[str] | None) -> int:
    commands = parser()
    args = commands.parse_args(argv)
    if args.command == "help":
        if args.topic is None:
            commands.print_help()
            return 0
        sub = next(a for a in commands._actions if isinstance(a, argparse._SubParsersAction))
        if args.topic not in sub.choices:
            print(f"mailbot: no command {args.topic!r}; `mailbot help` lists them",
                  file=sys.stderr)
            return 2
        sub.choices[args.topic].print_help()
        return 0
    # Database, secret, attachments and Maildir hold personal data: owner-only (0600 / 0700).
    os.umask(datadir.OWNER_ONLY_UMASK)
    try:
        config = config_mod.load(args.config)
        # Event lines are the service's log; other commands print their own result only, and
        # the event lines of their changes go to the service's log too.
        logs.setup(config, None if args.command == "serve" or args.verbose else "WARNING",
                   command=args.command != "serve")
        if args.command in ("serve", "deliver") and config.relay.transport == "maildir":
            datadir.check_maildir(config.relay.maildir)  # refused in one line, as a taken port
        if args.command == "check":  # before build: a check never creates a database
            from .serve import check
            return check.run(config, sys.stdout)
        if args.command == "verify-export":  # reads the zip only, never the database
            from .casefile import verify
            return verify.run(args.file, sys.stdout)
        app = wiring.build(config, readonly=_reads_only(args))
        return COMMANDS[args.command](app, args) or 0
    except (UsageError, config_mod.ConfigError, imports.BadFile, datadir.StorageError,
            private_files.UnprotectedFile, logs.LogFileError) as exc:
        print(f"mailbot: {exc}", file=sys.stderr)
        return 2


def _reads_only(args) -> bool:
    """Commands that only look never create or change the database (a wrong root or working
    directory must not quietly start a new, empty one)."""
    if args.command in ("status", "cases", "check", "backup"):
        return True
    if args.command in ("case", "outbox", "inbox"):
        return getattr(args, "action", None) in (None, "show", "export")
    return args.command == "digest" and not args.send


def _now(text: str | None, tz) -> datetime:
    """``--now``: an ISO-8601 time; without an offset it is read in the configured zone."""
    if not text:
        return datetime.now(timezone.utc)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now: not an ISO-8601 time: {text!r}") from None
    value = value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if not _EARLIEST <= value < _LATEST:
        raise UsageError(f"--now: out of range (2000 to 2099): {text!r}")
    return value


_EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
_LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
TICK_AHEAD_LIMIT = timedelta(days=2)


def _serve(app, args):
    from .serve.supervisor import serve
    return serve(app)


def _import(app, args):
    db = app.db()
    if args.what == "merchants":
        report = imports.import_merchants(db, args.file, progress=_import_progress)
    else:
        report = imports.import_orders(db, args.file, app.tz, update=args.update,
                                       progress=_import_progress, date_order=args.date_order)
    print(report.assumed)
    for number, reason in report.rejected:
        print(f"row {number}: rejected: {reason}")
    for number, difference in report.changed:
        print(f"row {number}: changed: {difference}")
    print(f"{args.what}: {report.imported} imported, {report.unchanged} unchanged, "
          f"{report.updated} updated, {len(report.changed) - report.updated} changed "
          f"but not updated, {len(report.rejected)} rejected")
    logs.event_log(f"cli.import.{args.what}", file=repr(args.file), imported=report.imported,
                   updated=report.updated, rejected=len(report.rejected))
    return 1 if report.rejected else 0


def _import_progress(done: int, total: int) -> None:
    """Only for files of thousands of rows: one line rewritten in place on a terminal, a line
    per step in a log."""
    end = "\r" if sys.stderr.isatty() and done < total else "\n"
    print(f"import: {done:,} of {total:,} rows", end=end, file=sys.stderr, flush=True)


def _tick(app, args):
    from . import jobs
    now = _now(args.now, app.tz)
    # Timers applied ahead of time cannot be undone (protections expire, cases escalate).
    if now - datetime.now(timezone.utc) > TICK_AHEAD_LIMIT and not args.force:
        raise UsageError(f"--now {args.now} is more than 2 days ahead of the clock; "
                         "add --force to apply the timers due by then")
    print(f"timers applied: {jobs.tick(app, now)}")


def _deliver(app, args):
    from . import jobs

    def report(row, result, detail):
        if result != "sent":
            print(f"outbox {row['id']} to {', '.join(json.loads(row['recipients']))}: "
                  f"{result}: {detail}")

    counts = jobs.deliver(app, datetime.now(timezone.utc), report)
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    return 1 if counts["retry"] + counts["dead"] and not counts["sent"] else 0


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
        print(printable.dumps(data))
        return
    print(printable.text(views.status_text(state, app.tz)), end="")
    if data["case"]:
        _print_case(app, data["case"])


def _print_case(app, c, file=None):
    print(printable.text(views.case_text(c, app.tz, file)), end="")


def _cases(app, args):
    rows = views.cases(app.db(), args.state)
    for row in rows:
        row["opened_at"] = _local(app, row["opened_at"])
    if args.json:
        print(printable.dumps(rows))
        return
    if rows:
        print(f"{'CASE':>6}  {'STATE':<18} {'REASON':<13} {'OPENED':<16}  ORDER  "
              "ESCALATION/OUTCOME")
    for r in rows:
        print(printable.text(f"{r['id']:>6}  {r['state']:<18} {r['reason']:<13} "
                             f"{r['opened_at'][:16].replace('T', ' ')}  "
                             f"{r['shop_id']}/{r['order_number']}  "
                             f"{r['outcome'] or r['escalation_reason'] or ''}"))


def _case(app, args):
    from . import service
    db = app.db()
    order_id = records.order_of_case(db, args.case_id)
    if order_id is None:
        raise UsageError(f"no case {args.case_id}")
    if args.action == "export":
        return _export(app, args)
    if args.action is None:
        state = records.load(db, order_id)
        data = views.case_file_json(db, state, app.tz)
        if args.json:
            print(printable.dumps(data))
        else:
            cover = app.config.cover.of(state.order.plan)
            _print_case(app, data, views.operators_file(db, state, cover))
        return
    if args.action == PAID_COMMAND:
        return _paid(app, args, order_id)
    if args.date:
        raise UsageError("--date goes with paid")
    message = (args.message or "").strip()
    to_buyer, to_merchant = ((text or "").strip() for text in (args.message_buyer,
                                                                 args.message_merchant))
    outcome = args.action in ("decide", "correct")  # an amount and a message per party
    if not message and not (outcome and to_buyer and to_merchant):
        raise UsageError(f"case {args.action} needs --message TEXT"
                         + (" (or both --message-buyer and --message-merchant)"
                            if outcome else ""))
    if not outcome and (to_buyer or to_merchant or args.amount):
        raise UsageError("--message-buyer, --message-merchant and --amount go with decide "
                         "and correct")
    arguments = OPERATOR_OUTCOMES if args.action == "correct" else OPERATOR_COMMANDS[args.action]
    if args.argument not in arguments:
        raise UsageError(f"{args.action} needs one of: " + ", ".join(arguments))
    by = _operator(args)
    if outcome:
        state = records.load(db, order_id)
        amount = _amount(args.amount) if args.amount else None
        problem = operator_amount_problem(state, Outcome(args.argument), amount,
                                          app.config.cover.of(state.order.plan))
        acts_on = CaseState.ESCALATED if args.action == "decide" else CaseState.CLOSED
        if problem and state.case.state is acts_on:
            raise UsageError(f"case {args.case_id}: {problem}")
        kind = OperatorDecide if args.action == "decide" else OperatorCorrect
        event = kind(Outcome(args.argument), message, by=by, amount=amount,
                     to_buyer=to_buyer, to_merchant=to_merchant)
    else:
        kind = OperatorMessage if args.action == MESSAGE_COMMAND else OperatorRequest
        event = kind(Role(args.argument), message, by=by)

    def work():
        handled = service.handle(app, order_id, event, datetime.now(timezone.utc))
        if handled.result is not Result.APPLIED:
            state = records.load(db, order_id)
            if args.action == "correct" and state.case.outcome == args.argument:
                raise UsageError(f"case {args.case_id} was closed as {args.argument} already: "
                                 "nothing to correct")
            if args.action == "correct":
                raise UsageError(f"case {args.case_id} is {state.case.state} with outcome "
                                 f"{state.case.outcome}: only an operator's decision "
                                 f"({', '.join(OPERATOR_OUTCOMES)}) is corrected, into another")
            raise UsageError(f"case {args.case_id} is {state.case.state}: "
                             f"{args.action} is not open")

    _change(app, args, work, lambda done: f"case {args.case_id}: {args.action} "
            f"{args.argument} done by {by}",
            contract=args.action not in ("correct", MESSAGE_COMMAND))  # beyond SPEC §9: --yes


def _paid(app, args, order_id: int) -> None:
    """``case ID paid [--date YYYY-MM-DD]``: records that the refund or compensation the case's
    decision owes was paid (core.case: ``_payment_recorded``); the team is told by mail."""
    from . import service
    db = app.db()
    if args.argument or args.message or args.message_buyer or args.message_merchant \
            or args.amount:
        raise UsageError("case paid takes only --date and --as: the amount is the one decided")
    now = datetime.now(timezone.utc)
    today = now.astimezone(app.tz).date()
    on = forms.read_day(args.date) if args.date else today
    if on is None:
        raise UsageError(f"--date: date not recognised: {args.date!r}; write it as "
                         f"{today.isoformat()} (or {today.day}-{today.month}-{today.year}); "
                         "nothing changed")
    by = _operator(args)

    def work():
        state = records.load(db, order_id)
        days = paid_days(state, on, today, app.tz)
        if days is not None:
            raise UsageError(f"case {args.case_id}: --date {on} is "
                             + ("before the decision" if on < days[0] else "after today")
                             + f": a payment is recorded on a day from {days[0]} (the decision) "
                             f"to {days[1]} (today); nothing changed")
        event = OperatorPaid(on, reports.amount_owed(db, state), by=by)
        if service.handle(app, order_id, event, now).result is Result.APPLIED:
            return
        if state.case.payment_recorded and state.case.outcome in PAID_OUTCOMES:
            raise UsageError(f"case {args.case_id}: its payment was recorded already")
        raise UsageError(f"case {args.case_id} is {state.case.state}"
                         + (f" with outcome {state.case.outcome}" if state.case.outcome else "")
                         + ": it owes no payment to record")

    _change(app, args, work, lambda done: f"case {args.case_id}: payment recorded, paid {on}, "
            f"by {by}")


def _amount(text: str) -> Decimal:
    amount = parse_amount(text)
    if amount is None:
        raise UsageError(f"--amount: not an amount like 49.95 or 49,95: {text!r}")
    return amount


def _operator(args) -> str:
    """``--as NAME``, else the login name: three operators may share one team address."""
    if args.operator is not None:
        name = args.operator.strip()
        if not name or any(unicodedata.category(c)[0] == "C" for c in name):
            raise UsageError(f"--as: not a name: {args.operator!r}")
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


def _change(app, args, work, said, deletes: bool = False, contract: bool = False) -> None:
    """Carries out ``work`` once (``rehearsal.carry_out``). ``--dry-run`` only rehearses it. A
    change that mails people or deletes data is confirmed: ``--yes``, or on a terminal a question
    after the rehearsal; off a terminal it is refused without ``--yes`` -- except the commands of
    SPEC §9 (``contract``), which scripts run as they are."""
    db = app.db()
    if args.dry_run or not (args.yes or (contract and not sys.stdin.isatty())):
        rehearsed = rehearsal.carry_out(db, work, dry_run=True)
        if args.dry_run or deletes or rehearsed.mails:
            print(f"dry run, nothing changed: {said(rehearsed)}")
            for line in rehearsal.mail_lines(rehearsed):
                print(line)
            if args.dry_run:
                return
            if not _asked_yes():
                raise UsageError("nothing done: this mails people or deletes data; add --yes "
                                 "to carry it out")
    done = rehearsal.carry_out(db, work, dry_run=False)
    summary = said(done)
    print(summary)
    for line in rehearsal.mail_lines(done):
        print(line)
    # The change itself, in the service's log as serve's are (``logs.setup``), with who gave it.
    logs.event_log(f"cli.{args.command}.{args.action}", by=_operator(args), said=repr(summary),
                   mailed=",".join(a for m in done.mails for a in m["recipients"]) or None)


def _asked_yes() -> bool:
    if not sys.stdin.isatty():
        return False
    print("carry it out? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _export(app, args):
    from .casefile import export
    if not args.argument:
        raise UsageError("case ID export needs DEST.zip")
    try:
        done = export.export(app, args.case_id, args.argument)
    except FileExistsError:
        raise UsageError(f"{args.argument} exists already") from None
    print(f"case {args.case_id}: {done.files} files, {done.entries} timeline entries in "
          f"{args.argument}; chain head {done.head}")


def _merchant(app, args):
    from . import corrections, service
    db = app.db()
    if records.merchant(db, args.merchant_id) is None:
        raise UsageError(f"no merchant {args.merchant_id!r}")
    if args.action == "intake-address":
        address, plan, made = intake_address(app, args.merchant_id, datetime.now(timezone.utc),
                                             args.rotate, Plan(args.plan))
        print(f"merchant {args.merchant_id}: {'new ' if made else ''}intake address {address} "
              f"(plan {plan})")
        return
    if args.action == "solvent":
        def solvent():
            try:
                corrections.declare_solvent(db, args.merchant_id)
            except corrections.Refused as exc:
                raise UsageError(str(exc)) from None
        return _change(app, args, solvent, lambda done: (
            f"merchant {args.merchant_id}: solvent; new cases go to the shop, cases escalated "
            "meanwhile stay with the service team"))
    _change(app, args, lambda: service.declare_insolvent(app, args.merchant_id,
                                                         datetime.now(timezone.utc)),
            lambda done: f"merchant {args.merchant_id}: insolvent; {done.value} open case(s) "
            "escalated", contract=True)


def _order(app, args):
    from . import corrections
    db = app.db()
    state = _load_order(app, args.shop_id, args.order_number)
    label = f"order {args.shop_id}/{args.order_number}"
    if args.action == "delete":
        def delete():
            try:
                return corrections.delete_order(db, state.order.id,
                                                state.case.id if state.case else None)
            except corrections.Refused as exc:
                raise UsageError(f"{label}: {exc}") from None
        return _change(app, args, delete, lambda done: f"{label}: deleted (rows: " + ", ".join(
            f"{table} {n}" for table, n in sorted(done.value.items()) if n) + ")", deletes=True)
    changes = {name: getattr(args, name) for name in imports.ORDER_FIELDS[2:]
               if getattr(args, name) is not None}
    if not changes:
        raise UsageError("order correct needs the right value of at least one of: "
                         + ", ".join(f"--{n.replace('_', '-')}" for n in imports.ORDER_FIELDS[2:]))

    if state.case is not None and state.case.open and set(changes) == {"buyer_email"}:
        return _buyer_email(app, args, state, label)

    def correct():
        said, why_not = imports.correct(db, args.shop_id, args.order_number, changes, app.tz,
                                        datetime.now(timezone.utc))
        if why_not:
            raise UsageError(f"{label}: {why_not}")
        return said
    _change(app, args, correct, lambda done: done.value)


def _buyer_email(app, args, state, label: str) -> None:
    """The buyer's address on an open case (inbound/mail_commands.py, ``buyer-email`` by mail):
    corrected, and what the buyer missed sent again; the case's deadlines do not move."""
    from .inbound import mail_commands

    def work():
        try:
            return mail_commands.buyer_email(app, state.order.id, args.buyer_email,
                                             datetime.now(timezone.utc), by=_operator(args))
        except mail_commands.Refused as exc:
            raise UsageError(f"{label}: {exc}") from None
    due = state.case.buyer_due
    _change(app, args, work, lambda done: (
        f"{label}: buyer_email {done.value['was']} -> {done.value['to']}; "
        f"resent: {', '.join(map(str, done.value['resent'])) or 'none'}; the case's deadlines "
        "do not move" + (f" (the buyer's: {records.iso(due)})" if due else "")))


_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_ISO_DURATION = re.compile(r"^p(?:(\d+)w)?(?:(\d+)d)?(?:t(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?)?$")


def _duration(text: str, option: str = "--since") -> timedelta:
    """``24h``, ``7d``, ``90m``, ``2w`` or an ISO-8601 duration such as ``P1D`` or ``PT12H``."""
    text = text.strip().lower()
    if match := _DURATION.match(text):
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return timedelta(**{unit: int(match.group(1))})
    if (match := _ISO_DURATION.match(text)) and text not in ("p", "pt"):
        w, d, h, m, s = (int(g or 0) for g in match.groups())
        return timedelta(weeks=w, days=d, hours=h, minutes=m, seconds=s)
    raise UsageError(f"{option}: not a duration like 24h, 7d, 90m or P1D: {text!r}")


def _digest(app, args):
    from . import digest
    since = _duration(args.since)
    now = datetime.now(timezone.utc)
    print(printable.text(digest.text(app, now, since)), end="")
    if args.send:
        digest.send(app, now, since)


def _backup(app, args):
    copy = backup.backup(app.db(), app.attachments, args.dest)
    print(f"backup: {copy.database} ({copy.orders} orders, {copy.inbox} inbound mails), "
          f"{copy.attachments} attachments")
    if copy.missing:
        raise UsageError(f"backup incomplete: {len(copy.missing)} attachment(s) named in the "
                         f"database are missing from {app.config.storage.attachments}")


def _purge(app, args):
    if args.older_than:
        age = _duration(args.older_than, "--older-than")
        if age < timedelta(days=1):
            raise UsageError(f"--older-than {args.older_than}: under a day looks like a typo "
                             "(use d or w: 730d, 104w)")
    else:
        age = timedelta(days=app.config.storage.retention_days)
    cutoff = _now(args.now, app.tz) - age
    done = retention.purge(app.db(), app.attachments, cutoff, app.config.relay.maildir,
                           dry_run=args.dry_run)
    closed_before = cutoff.astimezone(app.tz).date()
    if args.dry_run:
        print(f"dry run, nothing removed; would purge (closed before {closed_before}): {done}")
        return
    print(f"purged (closed before {closed_before}): {done}")
    print(retention.NOT_COVERED)
    logs.event_log("cli.purge", closed_before=records.iso(cutoff), purged=repr(str(done)))


def _print_json(data) -> None:
    # Escaped on a pipe too: a pager, a log or the next tool shows it to a person in the end.
    print(printable.dumps(data))


def _outbox(app, args):
    db = app.db()
    if args.action == "resend":
        return _resend(app, args.id)
    if args.action is not None:
        return _queue_control(app, args)
    _print_rows(admin.outbox(db, args.state, _limit(args)), args.json, lambda r, order: (
        f"{r['id']:>6}  {r['state']:<7} {','.join(r['recipients'])}  {order}  "
        f"{r['template']}  attempts={r['attempts']}  {r['last_error'] or ''}"
        + "".join(f"  failed: {f['address']} {f['status']}" for f in r["failed"])),
        admin.outbox_count(db, args.state))


def _limit(args) -> int:
    if args.limit < 1:
        raise UsageError(f"--limit must be at least 1, not {args.limit}")
    return args.limit


QUEUE_CONTROL = {"hold": (admin.hold, "queued", "held"), "release": (admin.release, "held",
                                                                     "queued"),
                 "delete": (admin.delete, "not sent", "deleted")}


def _queue_control(app, args) -> None:
    """``outbox flush`` (Postfix's ``postqueue -f``) and ``outbox hold|release|delete ID``
    (``postsuper -h|-H|-d``)."""
    db = app.db()
    now = datetime.now(timezone.utc)
    if args.action == "flush":
        _change(app, args, lambda: admin.flush(db),
                lambda done: f"outbox: {done.value} mail(s) backing off are due now")
        if not args.dry_run:
            _deliver(app, args)
        return
    if args.id is None:
        raise UsageError(f"outbox {args.action} needs an outbox id")
    act, was, now_is = QUEUE_CONTROL[args.action]

    def work():
        row = admin.outbox_mail(db, args.id)
        if row is None:
            raise UsageError(f"no outbox mail {args.id}")
        if not (act(db, args.id) if args.action == "release" else act(db, args.id, now)):
            raise UsageError(f"outbox {args.id} is {row['status']}: only {was} mail is "
                             f"{now_is} (and none while it is being sent)")
        return row
    _change(app, args, work, lambda done: f"outbox {args.id} to "
            f"{', '.join(done.value['recipients'])}: {now_is}", deletes=args.action == "delete")


def _resend(app, outbox_id: int | None) -> None:
    """Re-queues a dead or bounced mail, to the party's address as it is now (an import with
    ``--update`` may have fixed it since); by mail, ``resend N`` (inbound/mail_commands.py)."""
    from .inbound import mail_commands
    if outbox_id is None:
        raise UsageError("outbox resend needs an outbox id")
    try:
        done = mail_commands.resend(app, outbox_id, datetime.now(timezone.utc))
    except mail_commands.Refused as exc:
        raise UsageError(str(exc)) from None
    moved = f" to {', '.join(done['to'])} (was {', '.join(done['was'])})" \
        if done["to"] != done["was"] else ""
    print(f"outbox {outbox_id}: {done['status']} -> queued{moved}")
    logs.event_log("cli.outbox.resend", outbox_id=outbox_id, to=",".join(done["to"]))


def _print_rows(rows: list[dict], as_json: bool, line, total: int) -> None:
    """``--json``: the rows as one JSON list; else ``line(row, "shop/order")`` per row. When
    ``total`` is more than the rows shown, a last line (on stderr with --json) says so; none at
    all is said on stderr."""
    if as_json:
        _print_json(rows)
    elif not total:  # as postqueue says its queue is empty: an empty screen looks broken
        print("nothing to show", file=sys.stderr)
    else:
        for r in rows:
            order = f"{r['shop_id']}/{r['order_number']}" if r["shop_id"] else "-"
            print(printable.text(line(r, order).rstrip()))
    if total > len(rows):
        print(f"{len(rows)} of {total} shown, newest first (--limit {total} shows all)",
              file=sys.stderr if as_json else sys.stdout)


def _inbox(app, args):
    db = app.db()
    if args.action in ("release", "replay"):
        return _again(app, args)
    if args.action == "show":
        if len(args.id) != 1:
            raise UsageError("inbox show needs one inbox id")
        row = admin.inbox_mail(db, args.id[0])
        if row is None:
            raise UsageError(f"no inbox mail {args.id[0]}")
        return _inbox_show(dict(row, received_at=_local(app, row["received_at"])), args.json)
    dispositions = _dispositions(args)
    rows = [dict(r, received_at=_local(app, r["received_at"]))
            for r in admin.inbox(db, dispositions, _limit(args))]
    _print_rows(rows, args.json, lambda r, order: (
        f"{r['id']:>6}  {r['received_at']}  {r['disposition']:<15} from={r['mail_from']}  "
        f"{order}  {r['detail'] or ''}"), admin.inbox_count(db, dispositions))


def _local(app, stored: str) -> str:
    """A stored time (UTC) in the configured zone, as every view shows times."""
    return records.parse_dt(stored).astimezone(app.tz).isoformat(timespec="seconds")


def _dispositions(args) -> tuple[str, ...] | None:
    if not args.disposition:
        return None
    return admin.HELD if args.disposition == "held" else (args.disposition,)


AGAIN = {"release": "released", "replay": "replayed"}


def _again(app, args) -> None:
    """``inbox release ID`` and ``inbox replay ID...``: each mail once more through intake, all
    in one change (one rehearsal, one confirmation)."""
    from . import corrections
    if not args.id and args.action == "replay" and args.disposition:
        # By disposition and time, as Mailman's unshunt: oldest first, as they arrived.
        since = datetime.now(timezone.utc) - _duration(args.since or "7d", "--since")
        args.id = sorted(r["id"] for r in admin.inbox(app.db(), _dispositions(args),
                                                      _limit(args))
                         if records.parse_dt(r["received_at"]) >= since)
        if not args.id:
            raise UsageError(f"no {args.disposition} mail received since {records.iso(since)}")
    if not args.id:
        raise UsageError(f"inbox {args.action} needs an inbox id (or replay --disposition D)")
    if args.action == "release" and len(args.id) != 1:
        raise UsageError("inbox release takes one inbox id: each release vouches for one sender")
    again = corrections.release if args.action == "release" else corrections.replay

    def work():
        now = datetime.now(timezone.utc)
        try:
            return [(inbox_id, again(app, inbox_id, now)) for inbox_id in args.id]
        except corrections.Refused as exc:
            raise UsageError(str(exc)) from None

    _change(app, args, work, lambda done: "; ".join(
        f"inbox {inbox_id}: {AGAIN[args.action]}, now {disposition}" for inbox_id, disposition
        in done.value))


def _inbox_show(row: dict, as_json: bool) -> None:
    from .inbound.parse import parse
    from .inbound.reply import new_text
    raw = row.pop("raw")
    data = dict(row, headers={}, new_text=None, attachments=[])
    try:
        mail = parse(raw)
    except Exception as exc:  # unparseable mail is exactly what operators come to look at
        data["detail"] = data["detail"] or f"unparseable: {exc}"
    else:
        for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To",
                     "Auto-Submitted"):
            if (value := mail.headers.get(name)) is not None:
                data["headers"][name] = _header(value)
        data["new_text"] = new_text(mail.text)
        data["attachments"] = [a.name for a in mail.attachments]
    if as_json:
        return _print_json(data)
    lines = [f"inbox {data['id']}: {data['disposition']}  received {data['received_at']}",
             f"envelope: from=<{data['mail_from']}> to={','.join(data['rcpt_tos'])}"]
    if data["shop_id"]:
        lines.append(f"order: {data['shop_id']}/{data['order_number']}")
    if data["detail"]:
        lines.append(f"detail: {data['detail']}")
    lines += [f"{k}: {v}" for k, v in data["headers"].items()]
    lines += [f"attachment: {name}" for name in data["attachments"]]
    lines += ["", data["new_text"] or ""]
    print(printable.text("\n".join(lines)))


def _header(value) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        return str(value)
def _postfix_map(app, args):
    import signal
    import threading

    from .serve.socketmap import MapServer

    host, _, port = app.config.postfix.socketmap.rpartition(":")
    if not port.isdigit():
        raise UsageError("[postfix] socketmap must be host:port")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server = MapServer(app, host.strip("[]"), int(port)).start()
    except OSError as exc:  # the port is taken, the address is not ours
        raise UsageError(f"[postfix] socketmap {app.config.postfix.socketmap}: "
                         f"{os.strerror(exc.errno) if exc.errno else exc}") from None
    logging.getLogger("mailbot").info("postfix-map.started at=%s:%s", server.host, server.port)
    stop.wait()
    server.stop()


COMMANDS = {"serve": _serve, "import": _import, "tick": _tick, "deliver": _deliver,
            "status": _status, "cases": _cases, "case": _case, "merchant": _merchant,
            "digest": _digest, "postfix-map": _postfix_map}
COMMANDS.update(outbox=_outbox, inbox=_inbox, backup=_backup, purge=_purge, order=_order)
