"""``feedback-report``: the command cron runs each month.

Exit codes: 0 success; 2 usage or unreadable input; 3 no data for the month;
4 another run holds the lock; 1 unexpected error (details in the log named in
the message). Tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import FeedbackError

EXIT_CODES = """\
exit codes:
  0  the report was written
  2  usage error, bad configuration or unreadable input (the message names the file)
  3  no feedback for the requested month
  4  another run holds the lock on the output folder
  1  unexpected error (the message names the log with details)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedback-report",
        description="Render the monthly customer-feedback report from raw survey, ticket and complaint exports.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"feedbacklib {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help="render the report for one month",
        description="Execute notebooks/monthly_report.ipynb with papermill, export report.html without code, "
        "and publish reports/<YYYY-MM>/ atomically (the previous report stays intact on any failure).",
        epilog=EXIT_CODES + "\nexample:\n  feedback-report run --month 2026-10 --input data/sample --config feedback.toml\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--month", default="last", metavar="YYYY-MM|last",
                     help="reporting month, or 'last' for the latest month present in the data (default: last)")
    run.add_argument("--input", type=Path, default=None, metavar="DIR",
                     help="folder of raw exports (default: [project] input in the config, data/sample)")
    run.add_argument("--config", type=Path, default=Path("feedback.toml"), metavar="FILE",
                     help="configuration file (default: feedback.toml)")
    run.add_argument("--output", type=Path, default=None, metavar="DIR",
                     help="root of the report folders (default: [project] output in the config, reports/)")
    run.add_argument("--notebook", type=Path, default=None, metavar="FILE",
                     help="report notebook to execute (default: notebooks/monthly_report.ipynb of this install)")
    run.add_argument("--cell-timeout", type=int, default=600, metavar="SECONDS",
                     help="longest a single notebook cell may run (default: 600)")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar (default: only when stderr is a terminal)")

    val = sub.add_parser(
        "validate", help="check the input files without rendering",
        description="Detect each export's platform, clean it, and print the data-quality summary. "
        "Exits non-zero when a file cannot be read.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    val.add_argument("--input", type=Path, default=None, metavar="DIR", help="folder of raw exports")
    val.add_argument("--config", type=Path, default=Path("feedback.toml"), metavar="FILE",
                     help="configuration file (default: feedback.toml)")
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import run_report

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    outcome = run_report(
        args.month, args.input, args.config, args.output,
        notebook=args.notebook, cell_timeout=args.cell_timeout, progress=progress,
    )
    print(f"Report for {outcome.month} written to {outcome.html} ({outcome.seconds:.1f} s).")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .clean import clean_responses
    from .config import load_config
    from .errors import InputError
    from .io import read_exports

    cfg = load_config(args.config)
    folder = args.input or cfg.input
    if not Path(folder).is_dir():
        raise InputError(f"The input folder {folder} does not exist or is not a folder.")
    exports = read_exports(folder, cfg)
    result = clean_responses(exports, cfg)
    quality = result.quality
    print(f"{len(exports)} file(s) in {folder}")
    for row in quality.to_dict(orient="records"):
        print(f"  {row['file']}: {row['platform']} (confidence {row['confidence']:.2f}); "
              f"{row['rows_read']} read, {row['rows_kept']} kept, {row['rows_quarantined']} quarantined")
    reasons = result.quarantine["reason"].value_counts() if len(result.quarantine) else {}
    for reason, count in dict(reasons).items():
        print(f"    quarantined: {count} x {reason}")
    months = result.frame["month"].value_counts().sort_index()
    print("months: " + ", ".join(f"{m} ({n})" for m, n in months.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # The terminal (and cron mail) gets warnings and the final message; run.log gets everything.
    console = logging.StreamHandler()
    console.setLevel(logging.INFO if args.debug else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.getLogger().addHandler(console)
    try:
        if args.command == "run":
            return _cmd_run(args)
        return _cmd_validate(args)
    except FeedbackError as exc:
        if args.debug:
            raise
        print(f"feedback-report: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("feedback-report: interrupted; the previous report is unchanged.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: keep the promise of no traceback, but say where to look
        if args.debug:
            raise
        print(f"feedback-report: unexpected error: {type(exc).__name__}: {exc}. Run again with --debug "
              "for the traceback, and see last-failure.log in the output folder.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
