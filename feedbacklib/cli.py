"""``feedback-report``: the command cron runs each month.

Exit codes: 0 success; 2 usage or unreadable input; 3 no data for the month;
4 another run holds the lock; 1 unexpected error (details in the log named in
the message). Tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import FeedbackError
from .runlog import SafeFormatter, sanitise

EXIT_CODES = """\
exit codes:
  0  the report was written
  2  usage error, bad configuration or unreadable input (the message names the file)
  3  no feedback for the requested month
  4  another run holds the lock on the output folder
  1  unexpected error (the message names the log with details)
"""

#: Each command's own exit codes, shown by ``feedback-report COMMAND --help`` (the top-level
#: ``--help`` lists every code; a command's epilog that starts with EXIT_CODES gets its own).
COMMAND_EXIT_CODES = {
    "run": EXIT_CODES + "  130 interrupted (Ctrl-C); the previous report is unchanged\n",
    "validate": """\
exit codes:
  0  every export in the folder was read (quarantined rows are reported, not an error)
  2  usage error, bad configuration, a missing input folder or an export that cannot be read
  1  unexpected error (run again with --debug for the traceback)
""",
    "themes evaluate": """\
exit codes:
  0  the scores were printed (and written with --json)
  2  usage error, or a labelled file or taxonomy that cannot be read (the message names it)
  1  unexpected error (run again with --debug for the traceback)
""",
}

GLOBAL_FLAGS = """\
global options (before or after the command):
  -q, --quiet    print only warnings and errors: no progress, no success line (for cron)
  -v, --verbose  also print each step as it happens (what run.log records)
  --debug        show full tracebacks on errors (implies --verbose)
  --version      print the version and exit
