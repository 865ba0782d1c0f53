"""A self-contained HTML page: tables and altair charts, with Vega inlined (no network)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import altair as alt

__all__ = ["page"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.chart { margin: 1.5em 0; }
code, pre { background: #f6f6f6; }
"""


@lru_cache(maxsize=1)
def _vega_bundle() -> str:
    import vl_convert

    # The stub marks ``snippet`` required; at run time the default snippet puts
    # vegaEmbed on ``window``, which the page needs.
    return str(vl_convert.javascript_bundle())  # type: ignore[call-arg]


def _script_json(obj: object) -> str:
    # Safe inside <script>: no "</script>" or "<!--" can be formed by user strings.
    return json.dumps(obj).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(
    title: str,
    sections: Sequence[tuple[str, str | pd.DataFrame | alt.TopLevelMixin]],
    *,
    footer: str = "",
) -> str:
    """Render ``sections`` of (heading, body) to one HTML document.

    A body is plain text (escaped, paragraphs split on blank lines), a DataFrame
    (rendered as an escaped table) or an altair chart (embedded by vega-embed, whose
    JavaScript is inlined once).
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        f"<script>{_vega_bundle()}</script>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    embeds = []
    for i, (heading, body) in enumerate(sections):
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if isinstance(body, pd.DataFrame):
            parts.append(
                body.to_html(
                    index=False, escape=True, na_rep="—", float_format=lambda x: f"{x:.6g}"
                )
            )
        elif isinstance(body, str):
            for para in body.strip().split("\n\n"):
                parts.append(f"<p>{html.escape(para)}</p>")
        else:
            div = f"chart-{i}"
            parts.append(f'<div class="chart" id="{div}"></div>')
            embeds.append(
                f"vegaEmbed('#{div}', {_script_json(body.to_dict())}, "
                '{"mode": "vega-lite", "actions": false}).catch(console.error);'
            )
    if footer:
        parts.append(f"<hr><pre>{html.escape(footer)}</pre>")
    parts.append("<script>" + "\n".join(embeds) + "</script>")
    parts.append("</body></html>")
    return "\n".join(parts)
