"""Report folder: contents, escaping, atomic writes, provenance, CLI exit codes."""

from __future__ import annotations

import dataclasses
import json
import re

import pandas as pd
import pytest

import openha as ha
from openha import cli
from openha.report import html
from openha.study import DEFAULT_DEPLOYMENT, quorum_comparison


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return ha.report(tmp_path_factory.mktemp("r") / "default", images=False)


def test_report_files_and_tidy_csv(folder):
    names = {p.name for p in folder.iterdir()} - {"strategies.parquet"}  # if pyarrow is there
    assert sorted(names) == [
        "comparison.csv",
        "index.html",
        "provenance.json",
        "report.md",
        "strategies.csv",
        "sweep.csv",
    ]
    df = pd.read_csv(folder / "comparison.csv")
    assert list(df.columns) == ["system", "op", "metric", "value", "unit", "method"]
    assert set(df.method) == {"exact"}
    # the CSV holds the same numbers as a fresh computation (determinism of exact methods)
    fresh = quorum_comparison(DEFAULT_DEPLOYMENT)
    pd.testing.assert_frame_equal(df, fresh, check_exact=False, rtol=1e-12)


def test_csv_numbers_match_closed_form(folder):
    df = pd.read_csv(folder / "comparison.csv")
    p = DEFAULT_DEPLOYMENT.node_p_fail
    row = df.query("system == 'majority of 3' and op == 'write' and metric == 'unavailability'")
    # majority of 3 is down when 2 or 3 replicas are: 3 p^2 (1-p) + p^3
    assert row.value.iloc[0] == pytest.approx(3 * p**2 * (1 - p) + p**3, rel=1e-12)


def test_html_is_self_contained(folder):
    text = (folder / "index.html").read_text()
    assert "<script src" not in text and "<link" not in text
    # 3 quorum-system charts and 4 of the strategy comparison (nines, throughput,
    # latency p99, failover p99)
    assert text.count("vegaEmbed('#chart-") == 7
    assert "window.vegaEmbed" in text  # the bundle is inlined


def test_markdown_has_summary_and_citation(folder):
    md = (folder / "report.md").read_text()
    assert "## Summary" in md and "## Cite as" in md
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["result_id"] in md
    for key in ("openha_version", "git", "inputs", "libraries", "machine", "timings_s", "cite_as"):
        assert key in prov
    assert prov["inputs"]["deployment"]["node_p_fail"] == DEFAULT_DEPLOYMENT.node_p_fail


def test_result_id_depends_on_inputs_only(tmp_path):
    a = ha.report(tmp_path / "a", images=False)
    other = dataclasses.replace(DEFAULT_DEPLOYMENT, node_p_fail=2e-3)
    b = ha.report(tmp_path / "b", deployment=other, images=False)
    ida = json.loads((a / "provenance.json").read_text())["result_id"]
    idb = json.loads((b / "provenance.json").read_text())["result_id"]
    assert re.fullmatch(r"openha-[0-9a-f]{12}", ida)
    assert ida != idb
    again = ha.report(tmp_path / "a2", images=False)
    assert json.loads((again / "provenance.json").read_text())["result_id"] == ida


def test_user_strings_are_escaped(tmp_path):
    evil = dataclasses.replace(
        DEFAULT_DEPLOYMENT, name="<script>alert(1)</script>", zones=("a<b>", "c", "d")
    )
    text = (ha.report(tmp_path / "x", deployment=evil, images=False) / "index.html").read_text()
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "a<b>" not in text


def test_existing_folder_needs_force(tmp_path):
    out = tmp_path / "r"
    ha.report(out, images=False)
    with pytest.raises(ha.OpenHAError, match="already exists"):
        ha.report(out, images=False)
    (out / "marker").write_text("old")
    ha.report(out, images=False, force=True)
    assert not (out / "marker").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no temporary folders left


