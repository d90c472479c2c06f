"""Memory over time: the figures of many saved snapshots of one app, one row per scan.

A cron job saving a scan into a dated folder (``mognet-lab scan URL --app APP
--save history/$(date -u +%Y%m%dT%H%M).mognetlab``) builds the directory;
:class:`History` reads every snapshot in it once, keeps only each one's
figures (a snapshot of a large app is big: it is loaded again on request with
:meth:`History.snapshot`), and orders them by scan time. An entry that is not a
readable snapshot, or one of another app, is skipped with a warning.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .analysis import app_bytes, findings, forecast, maxmemory, used_memory, without_ttl
from .compare import redis_versions
from .errors import MognetLabError, bad_option
from .keys import KEY_KINDS
from .persist import load_snapshot
from .snapshot import Snapshot

__all__ = ["FIGURES", "HISTORY_GROUPS", "History", "snapshot_figures"]

HISTORY_GROUPS = ("kind", "task")
# Results without a name (a hash holding only "id"), as compare labels them.
NO_NAME = "(none)"
_SEVERITIES = ("critical", "warning", "info")
FIGURES = ("path", "app", "scanned_at", "complete", "redis_version", "used_memory", "maxmemory",
           "app_bytes", "keys", "results", *(f"{kind}_bytes" for kind in KEY_KINDS),
           "keys_without_ttl", "without_ttl_bytes", *(f"findings_{s}" for s in _SEVERITIES),
           "forecast_bytes", "time_to_maxmemory")


def snapshot_figures(snapshot: Snapshot) -> dict[str, Any]:
    """The headline figures of one scan: memory, keys, keys without TTL, findings.

    Returns
    -------
    dict
        ``app``, ``scanned_at``, ``complete``, ``redis_version``,
        ``used_memory``, ``maxmemory``, ``app_bytes``, ``keys``, ``results``,
        ``<kind>_bytes`` for each key kind, ``keys_without_ttl``,
        ``without_ttl_bytes``, ``findings_<severity>``, ``forecast_bytes``
        (steady state plus what never expires, :func:`analysis.forecast`)
        and ``time_to_maxmemory``.
    """
    keys, lasting = snapshot.keys, without_ttl(snapshot)
    sizes = _sizes(keys, "kind", "memory_bytes")
    severity = findings(snapshot)["severity"].astype(object).value_counts()
    ahead = forecast(snapshot).iloc[0] if len(snapshot.results) else None
    return {
        "app": snapshot.app, "scanned_at": pd.Timestamp(snapshot.provenance.scanned_at),
        "complete": snapshot.complete, "redis_version": redis_versions(snapshot),
        "used_memory": used_memory(snapshot), "maxmemory": maxmemory(snapshot),
        "app_bytes": app_bytes(snapshot), "keys": len(keys),
        "results": int(snapshot.results["result_id"].nunique()),
        **{f"{kind}_bytes": int(sizes.get(kind, 0)) for kind in KEY_KINDS},
        "keys_without_ttl": len(lasting),
        "without_ttl_bytes": int(pd.to_numeric(lasting["memory_bytes"]).fillna(0).sum()),
        **{f"findings_{s}": int(severity.get(s, 0)) for s in _SEVERITIES},
        "forecast_bytes": None if ahead is None else float(ahead["total_bytes"]),
        "time_to_maxmemory": None if ahead is None else ahead["time_to_maxmemory"],
    }


def _sizes(frame: pd.DataFrame, by: str, column: str) -> pd.Series:
    labels = frame[by].astype(object).where(frame[by].notna(), NO_NAME)
    sizes = pd.to_numeric(frame[column], errors="coerce").fillna(0)
    return sizes.groupby(labels.to_numpy()).sum()


def _main_app(rows: list[dict[str, Any]]) -> str | None:
    """The app with the most snapshots; of equals, the one scanned last."""
    counts: dict[str, int] = {}
    for row in rows:  # oldest first: the last one counted wins a tie
        counts[row["app"]] = counts.get(row["app"], 0) + 1
    best = max(counts.values(), default=0)
    return next((r["app"] for r in reversed(rows) if counts[r["app"]] == best), None)


def _typed(figures: pd.DataFrame) -> pd.DataFrame:
    figures["scanned_at"] = pd.to_datetime(figures["scanned_at"], utc=True)
    # An all-NaT column comes in as datetimes: rebuild it from the values.
    figures["time_to_maxmemory"] = pd.Series(pd.to_timedelta(
        [None if pd.isna(v) else v for v in figures["time_to_maxmemory"]]),
        index=figures.index, dtype="timedelta64[ns]")
    counts = ["app_bytes", "keys", "results", "keys_without_ttl", "without_ttl_bytes",
              *(f"{kind}_bytes" for kind in KEY_KINDS),
              *(c for c in FIGURES if c.startswith("findings_"))]
    return figures.astype({**{c: "Int64" for c in counts}, "used_memory": "float64",
                           "maxmemory": "float64", "forecast_bytes": "float64",
                           "complete": "boolean"})


class History:
    """Saved snapshots of one app, as figures over time (oldest first).

    Parameters
    ----------
    directory
        A folder of saved snapshots (``Snapshot.save`` / ``scan --save``).
    app
        Keep this app's snapshots; default: the app with the most snapshots
        there (of equals, the one scanned last).

    Attributes
    ----------
    figures : pandas.DataFrame
        One row per snapshot, by scan time: ``path`` and the columns of
        :func:`snapshot_figures`.
    skipped : tuple of (Path, str)
        Entries that were not read, with the reason (also warned about).
    """

    def __init__(self, directory: str | os.PathLike[str], *, app: str | None = None) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise MognetLabError(f"No history at {str(self.directory)!r}: not a directory "
                                 "(save scans into one with `scan --save DIR/NAME`).")
        loaded, skipped = self._read_all()
        app = app if app is not None else _main_app([row for _, row, _ in loaded])
        for path, row, _ in loaded:
            if row["app"] != app:
                skipped.append((path, f"a snapshot of app {row['app']!r}, not {app!r}"))
        kept = [entry for entry in loaded if entry[1]["app"] == app]
        for path, reason in skipped:
            warnings.warn(f"History skips {str(path)!r}: {reason}", UserWarning, stacklevel=2)
        self.app = app
        self.skipped = tuple(skipped)
        self.figures = _typed(pd.DataFrame([{"path": str(p), **row} for p, row, _ in kept],
                                           columns=list(FIGURES)))
        self._groups = {by: pd.DataFrame([g[by] for _, _, g in kept]).fillna(0)
                        for by in HISTORY_GROUPS}
        self._index = pd.DatetimeIndex([row["scanned_at"] for _, row, _ in kept],
                                       name="scanned_at")

    def _read_all(self) -> tuple[list[tuple[Path, dict[str, Any], dict[str, pd.Series]]],
                                 list[tuple[Path, str]]]:
        loaded, skipped = [], []
        for path in sorted(self.directory.iterdir()):
            if path.name.startswith("."):
                continue  # hidden files and partial saves are nobody's snapshot
            try:
                snapshot = load_snapshot(path)
            except (MognetLabError, OSError, ValueError, KeyError, TypeError) as exc:
                skipped.append((path, str(exc)))
                continue
            groups = {"kind": _sizes(snapshot.keys, "kind", "memory_bytes"),
                      "task": _sizes(snapshot.results, "name", "total_memory_bytes")}
            loaded.append((path, snapshot_figures(snapshot), groups))
        loaded.sort(key=lambda entry: entry[1]["scanned_at"])
        return loaded, skipped

    def __len__(self) -> int:
        return len(self.figures)

    def __repr__(self) -> str:
        span = "" if not len(self) else \
            f", {self._index[0]:%Y-%m-%d %H:%M} to {self._index[-1]:%Y-%m-%d %H:%M} UTC"
        return (f"<History of {self.app!r}: {len(self)} snapshots{span}"
                f"{f', {len(self.skipped)} skipped' if self.skipped else ''}>")

    def memory_by(self, by: str = "kind") -> pd.DataFrame:
        """Bytes per key kind or per task over time: one row per snapshot, one column each.

        Parameters
        ----------
        by
            ``"kind"`` (``keys`` memory by key kind) or ``"task"`` (results'
            ``total_memory_bytes`` by task name).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``scanned_at``; columns ordered by the latest bytes,
            largest first; 0 where a snapshot had none.
        """
        if by not in HISTORY_GROUPS:
            raise bad_option("by", by, " or ".join(repr(g) for g in HISTORY_GROUPS))
        table = self._groups[by].copy()
        table.index = self._index
        if not len(table):
            return table
        order = table.iloc[-1].sort_values(ascending=False, kind="stable").index
        return table[list(order)].astype("int64")

    def snapshot(self, index: int = -1) -> Snapshot:
        """Load one snapshot again (the latest by default)."""
        return load_snapshot(self.figures["path"].iloc[index])
