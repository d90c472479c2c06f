"""The main analyses of a :class:`~mognet_lab.Dataset`, as Dask computations.

Each analysis function of this package hands a dataset over here
(``if is_dataset(snapshot): return on_dataset.memory_by(memory_by, ...)``),
passing itself: it is what runs on each bucket.

A bucket holds whole result families, so each bucket, read alone, is a
complete small snapshot: the in-memory analysis runs on every bucket (one
``dask.delayed`` task each, on Dask's local scheduler or on the active
``distributed.Client``) and the small results are combined here. Counts and
bytes are summed; shares and ratios are recomputed from the sums and the
server frame. What does not decompose (the quantiles of compression ratios)
is computed from the gathered per-value ratios.

Rows whose sort key ties (same bytes) are ordered by label here; an in-memory
analysis orders them by first appearance in the scan.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence, TypeGuard

import numpy as np
import pandas as pd

from ..dataset.reading import Dataset, open_dataset
from ..errors import MognetLabError
from ..keys import KEY_KINDS
from ..snapshot import Snapshot
from . import _common

__all__ = ["RUN_ON_DATASETS", "anomalies", "check_runs_on_datasets", "compression",
           "expiry_schedule", "is_dataset", "memory_by", "never_expiring", "ttl_buckets",
           "value_summary"]

# The analyses that accept a dataset (anomaly_summary too, through anomalies).
RUN_ON_DATASETS = ("anomalies", "compression", "expiry_schedule", "memory_by",
                   "never_expiring", "ttl_buckets", "value_summary")

Analysis = Callable[..., Any]

_DATASET_GROUPS = ("kind", "name", "state", "node", "age")


def is_dataset(snapshot: object) -> TypeGuard[Dataset]:
    """Whether an analysis was given a dataset (its frames on disk) and not a snapshot."""
    return isinstance(snapshot, Dataset)


def check_runs_on_datasets(name: str, snapshot: object) -> None:
    """Refuse, in one line, a dataset given to an analysis that needs a snapshot."""
    if is_dataset(snapshot) and name not in RUN_ON_DATASETS:
        raise MognetLabError(
            f"{name}() needs a Snapshot, not a Dataset: bring buckets into memory with "
            "dataset.to_snapshot(buckets=[...]), or use one of "
            f"{', '.join(RUN_ON_DATASETS)}.")


def _on_bucket(path: str, bucket: int, function: Callable[..., Any], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Any:
    """``function(snapshot of one bucket, ...)``, and the bucket's app bytes."""
    snapshot = open_dataset(path).to_snapshot([bucket])
    return function(snapshot, *args, **kwargs), _common.app_bytes(snapshot)


def _each_bucket(dataset: Dataset, function: Callable[..., Any], *args: Any,
                 **kwargs: Any) -> tuple[list[Any], int]:
    """``function`` run on every bucket as Dask tasks; its results and the app's bytes."""
    import dask

    tasks = [dask.delayed(_on_bucket, pure=True)(str(dataset.path), bucket, function, args,
                                                 kwargs)
             for bucket in range(dataset.buckets)]
    done = dask.compute(*tasks)
    return [result for result, _ in done], sum(total for _, total in done)


def _summed(frames: Sequence[pd.DataFrame], by: list[str], sums: list[str]) -> pd.DataFrame:
    """Rows of every bucket with the same labels ``by`` added up (labels as objects)."""
    joined = pd.concat([frame.astype({c: object for c in by}) for frame in frames],
                       ignore_index=True)
    return joined.groupby(by, sort=True, dropna=False)[sums].sum().reset_index()