def test_failed_run_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(html, "page", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        ha.report(tmp_path / "r", images=False)
    assert list(tmp_path.iterdir()) == []


def test_failed_forced_run_keeps_old_report(tmp_path, monkeypatch):
    out = ha.report(tmp_path / "r", images=False)
    before = (out / "comparison.csv").read_text()
    monkeypatch.setattr(html, "page", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        ha.report(out, images=False, force=True)
    assert (out / "comparison.csv").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_bad_deployment_is_rejected():
    with pytest.raises(ha.OpenHAError, match="node_p_fail"):
        dataclasses.replace(DEFAULT_DEPLOYMENT, node_p_fail=1.5)
    with pytest.raises(ha.OpenHAError, match="deployment"):
        ha.report("/tmp/never", deployment="default")  # type: ignore[arg-type]


def test_cli_report_and_exit_codes(tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli.main(["report", "--out", str(out), "--no-images"]) == 0
    assert (out / "index.html").exists()
    assert cli.main(["report", "--out", str(out), "--no-images"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already exists" in err[0] and "Traceback" not in err[0]
    with pytest.raises(SystemExit) as e:
        cli.main(["report", "--bogus"])
    assert e.value.code == 2


def test_summary_table_has_one_row_per_system_and_op_and_no_stray_columns(folder):
    from openha.report.build import summary_table

    table = summary_table(pd.read_csv(folder / "comparison.csv"))
    assert list(table.columns[:2]) == ["system", "op"]
    assert table.columns.name is None
    assert len(table) == table[["system", "op"]].drop_duplicates().shape[0] == 12
    html_text = (folder / "index.html").read_text()
    assert "<th>metric</th>" not in html_text


def test_scenario_report_compares_every_strategy_and_escapes_names(tmp_path):
    scn = ha.Scenario.from_dict(
        {
            "name": "<script>alert(1)</script>",
            "deployment": {
                "rtt": "aws-2020",
                "zones": [{"region": "us-east-1", "zone": "az<a>", "nodes": 3}],
            },
            "failures": {"node": {"p_fail": 1e-3, "source": "a <b>round</b> number"}},
            "strategies": [{"name": "maj <3>", "kind": "majority-quorum", "n": 3}],
        }
    )
    out = ha.report(tmp_path / "s", scn, images=False)
    text = (out / "index.html").read_text()
    for raw in ("<script>alert(1)", "maj <3>", "az<a>", "<b>round"):
        assert raw not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "maj &lt;3&gt;" in text
    strategies = pd.read_csv(out / "strategies.csv")
    assert set(strategies.strategy) == {"maj <3>"}
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["inputs"]["scenario_hash"] == scn.hash
    assert prov["inputs"]["scenario"]["name"] == scn.name


def test_cli_scenarios_compare_and_help(tmp_path, capsys):
    assert cli.main(["scenarios"]) == 0
    listed = capsys.readouterr().out
    for name in ha.study.scenarios():
        assert listed.count(f"{name}:") == 1
    csv = tmp_path / "c.csv"
    assert cli.main(["compare", "default", "--strategy", "majority of 3", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "majority of 3" in out and "nines (nines)" in out
    frame = pd.read_csv(csv)
    direct = ha.compare(["majority of 3"], ha.Scenario.default())
    pd.testing.assert_frame_equal(frame, direct, check_dtype=False)
    assert cli.main(["compare", "no-such-scenario"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-scenario" in err[0]
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nbogus = 1\n')
    assert cli.main(["compare", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.toml" in err[0] and "bogus" in err[0]
    for command in (["--help"], ["report", "--help"], ["compare", "--help"], ["scenarios", "-h"]):
        with pytest.raises(SystemExit) as e:
            cli.main(command)
        assert e.value.code == 0


def test_cli_sweep(tmp_path, capsys):
    csv = tmp_path / "s.csv"
    argv = ["sweep", "default", "--strategy", "majority of 5", "--set", "n=3,5,7"]
    assert cli.main([*argv, "--serial", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "majority of 5" in out
    frame = pd.read_csv(csv)
    assert list(frame["value"]) == [3, 5, 7] and frame["error"].isna().all()
    # each row is what compare gives the scenario with that n
    scn = ha.Scenario.default()
    for n, nines in zip(frame["value"], frame["nines (nines)"], strict=True):
        d = scn.to_dict()
        next(s for s in d["strategies"] if s["name"] == "majority of 5")["n"] = int(n)
        direct = ha.compare(["majority of 5"], ha.Scenario.from_dict(d))
        assert nines == pytest.approx(direct.set_index("metric").loc["nines", "value"])
    assert cli.main(["sweep", "default", "--strategy", "nope", "--set", "n=3"]) == 2
    assert cli.main(["sweep", "default", "--strategy", "majority of 5", "--set", "n"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "nope" in err[0] and "--set" in err[1]


def test_result_id_is_the_same_however_the_seed_is_given(tmp_path):
    a = ha.report(tmp_path / "a", images=False)  # the scenario's seed, 1
    b = ha.report(tmp_path / "b", "default", seed=1, images=False)
    c = ha.report(tmp_path / "c", seed=2, images=False)
    ids = [json.loads((x / "provenance.json").read_text())["result_id"] for x in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]
    cite = json.loads((a / "provenance.json").read_text())["cite_as"]
    assert "openha report default --seed 1" in cite
