"""What changed between two scans of an app: keys, bytes and results, by kind, task and state.

Pure: two snapshots in, frames out. Every table is sorted by the absolute
change in bytes, biggest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .analysis import app_bytes
from .snapshot import Snapshot

__all__ = ["Comparison", "ComparisonSummary", "compare", "redis_versions"]

# Results without a name (a hash holding only "id") are grouped under this label.
NO_NAME = "(none)"


@dataclass(frozen=True)
class ComparisonSummary:
    """The totals of a comparison; ``elapsed`` is ``new`` scan time minus ``old``."""

    app_old: str
    app_new: str
    elapsed: pd.Timedelta
    keys_old: int
    keys_new: int
    delta_keys: int
    bytes_old: int
    bytes_new: int
    delta_bytes: int
    results_old: int
    results_new: int
    new_results: int  # ids only in the new scan
    removed_results: int  # ids only in the old scan (expired or deleted)
    changed_state: int  # ids in both whose state differs
    notes: tuple[str, ...]  # what makes the deltas less than exact
    # The servers' Redis versions ("7.0.15", several joined by ", "; None: unknown).
    redis_version_old: str | None = None
    redis_version_new: str | None = None

    @property
    def versions_differ(self) -> bool:
        """True when both versions are known and differ: memory is counted differently."""
        return None not in (self.redis_version_old, self.redis_version_new) and \
            self.redis_version_old != self.redis_version_new


def _totals(frame: pd.DataFrame, by: str, size: str, label: str) -> pd.DataFrame:
    keys = frame[by].astype(object).where(frame[by].notna(), NO_NAME)
    sizes = pd.to_numeric(frame[size], errors="coerce").fillna(0)
    # A sampled scan's rows stand for `weight` keys each (1.0 after a full scan).
    weight = frame["weight"].fillna(1.0) if "weight" in frame.columns else 1.0
    grouped = pd.DataFrame({by: keys, "n": weight, "bytes": sizes * weight}).groupby(
        by, sort=False).sum().round()
    return grouped.rename(columns={"n": label})


def _delta_table(old: pd.DataFrame, new: pd.DataFrame, by: str, size: str, label: str
                 ) -> pd.DataFrame:
    """Counts and bytes per ``by`` in both scans, with deltas, biggest change first."""
    a, b = _totals(old, by, size, label), _totals(new, by, size, label)
    joined = a.join(b, how="outer", lsuffix="_old", rsuffix="_new").fillna(0)
    out = pd.DataFrame({by: joined.index.astype(str)})
    for column in (label, "bytes"):
        out[f"{column}_old"] = joined[f"{column}_old"].to_numpy().astype("int64")
        out[f"{column}_new"] = joined[f"{column}_new"].to_numpy().astype("int64")
        out[f"delta_{column}"] = out[f"{column}_new"] - out[f"{column}_old"]
    old_bytes = out["bytes_old"].astype("float64")
    out["delta_pct"] = (out["delta_bytes"] / old_bytes * 100).where(old_bytes > 0)
    out = out.astype({c: "Int64" for c in out.columns if c not in (by, "delta_pct")})
    out[by] = out[by].astype("string")
    size = out["delta_bytes"].abs().rename("size")
    order = pd.concat([size, out[by]], axis=1).sort_values(["size", by],
                                                          ascending=[False, True]).index
    return out.loc[order].reset_index(drop=True)


def _ids(snapshot: Snapshot) -> pd.Series:
    results = snapshot.results
    return pd.Series(results["state"].astype(object).to_numpy(),
                     index=results["result_id"].astype(object).to_numpy()).groupby(level=0).first()


def redis_versions(snapshot: Snapshot) -> str | None:
    """The Redis version(s) of a snapshot's servers, ``", "``-joined; None when unknown."""
    versions = snapshot.server["redis_version"].dropna().astype(str).unique()
    return ", ".join(sorted(versions)) or None


