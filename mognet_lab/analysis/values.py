"""What the stored values cost: compression, exceptions, the largest, hash encoding.

Values are usually the bulk of a Mognet app's memory. Each ``/value`` hash
holds the (by default gzipped) JSON of the returned value or of the
exception; the worker also stores a ``ResultNotReady`` placeholder before a
task finishes, counted here as a placeholder, never as an exception.
"""

from __future__ import annotations

import json
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import bad_option
from ..format import EXCEPTION_INFO_TYPE
from ..keys import KIND_VALUE, result_key
from ..snapshot import Snapshot
from ._common import (
    MISSING,
    check_count,
    check_number,
    label,
    lookup,
    memory,
    placeholder_mask,
    result_lookup,
)
from .estimate import estimate_total
from .memo import memoized

__all__ = [
    "COMPRESSION_GROUPS",
    "LISTPACK_OVERHEAD_BYTES",
    "REDIS_DEFAULT_LISTPACK_VALUE",
    "compression",
    "exceptions",
    "largest_values",
    "listpack_overflow",
    "poorly_compressed",
    "value_summary",
]

COMPRESSION_GROUPS = ("name", "state", "node", "value_type", "encoding", "content_type",
                      "exception_name", "redis_encoding")
# Redis' default hash-max-listpack-value (hash-max-ziplist-value before 7.0).
REDIS_DEFAULT_LISTPACK_VALUE = 64
# MEMORY USAGE of a listpack-encoded value hash, minus its contents, other
# fields and key name: measured 72-77 B on Redis 7.0 / jemalloc (robj, dict
# entry, listpack header and entry headers, allocator rounding).
LISTPACK_OVERHEAD_BYTES = 72
# Listpack overflow matters (a finding; the server check warns) once its
# estimated cost is this share of the app's memory.
LISTPACK_SHARE = 0.10
_FIELD_NAMES_BYTES = len("contents") + len("encoding") + len("content_type")
_NULL_JSON_BYTES = len("null")
_RATIO_QUANTILES = {"ratio_p50": 0.5, "ratio_p10": 0.1, "ratio_p90": 0.9}
_COMPRESSION_SUMS = ["values", "stored_bytes", "raw_bytes", "saved_bytes"]


@memoized
def compression(snapshot: Snapshot, *,
                by: str | Sequence[str] = ("name", "value_type")) -> pd.DataFrame:
    """How well values compress, per group.

    Parameters
    ----------
    snapshot
        The scan to analyse.
    by
        One or more of :data:`COMPRESSION_GROUPS`. ``name``, ``state`` and
        ``node`` come from the owning result (``"(no result)"`` when its hash
        is gone); other missing labels read ``"(none)"``.

    Returns
    -------
    pandas.DataFrame
        ``[*by, values, stored_bytes, raw_bytes, saved_bytes, ratio_mean,
        ratio_p50, ratio_p10, ratio_p90, ratio_overall]`` largest
        ``stored_bytes`` first. ``raw_bytes`` and ``saved_bytes`` count only
        values whose raw size is known; ``ratio_*`` describe the per-value
        raw/stored ratios, ``ratio_overall`` the byte-weighted one.
    """
    groups = _check_groups(by)
    from .on_dataset import compression as on_dataset, is_dataset

    if is_dataset(snapshot):
        return on_dataset(compression, _labelled, snapshot, groups)
    values = _labelled(snapshot)
    rows = values[groups].copy()
    rows["values"] = 1
    rows["stored_bytes"] = memory(values, "stored_bytes")
    known = values["raw_bytes"].notna() & values["stored_bytes"].notna()
    rows["raw_bytes"] = memory(values, "raw_bytes").where(known, 0)
    rows["saved_bytes"] = (rows["raw_bytes"] - rows["stored_bytes"]).where(known, 0)
    rows["known_stored"] = rows["stored_bytes"].where(known, 0)
    rows["ratio"] = values["compression_ratio"].astype("float64")
    grouped = rows.groupby(groups, sort=False)
    out = grouped[[*_COMPRESSION_SUMS, "known_stored"]].sum()
    out["ratio_mean"] = grouped["ratio"].mean()
    for column, q in _RATIO_QUANTILES.items():
        out[column] = grouped["ratio"].quantile(q)
    out["ratio_overall"] = out["raw_bytes"] / out["known_stored"].where(out["known_stored"] > 0)
    out = out.drop(columns="known_stored").reset_index()
    out = out.sort_values("stored_bytes", ascending=False, kind="stable", ignore_index=True)
    return _categorical(out, groups).astype({c: "int64" for c in _COMPRESSION_SUMS})


