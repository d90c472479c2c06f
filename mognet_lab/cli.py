"""The ``mognet-lab`` command: a thin layer mapping options onto library calls."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from . import __version__, cli_ops
from .cli_source import (SOURCE_HELP, add_scan_options, connect_quietly, is_dump,
                         read_snapshot)
from .errors import (
    AccessDenied,
    AppNotFound,
    BadDump,
    BadOption,
    InvalidURL,
    MognetLabError,
    RedisUnavailable,
    ScanTooLarge,
)
from .urls import censor_text

__all__ = ["main", "EXIT_CODES"]

# Exit codes a script can act on.
EXIT_CODES = {
    "ok": 0,
    "error": 1,          # any other mognet_lab error
    "usage": 2,          # bad command line (argparse) or bad option value
    "unreachable": 3,    # Redis unreachable, TLS failure
    "denied": 4,         # wrong password, ACL denial
    "no_app": 5,         # the app has no keys in this Redis
    "bad_dump": 6,       # the file given is not a readable RDB dump
    "findings": 7,       # `findings --fail-on`: a finding at or above that severity
    "too_large": 8,      # the pre-flight expects a full scan past the guard (no --full)
}
_EPILOG = """\
examples:
  mognet-lab demo                                  scan a built-in demo (no Redis needed)
  mognet-lab apps redis://localhost:6379/0         which Mognet apps live there
  mognet-lab scan redis://localhost:6379/0 --app my_app
  mognet-lab scan redis://localhost:6379/0 --app my_app --estimate     a pre-flight, seconds
  mognet-lab scan redis://localhost:6379/0 --app my_app --sample 0.01  a 1% sample, estimates
  mognet-lab scan rediss://:PASSWORD@host:6380/0 --app my_app --frame values -o values.parquet
  mognet-lab report redis://localhost:6379/0 --app my_app -o report.html --redact
  mognet-lab report --snapshot monday.mognetlab -o report.md
  mognet-lab report dump.rdb --app my_app -o report.html    offline, from an RDB dump
  mognet-lab compare monday.mognetlab tuesday.mognetlab -o deltas.csv
  mognet-lab findings redis://localhost:6379/0 --app my_app --fail-on critical
  mognet-lab cleanup-plan redis://localhost:6379/0 --app my_app -o plan.redis
  mognet-lab metrics redis://localhost:6379/0 --app my_app -o my_app.prom

