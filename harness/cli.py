"""The ``podnet`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from harness import __version__, options
from harness.errors import CommandError, LabNotUp, PodnetError, UsageError
from harness.lab import lock
from harness.markup import flat

log = logging.getLogger("podnet")


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (a :class:`UsageError`) instead of a usage
    block and a line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _validate(args: argparse.Namespace) -> None:
    """Every option and the PODNET_* variables the command uses, before it starts: each
    replaced by its typed value, the command's settings in the order it declares them."""
    args.name = options.LAB.resolve(args.name)
    lock.set_wait(wait := options.LOCK_WAIT.resolve(args.lock_wait))
    if args.lock_wait is not None:  # the test sessions it starts wait as long
        os.environ[str(options.LOCK_WAIT.variable)] = f"{wait:g}"
    if args.command in ("lab", "verify", "upstream-tests"):
        options.check_machine_roots()
    for setting in args.settings:
        setattr(args, setting.dest, setting.resolve(getattr(args, setting.dest)))
    if args.command == "upstream-tests":
        args.files = args.podman_src.files(args.files)
    if options.GUIDE in args.settings:
        from harness.guide import revisions

        args.guide_given = args.guide is not None
        args.guide = args.guide or revisions.newest()
        revisions.select(args.guide)
    if args.command == "verify":
        from harness.pytest_plugin import MARKERS

        options.check_pytest_environment(MARKERS, args.marker)


def cmd_lab_up(args: argparse.Namespace) -> int:
    from harness.lab import lab
    from harness.ui import step_printer

    with step_printer() as step:
        target = lab.up(args.name, args.release, step=step).target
    print(f"lab '{args.name}' is up: {target.name}; try: podnet lab exec -- podman info")
    return 0


def cmd_lab_down(args: argparse.Namespace) -> int:
    """``lab down``, and ``lab destroy``: down, and its cache removed."""
    from harness.lab import lab

    if args.lab_command == "destroy":
        lab.destroy(args.name)
        print(f"lab '{args.name}' is down and its cache is removed")
    else:
        lab.down(args.name)
        print(f"lab '{args.name}' is down")
    return 0


def cmd_lab_cache_key(args: argparse.Namespace) -> int:
    from harness.lab import lab

    directory = lab.cached_directory(args.release)
    print(directory if args.path else directory.name)
    return 0


def cmd_lab_status(args: argparse.Namespace) -> int:
    from harness.lab import lab

    status = lab.status(args.name)
    if status.up and status.state is not None:
        st = status.state
        print(f"lab '{st.name}' is up: release {st.release}, init pid {st.init_pid}, "
              f"namespaces {', '.join(st.netns.values())}")
        return 0
    extra = f" (leftovers: {', '.join(status.leftovers)}; 'podnet lab down' removes them)" \
        if status.leftovers else ""
    print(f"lab '{status.name}' is not up{extra}")
    return 3


def _command(args: argparse.Namespace) -> list[str]:
    """The command after ``--``."""
    return list(args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd)


def cmd_lab_exec(args: argparse.Namespace) -> int:
    from harness.lab.target import LabTarget, host1_argv

    target = LabTarget(args.name)  # LabNotUp when it is not up
    cmd = _command(args) or ["bash", "-l"]
    env = ({"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"} if args.root
           else target.user_env()) | {"TERM": os.environ.get("TERM", "xterm")}
    argv = host1_argv(target.state.init_pid, cmd, env=env,
                      user=None if args.root else target.user)
    _exec(argv)


def cmd_lab_client(args: argparse.Namespace) -> int:
    from harness.lab import lab

    if not lab.status(args.name).up:
        raise LabNotUp(args.name)
    cmd = _command(args) or ["bash"]
    _exec(["ip", "netns", "exec", f"{args.name}-{args.host}", *cmd])


def _exec(argv: list[str]) -> NoReturn:
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        raise PodnetError(f"cannot run {argv[0]}: {exc.strerror}") from None


def cmd_verify(args: argparse.Namespace) -> int:
    from harness.verify import verify

    return verify(
        releases=args.release, lab_name=args.name, quick=args.quick, keep_lab=args.keep_lab,
        results_root=args.results_dir, marker=args.marker, extra=args.pytest_args,
        quiet=args.quiet, guide=args.guide if args.guide_given else None,
    )


