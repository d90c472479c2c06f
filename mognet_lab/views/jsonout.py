"""A report as JSON for machines: every section's tables as records, findings, provenance.

Values are raw, not formatted: bytes as integers, shares as fractions
(0..1), durations and TTLs in seconds, times as ISO 8601 UTC strings,
missing values as ``null``. Tables hold the same capped rows as the other
renderings, with ``total_rows`` and ``not_shown`` saying what was left out.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from .cells import is_missing
from .model import Fact, Page, Section, Table

__all__ = ["FORMAT", "FORMAT_VERSION", "plain", "render_json", "report_dict"]

FORMAT = "mognet_lab.report"
FORMAT_VERSION = 1


def render_json(data: Page) -> str:
    """The report as an indented JSON document (UTF-8 text, no NaN)."""
    return json.dumps(report_dict(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def report_dict(data: Page) -> dict[str, Any]:
    """The report as plain Python values (what :func:`render_json` writes)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "title": data.title,
        "app": data.app,
        "generated_at": plain(data.generated_at),
        "mognet_lab_version": __version__,
        "redacted": data.redacted,
        "provenance": data.provenance,
        "findings": [] if data.findings is None else records(data.findings),
        "sections": [_section(s) for s in data.sections],
        "footer": _facts(data.footer),
    }


def _section(section: Section) -> dict[str, Any]:
    return {"key": section.key, "title": section.title, "facts": _facts(section.facts),
            "text": list(section.text), "tables": [_table(t) for t in section.tables],
            "charts": [{"key": c.key, "title": c.title} for c in section.charts]}


def _facts(facts: tuple[Fact, ...]) -> dict[str, Any]:
    return {f.label: plain(f.value) for f in facts}


def _table(table: Table) -> dict[str, Any]:
    return {"key": table.key, "title": table.title, "columns": [str(c) for c in
                                                               table.frame.columns],
            "rows": records(table.frame), "total_rows": table.total_rows,
            "not_shown": table.not_shown, "note": table.note}


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of plain values."""
    columns = [str(c) for c in frame.columns]
    values = [frame[c].tolist() for c in frame.columns]
    return [{name: plain(column[i]) for name, column in zip(columns, values)}
            for i in range(len(frame))]


def plain(value: Any) -> Any:
    """``value`` as a JSON-ready Python value (see the module docstring for units)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, datetime)):
        stamp = pd.Timestamp(value)
        return (stamp.tz_localize("UTC") if stamp.tzinfo is None else
                stamp.tz_convert("UTC")).isoformat()
    if isinstance(value, (pd.Timedelta, timedelta, np.timedelta64)):
        return pd.Timedelta(value).total_seconds()
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, str) else str(value)