@memoized
def poorly_compressed(snapshot: Snapshot, *, threshold: float = 1.1,
                      min_bytes: int = 1024) -> pd.DataFrame:
    """Values that take room but gzip barely shrinks (or that are not compressed).

    Parameters
    ----------
    snapshot
        The scan to analyse.
    threshold
        Keep values whose raw/stored ratio is below this.
    min_bytes
        Keep values storing at least this many bytes.

    Returns
    -------
    pandas.DataFrame
        ``[result_id, name, value_type, encoding, stored_bytes, raw_bytes,
        compression_ratio, memory_bytes]`` largest ``stored_bytes`` first.
        Plain (uncompressed) values have a ratio of 1 and appear here too.
    """
    threshold = check_number("threshold", threshold)
    min_bytes = check_count("min_bytes", min_bytes, minimum=0)
    values = _labelled(snapshot)
    poor = (values["compression_ratio"] < threshold) & (values["stored_bytes"] >= min_bytes)
    columns = ["result_id", "name", "value_type", "encoding", "stored_bytes", "raw_bytes",
               "compression_ratio", "memory_bytes"]
    found = values.loc[poor.fillna(False).astype(bool), columns]
    found = found.sort_values("stored_bytes", ascending=False, kind="stable", ignore_index=True)
    return _categorical(found, ["name", "value_type", "encoding"])


@memoized
def exceptions(snapshot: Snapshot) -> pd.DataFrame:
    """Stored exceptions (failed, revoked, invalid results) by exception type.

    The ``ResultNotReady`` placeholder is not an exception: see
    :func:`value_summary`'s ``placeholders``.

    Returns
    -------
    pandas.DataFrame
        ``[exception_name, values, stored_bytes, memory_bytes,
        example_message]``, most frequent first.
    """
    values = snapshot.values
    found = values[_is_exception(values) & ~placeholder_mask(values)]
    rows = pd.DataFrame({"exception_name": label(found["exception_name"], "(unknown)"),
                         "values": 1, "stored_bytes": memory(found, "stored_bytes"),
                         "memory_bytes": memory(found),
                         "example_message": found["exception_message"].astype(object)})
    grouped = rows.groupby("exception_name", sort=False)
    out = grouped[["values", "stored_bytes", "memory_bytes"]].sum()
    out["example_message"] = grouped["example_message"].first()
    out = out.reset_index().sort_values(["values", "stored_bytes"], ascending=False,
                                        kind="stable", ignore_index=True)
    out["example_message"] = out["example_message"].astype("string")
    return _categorical(out, ["exception_name"]).astype(
        {"values": "int64", "stored_bytes": "int64", "memory_bytes": "int64"})


@memoized
def largest_values(snapshot: Snapshot, *, n: int = 20) -> pd.DataFrame:
    """The ``n`` values that take the most memory.

    Returns
    -------
    pandas.DataFrame
        ``[result_id, name, state, value_type, encoding, stored_bytes,
        raw_bytes, memory_bytes, ttl_s]``, by ``memory_bytes`` (then
        ``stored_bytes``) descending; unknown sizes last.
    """
    n = check_count("n", n)
    values = _labelled(snapshot)
    columns = ["result_id", "name", "state", "value_type", "encoding", "stored_bytes",
               "raw_bytes", "memory_bytes", "ttl_s"]
    ordered = values[columns].sort_values(["memory_bytes", "stored_bytes"], ascending=False,
                                          kind="stable", na_position="last", ignore_index=True)
    return _categorical(ordered.head(n), ["name", "state", "value_type", "encoding"])


