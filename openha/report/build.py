"""Build a report folder: index.html, report.md, CSV data, PNG/SVG charts, provenance.json.

Everything is written to a temporary folder beside the target and renamed into place
at the end, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from openha.errors import OpenHAError
from openha.report.provenance import provenance
from openha.study import Deployment, availability_sweep, quorum_comparison
from openha.study.deployment import DEFAULT_DEPLOYMENT

__all__ = ["report", "summary_table"]

_SUMMARY = {
    "resilience": "failures tolerated",
    "nines": "nines (nodes)",
    "nines_zones": "nines (nodes + zones)",
    "downtime_min_per_year_zones": "downtime min/yr (nodes + zones)",
    "latency_p50_ms": "p50 ms",
    "latency_p99_ms": "p99 ms",
}


def summary_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """One row per system and operation with the headline metrics."""
    wide = comparison[comparison.metric.isin(_SUMMARY)].pivot_table(
        index=["system", "op"], columns="metric", values="value", sort=False
    )
    wide = wide[[m for m in _SUMMARY if m in wide.columns]].rename(columns=_SUMMARY)
    wide.columns.name = None  # else the pivot's axis name shows as an empty column in HTML
    return wide.reset_index()


def _markdown_table(df: pd.DataFrame) -> str:
    def cell(x: object) -> str:
        text = f"{x:.4g}" if isinstance(x, float) else str(x)
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |"]
    lines.append("|" + "---|" * len(df.columns))
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def report(
    out: str | Path = "reports/default",
    *,
    deployment: Deployment = DEFAULT_DEPLOYMENT,
    force: bool = False,
    images: bool = True,
) -> Path:
    """Write the comparison report for ``deployment`` to the folder ``out``.

    Parameters
    ----------
    out : path
        Target folder. It must not exist unless ``force`` is true (then it is replaced).
    deployment : Deployment
        What to analyse; the built-in default is a single region with 3 zones.
    force : bool
        Replace an existing ``out``.
    images : bool
        Also write each chart as PNG and SVG (via vl-convert) for slides.

    Returns
    -------
    pathlib.Path
        The report folder.

    Examples
    --------
    >>> import tempfile, pathlib, openha as ha
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "r"
    >>> sorted(p.name for p in ha.report(d, images=False).iterdir())
    ['comparison.csv', 'index.html', 'provenance.json', 'report.md', 'sweep.csv']
    """
    if not isinstance(deployment, Deployment):
        raise OpenHAError(f"deployment must be an openha.study.Deployment; got {deployment!r}")
    target = Path(out)
    if target.exists() and not force:
        raise OpenHAError(
            f"out {str(target)!r} already exists; pass force=True (--force) to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write(tmp, deployment, images)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            target.rename(old / target.name)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write(folder: Path, d: Deployment, images: bool) -> None:
    from openha.report import charts, html  # altair: loaded only when a report is built

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    comparison = quorum_comparison(d)
    timings["comparison"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sweep = availability_sweep(d)
    timings["sweep"] = time.perf_counter() - t0
    summary = summary_table(comparison)
    title = f"openha report: {d.name}"
    inputs = {"deployment": dataclasses.asdict(d), "study": "quorum comparison", "seeds": None}
    figures = {
        "nines": charts.nines_chart(comparison),
        "latency": charts.latency_chart(comparison),
        "nines_vs_p": charts.nines_vs_p_chart(sweep),
    }
    t0 = time.perf_counter()
    comparison.to_csv(folder / "comparison.csv", index=False)
    sweep.to_csv(folder / "sweep.csv", index=False)
    if images:
        for name, chart in figures.items():
            chart.save(folder / f"{name}.png", scale_factor=2)
            chart.save(folder / f"{name}.svg")
    timings["write"] = time.perf_counter() - t0
    prov = provenance(inputs, timings, title)
    (folder / "provenance.json").write_text(json.dumps(prov, indent=2, default=str) + "\n")
    setup = (
        f"{d.replicas} replicas over zones {', '.join(d.zones)} (replica i in zone i mod "
        f"{len(d.zones)}). Node down probability {d.node_p_fail:g}; zone outage probability "
        f"{d.zone_p_outage:g}; replica round trip {d.rtt_ms:g} ms plus exponential jitter of "
        f"mean {d.jitter_mean_ms:g} ms. All numbers are exact (no sampling)."
    )
    sources = "\n".join(f"- {s}" for s in d.sources)
    md = [
        f"# {title}",
        "",
        setup,
        "",
        "## Summary",
        "",
        _markdown_table(summary),
        "",
        "## Sources and assumptions",
        "",
        sources,
        "",
        "## Cite as",
        "",
        prov["cite_as"],
        "",
        "Data: `comparison.csv` (tidy: system, op, metric, value, unit, method), `sweep.csv`.",
        "",
    ]
    (folder / "report.md").write_text("\n".join(md))
    html_doc = html.page(
        title,
        [
            ("Deployment", setup),
            ("Summary", summary),
            ("Availability", figures["nines"]),
            ("Availability vs node failure probability", figures["nines_vs_p"]),
            ("Latency", figures["latency"]),
            ("Sources and assumptions", "\n\n".join(d.sources)),
            ("Cite as", prov["cite_as"]),
        ],
        footer=json.dumps({k: prov[k] for k in ("result_id", "git", "libraries")}, indent=1),
    )
    (folder / "index.html").write_text(html_doc)
