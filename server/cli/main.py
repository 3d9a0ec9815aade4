"""The ``phxguard`` command: ``check``, ``rules``, ``explain`` and ``server``.

Exit status: 0 clean, 1 findings at or above ``--fail-on``, 2 usage or
configuration error. Only ``phxguard server`` imports the language server
(and with it pygls and lsprotocol), so ``check`` starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from analyzers import __version__
from analyzers.config import ConfigError
from analyzers.model import Severity

if TYPE_CHECKING:
    from server.cli.baseline import Baseline, Fingerprint
    from server.cli.check import FileResult, Workspace
    from server.cli.gitdiff import ChangedLines

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def _tcp_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, e.g. 127.0.0.1:2087, not {text!r}")
    return host.strip("[]"), int(port)


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of jobs, not {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="phxguard",
        description="Reliability hints for Elixir, Phoenix, LiveView, HEEx and Ecto code.",
    )
    parser.add_argument("--version", action="version", version=f"phxguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    check = commands.add_parser("check", help="analyse files and report findings")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", type=Path, help="files or directories (default: .)"
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="output format (default: text)",
    )
    check.add_argument(
        "--select",
        action="append",
        metavar="CODES",
        help="only these rule codes or families, comma-separated (replaces the config file's list)",
    )
    check.add_argument(
        "--ignore",
        action="append",
        metavar="CODES",
        help="skip these rule codes or families, comma-separated (replaces the config file's list)",
    )
    check.add_argument("--fix", action="store_true", help="apply the preferred fixes")
    check.add_argument(
        "--fail-on",
        type=_severity,
        default=Severity.WARNING,
        metavar="{error,warning,info}",
        help="exit 1 when a finding is at least this severe (default: warning)",
    )
    check.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="use this .phxguard.toml instead of the nearest one",
    )
    check.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="hide findings recorded in this baseline file (JSON); report only new ones",
    )
    check.add_argument(
        "--update-baseline",
        action="store_true",
        help="write the current findings to the --baseline file and exit 0",
    )
    check.add_argument(
        "--diff",
        metavar="REF",
        help="only findings on lines added or changed since git REF (untracked files count)",
    )
    check.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        metavar="N",
        help="analyse with N processes (default: one per CPU; 1 = no subprocesses)",
    )
    check.add_argument(
        "--statistics",
        action="store_true",
        help="print counts per rule instead of the findings (text or json)",
    )
    check.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar and no baseline notes"
    )
    check.add_argument(
        "--verbose", "-v", action="store_true", help="list each stale baseline entry"
    )

    rules = commands.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--format", choices=("text", "markdown", "html", "json"), default="text")

    explain = commands.add_parser("explain", help="explain a rule and show its safe pattern")
    explain.add_argument("code", metavar="CODE")

    server = commands.add_parser("server", help="run the language server (stdio by default)")
    server.add_argument(
        "--tcp",
        type=_tcp_address,
        metavar="HOST:PORT",
        help="listen on a TCP address instead of stdio",
    )
    server.add_argument(
        "--stdio",
        action="store_true",
        help="talk over stdin/stdout (the default; accepted for editor clients)",
    )
    return parser


def run_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``phxguard check``."""
    from server.cli.check import (
        UsageError,
        exit_status,
        failure_message,
        load_workspace,
        located_findings,
        parse_code_option,
        report_failures,
    )
    from server.cli.formats import RunInfo, renderer
    from server.cli.parallel import analyze_parallel, default_jobs, wants_progress

    problem = _check_option_problem(args)
    if problem is not None:
        print(f"phxguard: {problem}", file=err)
        return EXIT_USAGE
    try:
        select = parse_code_option(args.select, "--select")
        ignore = parse_code_option(args.ignore, "--ignore")
        paths = list(args.paths) or [Path(".")]
        jobs = args.jobs if args.jobs is not None else default_jobs()
        ws = load_workspace(
            paths, config_file=args.config, select=select, ignore=ignore, err=err, jobs=jobs
        )
    except ConfigError as exc:
        print(f"phxguard: invalid configuration: {exc}", file=err)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"phxguard: {exc}", file=err)
        return EXIT_USAGE

    # Imported only when asked for: `check` on a small tree must start fast.
    baseline: Baseline | None = None
    changed: ChangedLines | None = None
    if args.baseline is not None and not args.update_baseline:
        from server.cli.baseline import Baseline, BaselineError

        try:
            baseline = Baseline.load(args.baseline)
        except BaselineError as exc:
            print(f"phxguard: {exc}", file=err)
            return EXIT_USAGE
    if args.diff is not None:
        from server.cli.gitdiff import GitDiffError, changed_lines

        try:
            changed = changed_lines(args.diff, paths, Path.cwd())
        except GitDiffError as exc:
            print(f"phxguard: --diff {args.diff}: {exc}", file=err)
            return EXIT_USAGE

    results = analyze_parallel(ws, err, jobs=jobs, progress=wants_progress(err, args.quiet))
    if args.update_baseline:
        return _write_baseline(ws, results, args.baseline, err, quiet=args.quiet)
    fix_headline: str | None = None
    if args.fix:
        from server.cli.fixing import fix_all

        summary = fix_all(ws, results, err)
        fix_headline = summary.headline()
        if args.format != "text":
            print(fix_headline, file=err)
    report_failures(results, err)
    if baseline is not None:
        from server.cli.baseline import apply_baseline

        results, stale = apply_baseline(ws, results, baseline)
        _report_stale(stale, err, quiet=args.quiet, verbose=args.verbose)
    if changed is not None:
        from server.cli.gitdiff import keep_changed

        results = keep_changed(results, changed)
    findings = located_findings(ws, results)
    if args.statistics:
        from server.cli import statistics

        render = statistics.render_json if args.format == "json" else statistics.render_text
        out.write(render(findings))
        return exit_status(findings, args.fail_on)

    from analyzers.registry import all_rules

    metas = [rule.meta for rule in all_rules() if ws.config.enabled(rule.code)]
    info = RunInfo(
        rules=metas,
        severities={m.code: ws.config.severity_for(m.code, m.severity) for m in metas},
        files_checked=len(ws.files),
        fix_headline=fix_headline,
        notifications=[
            failure_message(failure.code, fr.path, failure.error).removeprefix("phxguard: ")
            for fr in results.values()
            for failure in fr.result.failures
        ],
    )
    out.write(renderer(args.format)(findings, info))
    return exit_status(findings, args.fail_on)


