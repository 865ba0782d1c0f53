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

from openha._random import SeedLike
from openha.data import data_path
from openha.errors import OpenHAError
from openha.report.provenance import provenance
from openha.study import Deployment, availability_sweep, quorum_comparison
from openha.study.compare import compare
from openha.study.scenario import Scenario

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
        if isinstance(x, float) and x != x:
            return "—"  # not applicable to this strategy
        text = f"{x:.4g}" if isinstance(x, float) else str(x)
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |"]
    lines.append("|" + "---|" * len(df.columns))
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def resolve_scenario(scenario: Scenario | str | Path | None) -> Scenario:
    """A :class:`Scenario` from itself, a shipped name, a TOML path, or None (the default)."""
    if scenario is None:
        return Scenario.default()
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | Path):
        text = str(scenario)
        if text.endswith(".toml") or Path(text).exists():
            return Scenario.load(text)
        return Scenario.named(text)
    raise OpenHAError(
        f"scenario must be an ha.Scenario, a shipped scenario name or a TOML path; got {scenario!r}"
    )


def report(
    out: str | Path = "reports/default",
    scenario: Scenario | str | Path | None = None,
    *,
    deployment: Deployment | None = None,
    force: bool = False,
    images: bool = True,
    seed: SeedLike = None,
) -> Path:
    """Write the comparison report for ``scenario`` (or a bare ``deployment``) to ``out``.

    Parameters
    ----------
    out : path
        Target folder. It must not exist unless ``force`` is true (then it is replaced).
    scenario : Scenario, str or path, optional
        What to compare: a scenario, the name of a shipped one (``openha scenarios``) or a
        TOML file; default the built-in single-region 3-zone scenario. Its strategies are
        compared with :func:`openha.compare`; when its nodes sit round-robin over the
        zones of one region, the quorum-system comparison is added.
    deployment : Deployment, optional
        Instead of a scenario: only the quorum-system comparison of this deployment.
    force : bool
        Replace an existing ``out``.
    images : bool
        Also write each chart as PNG and SVG (via vl-convert) for slides.
    seed : int, optional
        Default: the scenario's.

    Returns
    -------
    pathlib.Path
        The report folder.

    Examples
    --------
    >>> import tempfile, pathlib, openha as ha
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "r"
    >>> sorted(p.name for p in ha.report(d, images=False).iterdir())  # doctest: +ELLIPSIS
    ['comparison.csv', 'index.html', 'provenance.json', 'report.md', 'strategies.csv', ...]
    """
    if deployment is not None and not isinstance(deployment, Deployment):
        raise OpenHAError(f"deployment must be an openha.study.Deployment; got {deployment!r}")
    if deployment is not None and scenario is not None:
        raise OpenHAError("give a scenario or a deployment, not both")
    scn = None if deployment is not None else resolve_scenario(scenario)
    target = Path(out)
    if target.exists() and not force:
        raise OpenHAError(
            f"out {str(target)!r} already exists; pass force=True (--force) to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write(tmp, deployment, scn, images, seed)
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


def strategies_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per metric (with its unit), one column per strategy."""
    frame = frame.assign(measure=frame.metric + " (" + frame.unit + ")")
    table = frame.pivot(index="measure", columns="strategy", values="value")
    table = table.reindex(
        index=list(dict.fromkeys(frame.measure)), columns=list(dict.fromkeys(frame.strategy))
    )
    return (
        table.reset_index().rename(columns={"measure": "metric (unit)"}).rename_axis(columns=None)
    )


def _deployment_of(scn: Scenario) -> Deployment | None:
    try:
        return scn.deployment()
    except OpenHAError:
        return None  # several regions, or not round-robin: no quorum-system comparison


def _write(
    folder: Path, d: Deployment | None, scn: Scenario | None, images: bool, seed: SeedLike
) -> None:
    from openha.report import charts, html  # altair: loaded only when a report is built

    timings: dict[str, float] = {}
    sections: list[tuple[str, object]] = []
    md: list[str] = []
    figures: dict[str, object] = {}
    inputs: dict[str, object] = {}
    sources: list[str] = []
    if scn is not None:
        d = _deployment_of(scn)
        t0 = time.perf_counter()
        strategies = compare(scn, seed=seed)
        timings["compare"] = time.perf_counter() - t0
        strategies.to_csv(folder / "strategies.csv", index=False)
        try:
            strategies.to_parquet(folder / "strategies.parquet", index=False)
        except ImportError:
            pass  # pyarrow is optional
        table = strategies_table(strategies)
        setup = (
            f"{scn.description or scn.name} {len(scn.sites)} nodes; workload "
            f"{scn.workload!r}; seed {scn.seed if seed is None else seed}. Rows marked "
            "simulated carry 95 % confidence intervals in strategies.csv."
        )
        sections += [("Scenario", setup), ("Strategies", table)]
        for metric in charts.STRATEGY_METRICS:
            if (strategies.metric == metric).any():
                key = "strategies_" + metric.replace(" ", "_")
                figures[key] = charts.strategies_chart(strategies, metric)
                sections.append((charts.STRATEGY_METRICS[metric], figures[key]))
        md += ["## Scenario", "", setup, "", "## Strategies", "", _markdown_table(table), ""]
        run_seed = scn.seed if seed is None else seed  # the seed used, however it was given
        inputs |= {"scenario": scn.to_dict(), "scenario_hash": scn.hash, "seeds": run_seed}
        where = scn.path if scn.path.endswith(".toml") else "SCENARIO.toml"
        if Path(where).parent == data_path("scenarios"):
            where = Path(where).stem  # a shipped scenario: its name
        regenerate = f"openha report {where} --seed {run_seed} --out DIR"
        sources += list(scn.sources())
        title = f"openha report: {scn.name}"
    else:
        assert d is not None
        title = f"openha report: {d.name}"
        inputs |= {"study": "quorum comparison", "seeds": None}
        regenerate = "ha.report(DIR, deployment=...)"
    if d is not None:
        t0 = time.perf_counter()
        comparison = quorum_comparison(d)
        timings["comparison"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        sweep = availability_sweep(d)
        timings["sweep"] = time.perf_counter() - t0
        summary = summary_table(comparison)
        comparison.to_csv(folder / "comparison.csv", index=False)
        sweep.to_csv(folder / "sweep.csv", index=False)
        qfig = {
            "nines": charts.nines_chart(comparison),
            "latency": charts.latency_chart(comparison),
            "nines_vs_p": charts.nines_vs_p_chart(sweep),
        }
        figures |= qfig
        qsetup = (
            f"{d.replicas} replicas over zones {', '.join(d.zones)} (replica i in zone i mod "
            f"{len(d.zones)}). Node down probability {d.node_p_fail:g}; zone outage probability "
            f"{d.zone_p_outage:g}; replica round trip {d.rtt_ms:g} ms plus exponential jitter of "
            f"mean {d.jitter_mean_ms:g} ms. All numbers are exact (no sampling)."
        )
        sections += [
            ("Quorum systems on this deployment", qsetup),
            ("Summary", summary),
            ("Availability", qfig["nines"]),
            ("Availability vs node failure probability", qfig["nines_vs_p"]),
            ("Latency", qfig["latency"]),
        ]
        md += ["## Quorum systems", "", qsetup, "", "## Summary", "", _markdown_table(summary), ""]
        inputs["deployment"] = dataclasses.asdict(d)
        if scn is None:
            sources += list(d.sources)
    t0 = time.perf_counter()
    if images:
        for name, chart in figures.items():
            chart.save(folder / f"{name}.png", scale_factor=2)  # type: ignore[attr-defined]
            chart.save(folder / f"{name}.svg")  # type: ignore[attr-defined]
    timings["write"] = time.perf_counter() - t0
    prov = provenance(inputs, timings, title, regenerate)
    (folder / "provenance.json").write_text(json.dumps(prov, indent=2, default=str) + "\n")
    data = ", ".join(p.name for p in sorted(folder.glob("*.csv")))
    md = [f"# {title}", "", *md]
    md += ["## Sources and assumptions", "", "\n".join(f"- {x}" for x in sources), ""]
    md += ["## Cite as", "", prov["cite_as"], "", f"Data: {data} (tidy).", ""]
    (folder / "report.md").write_text("\n".join(md))
    sections += [("Sources and assumptions", "\n\n".join(sources)), ("Cite as", prov["cite_as"])]
    html_doc = html.page(
        title,
        sections,  # type: ignore[arg-type]
        footer=json.dumps({k: prov[k] for k in ("result_id", "git", "libraries")}, indent=1),
    )
    (folder / "index.html").write_text(html_doc)