exit codes: 0 ok, 1 error, 2 usage, 3 Redis unreachable / not Redis / TLS,
4 access denied, 5 app not found, 6 not a readable RDB dump, 7 findings --fail-on
reached, 8 scan too large (use --sample F or --full). scan, report and apps read the
path of an RDB dump (the [rdb] extra) wherever they take a URL, sending nothing to
Redis. mognet_lab only ever reads: it never writes, deletes or expires a key.
"""


def _parser() -> argparse.ArgumentParser:
    from .schemas import FRAME_NAMES

    parser = argparse.ArgumentParser(
        prog="mognet-lab", epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read a Mognet app's Redis keyspace (read-only) and explain its memory.")
    parser.add_argument("--version", action="version", version=f"mognet-lab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    apps = commands.add_parser("apps", help="list the Mognet apps in a Redis, with key counts")
    apps.add_argument("url", help=SOURCE_HELP)

    scan = commands.add_parser("scan", help="scan one app: print a summary or export frames")
    scan.add_argument("url", help=SOURCE_HELP)
    scan.add_argument("--app", required=True, help="the Mognet app's name")
    scan.add_argument("--frame", choices=[*FRAME_NAMES, "all"],
                      help="export this frame (default with -o/--format: results)")
    scan.add_argument("--format", choices=["csv", "json", "parquet"],
                      help="export format (default: from the -o suffix, else csv)")
    scan.add_argument("-o", "--output", metavar="PATH",
                      help="write here (a directory with --frame all); default stdout")
    scan.add_argument("--save", metavar="DIR",
                      help="also save the whole snapshot (Parquet) for `report --snapshot` "
                           "and `compare`")
    scan.add_argument("--overwrite", action="store_true",
                      help="with --save: replace a snapshot already saved in DIR")
    scan.add_argument("--dataset", metavar="DIR",
                      help="write the scan to a Parquet dataset instead (bounded memory; "
                           "resumes an unfinished one), for mognet_lab.open_dataset")
    scan.add_argument("--estimate", action="store_true",
                      help="only the pre-flight: the app's keys (with an interval), a scan's "
                           "expected time and memory, the db's keys and TTLs (seconds)")
    add_scan_options(scan)

    _report_parser(commands)
    compare = commands.add_parser("compare", help="what changed between two saved snapshots "
                                                  "(Snapshot.save directories)")
    compare.add_argument("old", help="the earlier snapshot's directory")
    compare.add_argument("new", help="the later snapshot's directory")
    compare.add_argument("-o", "--output", metavar="PATH",
                         help="also write the deltas: .json (summary and tables) or .csv")

    demo = commands.add_parser("demo", help="start a private Redis with a demo workload, "
                                            "scan it and print the summary")
    demo.add_argument("--results", type=int, default=2000, help="results to write (2000)")
    demo.add_argument("--seed", type=int, default=1, help="workload seed (1)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    cli_ops.add_commands(commands)
    return parser


def _report_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="scan one app (or load a saved snapshot) and "
                                                "write a report: .html, .md or .json")
    report.add_argument("url", nargs="?",
                        help=f"{SOURCE_HELP} (or give --snapshot)")
    report.add_argument("--app", help="the Mognet app's name (with a URL)")
    report.add_argument("--snapshot", metavar="DIR",
                        help="report on a snapshot saved with Snapshot.save instead of scanning")
    report.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="report.html, report.md or report.json (format from the suffix)")
    report.add_argument("--redact", action="store_true",
                        help="hide task arguments, metadata values and exception messages")
    report.add_argument("--title", help="the report's title")
    report.add_argument("--top", type=int, default=20, help="rows per long table (20)")
    add_scan_options(report)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see ``EXIT_CODES``)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return _run(args)
    except MognetLabError as exc:
        print(f"mognet-lab: {censor_text(str(exc))}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        print("mognet-lab: interrupted", file=sys.stderr)
        return 130


def _exit_code(exc: MognetLabError) -> int:
    for kind, name in ((BadDump, "bad_dump"), (ScanTooLarge, "too_large"),
                       (AppNotFound, "no_app"), (AccessDenied, "denied"),
                       (RedisUnavailable, "unreachable"), (InvalidURL, "usage"),
                       (BadOption, "usage")):
        if isinstance(exc, kind):
            return EXIT_CODES[name]
    return EXIT_CODES["error"]


def _run(args: argparse.Namespace) -> int:
    if args.command == "apps":
        return _apps(args)
    if args.command == "scan":
        return _scan(args)
    if args.command == "report":
        return _report(args)
    if args.command == "compare":
        return _compare(args)
    if args.command in cli_ops.COMMANDS:
        return cli_ops.run(args)
    return _demo(args)


def _apps(args: argparse.Namespace) -> int:
    from .lab import discover_apps

    apps = discover_apps(args.url)  # a Redis URL or the path of an RDB dump
    print(apps.to_string(index=False) if len(apps) else "No Mognet keys found.")
    return 0


def _scan(args: argparse.Namespace) -> int:
    from .export import format_for, write_frame
    from .views import summary_text

    if args.estimate:
        return _estimate(args)
    if args.dataset:
        return _scan_to_dataset(args)
    # Every output is checked before the scan, which may take minutes.
    exporting = bool(args.frame or args.format or args.output)
    fmt = format_for(args.output, args.format) if exporting else ""
    if args.frame == "all":
        _check_frames_dir(args.output)
    elif args.output:
        _check_output_file(args.output, "-o")
    if args.save:
        _check_save_target(Path(args.save), args.overwrite)
    snapshot = read_snapshot(args)
    if args.save:
        saved = snapshot.save(args.save, overwrite=args.overwrite)
        print(f"saved the snapshot to {saved}", file=sys.stderr)
    if not exporting:
        print(summary_text(snapshot))
        return 0
    names = list(snapshot.frames) if args.frame == "all" else [args.frame or "results"]
    if args.frame == "all":
        Path(args.output).mkdir(parents=True, exist_ok=True)
        for name in names:
            write_frame(snapshot.frame(name), Path(args.output) / f"{name}.{fmt}", fmt)
    else:
        write_frame(snapshot.frame(names[0]), args.output or sys.stdout, fmt)
    if args.output:
        print(f"wrote {', '.join(names)} ({fmt}) to {args.output}", file=sys.stderr)
    return 0


def _estimate(args: argparse.Namespace) -> int:
    """Print the pre-flight of a live Redis (seconds, whatever its size)."""
    if is_dump(args.url):
        raise BadOption("--estimate asks a live Redis: a dump is read whole, so scan it.")
    with connect_quietly(args) as lab:
        print(repr(lab.estimate()))
    return 0


def _scan_to_dataset(args: argparse.Namespace) -> int:
    if args.frame or args.format or args.output or args.save:
        raise BadOption("--dataset writes every frame to DIR: leave out --frame, --format, "
                        "-o and --save.")
    if args.sample is not None:
        raise BadOption("--dataset holds every key: leave out --sample (a sample fits in "
                        "memory).")
    if is_dump(args.url):
        raise BadOption("--dataset reads a live Redis; from an RDB dump, use "
                        "mognet_lab.from_rdb in Python.")
    with connect_quietly(args) as lab:
        dataset = lab.scan(to=args.dataset, progress=not args.no_progress, limit=args.limit,
                           batch=args.batch)
    for text in dataset.provenance.warnings:
        print(f"mognet-lab: warning: {censor_text(text)}", file=sys.stderr)
    print(f"wrote a dataset of {dataset.provenance.keys_read} keys in {dataset.buckets} "
          f"buckets to {dataset.path}")
    return 0


def _check_output_file(path: str | Path, option: str) -> None:
    """BadOption unless a file can be created at ``path``: its directory exists and
    ``path`` is not itself a directory."""
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        raise BadOption(f"{option} {path}: that is a directory; give a file name in it.")
    if not parent.is_dir():
        why = "is not a directory" if parent.exists() else "does not exist"
        raise BadOption(f"{option} {path}: the directory {parent} {why} (create it first, "
                        "or choose another path).")


def _check_frames_dir(path: str | None) -> None:
    from .export import EXPORT_FORMATS

    target = Path(path) if path else None
    if target is None or (target.exists() and not target.is_dir()) or \
            target.suffix.lstrip(".").lower() in EXPORT_FORMATS:
        raise BadOption(f"--frame all writes one file per frame: -o needs a directory, not "
                        f"{path or 'stdout'} (e.g. -o frames/ with --format csv).")


def _check_save_target(path: Path, overwrite: bool) -> None:
    from .persist import PROVENANCE_FILE

    if (path / PROVENANCE_FILE).is_file() and not overwrite:
        raise BadOption(f"--save {path}: a snapshot is already saved there; add --overwrite "
                        "to replace it, or choose another directory.")
    if path.exists() and not (path / PROVENANCE_FILE).is_file():
        raise BadOption(f"--save {path}: it exists and is not a saved snapshot; choose another "
                        "directory (mognet_lab never deletes other files).")


def _report(args: argparse.Namespace) -> int:
    from .report import Report, check_report_path
    from .snapshot import Snapshot

    check_report_path(args.output)  # before a long scan, not after
    _check_output_file(args.output, "-o")
    if (args.url is None) == (args.snapshot is None):
        raise BadOption("report needs either a Redis URL (with --app) or --snapshot DIR.")
    if args.snapshot is not None:
        snapshot = Snapshot.load(args.snapshot)
    else:
        if not args.app:
            raise BadOption("report URL needs --app APP (the Mognet app's name).")
        snapshot = read_snapshot(args)
    report = Report(snapshot, redact=args.redact, top=args.top, title=args.title)
    written = report.to_file(args.output)
    print(f"wrote {written} ({written.stat().st_size:,} bytes)", file=sys.stderr)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare
    from .report.comparison import check_comparison_path, write_comparison
    from .snapshot import Snapshot
    from .views import comparison_page, render_text

    if args.output:
        check_comparison_path(args.output)
        _check_output_file(args.output, "-o")
    comparison = compare(Snapshot.load(args.old), Snapshot.load(args.new))
    print(render_text(comparison_page(comparison, max_rows=20), repr_style=False))
    if args.output:
        write_comparison(comparison, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import Demo
    from .views import summary_text

    if args.results < 1:
        raise BadOption(f"--results={args.results} is not valid: expected a positive integer.")
    print(f"Starting a private Redis and writing {args.results} demo results...",
          file=sys.stderr)
    with Demo(results=args.results, seed=args.seed) as demo:
        snapshot = demo.scan(progress=not args.no_progress)
    print(summary_text(snapshot))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
