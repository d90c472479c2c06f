"""Write snapshot frames to CSV, JSON or Parquet files (presentation only)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pandas as pd

from .errors import MognetLabError, bad_option

__all__ = ["EXPORT_FORMATS", "format_for", "write_frame"]

EXPORT_FORMATS = ("csv", "json", "parquet")


def format_for(path: str | None, chosen: str | None) -> str:
    """The export format: as chosen, else from the file suffix, else CSV."""
    if chosen:
        if chosen not in EXPORT_FORMATS:
            raise bad_option("format", chosen, " | ".join(EXPORT_FORMATS))
        return chosen
    suffix = Path(path).suffix.lstrip(".").lower() if path else ""
    if suffix and suffix not in EXPORT_FORMATS:
        raise bad_option("output suffix", f".{suffix}",
                         "a .csv, .json or .parquet file (or give --format)")
    return suffix or "csv"


def write_frame(frame: pd.DataFrame, target: str | Path | IO[str], fmt: str) -> None:
    """Write ``frame`` as ``fmt`` to a path or a text stream (CSV/JSON only)."""
    if fmt == "csv":
        frame.to_csv(target, index=False)
    elif fmt == "json":
        # One JSON object per row; timestamps in ISO-8601 UTC.
        frame.to_json(target, orient="records", lines=True, date_format="iso",
                      date_unit="us")
    elif fmt == "parquet":
        if not isinstance(target, (str, Path)):
            raise bad_option("output", "stdout", "a file path for parquet (-o PATH)")
        try:
            frame.to_parquet(target, index=False)
        except ImportError as exc:
            raise MognetLabError(
                "Parquet needs pyarrow: pip install 'mognet_lab[parquet]'") from exc
    else:
        raise bad_option("format", fmt, " | ".join(EXPORT_FORMATS))