def cmd_upstream_tests(args: argparse.Namespace) -> int:
    from harness.upstream.command import upstream_tests

    return upstream_tests(checkout=args.podman_src, files=args.files, release=args.release,
                          lab_name=args.name, results_root=args.results_dir,
                          keep_lab=args.keep_lab)


def cmd_report(args: argparse.Namespace) -> int:
    from harness.markup import to_markdown
    from harness.reports import durations, render_run
    from harness.results.store import load

    run_dir = Path(args.run)
    run = load(run_dir)  # one clear line if it is not a run directory
    for path in render_run(run_dir, run=run):
        print(path)
    if lines := to_markdown(durations.blocks(run)):
        print("\n".join(["", *lines]).rstrip())
    return 0


def cmd_findings(args: argparse.Namespace) -> int:
    from harness import atomic
    from harness.bench.summary import PerformanceSummary
    from harness.markup import to_markdown
    from harness.reports import findings, upstream_stall
    from harness.results.store import load

    runs = [load(Path(d)) for d in args.runs]
    if not args.upstream:
        for run in runs:
            lines = to_markdown(findings.blocks(PerformanceSummary.of(run), run.environment))
            print("\n".join(lines) if lines else f"run {run.run_id}: no findings")
        return 0
    text = upstream_stall.report(runs)
    path = Path(args.output) if args.output else Path(args.runs[0]) / upstream_stall.FILE
    atomic.write_text(path, text)
    print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.reports import compare_runs
    from harness.reports.compare import run_tolerance
    from harness.results.store import load

    base, new = load(Path(args.base)), load(Path(args.new))
    comparison = compare_runs(base, new, run_tolerance(base, new, args.tolerance))
    print(comparison.to_markdown() if args.markdown else comparison.to_text())
    return 1 if comparison.regressions else 0


def cmd_agree(args: argparse.Namespace) -> int:
    from harness.reports.compare import agreement, run_tolerance
    from harness.results.store import load

    a, b = load(Path(args.a)), load(Path(args.b))
    result = agreement(a, b, run_tolerance(a, b, args.within), args.floor)
    if not result.pairs:
        raise UsageError("the two runs have no benchmark ratio in common: run "
                         "'pytest -m throughput' (or 'podnet verify') for both")
    print(result.to_text())
    return 1 if result.disagreements else 0


def cmd_over_runs(args: argparse.Namespace) -> int:
    """``matrix`` and ``history``: a report over run directories, in --results-dir."""
    from harness.history import render_history
    from harness.matrix_render import render_matrix

    render = render_matrix if args.command == "matrix" else render_history
    for path in render([Path(r) for r in args.runs], args.results_dir):
        print(path)
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    from harness.claims import load_default
    from harness.ui import claims_table

    registry = load_default(args.guide)
    claims = registry.claims
    known = sorted({claim.property for claim in claims})
    if args.property is not None and args.property not in known:
        raise UsageError(f"unknown property {args.property!r}: choose one of {', '.join(known)}")
    print(f"guide: {args.guide.label}")
    claims_table(claims, args.property, registry.placements(args.guide))
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from harness import coverage
    from harness.claims import load_default
    from harness.guide import revisions
    from harness.results.store import load

    runs = [load(Path(r)) for r in args.runs]
    judged = {revisions.judged(run.guide) for run in runs}
    # The runs' own revision, unless --guide names another.
    revision = judged.pop() if len(judged) == 1 and not args.guide_given else args.guide
    registry = load_default(revision)
    if args.markdown:
        print(coverage.document(registry, runs, revision), end="")
    else:
        print("\n".join(coverage.text_lines(coverage.of(registry, runs, revision))))
    return 0


def cmd_examples(args: argparse.Namespace) -> int:
    from harness.examples import listing
    from harness.examples.assess import assess_all
    from harness.examples.parse import parse

    if args.substitutions:
        print("\n".join(listing.substitution_lines()))
        return 0
    examples = parse(args.guide.text)
    assessments = assess_all(examples)
    if args.json:
        print(listing.to_json(examples, assessments, args.guide))
    else:
        print(f"guide: {args.guide.label}")
        print("\n".join(listing.text_lines(examples, assessments, blocks=args.blocks)))
    return 0


