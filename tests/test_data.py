"""Shipped RTT matrices: values against the paper's tables, API and error messages."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openha import OpenHAError, dist
from openha.data import RTTMatrix, data_path, rtt_matrices, rtt_matrix, shifted

WAN_README = Path("/work/shared/data/wan/README.md")
# Fallback when the shared notes are absent, quoted from the paper source.
QUOTED = {
    "aws-2020": {
        ("us-east-1", "eu-west-1"): 70.5,
        ("us-west-1", "us-west-2"): 21.1,
        ("ap-northeast-1", "eu-west-1"): 204.4,
    }
}


def _published_tables() -> dict[str, dict[tuple[str, str], float]]:
    """Parse the markdown tables of the shared WAN notes: {name: {(from, to): ms}}."""
    if not WAN_README.exists():
        return QUOTED
    tables: dict[str, dict[tuple[str, str], float]] = {}
    name, header = None, None
    for line in WAN_README.read_text().splitlines():
        if line.startswith("## "):
            name = "aws-2020" if "AWS, 5" in line else "gcp-2020" if "GCP" in line else None
            header = None
        elif line.startswith("|") and name is not None:
            cells = [re.sub(r"\s*\(.*\)$", "", c.strip()) for c in line.strip("|").split("|")]
            if header is None:
                header = cells[1:]
            elif not set(cells[0]) <= set("-: "):
                for to, value in zip(header, cells[1:], strict=True):
                    tables.setdefault(name, {})[cells[0], to] = float(value)
    assert set(tables) == {"aws-2020", "gcp-2020"}, "the shared WAN notes changed shape"
    return tables


PUBLISHED = _published_tables()


def test_available_names() -> None:
    assert rtt_matrices() == ["aws-2020", "gcp-2020"]
    assert data_path("rtt", "aws-2020.csv").is_file()


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_values_match_published_tables(name: str) -> None:
    m = rtt_matrix(name)
    table = PUBLISHED[name]
    for (a, b), ms in table.items():
        assert m.rtt(a, b) == ms, (a, b)
    if WAN_README.exists():
        assert len(table) == len(m.regions) ** 2
        assert {a for a, _ in table} == set(m.regions)


def test_aws_shape_and_diagonal() -> None:
    m = rtt_matrix("aws-2020")
    assert m.regions == ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-northeast-1")
    assert m.rtt_ms.shape == (5, 5) and m.rtt_ms.dtype == np.float64
    assert np.all(np.diag(m.rtt_ms) <= 1.0)
    off = m.rtt_ms[~np.eye(5, dtype=bool)]
    assert off.min() > 10.0
    # measured both ways: nearly symmetric (README: differences of 0.1 ms)
    np.testing.assert_allclose(m.rtt_ms, m.rtt_ms.T, atol=0.11)
    assert m.one_way_ms("us-east-1", "eu-west-1") == pytest.approx(35.25)


def test_source_from_readme_and_cache() -> None:
    m = rtt_matrix("aws-2020")
    assert "fantoch" in m.source and "2020-06-05" in m.source
    assert "latency_gcp" in rtt_matrix("gcp-2020").source
    assert rtt_matrix("aws-2020") is m
    assert "aws-2020" in repr(m) and "5 regions" in repr(m)


def test_immutable_and_hashable() -> None:
    m = rtt_matrix("aws-2020")
    with pytest.raises(ValueError, match="read-only"):
        m.rtt_ms[0, 0] = 1.0
    src = np.array([[0.0, 5.0], [5.0, 0.0]])
    a = RTTMatrix(regions=("x", "y"), rtt_ms=src, name="t")
    src[0, 1] = 99.0  # the matrix holds its own copy
    b = RTTMatrix(regions=["x", "y"], rtt_ms=[[-0.0, 5.0], [5.0, 0.0]], name="t")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != RTTMatrix(regions=("x", "y"), rtt_ms=[[0.0, 5.0], [5.1, 0.0]], name="t")
    assert a != RTTMatrix(regions=("x", "y"), rtt_ms=a.rtt_ms, name="u")


def test_to_frame_round_trip() -> None:
    m = rtt_matrix("gcp-2020")
    df = m.to_frame()
    assert list(df.columns) == ["from_region", "to_region", "rtt_ms"]
    assert df.shape == (81, 3)
    row = df[(df.from_region == "us-west1") & (df.to_region == "australia-southeast1")]
    assert row.rtt_ms.item() == 161.4
    assert RTTMatrix.from_frame(df, name=m.name, source=m.source) == m
    wide = pd.DataFrame(m.rtt_ms, index=list(m.regions), columns=list(m.regions))
    assert RTTMatrix.from_frame(wide.iloc[::-1], name=m.name, source=m.source) == m


def test_subset() -> None:
    m = rtt_matrix("aws-2020")
    s = m.subset(["eu-west-1", "us-east-1", "ap-northeast-1"])
    assert s.regions == ("eu-west-1", "us-east-1", "ap-northeast-1")
    assert s.rtt_ms.shape == (3, 3)
    for a in s.regions:
        for b in s.regions:
            assert s.rtt(a, b) == m.rtt(a, b)
    assert s.name == m.name and s.source == m.source


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "toy.csv"
    path.write_text("region,a,b\nb,7.0,0.2\na,0.1,7.5\n")
    m = RTTMatrix.from_csv(path)
    assert m.name == "toy" and m.regions == ("a", "b")
    assert m.rtt("a", "b") == 7.5 and m.rtt("b", "a") == 7.0


def test_unknown_names_and_regions() -> None:
    with pytest.raises(OpenHAError, match=r"'azure-2020'.*aws-2020, gcp-2020"):
        rtt_matrix("azure-2020")
    m = rtt_matrix("aws-2020")
    with pytest.raises(OpenHAError, match=r"'mars-1'.*known: us-east-1, us-west-1"):
        m.rtt("us-east-1", "mars-1")
    with pytest.raises(OpenHAError, match="'mars-1'"):
        m.subset(["us-east-1", "mars-1"])
    with pytest.raises(OpenHAError, match="'mars-1'"):
        m.latencies("mars-1", {"n1": "us-east-1"})
    with pytest.raises(OpenHAError, match="'mars-1'"):
        m.latencies("us-east-1", {"n1": "mars-1"})
    with pytest.raises(OpenHAError, match=r"nope\.csv"):
        data_path("rtt", "nope.csv")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("region,a,b,c\na,0,1,2\nb,1,0,2\n", "square"),
        ("region,a,b\na,0,1,2\nb,1,0\n", "line 2"),
        ("region,a,b\na,0,-1\nb,1,0\n", r"-1\.0 from 'a' to 'b'"),
        ("region,a,b\na,0,nan\nb,1,0\n", r"finite; got nan from 'a' to 'b'"),
        ("region,a,b\na,0,1\nb,x,0\n", "region 'b'"),
        ("region,a,a\na,0,1\na,1,0\n", "region 'a' appears twice"),
        ("region,a,b\na,0,1\nc,1,0\n", r"mismatched: \['b', 'c'\]"),
        ("from,a,b\na,0,1\nb,1,0\n", "header"),
        ("", "header"),
    ],
)
def test_malformed_csv(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(OpenHAError, match=key) as err:
        RTTMatrix.from_csv(path)
    assert str(path) in str(err.value)


def test_missing_csv(tmp_path: Path) -> None:
    with pytest.raises(OpenHAError, match=r"missing\.csv"):
        RTTMatrix.from_csv(tmp_path / "missing.csv")


def test_constructor_validation() -> None:
    with pytest.raises(OpenHAError, match="square"):
        RTTMatrix(regions=("a",), rtt_ms=np.zeros((1, 2)))
    with pytest.raises(OpenHAError, match="3 regions"):
        RTTMatrix(regions=("a", "b", "c"), rtt_ms=np.zeros((2, 2)))
    with pytest.raises(OpenHAError, match="'b' appears twice"):
        RTTMatrix(regions=("b", "b"), rtt_ms=np.zeros((2, 2)))
    with pytest.raises(OpenHAError, match=r"inf from 'a' to 'a'"):
        RTTMatrix(regions=("a",), rtt_ms=[[np.inf]])


def test_tidy_frame_errors() -> None:
    df = rtt_matrix("aws-2020").to_frame()
    with pytest.raises(OpenHAError, match="'us-east-1' -> 'us-east-1' more than once"):
        RTTMatrix.from_frame(pd.concat([df, df.head(1)]))
    with pytest.raises(OpenHAError, match="no value from 'us-east-1' to 'us-east-1'"):
        RTTMatrix.from_frame(df.iloc[1:])


JITTERS = [
    dist.Constant(value=1.5),
    dist.Exponential(mean=2.0, shift=0.5),
    dist.Uniform(low=1.0, high=4.0),
    dist.LogNormal(mu=0.0, sigma=0.5, shift=0.25),
    dist.Weibull(shape=1.5, scale=2.0, shift=0.1),
    dist.Empirical(samples=[0.5, 1.0, 4.0]),
]


def test_latencies_constant() -> None:
    m = rtt_matrix("aws-2020")
    placement = {"n1": "us-east-1", "n2": "eu-west-1", "n3": "ap-northeast-1"}
    lat = m.latencies("us-east-1", placement)
    assert lat == {
        "n1": dist.Constant(value=0.3),
        "n2": dist.Constant(value=70.5),
        "n3": dist.Constant(value=152.4),
    }
    half = m.latencies("us-east-1", placement, one_way=True)
    assert half["n2"] == dist.Constant(value=35.25)
    assert m.latencies("us-east-1", {}) == {}


@pytest.mark.parametrize("jitter", JITTERS, ids=lambda j: type(j).__name__)
@pytest.mark.parametrize("one_way", [False, True])
def test_latencies_with_jitter_means_add_up(jitter: dist.Distribution, one_way: bool) -> None:
    m = rtt_matrix("aws-2020")
    placement = {"n1": "us-east-1", "n2": "eu-west-1"}
    lat = m.latencies("us-east-1", placement, jitter=jitter, one_way=one_way)
    for node, region in placement.items():
        base = m.rtt("us-east-1", region) / (2 if one_way else 1)
        d = lat[node]
        assert type(d) is type(jitter)
        assert d.mean == pytest.approx(base + jitter.mean, rel=1e-12)
        assert d.std == pytest.approx(jitter.std, rel=1e-9, abs=1e-12)
        # same seed, same draws, moved by exactly the base time
        np.testing.assert_allclose(
            d.sample(200, seed=7), jitter.sample(200, seed=7) + base, rtol=1e-12
        )


def test_shifted_keeps_shape_parameters() -> None:
    e = shifted(dist.Exponential(mean=2.0, shift=0.5), 70.5)
    assert e == dist.Exponential(mean=2.0, shift=71.0)
    assert (e.scale, e.mean) == (2.0, 73.0)  # .mean is the whole mean, shift included
    ln = shifted(dist.LogNormal(mu=0.1, sigma=0.5, shift=0.0), 3.0)
    assert (ln.mu, ln.sigma, ln.shift) == (0.1, 0.5, 3.0)
    w = shifted(dist.Weibull(shape=1.5, scale=2.0, shift=0.0), 10.0)
    assert (w.shape, w.scale, w.shift) == (1.5, 2.0, 10.0)
    u = shifted(dist.Uniform(low=1.0, high=4.0), 10.0)
    assert (u.low, u.high) == (11.0, 14.0)
    emp = dist.Empirical(samples=[0.5, 1.0])
    np.testing.assert_array_equal(shifted(emp, 1.0).samples, [1.5, 2.0])
    np.testing.assert_array_equal(emp.samples, [0.5, 1.0])  # the jitter is not mutated


def test_shifted_refuses_normal_and_foreign_objects() -> None:
    m = rtt_matrix("aws-2020")
    with pytest.raises(OpenHAError, match="Normal"):
        m.latencies("us-east-1", {"n1": "eu-west-1"}, jitter=dist.Normal(mean=1.0, std=0.1))
    with pytest.raises(OpenHAError, match=r"cannot shift 3\.0"):
        shifted(3.0, 1.0)  # type: ignore[type-var]
    with pytest.raises(OpenHAError, match="by_ms"):
        shifted(dist.Constant(value=1.0), float("nan"))