def _ordered(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Largest ``columns`` first; ties by label (sorted already by :func:`_summed`)."""
    return frame.sort_values(columns, ascending=False, kind="stable", ignore_index=True)


def _as_categories(frame: pd.DataFrame, column: str, like: pd.Series) -> None:
    """``column`` categorical as the in-memory analysis gives it: ``like``'s ordered
    categories, else the labels present."""
    dtype = like.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        frame[column] = pd.Categorical(frame[column], categories=dtype.categories, ordered=True)
    else:
        frame[column] = pd.Categorical(frame[column].astype(object))


def memory_by(in_memory: Analysis, dataset: Dataset, by: str, *,
              top: int | None) -> pd.DataFrame:
    """:func:`~mognet_lab.analysis.memory_by` of a dataset (``by="family"`` is not offered:
    one row per result is a frame as large as the results; use ``dataset.results``)."""
    _common.check_choice("by", by, _DATASET_GROUPS)
    top = None if top is None else _common.check_count("top", top)
    frames, app_total = _each_bucket(dataset, in_memory, by)
    sums = [c for c in ("results", "keys", "bytes") if c in frames[0].columns]
    grouped = _ordered(_summed(frames, [by], sums), ["bytes"])
    _as_categories(grouped, by, frames[0][by])
    grouped = grouped.astype({c: "int64" for c in sums})
    grouped = _common.keep_top(grouped, by, top, sums)
    return _common.add_shares(grouped, app_total, _common.used_memory(_server_only(dataset)))


def ttl_buckets(in_memory: Analysis, dataset: Dataset) -> pd.DataFrame:
    """:func:`~mognet_lab.analysis.ttl_buckets` of a dataset."""
    frames, _ = _each_bucket(dataset, in_memory)
    buckets = frames[0]["bucket"].cat.categories
    kinds = list(dict.fromkeys([*KEY_KINDS, *(k for f in frames for k in
                                              f["kind"].cat.categories)]))
    summed = _summed(frames, ["kind", "bucket"], ["keys", "bytes"])
    index = pd.MultiIndex.from_product([kinds, buckets], names=["kind", "bucket"])
    out = summed.set_index(["kind", "bucket"]).reindex(index, fill_value=0).reset_index()
    out["kind"] = pd.Categorical(out["kind"], categories=kinds)
    out["bucket"] = pd.Categorical(out["bucket"], categories=buckets, ordered=True)
    return out.astype({"keys": "int64", "bytes": "int64"})


def expiry_schedule(in_memory: Analysis, dataset: Dataset, *, horizon: object,
                    freq: object) -> pd.DataFrame:
    """:func:`~mognet_lab.analysis.expiry_schedule` of a dataset (every column but the
    time axis adds up over buckets)."""
    frames, _ = _each_bucket(dataset, in_memory, horizon=horizon, freq=freq)
    out = frames[0].copy()
    for column in out.columns.drop(["at", "hours"]):
        out[column] = np.sum([f[column].to_numpy() for f in frames], axis=0).astype("int64")
    return out


def never_expiring(in_memory: Analysis, dataset: Dataset) -> pd.DataFrame:
    """:func:`~mognet_lab.analysis.never_expiring` of a dataset."""
    frames, _ = _each_bucket(dataset, in_memory)
    grouped = _ordered(_summed(frames, ["kind", "state"], ["keys", "bytes"]),
                       ["bytes", "keys"])
    grouped["kind"] = pd.Categorical(grouped["kind"].astype(object))
    grouped["state"] = pd.Categorical(grouped["state"].astype(object))
    return grouped.astype({"keys": "int64", "bytes": "int64"})


def value_summary(in_memory: Analysis, dataset: Dataset) -> pd.DataFrame:
    """:func:`~mognet_lab.analysis.value_summary` of a dataset (the ratio from the sums)."""
    frames, _ = _each_bucket(dataset, in_memory)
    out = pd.concat(frames, ignore_index=True).drop(columns="ratio").sum().to_frame().T
    out = out.astype("int64")
    known_stored = int(out.at[0, "raw_bytes"] - out.at[0, "saved_bytes"])
    out.insert(list(frames[0].columns).index("ratio"), "ratio",
               out.at[0, "raw_bytes"] / known_stored if known_stored else np.nan)
    return out[list(frames[0].columns)]


def _ratios(snapshot: Snapshot, in_memory: Analysis, labelled: Analysis,
            groups: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = labelled(snapshot)
    rows = values[groups].astype(object).assign(ratio=values["compression_ratio"]
                                                .astype("float64"))
    return in_memory(snapshot, by=groups), rows


def compression(in_memory: Analysis, labelled: Analysis, dataset: Dataset,
                groups: list[str]) -> pd.DataFrame:
    """:func:`~mognet_lab.analysis.compression` of a dataset (``labelled``: the values with
    their result's labels, per bucket).

    Sums add up over buckets; the mean and quantiles of the per-value ratios
    do not, so they are computed from the gathered ratios (8 bytes a value).
    """
    done, _ = _each_bucket(dataset, _ratios, in_memory, labelled, groups)
    sums = ["values", "stored_bytes", "raw_bytes", "saved_bytes"]
    out = _summed([frame for frame, _ in done], groups, sums).set_index(groups)
    ratios = pd.concat([rows for _, rows in done], ignore_index=True) \
        .groupby(groups, sort=True, dropna=False)["ratio"]
    out["ratio_mean"] = ratios.mean()
    for column, q in (("ratio_p50", 0.5), ("ratio_p10", 0.1), ("ratio_p90", 0.9)):
        out[column] = ratios.quantile(q)
    known = (out["raw_bytes"] - out["saved_bytes"]).astype("float64")
    out["ratio_overall"] = out["raw_bytes"] / known.where(known > 0)
    out = _ordered(out.reset_index(), ["stored_bytes"])
    for column in groups:
        out[column] = pd.Categorical(out[column].astype(object))
    return out.astype({c: "int64" for c in sums})


def anomalies(in_memory: Analysis, dataset: Dataset, **options: Any) -> pd.DataFrame:
    """:func:`~mognet_lab.analysis.anomalies` of a dataset, one row per occurrence.

    Every anomaly concerns one family, but ``child_missing``: a child is
    another result, in any bucket. A bucket flags the children it does not
    hold; those whose result hash is in another bucket are dropped here.
    """
    frames, _ = _each_bucket(dataset, in_memory, **options)
    found = pd.concat(frames, ignore_index=True)
    flagged = (found["anomaly"] == "child_missing").to_numpy(dtype=bool)
    if flagged.any():
        present = _existing_results(dataset, set(found.loc[flagged, "result_id"].dropna()))
        held = found["result_id"].astype(object).isin(present).to_numpy(dtype=bool)
        found = found[~(flagged & held)].reset_index(drop=True)
    found.attrs.update(frames[0].attrs)
    return found


def _existing_results(dataset: Dataset, ids: set[str]) -> set[str]:
    """Which of ``ids`` have a result hash in the dataset (a Dask computation)."""
    import dask

    wanted = sorted(ids)
    keys, results = dataset.keys, dataset.results
    in_keys = keys[(keys["kind"] == "result") & keys["result_id"].isin(wanted)]["result_id"]
    in_results = results[results["result_id"].isin(wanted)]["result_id"]
    found = dask.compute(in_keys, in_results)
    return set(found[0].dropna()) | set(found[1].dropna())


def _server_only(dataset: Dataset) -> Snapshot:
    """A snapshot with the dataset's server frame only (what used_memory reads)."""
    return Snapshot.from_frames(app=dataset.provenance.app,
                                scanned_at=dataset.provenance.scanned_at,
                                server=dataset.server)