@memoized
def listpack_overflow(snapshot: Snapshot) -> pd.DataFrame:
    """Values too big for Redis' compact hash encoding, and what that costs.

    A hash stays a compact listpack while every field is at most
    ``hash-max-listpack-value`` bytes (server frame; Redis' default 64 when
    unknown, flagged by ``assumed_limit``). A gzipped value of almost any
    size exceeds it, so its hash becomes a ``hashtable``: a dict with one
    allocation per field. The ``redis_encoding`` Redis reported decides;
    values whose encoding is unknown are compared with the limit.

    The overhead per value is estimated as ``memory_bytes - (stored_bytes +
    other fields + key name + 72 B)``, the 72 B being what a listpack hash
    costs beyond its data (measured on Redis 7.0); it comes to about 250 B
    per value, clipped at 0.

    Returns
    -------
    pandas.DataFrame
        ``[name, values, stored_bytes, memory_bytes, extra_bytes_estimate,
        limit_bytes, assumed_limit]`` by task name, largest estimate first.
    """
    limit, assumed = _listpack_limit(snapshot)
    values = _labelled(snapshot)
    found = values[_overflows(values, limit)]
    rows = pd.DataFrame({"name": found["name"], "values": 1,
                         "stored_bytes": memory(found, "stored_bytes"),
                         "memory_bytes": memory(found),
                         "extra_bytes_estimate": _extra_bytes(snapshot.app, found)})
    out = rows.groupby("name", sort=False).sum().reset_index()
    out = out.sort_values(["extra_bytes_estimate", "memory_bytes"], ascending=False,
                          kind="stable", ignore_index=True)
    out["limit_bytes"], out["assumed_limit"] = limit, assumed
    return _categorical(out, ["name"]).astype(
        {"values": "int64", "stored_bytes": "int64", "memory_bytes": "int64",
         "extra_bytes_estimate": "int64", "limit_bytes": "int64", "assumed_limit": bool})


@memoized
def value_summary(snapshot: Snapshot) -> pd.DataFrame:
    """Every value in one row.

    Returns
    -------
    pandas.DataFrame
        One row: ``values``, ``placeholders`` (ResultNotReady), ``exceptions``
        (other stored exceptions), ``stored_bytes``, ``raw_bytes`` and
        ``saved_bytes`` (values whose raw size is known), ``ratio`` (overall
        raw/stored of those, NaN when none), ``memory_bytes``, ``no_ttl``
        (values without a TTL) and ``errors`` (values read with an error).
    """
    from .on_dataset import is_dataset, value_summary as on_dataset

    if is_dataset(snapshot):
        return on_dataset(value_summary, snapshot)
    values = snapshot.values
    known = values["raw_bytes"].notna() & values["stored_bytes"].notna()
    stored, raw = memory(values, "stored_bytes"), memory(values, "raw_bytes")
    known_stored, known_raw = int(stored[known].sum()), int(raw[known].sum())
    placeholder = placeholder_mask(values)
    if snapshot.sampled:
        return _estimated_summary(snapshot, values, known, placeholder)
    return pd.DataFrame([{
        "values": len(values),
        "placeholders": int(placeholder.sum()),
        "exceptions": int((_is_exception(values) & ~placeholder).sum()),
        "stored_bytes": int(stored.sum()),
        "raw_bytes": known_raw,
        "saved_bytes": known_raw - known_stored,
        "ratio": known_raw / known_stored if known_stored else np.nan,
        "memory_bytes": int(memory(values).sum()),
        "no_ttl": int(values["ttl_s"].isna().sum()),
        "errors": int(values["error"].notna().sum()),
    }])


