"""Reports: charts, a self-contained HTML page, Markdown, CSV and provenance."""

from openha.report.build import report

__all__ = ["report"]