def _notes(old: Snapshot, new: Snapshot, elapsed: pd.Timedelta) -> tuple[str, ...]:
    notes = []
    if old.app != new.app:
        notes.append(f"different apps: {old.app!r} then {new.app!r}")
    before, after = redis_versions(old), redis_versions(new)
    if None not in (before, after) and before != after:
        # Same keys, other byte counts: 7.2 made small sets listpacks, 8.2 counts the
        # key's own name in MEMORY USAGE.
        notes.append(f"different Redis versions: {before} then {after}; memory accounting "
                     "changes across versions, so part of the bytes delta may be "
                     "accounting, not data")
    for label, snap in (("old", old), ("new", new)):
        if not snap.complete:
            notes.append(f"the {label} scan is partial (limit): its totals undercount")
        if snap.sampled:
            notes.append(f"the {label} scan read a {snap.sample_fraction:.2%} sample: its "
                         "figures are estimates (samples of one seed choose the same ids)")
    if elapsed < pd.Timedelta(0):
        notes.append("the 'new' snapshot was scanned before the 'old' one")
    return tuple(notes)


def _summary(old: Snapshot, new: Snapshot) -> ComparisonSummary:
    elapsed = pd.Timestamp(new.provenance.scanned_at) - pd.Timestamp(old.provenance.scanned_at)
    keys_old, keys_new = (sum(s.population.values()) if s.sampled else len(s.keys)
                          for s in (old, new))
    bytes_old, bytes_new = app_bytes(old), app_bytes(new)
    ids_old, ids_new = _ids(old), _ids(new)
    common = ids_old.index.intersection(ids_new.index)
    changed = int((ids_old[common].fillna("") != ids_new[common].fillna("")).sum())
    return ComparisonSummary(
        app_old=old.app, app_new=new.app, elapsed=elapsed, keys_old=keys_old,
        keys_new=keys_new, delta_keys=keys_new - keys_old, bytes_old=bytes_old,
        bytes_new=bytes_new, delta_bytes=bytes_new - bytes_old, results_old=len(ids_old),
        results_new=len(ids_new), new_results=len(ids_new.index.difference(ids_old.index)),
        removed_results=len(ids_old.index.difference(ids_new.index)), changed_state=changed,
        notes=_notes(old, new, elapsed), redis_version_old=redis_versions(old),
        redis_version_new=redis_versions(new))


class Comparison:
    """Two scans side by side (build it with :func:`compare`).

    Attributes
    ----------
    old, new : Snapshot
    by_kind : pandas.DataFrame
        ``kind``, ``keys_old``, ``keys_new``, ``delta_keys``, ``bytes_old``,
        ``bytes_new``, ``delta_bytes``, ``delta_pct`` (NaN when nothing before).
    by_task : pandas.DataFrame
        The same per task ``name``, counting ``results`` and their
        ``total_memory_bytes``.
    by_state : pandas.DataFrame
        The same per result ``state``.
    summary : ComparisonSummary
    """

    def __init__(self, old: Snapshot, new: Snapshot) -> None:
        self.old, self.new = old, new
        self.by_kind = _delta_table(old.keys, new.keys, "kind", "memory_bytes", "keys")
        self.by_task = _delta_table(old.results, new.results, "name", "total_memory_bytes",
                                    "results")
        self.by_state = _delta_table(old.results, new.results, "state", "total_memory_bytes",
                                     "results")
        self.summary = _summary(old, new)

    def __repr__(self) -> str:
        from .views import comparison_page, render_text

        return render_text(comparison_page(self, max_rows=10))

    def _repr_html_(self) -> str:
        from .views import comparison_page, render_html

        return render_html(comparison_page(self))


def compare(old: Snapshot, new: Snapshot) -> Comparison:
    """What changed from ``old`` to ``new`` (two scans of the same app, usually).

    Parameters
    ----------
    old
        The earlier snapshot.
    new
        The later snapshot.

    Returns
    -------
    Comparison
        ``.by_kind``, ``.by_task``, ``.by_state`` (biggest change in bytes
        first) and ``.summary`` (totals, elapsed time, new/removed results).
    """
    for label, snapshot in (("old", old), ("new", new)):
        if not isinstance(snapshot, Snapshot):
            from .errors import bad_option

            raise bad_option(label, type(snapshot).__name__, "a mognet_lab Snapshot")
    return Comparison(old, new)