def _estimated_summary(snapshot: Snapshot, values: pd.DataFrame, known: pd.Series,
                       placeholder: np.ndarray) -> pd.DataFrame:
    """:func:`value_summary` of a sampled snapshot: ``values`` exact (the walk's count),
    the other counts and sums estimates with ``_low``/``_high``; ``ratio`` is the ratio
    of the estimated raw and stored sizes, ``saved_bytes`` their difference."""
    rows = pd.DataFrame({
        "kind": "value", "placeholders": placeholder.astype("int64"),
        "exceptions": (_is_exception(values) & ~placeholder).astype("int64"),
        "stored_bytes": memory(values, "stored_bytes"),
        "raw_bytes": memory(values, "raw_bytes").where(known, 0),
        "known_stored": memory(values, "stored_bytes").where(known, 0),
        "memory_bytes": memory(values), "no_ttl": values["ttl_s"].isna().astype("int64"),
        "result_id": values["result_id"],
    })
    sums = [c for c in rows.columns if c not in ("kind", "result_id")]
    total = estimate_total(snapshot, rows, sums, kinds=["value"])
    figures: dict[str, float] = {"values": float(snapshot.population.get("value", 0))}
    for column in sums:
        if column != "known_stored":
            figures.update({n: total[n] for n in (column, f"{column}_low", f"{column}_high")})
    figures["saved_bytes"] = total["raw_bytes"] - total["known_stored"]
    figures["ratio"] = total["raw_bytes"] / total["known_stored"] if total["known_stored"] \
        else np.nan
    figures["errors"] = int(values["error"].notna().sum())
    return pd.DataFrame([figures])


def _check_groups(by: str | Sequence[str]) -> list[str]:
    groups = [by] if isinstance(by, str) else list(by) if isinstance(by, (list, tuple)) else []
    if not groups or len(set(groups)) != len(groups) or \
            any(g not in COMPRESSION_GROUPS for g in groups):
        raise bad_option("by", by, "one or more distinct names from " + ", ".join(
            COMPRESSION_GROUPS))
    return groups


def _labelled(snapshot: Snapshot) -> pd.DataFrame:
    """The values frame with its result's name/state/node and NA labels filled."""
    values = snapshot.values.copy()
    table = result_lookup(snapshot)
    for column in ("name", "state", "node"):
        values[column] = lookup(values["result_id"], table, column)
    for column in ("value_type", "encoding", "content_type", "exception_name",
                   "redis_encoding"):
        values[column] = label(values[column])
    return values


def _categorical(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.Categorical(frame[column].astype(object))
    return frame


def _is_exception(values: pd.DataFrame) -> pd.Series:
    typed = values["value_type"].astype(object) == EXCEPTION_INFO_TYPE
    return values["is_exception"].astype(object).where(
        values["is_exception"].notna(), typed).astype(bool)


def _listpack_limit(snapshot: Snapshot) -> tuple[int, bool]:
    """The smallest limit any node reports (stricter wins), or Redis' default."""
    server = snapshot.server
    known = server["hash_max_listpack_value"].dropna()
    if known.empty:
        return REDIS_DEFAULT_LISTPACK_VALUE, True
    return int(known.min()), False


def _overflows(values: pd.DataFrame, limit: int) -> pd.Series:
    """Redis' own answer where known; else whether ``contents`` exceeds the limit.

    Redis converts a hash only when it is written, so after a CONFIG SET the
    encoding can disagree with the size: the encoding is what costs memory.
    """
    encoding = values["redis_encoding"].astype(object)
    too_big = (values["stored_bytes"] > limit).fillna(False).astype(bool)
    return (encoding == "hashtable").where(encoding != MISSING, too_big).astype(bool)


def _extra_bytes(app: str, values: pd.DataFrame) -> pd.Series:
    """Per value: memory beyond what the same data would take as a listpack."""
    # Result ids are ASCII UUIDs: characters are bytes.
    key_bytes = len(result_key(app, "", KIND_VALUE).encode()) \
        + values["result_id"].astype("string").str.len().fillna(0).astype("int64")
    fields = _FIELD_NAMES_BYTES + _json_bytes(values["encoding"]) \
        + _json_bytes(values["content_type"])
    compact = memory(values, "stored_bytes") + fields + key_bytes + LISTPACK_OVERHEAD_BYTES
    extra = values["memory_bytes"].astype("Float64") - compact
    return extra.clip(lower=0).fillna(0).astype("int64")


def _json_bytes(labels: pd.Series) -> pd.Series:
    """Bytes of the JSON text Mognet stores for a field (``null`` when missing)."""
    # Mapped per category: a few distinct texts, however many values.
    sizes = labels.astype("category").map(
        lambda text: _NULL_JSON_BYTES if text == MISSING else len(json.dumps(text).encode()))
    return sizes.astype("int64")
