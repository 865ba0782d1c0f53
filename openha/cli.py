"""The ``openha`` command line: ``openha report --out DIR``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from openha.errors import OpenHAError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="openha",
        description="How highly available platforms will behave before you build them.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    r = sub.add_parser(
        "report",
        help="write the comparison report (HTML, Markdown, CSV, PNG/SVG, provenance)",
        description="Write the comparison report for the built-in default deployment "
        "(one region, three zones) to a folder.",
    )
    r.add_argument("--out", default="reports/default", help="report folder (default: %(default)s)")
    r.add_argument("--force", action="store_true", help="replace the folder if it exists")
    r.add_argument("--no-images", action="store_true", help="skip PNG/SVG chart files")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 on bad input, with a one-line message)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            from openha.report import report

            out = report(args.out, force=args.force, images=not args.no_images)
            print(f"report written to {out}/ (open {out}/index.html)")
    except OpenHAError as e:
        print(f"openha: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
