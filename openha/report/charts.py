"""altair charts over the tidy frames of :mod:`openha.study` (no protocol knowledge here)."""

from __future__ import annotations

import altair as alt
import pandas as pd

__all__ = ["latency_chart", "nines_chart", "nines_vs_p_chart", "strategies_chart"]


def nines_vs_p_chart(sweep: pd.DataFrame) -> alt.Chart:
    """Nines of each system against node failure probability (log x).

    ``sweep`` has columns ``system``, ``node_p_fail``, ``nines``.
    """
    return (
        alt.Chart(sweep, title="Write availability vs node failure probability")
        .mark_line(point=True)
        .encode(
            x=alt.X("node_p_fail:Q", scale=alt.Scale(type="log"), title="node failure probability"),
            y=alt.Y("nines:Q", title="nines (-log10 unavailability)"),
            color=alt.Color("system:N", title="system"),
            tooltip=["system", "node_p_fail", "nines"],
        )
        .properties(width=520, height=320)
    )


def nines_chart(comparison: pd.DataFrame) -> alt.Chart:
    """Nines per system and operation, independent failures vs with zone outages."""
    df = comparison[comparison.metric.isin(["nines", "nines_zones"])].copy()
    df["failures"] = df.metric.map({"nines": "nodes only", "nines_zones": "nodes + zone outages"})
    return (
        alt.Chart(df, title="Availability (nines) by system")
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title="nines"),
            y=alt.Y("system:N", title=None),
            yOffset=alt.YOffset("failures:N"),
            color=alt.Color("failures:N", title="failures"),
            row=alt.Row("op:N", title="operation"),
            tooltip=["system", "op", "failures", alt.Tooltip("value:Q", format=".2f")],
        )
        .properties(width=420)
    )


def latency_chart(comparison: pd.DataFrame) -> alt.Chart:
    """Quorum latency quantiles per system (write operations)."""
    df = comparison[
        comparison.metric.str.startswith("latency_p") & (comparison.op == "write")
    ].copy()
    df["quantile"] = df.metric.str.removeprefix("latency_").str.removesuffix("_ms")
    return (
        alt.Chart(df, title="Write quorum latency")
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("value:Q", title="latency (ms)"),
            y=alt.Y("system:N", title=None),
            color=alt.Color("quantile:N", title="quantile"),
            tooltip=["system", "quantile", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=420)
    )


#: Metrics of :func:`openha.compare` charted in the report, with their axis titles.
STRATEGY_METRICS = {
    "nines": "availability (nines)",
    "throughput": "throughput (commits/s)",
    "latency p99": "commit latency p99 (ms)",
    "failover p99": "failover p99 (ms)",
}


def strategies_chart(frame: pd.DataFrame, metric: str) -> alt.LayerChart:
    """One :func:`openha.compare` metric per strategy, with its 95 % interval if sampled."""
    df = frame[frame.metric == metric].copy()
    title = STRATEGY_METRICS.get(metric, metric)
    base = alt.Chart(df, title=title).encode(y=alt.Y("strategy:N", title=None, sort=None))
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title=title),
        color=alt.Color("method:N", title="method"),
        tooltip=[
            "strategy",
            "method",
            alt.Tooltip("value:Q", format=".4g"),
            alt.Tooltip("ci_low:Q", format=".4g"),
            alt.Tooltip("ci_high:Q", format=".4g"),
        ],
    )
    whiskers = (
        base.transform_filter("isValid(datum.ci_low)")
        .mark_rule()
        .encode(x="ci_low:Q", x2="ci_high:Q")
    )
    return (bars + whiskers).properties(width=420)