"""


def _platforms_help() -> str:
    """``--platform`` names and their layouts, from the platforms' records."""
    from .io.registry import REGISTRY  # the CLI is the edge: the readers load only when a parser is built

    return "platforms (--platform NAME):\n" + REGISTRY.help_list()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedback-report",
        description="Render the monthly customer-feedback report from raw survey, ticket and complaint exports.",
        epilog=EXIT_CODES + "\nEach command's --help lists its own exit codes. Global options go before or after "
        "the command.\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help="render the report for one month",
        description="Execute notebooks/monthly_report.ipynb with papermill, export report.html without code, "
        "and publish reports/<YYYY-MM>/ atomically (the previous report stays intact on any failure).",
        epilog=EXIT_CODES + "\nexample:\n  feedback-report run --month 2026-10 --input data/sample --config feedback.toml\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_flags(run)
    run.add_argument("--month", default="last", metavar="YYYY-MM|last",
                     help="reporting month, or 'last' for the latest full month in the data that has ended: "
                     "months with fewer responses than [project] min_group_size, or under 25%% of the usual "
                     "volume, are skipped (default: last)")
    run.add_argument("--today", default=None, metavar="YYYY-MM-DD",
                     help="the date the run counts as today, which decides the months that have ended "
                     "(default: today in the configured time zone)")
    run.add_argument("--input", type=Path, default=None, metavar="DIR",
                     help="folder of raw exports (default: [project] input in the config, data/sample)")
    run.add_argument("--config", type=Path, default=Path("feedback.toml"), metavar="FILE",
                     help="configuration file (default: feedback.toml)")
    run.add_argument("--output", type=Path, default=None, metavar="DIR",
                     help="root of the report folders (default: [project] output in the config, reports/)")
    run.add_argument("--notebook", type=Path, default=None, metavar="FILE",
                     help="report notebook to execute (default: the one the package ships, a link to notebooks/monthly_report.ipynb in a checkout)")
    run.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS",
                     help="longest a single notebook cell may run (default: [run] cell_timeout_seconds, else 600)")
    run.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                     help="longest the whole run may take; the kernel is stopped after that "
                     "(default: [run] timeout_seconds, else 3600)")
    run.add_argument("--dry-run", action="store_true",
                     help="check the configuration, inputs, month, notebook and output folder, print what would "
                     "be produced, and write nothing (same exit codes)")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show one progress line per stage on stderr (default: only when stderr is a terminal; "
                     "FEEDBACKLIB_PROGRESS=0 turns it off everywhere)")

    val = sub.add_parser(
        "validate", help="check the input files without rendering",
        description="Detect each export's platform, clean it, and print the data-quality summary. "
        "Exits non-zero when a file cannot be read.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_flags(val)
    val.add_argument("--input", type=Path, default=None, metavar="DIR", help="folder of raw exports")
    val.add_argument("--config", type=Path, default=Path("feedback.toml"), metavar="FILE",
                     help="configuration file (default: feedback.toml)")
    val.add_argument("--platform", default=None, metavar="NAME",
                     help="read every file as this platform instead of detecting it (listed below; for the "
                     "monthly run, set [input] platform or [input.platforms] in feedback.toml)")
    val.epilog = (val.epilog or "") + "\n" + _platforms_help() + "\n"
    _add_themes_parser(sub)
    return parser


def _now() -> _dt.datetime:
    """The moment of this run: the command is the edge, the one place that reads the clock."""
    return _dt.datetime.now(_dt.timezone.utc)


def _global_flags(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--debug`` and ``--version``, accepted before or after the subcommand."""
    default = False if top else argparse.SUPPRESS  # a subcommand's flag never resets the global one
    if top:
        parser.add_argument("--version", action="version", version=f"feedbacklib {__version__}")
    else:
        parser.add_argument("--version", action="version", version=f"feedbacklib {__version__}",
                            help=argparse.SUPPRESS)
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show full tracebacks on errors (before or after the command)")

def _add_themes_parser(sub) -> None:
    """``feedback-report themes evaluate``: score the theme tagger on a labelled file (issue 13)."""
    themes = sub.add_parser("themes", help="audit the theme tagger against labelled texts",
                            description="Commands about the theme taxonomy and tagger.")
    tsub = themes.add_subparsers(dest="themes_command", required=True, metavar="SUBCOMMAND")
    ev = tsub.add_parser(
        "evaluate", help="score the tagger on a labelled CSV file",
        description="Tag the texts of a labelled file as the monthly run tags a month (fitted on those texts), "
        "and compare with the labels: per theme support, tagged, precision, recall, F1, gold and tagged rate; "
        "micro P/R/F1, macro F1 (themes with at least 15 positives) and the mean absolute rate error.",
        epilog=EXIT_CODES + "\nexample:\n  feedback-report themes evaluate --gold labels.csv --json audit.json\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ev.add_argument("--gold", type=Path, required=True, metavar="FILE.csv",
                    help="labelled texts: id (or complaint_id), text, one 0/1 column per theme id")
    ev.add_argument("--train", type=Path, default=None, metavar="FILE.csv",
                    help="an analyst's labels file (same columns) the tagger learns from first, instead of the "
                    "taxonomy's own labels file")
    ev.add_argument("--taxonomy", type=Path, default=None, metavar="FILE",
                    help="taxonomy TOML (default: the built-in one)")
    ev.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the scores as JSON here")


def _cmd_themes(args: argparse.Namespace) -> int:
    import json

    from .errors import InputError
    from .themes.audit import evaluate_file, format_table

    result = evaluate_file(args.gold, train=args.train, taxonomy=args.taxonomy)
    print(format_table(result))
    if args.json is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"Cannot write the JSON file {sanitise(args.json)}: {exc}") from exc
        print(f"scores written to {sanitise(args.json)}")
    return 0


def _print_quality(quality: list[dict], reasons: dict) -> None:
    for row in quality:
        print(f"  {sanitise(row['file'])}: {row['platform']} (confidence {row['confidence']:.2f}); "
              f"{row['rows_read']} read, {row['rows_kept']} kept, {row['rows_quarantined']} quarantined")
    for reason, count in reasons.items():
        print(f"    quarantined: {count} x {sanitise(reason)}")


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import plan_report, run_report

    if args.dry_run:
        plan = plan_report(args.month, args.input, args.config, args.output, notebook=args.notebook,
                           cell_timeout=args.cell_timeout, timeout=args.timeout, today=args.today,
                           now=_now())
        print(f"Dry run: nothing was rendered or written.\nconfig: {sanitise(plan.config_path)}")
        print(f"input: {sanitise(plan.input_dir)} ({_plural(len(plan.quality), 'export')})")
        _print_quality(plan.quality, plan.quarantine_reasons)
        print("months in the input: " + ", ".join(f"{m} ({n})" for m, n in plan.volumes.items()))
        print(f"month: {plan.month} ({_plural(plan.responses, 'response')})"
              + (f"; too thin to compare ({plan.thin}): the report will state no findings" if plan.thin else ""))
        later = [m for m in plan.months_present if m > plan.month]
        if args.month == "last" and later:
            print(f"skipped by 'last': {', '.join(later)} (not ended or too thin; pass --month YYYY-MM to force)")
        print(f"notebook: {sanitise(plan.notebook)}; time limits {plan.limits.cell_timeout} s per cell, "
              f"{plan.limits.timeout} s in all")
        action = "replace the report in" if plan.replaces else "create"
        print(f"would {action} {sanitise(plan.folder)}: {', '.join(plan.files)}")
        return 0
    from .progress import progress_enabled

    # a bar on a terminal (or with --progress); never with -q, whatever --progress says
    progress = args.verbosity >= 0 and progress_enabled(args.progress)
    outcome = run_report(
        args.month, args.input, args.config, args.output,
        notebook=args.notebook, cell_timeout=args.cell_timeout, timeout=args.timeout, progress=progress,
        today=args.today, now=_now(),
    )
    if args.verbosity >= 0:
        print(f"Report for {outcome.month} written to {sanitise(outcome.html)} ({outcome.seconds:.1f} s).")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .clean import clean_responses
    from .config import load_config
    from .errors import InputError
    from .io import read_exports

    cfg = load_config(args.config)
    folder = args.input or cfg.input
    if not Path(folder).is_dir():
        raise InputError(f"The input folder {sanitise(folder)} does not exist or is not a folder.")
    exports = read_exports(folder, cfg, platform=args.platform, collect_errors=True)
    result = clean_responses(list(exports), cfg)
    total = len(exports) + len(exports.skipped) + len(exports.errors)
    print(f"{total} file(s) in {sanitise(folder)}: {len(exports)} read, {len(exports.skipped)} skipped, "
          f"{len(exports.errors)} unreadable")
    for line in _validate_lines(exports, result, cfg):
        print(line)
    months = result.frame["month"].value_counts().sort_index()
    print("months: " + (", ".join(f"{m} ({n})" for m, n in months.items()) or "none"))
    if exports.errors:
        print(f"feedback-report: error: {len(exports.errors)} export(s) could not be read (listed above).",
              file=sys.stderr)
        return 2
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _shorten(message: str, limit: int = 2000) -> str:
    """Keep a message mail-sized: a hostile header can make it megabytes long."""
    if len(message) <= limit:
        return message
    head, tail = message[: limit - 500], message[-400:]
    return f"{head} [... {len(message) - len(head) - len(tail)} characters omitted ...] {tail}"


def _validate_lines(exports, result, cfg) -> list[str]:
    """``validate``'s report: every file of the folder (read, skipped or unreadable) in name order.

    A file read: platform and confidence, rows read / kept / quarantined, then
    which column became which role and why, then one line per quarantine reason
    with its count and one example (values redacted, control characters escaped).
    """
    import pandas as pd

    from .io import stage_export
    from .pii import redact_pii

    lines: dict[str, list[str]] = {}
    quality = {r["file"]: r for r in result.quality.to_dict(orient="records")}
    reasons = result.quarantine
    for k, export in enumerate(exports):
        name = export.path.name
        q = quality.get(name, {})
        out = [f"  {sanitise(name)}: {export.platform} (confidence {export.confidence:.2f}); "
               f"{q.get('rows_read', len(export.raw))} read, {q.get('rows_kept', 0)} kept, "
               f"{q.get('rows_quarantined', 0)} quarantined"]
        try:
            roles = stage_export(export, cfg).roles
        except Exception:  # noqa: BLE001 - the roles are a hint; cleaning already staged the file
            roles = {}
        for role, how in roles.items():
            out.append(f"    {role} <- {sanitise(how)}")
        if q.get("rows_read", 0) and not q.get("rows_kept", 0):
            out.append("    WARNING: every row was quarantined: check the platform and the column roles "
                       "(--platform, [platforms.<name>.columns] in feedback.toml)")
        rows = reasons[reasons["source_file"] == name].dropna(subset=["reason"]) if len(reasons) else reasons
        if len(rows):
            mine, kinds = rows["reason"].astype(str), rows["reason_kind"].astype(str)
            for kind, count in kinds.value_counts().items():
                example = redact_pii(pd.Series([mine[kinds == kind].iloc[0]], dtype="string")).iloc[0]
                out.append(f"    quarantined: {count} x {sanitise(kind)} (e.g. {sanitise(example)[:120]})")
        lines[f"{name}\x00{k}"] = out
    for name, why in exports.skipped:
        lines[f"{name}\x00s"] = [f"  {sanitise(name)}: skipped: {sanitise(why)}"]
    for name, message in exports.errors:
        shown = redact_pii(pd.Series([message], dtype="string")).iloc[0]
        lines[f"{name}\x00e"] = [f"  {sanitise(name)}: NOT READ: {sanitise(shown)[:600]}"]
    return [line for key in sorted(lines) for line in lines[key]]


def _skip_iri_grammar() -> None:
    """Leave out jsonschema's IRI format check in this process.

    nbformat (which papermill and nbconvert use) imports jsonschema, and jsonschema builds a lark
    grammar for the ``iri`` formats at import when ``rfc3987-syntax`` is installed (jupyterlab brings
    it): 1.2 s at the start of every run, for a format no notebook schema uses. Only this command's
    process is affected; a module already imported is left as it is.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None: "import fails"


def main(argv: list[str] | None = None) -> int:
    _skip_iri_grammar()
    parser = _parser()
    _output_flags(parser, top=True)
    _conventions(parser)
    args = parser.parse_args(argv)
    args.verbosity = verbosity = _verbosity(args, parser)
    # The terminal (and cron mail) gets feedbacklib's warnings and the final message, one line each,
    # control characters escaped; run.log gets everything. Library warnings go to run.log, not the mail.
    console = _Console()
    console.setLevel(logging.INFO if verbosity > 0 else logging.WARNING)
    console.setFormatter(SafeFormatter("%(levelname)s: %(message)s"))
    if not args.debug:  # errors reach the terminal once, as the final message below
        console.addFilter(lambda record: record.levelno < logging.ERROR)
    logging.captureWarnings(not args.debug)
    package_logger = logging.getLogger("feedbacklib")
    package_logger.addHandler(console)
    quiet = logging.NullHandler()  # other libraries' records go to run.log only, never to stderr
    logging.getLogger().addHandler(quiet)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "themes":
            return _cmd_themes(args)
        return _cmd_validate(args)
    except FeedbackError as exc:
        if args.debug:
            raise
        print(f"feedback-report: error: {_shorten(sanitise(exc, keep_newlines=True))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("feedback-report: interrupted; the previous report is unchanged.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: keep the promise of no traceback, but say where to look
        if args.debug:
            raise
        print(f"feedback-report: unexpected error: {type(exc).__name__}: {sanitise(exc)}. Run again with "
              "--debug for the traceback, and see last-failure.log in the output folder.", file=sys.stderr)
        return 1
    finally:
        package_logger.removeHandler(console)
        logging.getLogger().removeHandler(quiet)
        logging.captureWarnings(False)


# -- conventions every command shares (issue 18): flags anywhere, -q/-v, its own exit codes --------------
def _conventions(parser: argparse.ArgumentParser, path: str = "") -> argparse.ArgumentParser:
    """Give every command (``run``, ``validate``, ``themes evaluate``...) the same conventions.

    Each subparser accepts the global flags (``-q/--quiet``, ``-v/--verbose``, ``--debug``,
    ``--version``) after the command as well as before it, and its ``--help`` ends with that
    command's own exit codes instead of the whole program's.
    """
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name, sub in action.choices.items():
            key = f"{path} {name}".strip()
            _output_flags(sub)
            if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                _conventions(sub, key)  # a group of commands (``themes``): its leaves get the epilogs
                continue
            codes = COMMAND_EXIT_CODES.get(key, EXIT_CODES)
            epilog = sub.epilog or ""
            if epilog.startswith(EXIT_CODES):
                epilog = codes + epilog[len(EXIT_CODES):]
            elif "exit codes:" not in epilog:
                epilog = codes + ("\n" + epilog if epilog else "")
            sub.epilog = epilog.rstrip("\n") + "\n\n" + GLOBAL_FLAGS
            sub.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _output_flags(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``-q/--quiet`` and ``-v/--verbose`` (and ``--debug``/``--version`` where missing), before or after
    the command: after it they are listed once, in the epilog (:data:`GLOBAL_FLAGS`)."""
    if "--debug" not in parser._option_string_actions:
        _global_flags(parser, top=top)
    if "--quiet" in parser._option_string_actions:
        return
    default = False if top else argparse.SUPPRESS  # a subcommand's flag never resets the global one
    shown = (lambda text: text) if top else (lambda text: argparse.SUPPRESS)
    parser.add_argument("-q", "--quiet", action="store_true", default=default,
                        help=shown("print only warnings and errors: no progress, no success line (for cron)"))
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help=shown("also print each step as it happens (what run.log records)"))


class _Console(logging.StreamHandler):
    """stderr, one record a line; a progress line being drawn is cleared first (and redrawn below)."""

    def emit(self, record: logging.LogRecord) -> None:
        from .progress import clear_line

        clear_line()
        super().emit(record)


def _verbosity(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """-1 quiet, 0 normal, 1 verbose (``--debug`` counts as verbose); -q with -v is a usage error."""
    if args.quiet and (args.verbose or args.debug):
        parser.error("-q/--quiet cannot be combined with -v/--verbose or --debug")
    if args.quiet:
        return -1
    return 1 if args.verbose or args.debug else 0


if __name__ == "__main__":
    sys.exit(main())