def cmd_guide_revisions(args: argparse.Namespace) -> int:
    from harness.guide import revisions

    for revision in revisions.known():
        print(f"{revision.short} {revision.date} {revision.subject}")
    return 0


def cmd_guide_diff(args: argparse.Namespace) -> int:
    from harness.claims import load_default
    from harness.guide import revisions
    from harness.guide_diff import diff

    old = revisions.resolve(args.old) if args.old else revisions.seed()
    new = revisions.resolve(args.new)
    print("\n".join(diff(old, new, load_default(new)).lines()))
    return 0


class Arg:
    """An argument of one command (those several share are :class:`options.Setting`):
    ``add_argument``'s arguments, declared as a setting is."""

    def __init__(self, *flags: str, **kwargs: Any) -> None:
        self.flags = flags
        self.kwargs = kwargs

    def declare(self, add: Callable[..., Any]) -> None:
        add(*self.flags, **self.kwargs)


COMMAND = Arg("cmd", nargs=argparse.REMAINDER, help="-- COMMAND ...")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="podnet",
        description="Verify the claims of the rootless Podman networking guide on real "
                    "rootless Podman, in a lab of network namespaces built on this machine.",
    )
    parser.add_argument("--version", action="version", version=f"podnet {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    options.LAB.declare(parser.add_argument)
    options.LOCK_WAIT.declare(parser.add_argument)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lab_sub = sub.add_parser("lab", help="build, start, enter and stop the lab").add_subparsers(
        dest="lab_command", required=True, metavar="ACTION")
    _add(lab_sub, "up", cmd_lab_up, "build (cached) and boot the lab; nothing if it is up",
         options.RELEASE)
    _add(lab_sub, "down", cmd_lab_down, "stop everything; remove namespaces (keeps the cache)")
    _add(lab_sub, "destroy", cmd_lab_down, "down, and delete the cache")
    _add(lab_sub, "status", cmd_lab_status, "is the lab up (exit 0) or not (exit 3)")
    _add(lab_sub, "cache-key", cmd_lab_cache_key, "print the key of a release's cached root "
         "file system (<release>-<hash of what goes into it>), e.g. for a CI cache",
         options.RELEASE, Arg("--path", action="store_true",
                              help="print its cache directory instead"))
    _add(lab_sub, "exec", cmd_lab_exec, "run a command in host1 (as the rootless user)",
         Arg("--root", action="store_true", help="as root in host1"), COMMAND)
    _add(lab_sub, "client", cmd_lab_client, "run a command on a client host (host2, host3)",
         options.LAB_HOST, COMMAND)
    _add(lab_sub, "shell", cmd_lab_exec, "a login shell in host1 as the rootless user",
         Arg("--root", action="store_true")).set_defaults(cmd=["bash", "-l"])

    _add(sub, "verify", cmd_verify, "the whole job: lab, every check, report in results/",
         options.RELEASES, options.QUICK, options.KEEP_LAB,
         Arg("--quiet", action="store_true",
             help="no live progress lines (also when stdout is not a terminal)"),
         Arg("-m", "--marker", default=None, help="only checks matching this marker "
             "expression, e.g. 'source_address and pasta'; without it every check of the "
             "guide, and the investigations 'cost_curves' and 'pasta_stall' only when "
             "named here"),
         options.RESULTS, options.GUIDE,
         Arg("pytest_args", nargs=argparse.REMAINDER, help="-- further pytest arguments"))

    _add(sub, "upstream-tests", cmd_upstream_tests, "podman's own networking system tests "
         "(bats) in the lab's host1, against its podman", options.PODMAN_SRC, options.RELEASE,
         options.KEEP_LAB, options.RESULTS,
         Arg("files", nargs="*", metavar="FILE", help="bats files of test/system (default: "
             "500-networking.bats 505-networking-pasta.bats)"))

    _add(sub, "report", cmd_report, "re-render a run's reports (Markdown, HTML, CSV)",
         Arg("run", help="a run directory under results/"))

    _add(sub, "findings", cmd_findings, "a run's findings beyond the guide; --upstream: the "
         "pasta stall report for passt's bug tracker",
         Arg("runs", nargs="+", metavar="RUN", help="run directories (--upstream: one per "
             "release, with the pasta stall experiments)"),
         Arg("--upstream", action="store_true", help="write the self-contained pasta stall "
             "report (default: RUN/pasta-stall-upstream.md)"),
         Arg("-o", "--output", help="where --upstream writes the report"))

    _add(sub, "compare", cmd_compare, "compare two runs; exit 1 on a regression",
         Arg("base"), Arg("new"),
         options.TOLERANCE,
         Arg("--markdown", action="store_true", help="print Markdown (CI summary)"))

    _add(sub, "agree", cmd_agree, "do two benchmark runs repeat each other? exit 1 if a "
         "median ratio differs by more than --within", Arg("a"), Arg("b"),
         options.WITHIN, options.RATIO_FLOOR)

    _add(sub, "matrix", cmd_over_runs, "a release matrix report from run directories",
         options.RESULTS, Arg("runs", nargs="+", help="run directories, one per column, in "
                              "order"))

    _add(sub, "history", cmd_over_runs, "statements and ratios over many runs: each "
         "statement's results with the first run where it changed, a chart per ratio",
         options.RESULTS, Arg("runs", nargs="+", help="run directories, of one or more "
                              "releases, in any order (ordered by their start per release)"))

    _add(sub, "claims", cmd_claims, "list the claims registry",
         Arg("--property", default=None, help="only claims of this property"), options.GUIDE)

    _add(sub, "coverage", cmd_coverage, "per section of the guide: statements the runs "
         "observed, observed weakly and did not, with why (without runs: the registry's "
         "plan)",
         Arg("runs", nargs="*", metavar="RUN",
             help="run directories (results/<run>) whose results count"),
         Arg("--markdown", action="store_true",
             help="print Markdown (docs/coverage.md) instead of the terminal table"),
         options.GUIDE)

    guide_sub = sub.add_parser("guide", help="the guide's revisions").add_subparsers(
        dest="guide_command", required=True, metavar="ACTION")
    _add(guide_sub, "revisions", cmd_guide_revisions, "the revisions podnet ships, oldest "
         "first: commit, date, subject")
    _add(guide_sub, "diff", cmd_guide_diff, "what changed between two revisions of the "
         "guide, per section of the newer: claims reworded or gone, new statements and "
         "examples no claim covers yet, changed examples",
         Arg("old", nargs="?", default=None,
             help="commit id, date or README.md path (default: the seed, 707d6f6)"),
         Arg("new", nargs="?", default=None,
             help="commit id, date or README.md path (default: the newest shipped)"))

    _add(sub, "examples", cmd_examples, "the guide's examples: every fenced block "
         "classified, and whether each example can run here",
         Arg("--json", action="store_true", help="print JSON (for machines)"),
         Arg("--blocks", action="store_true", help="also list every block"),
         Arg("--substitutions", action="store_true",
             help="print the substitution table (registry images, hosts, users)"),
         options.GUIDE)
    return parser


def _add(commands: Any, name: str, func: Callable[[argparse.Namespace], int], help: str,
         *arguments: options.Setting | Arg) -> argparse.ArgumentParser:
    """The (sub)command ``name`` of ``commands`` that runs ``func``, with ``arguments`` in
    this order; its settings are validated in this order too (:func:`_validate`)."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help)
    settings = [argument for argument in arguments if isinstance(argument, options.Setting)]
    parser.set_defaults(func=func, settings=settings)
    for argument in arguments:
        argument.declare(parser.add_argument)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Bad input and known failures are one line on stderr (exit 2, or
    1 for a command that failed); Ctrl-C is one line and exit 130."""
    verbose = False
    try:
        args = build_parser().parse_args(argv)
        verbose = args.verbose
        logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                            format="%(name)s: %(message)s")
        _validate(args)
        return int(args.func(args))
    except CommandError as exc:
        print(f"podnet: {flat(exc.args[0])}", file=sys.stderr)
        if verbose:
            print(f"  argv: {' '.join(exc.argv)}\n{exc.stderr}", file=sys.stderr)
        return 1
    except PodnetError as exc:
        print(f"podnet: {flat(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"podnet: {flat(str(exc)) or 'interrupted'}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``podnet claims | head``): not an error of podnet's.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