def _check_option_problem(args: argparse.Namespace) -> str | None:
    """Option combinations ``check`` cannot act on."""
    if args.update_baseline and args.baseline is None:
        return "--update-baseline needs --baseline FILE"
    if args.update_baseline and (args.fix or args.diff is not None):
        return "--update-baseline cannot be combined with --fix or --diff"
    if args.statistics and args.format not in ("text", "json"):
        return f"--statistics prints text or json, not {args.format}"
    return None


def _write_baseline(
    ws: Workspace, results: dict[Path, FileResult], target: Path, err: TextIO, *, quiet: bool
) -> int:
    """``--update-baseline``: record the current findings (keeping entries of unchecked files)."""
    from server.cli.baseline import Baseline, BaselineError, updated_baseline

    try:
        previous: Baseline | None = Baseline.load(target)
    except BaselineError:
        previous = None  # missing or unreadable: replaced by the current findings
    baseline = updated_baseline(ws, results, previous)
    try:
        target.write_text(baseline.dump(), encoding="utf-8")
    except OSError as exc:
        print(f"phxguard: cannot write baseline {target}: {exc.strerror or exc}", file=err)
        return EXIT_USAGE
    if not quiet:
        count = len(baseline.entries)
        print(f"phxguard: wrote {count} finding{'' if count == 1 else 's'} to {target}", file=err)
    return EXIT_OK


def _report_stale(stale: Sequence[Fingerprint], err: TextIO, *, quiet: bool, verbose: bool) -> None:
    """Baseline entries no longer found: worth pruning, never a failure."""
    if not stale or quiet:
        return
    count = len(stale)
    print(
        f"phxguard: {count} baseline entr{'y' if count == 1 else 'ies'} no longer found "
        "(fixed or changed); refresh with --update-baseline" + (":" if verbose else ""),
        file=err,
    )
    if verbose:
        for entry in stale:
            print(f"  {entry.path}: {entry.code} #{entry.occurrence} {entry.text[:80]}", file=err)


def run_rules(args: argparse.Namespace, out: TextIO) -> int:
    """``phxguard rules``: the catalogue as a table, Markdown, HTML or JSON."""
    import json

    from analyzers.explain import docs_uri, html_document, markdown_table
    from analyzers.registry import all_rules

    metas = [rule.meta for rule in all_rules()]
    if args.format == "markdown":
        out.write(markdown_table(metas))
    elif args.format == "html":
        out.write(html_document(metas, __version__))
    elif args.format == "json":
        payload = [
            {
                "code": m.code,
                "slug": m.slug,
                "severity": m.severity.label,
                "title": m.title,
                "rationale": m.rationale,
                "safe_pattern": m.safe_pattern,
                "fix_title": m.fix_title,
                "docs": docs_uri(m),
            }
            for m in metas
        ]
        out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        slug_width = max((len(m.slug) for m in metas), default=0)
        for m in metas:
            out.write(f"{m.code}  {m.slug:<{slug_width}}  {m.severity.label:<7}  {m.title}\n")
    return EXIT_OK


def run_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``phxguard explain CODE``."""
    from analyzers.explain import explain_text
    from analyzers.registry import get_rule

    rule = get_rule(args.code.strip())
    if rule is None:
        print(f"phxguard: unknown rule code {args.code!r} (see `phxguard rules`)", file=err)
        return EXIT_USAGE
    out.write(explain_text(rule.meta).rstrip("\n") + "\n")
    return EXIT_OK


def run_server(args: argparse.Namespace) -> int:
    """``phxguard server``: hand over to the language server (the only pygls import path)."""
    # Imported by name so the check path never loads it (nor pygls and lsprotocol).
    app = importlib.import_module("server.lsp.app")
    start: Callable[[tuple[str, int] | None], None] = app.start
    start(args.tcp)
    return EXIT_OK


def _prepare_stdout(argv: Sequence[str]) -> None:
    """Never fail on a character the terminal's encoding lacks.

    Machine-readable formats are written as UTF-8 (SARIF requires it; the
    Actions runner and JSON readers expect it); text replaces what the
    console cannot show.
    """
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is None:
        return
    machine = any(fmt in argv for fmt in ("json", "sarif", "github", "markdown", "html"))
    with contextlib.suppress(ValueError, OSError):
        if machine:
            reconfigure(encoding="utf-8")
        else:
            reconfigure(errors="backslashreplace")


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    if out is None:
        out = sys.stdout
        _prepare_stdout(argv if argv is not None else sys.argv[1:])
    err = err if err is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command == "check":
            return run_check(args, out, err)
        if args.command == "rules":
            return run_rules(args, out)
        if args.command == "explain":
            return run_explain(args, out, err)
        return run_server(args)
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FINDINGS
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
