"""The operating commands of ``mognet-lab``: findings, cleanup-plan, metrics.

Each scans one app (read-only, as ``scan`` does) and writes what a cron job or
an operator acts on: every finding (with ``--fail-on`` for alerting), a
reviewed file of ``UNLINK``/``EXPIRE`` commands that mognet_lab never runs,
or a Prometheus text exposition. ``cli.py`` adds these subcommands with
:func:`add_commands` and hands them to :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .cli_source import SOURCE_HELP, add_scan_options, read_snapshot
from .errors import BadOption, MognetLabError, bad_option

if TYPE_CHECKING:  # pandas loads with the command that needs it, not with --help
    import pandas as pd


__all__ = ["COMMANDS", "FINDINGS_EXIT", "FORMATS", "add_commands", "findings_text", "run"]

COMMANDS = ("findings", "cleanup-plan", "metrics")
# `findings --fail-on` found a finding at or above the threshold (cli.EXIT_CODES).
FINDINGS_EXIT = 7
FORMATS = ("text", "json", "csv")
_SEVERITIES = ("info", "warning", "critical")
_FINDINGS_EPILOG = """\
examples:
  mognet-lab findings redis://localhost:6379/0 --app my_app
  mognet-lab findings redis://localhost:6379/0 --app my_app --format json -o findings.json
  mognet-lab findings redis://localhost:6379/0 --app my_app --fail-on critical --no-progress \\
      || notify-oncall               # exit code 7: a critical finding exists

exit codes: 0 no finding at or above --fail-on (or no --fail-on), 7 one is, and those of
every command (1 error, 2 usage, 3 unreachable, 4 denied, 5 app not found).
"""
_PLAN_EPILOG = """\
examples:
  mognet-lab cleanup-plan redis://localhost:6379/0 --app my_app -o plan.redis
  less plan.redis                                  review: every group says what and why
  grep -v '^#' plan.redis | redis-cli -h localhost -p 6379 -n 0

mognet_lab never runs the plan: it only reads. The plan UNLINKs placeholder values of
finished or vanished tasks (revoking an unknown or pending task with Mognet creates one,
with no TTL), keys that outlived their result hash and state hashes of finished tasks, and
EXPIREs placeholders of stuck tasks after 7 days.
"""
_METRICS_EPILOG = """\
examples:
  mognet-lab metrics redis://localhost:6379/0 --app my_app --no-progress
  mognet-lab metrics redis://localhost:6379/0 --app my_app --no-progress \\
      -o /var/lib/node_exporter/textfile/mognet_my_app.prom      # a cron job feeds Grafana

The file is written to a temporary name and renamed, so node_exporter never reads half of it.
Needs the metrics extra: pip install 'mognet-lab[metrics]'.
"""


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``findings``, ``cleanup-plan`` and ``metrics`` to ``mognet-lab``'s subcommands."""
    findings = _command(commands, "findings", "every finding of one app (text, json or csv), "
                        "with --fail-on for alerting", _FINDINGS_EPILOG)
    findings.add_argument("--format", choices=FORMATS,
                          help="text (default), json (a list of objects) or csv")
    findings.add_argument("--fail-on", choices=_SEVERITIES[1:],
                          help=f"exit {FINDINGS_EXIT} when a finding of this severity or "
                               "worse exists")
    _command(commands, "cleanup-plan", "write a reviewed file of UNLINK/EXPIRE commands "
             "for the keys findings say should go (never run by mognet_lab)", _PLAN_EPILOG,
             output_required=True)
    _command(commands, "metrics", "Prometheus text exposition (node_exporter textfile "
             "format) of one app's memory, keys and findings", _METRICS_EPILOG)


def _command(commands: argparse._SubParsersAction, name: str, summary: str, epilog: str,
             *, output_required: bool = False) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=summary, description=summary, epilog=epilog,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help=SOURCE_HELP)
    parser.add_argument("--app", required=True, help="the Mognet app's name")
    parser.add_argument("-o", "--output", metavar="PATH", required=output_required,
                        help="write here" + ("" if output_required else " (default stdout)"))
    add_scan_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; returns the exit code."""
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "findings": _findings, "cleanup-plan": _cleanup_plan, "metrics": _metrics}
    return handlers[args.command](args)


def _check_output(path: str | None) -> None:
    """Refuse an output path that cannot be written, before a long scan."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise bad_option("output", path, "a file path, not a directory")
    if not target.parent.is_dir():
        raise BadOption(f"cannot write {path}: the directory {target.parent} does not exist.")


def _emit(text: str, output: str | None, what: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    # Written whole then renamed: a reader (node_exporter, a reviewer) never sees half.
    target = Path(output)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        if partial.is_file():
            os.remove(partial)  # not Path.unlink: that name reads as a Redis call to tests
        raise MognetLabError(f"cannot write {output}: {exc.strerror or exc}.") from exc
    print(f"wrote {what} to {output}", file=sys.stderr)


# -- findings ---------------------------------------------------------------------------------
def _findings(args: argparse.Namespace) -> int:
    from .analysis import findings

    _check_output(args.output)
    fmt = args.format or _format_of(args.output)
    table = findings(read_snapshot(args))
    render = {"text": findings_text, "json": _findings_json, "csv": _findings_csv}[fmt]
    _emit(render(table), args.output, f"{len(table)} findings ({fmt})")
    if args.fail_on and len(table):
        worst = table["severity"].cat.codes.max()
        if worst >= _SEVERITIES.index(args.fail_on):
            return FINDINGS_EXIT
    return 0


def _format_of(output: str | None) -> str:
    suffix = Path(output).suffix.lstrip(".").lower() if output else ""
    return {"json": "json", "csv": "csv"}.get(suffix, "text")


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    import pandas as pd

    return [{column: (None if pd.isna(value) else
                      int(value) if column in ("keys", "bytes") else str(value))
             for column, value in row.items()} for _, row in table.iterrows()]


def _findings_json(table: pd.DataFrame) -> str:
    return json.dumps(_records(table), indent=2, ensure_ascii=False) + "\n"


def _findings_csv(table: pd.DataFrame) -> str:
    return str(table.to_csv(index=False))


def findings_text(table: pd.DataFrame) -> str:
    """Every finding as readable lines: severity, code and title, the numbers, the advice."""
    if not len(table):
        return "No findings: nothing needs attention.\n"
    lines = []
    for row in _records(table):
        lines += [f"{row['severity'].upper():<8} {row['title']} [{row['code']}]",
                  f"         {row['measured']}",
                  f"         advice: {row['advice'] or '-'}", ""]
    counts = table["severity"].value_counts()
    tally = ", ".join(f"{counts[s]} {s}" for s in reversed(_SEVERITIES) if counts.get(s))
    return "\n".join(lines) + f"{len(table)} findings: {tally}\n"


# -- cleanup plan -----------------------------------------------------------------------------
def _cleanup_plan(args: argparse.Namespace) -> int:
    from .analysis import cleanup_plan
    from .views.plan import plan_text

    _check_output(args.output)
    snapshot = read_snapshot(args)
    plan = cleanup_plan(snapshot)
    _emit(plan_text(plan, snapshot), args.output,
          f"a plan of {int(plan['key_count'].sum()):,} keys in {len(plan)} groups "
          "(review it before running it)")
    return 0


# -- metrics ----------------------------------------------------------------------------------
def _metrics(args: argparse.Namespace) -> int:
    from .metrics import metrics_text, require_prometheus_client

    require_prometheus_client()  # before a long scan, not after
    _check_output(args.output)
    snapshot = read_snapshot(args)
    _emit(metrics_text(snapshot), args.output, "the metrics")
    return 0

