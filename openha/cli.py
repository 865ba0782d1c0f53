"""The ``openha`` command line: ``report``, ``compare``, ``sweep`` and ``scenarios``.

Every command takes ``--help``; bad input exits with code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import copy
import functools
import sys
from collections.abc import Sequence

from openha._random import SeedLike
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
    w = sub.add_parser(
        "sweep",
        help="vary one strategy parameter and compare the results",
        description="Run ha.compare for one strategy of a scenario at several values of one "
        "of its parameters (e.g. --set election_timeout_ms=100:200,150:300 or --set n=3,5,7), "
        "in local processes (ha.sweep), and print one row per value.",
    )
    w.add_argument("scenario", help=_SCENARIO_HELP)
    w.add_argument("--strategy", required=True, help="the strategy to vary")
    w.add_argument(
        "--set",
        required=True,
        metavar="KEY=V1,V2,...",
        help="the parameter and its values (a:b for a pair such as a timeout range)",
    )
    w.add_argument("--seed", type=int, default=None, help="default: the scenario's")
    w.add_argument("--csv", default=None, help="also write the frame to this CSV file")
    w.add_argument("--serial", action="store_true", help="run in this process")
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
        elif args.command == "sweep":
            _sweep(args)
        elif args.command == "scenarios":
            from openha.study.scenario import Scenario, scenarios

            for name in scenarios():
                scn = Scenario.named(name)
                print(f"{name}: {scn.name} -- {' '.join(scn.description.split())}")
    except OpenHAError as e:
        print(f"openha: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    return 0


def _parse_values(text: str) -> tuple[str, list[object]]:
    key, sep, values = text.partition("=")
    if not sep or not key.strip() or not values.strip():
        raise OpenHAError(f"--set must look like KEY=V1,V2,...; got {text!r}")

    def one(v: str) -> object:
        parts = [p.strip() for p in v.split(":")]
        nums: list[object] = []
        for p in parts:
            try:
                nums.append(int(p))
            except ValueError:
                try:
                    nums.append(float(p))
                except ValueError:
                    nums.append(p)
        return nums if len(nums) > 1 else nums[0]

    return key.strip(), [one(v) for v in values.split(",")]


def _point(
    scenario: dict[str, object], strategy: str, key: str, value: object, seed: SeedLike
) -> dict[str, float]:
    """One sweep point: the scenario with ``strategy``'s ``key`` set, compared."""
    from openha.study.compare import compare
    from openha.study.scenario import Scenario

    d = copy.deepcopy(scenario)
    for s in d["strategies"]:  # type: ignore[attr-defined]
        if s["name"] == strategy:
            s[key] = value
    scn = Scenario.from_dict(d, source=f"--set {key}={value}")
    frame = compare([strategy], scn, seed=seed)
    return {f"{m} ({u})": v for m, u, v in zip(frame.metric, frame.unit, frame.value, strict=True)}


def _sweep(args: argparse.Namespace) -> None:
    from openha.report.build import resolve_scenario
    from openha.study.sweep import sweep

    scn = resolve_scenario(args.scenario)
    scn.strategy(args.strategy)  # an unknown name fails here, before any work
    key, values = _parse_values(args.set)
    base = scn.to_dict()
    seed = scn.seed if args.seed is None else args.seed
    frame = sweep(
        functools.partial(_point, base, args.strategy, key),
        {"value": values},
        executor="serial" if args.serial else None,
        seed=seed,
    )
    failed = frame[frame["error"].notna()]
    if len(failed) == len(frame):
        raise OpenHAError(f"every point failed; first: {failed['error'].iloc[0]}")
    if args.csv:
        frame.to_csv(args.csv, index=False)
    shown = [
        c for c in frame.columns if c not in ("point", "seed_entropy", "seed_spawn_key", "wall_s")
    ]
    print(f"{scn.name}: {args.strategy}, {key} swept")
    print(frame[shown].to_string(index=False, float_format="{:.4g}".format))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
