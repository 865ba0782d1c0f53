"""The ``openha`` command line: ``report``, ``compare`` and ``scenarios``.

Every command takes ``--help``; bad input exits with code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from openha.errors import OpenHAError

__all__ = ["main"]

_SCENARIO_HELP = "a shipped scenario's name (see `openha scenarios`) or a TOML file"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="openha",
        description="How highly available platforms will behave before you build them.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    r = sub.add_parser(
        "report",
        help="write the comparison report (HTML, Markdown, CSV, PNG/SVG, provenance)",
        description="Compare a scenario's strategies and write the report to a folder: "
        "an offline index.html, report.md, tidy CSV, PNG/SVG charts and provenance.json.",
    )
    r.add_argument("scenario", nargs="?", default="default", help=_SCENARIO_HELP)
    r.add_argument("--out", default="reports/default", help="report folder (default: %(default)s)")
    r.add_argument("--force", action="store_true", help="replace the folder if it exists")
    r.add_argument("--no-images", action="store_true", help="skip PNG/SVG chart files")
    r.add_argument("--seed", type=int, default=None, help="default: the scenario's")
    c = sub.add_parser(
        "compare",
        help="print the strategies of a scenario side by side",
        description="Run ha.compare on a scenario and print one row per metric, one column "
        "per strategy (the tidy frame, with confidence intervals, with --csv).",
    )
    c.add_argument("scenario", help=_SCENARIO_HELP)
    c.add_argument(
        "--strategy", action="append", default=None, help="only this strategy (repeatable)"
    )
    c.add_argument("--seed", type=int, default=None, help="default: the scenario's")
    c.add_argument("--csv", default=None, help="also write the tidy frame to this CSV file")
    sub.add_parser(
        "scenarios",
        help="list the shipped scenarios",
        description="List the scenarios shipped in data/scenarios, with their descriptions.",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 on bad input, with a one-line message)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            from openha.report import report

            out = report(
                args.out,
                args.scenario,
                force=args.force,
                images=not args.no_images,
                seed=args.seed,
            )
            print(f"report written to {out}/ (open {out}/index.html)")
        elif args.command == "compare":
            import pandas as pd

            from openha.report.build import resolve_scenario, strategies_table
            from openha.study.compare import compare

            scn = resolve_scenario(args.scenario)
            frame = compare(args.strategy, scn, seed=args.seed)
            if args.csv:
                frame.to_csv(args.csv, index=False)
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print(f"{scn.name} (scenario hash {scn.hash[:12]})")
                print(strategies_table(frame).to_string(index=False, float_format="{:.4g}".format))
        elif args.command == "scenarios":
            from openha.study.scenario import Scenario, scenarios

            for name in scenarios():
                scn = Scenario.named(name)
                print(f"{name}: {scn.name} -- {' '.join(scn.description.split())}")
    except OpenHAError as e:
        print(f"openha: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
