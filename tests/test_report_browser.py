"""The report in a real headless browser: every chart renders, and nothing is fetched.

Needs Debian's ``chromium``. ``make test`` installs it where it can; CI sets
``OPENHA_REQUIRE_BROWSER=1`` so a missing browser fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

import openha as ha

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
REQUIRED = os.environ.get("OPENHA_REQUIRE_BROWSER") == "1"


def _browser() -> str:
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail(
                "OPENHA_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)"
            )
        pytest.skip("no chromium on PATH; `make test` installs it where it can")
    return CHROMIUM


def _run(browser: str, profile: Path, *args: str) -> str:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        # Any request the page makes would have to go through this dead proxy.
        "--proxy-server=http://127.0.0.1:9",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=30000",
        *args,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


class _Charts(HTMLParser):
    """For each element id asked for: whether an <svg> or <canvas> renders inside it."""

    def __init__(self, ids: set[str]) -> None:
        super().__init__()
        self.ids = ids
        self.stack: list[str | None] = []
        self.rendered: dict[str, bool] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        if tag in ("svg", "canvas"):
            for open_id in self.stack:
                if open_id is not None:
                    self.rendered[open_id] = True
        if tag in ("br", "img", "meta", "link", "input", "hr", "path", "rect", "line"):
            return  # void or commonly self-closed: never pushed
        self.stack.append(ident if ident in self.ids else None)
        if ident in self.ids:
            self.rendered.setdefault(ident, False)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "img", "meta", "link", "input", "hr", "path", "rect", "line"):
            return
        if self.stack:
            self.stack.pop()


def _png_ink(path: Path) -> float:
    """Fraction of pixels that are not (nearly) white, from an 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6) and body[12] == 0  # RGB(A), not interlaced
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    ink = 0
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 255
        for x in range(0, stride, channels):
            if min(line[x], line[x + 1], line[x + 2]) < 200:
                ink += 1
        prev = line
    return ink / (width * height)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    browser = _browser()
    root = tmp_path_factory.mktemp("browser")
    out = ha.report(root / "report", images=False)
    index = out / "index.html"
    html = index.read_text()
    ids = set(re.findall(r"vegaEmbed\('#([\w-]+)'", html))
    netlog = root / "net.json"
    dom = _run(
        browser, root / "p1", f"--log-net-log={netlog}", "--dump-dom", index.as_uri()
    )  # fmt: skip
    shot = root / "shot.png"
    _run(browser, root / "p2", f"--screenshot={shot}", "--window-size=1280,3000", index.as_uri())
    return {"ids": ids, "dom": dom, "netlog": netlog, "shot": shot, "html": html}


def test_every_chart_renders(rendered: dict[str, object]) -> None:
    ids = rendered["ids"]
    assert isinstance(ids, set) and len(ids) >= 3  # the report has several charts
    parser = _Charts(ids)
    parser.feed(str(rendered["dom"]))
    assert set(parser.rendered) == ids, "a chart container is missing from the DOM"
    blank = sorted(i for i, ok in parser.rendered.items() if not ok)
    assert not blank, f"charts that drew nothing: {blank}"


def _page_requests(netlog: Path) -> list[str]:
    """URLs of the requests a page started (the browser's own carry no initiator)."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted(
        str(e["params"]["url"])
        for e in log.get("events", [])
        if e.get("type") == start
        and e["params"].get("initiator", "not an origin") != "not an origin"
    )


def test_the_page_makes_no_network_request(rendered: dict[str, object]) -> None:
    html = str(rendered["html"])
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']https?:""", html)
    assert _page_requests(Path(str(rendered["netlog"]))) == []


def test_the_network_check_sees_a_page_that_fetches(tmp_path: Path) -> None:
    """The check above can fail: a page loading a remote image is caught."""
    browser = _browser()
    page = tmp_path / "fetch.html"
    page.write_text('<html><body><img src="http://openha.invalid/x.png"></body></html>')
    netlog = tmp_path / "net.json"
    _run(browser, tmp_path / "p", f"--log-net-log={netlog}", "--dump-dom", page.as_uri())
    assert _page_requests(netlog) == ["http://openha.invalid/x.png"]


def test_the_screenshot_shows_the_charts(rendered: dict[str, object]) -> None:
    ink = _png_ink(Path(str(rendered["shot"])))
    # Text alone covers a few per cent of a white page; drawn charts add marks and axes.
    assert 0.02 < ink < 0.9, f"ink fraction {ink:.3f}"
