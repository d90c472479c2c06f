"""Helpers shared by the analysis modules (pure: frames in, values out).

Every analysis measures time from :func:`reference_time`, the moment the
scan started, never from "now": a snapshot analysed next week must give the
same answers as today.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..errors import bad_option
from ..format import NOT_READY_NAME
from ..keys import KIND_CHILDREN, KIND_METADATA, KIND_RESULT, KIND_VALUE
from ..snapshot import Snapshot
from ..units import format_bytes

__all__ = [
    "FAMILY_KINDS",
    "MISSING",
    "NO_RESULT",
    "OTHER",
    "UTC_TIME",
    "add_shares",
    "app_bytes",
    "as_timedelta",
    "check_choice",
    "check_count",
    "check_number",
    "counted_servers",
    "format_bytes",
    "keep_top",
    "label",
    "lookup",
    "maxmemory",
    "memory",
    "placeholder_mask",
    "reference_time",
    "replication_groups",
    "result_labels",
    "result_lookup",
    "server_total",
    "used_memory",
]

# Keys that belong to one result: the hash and its /value, /children, /metadata.
FAMILY_KINDS = (KIND_RESULT, KIND_VALUE, KIND_CHILDREN, KIND_METADATA)
MISSING = "(none)"
NO_RESULT = "(no result)"
OTHER = "(other)"
UTC_TIME = "datetime64[ns, UTC]"


def reference_time(snapshot: Snapshot) -> pd.Timestamp:
    """When the scan started, as a UTC timestamp (naive times are taken as UTC)."""
    stamp = pd.Timestamp(snapshot.provenance.scanned_at)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def replication_groups(server: pd.DataFrame) -> pd.Series:
    """Which copy of the data each ``server`` row holds: one label per replication group.

    A primary and its replicas hold the same data and share one group: rows
    with the same ``master_replid`` (what a replica reports once in sync with
    its primary), and a replica whose ``master_host:master_port`` is another
    listed node. Rows without replication facts are groups of their own.
    """
    labels = [f"node {i}" for i in range(len(server))]
    replids = _column(server, "master_replid")
    for i, replid in enumerate(replids):
        if isinstance(replid, str) and replid:
            labels[i] = f"replid {replid}"
    # A replica not yet in sync reports its own replid: join it to its primary by address.
    where = {_host_port(label): i for i, label in enumerate(_column(server, "node"))}
    hosts, ports = _column(server, "master_host"), _column(server, "master_port")
    for i, (host, port) in enumerate(zip(hosts, ports)):
        primary = where.get((str(host), str(port))) if isinstance(host, str) else None
        if primary is not None and primary != i:
            old, new = labels[i], labels[primary]
            labels = [new if label == old else label for label in labels]
    return pd.Series(labels, index=server.index, dtype=object)


def counted_servers(server: pd.DataFrame) -> pd.DataFrame:
    """The ``server`` rows whose memory figures count: one per replication group.

    A replica listed with its primary holds the same keys again, so counting
    both would double ``used_memory`` (halving every share of it). The primary
    is kept where it was listed, else the first replica.
    """
    if server.empty:
        return server
    groups = replication_groups(server)
    roles = pd.Series(_column(server, "role"), index=server.index, dtype=object)
    rank = (roles != "master").astype(int)  # primaries first, then listed order
    order = pd.DataFrame({"group": groups, "rank": rank,
                          "at": range(len(server))}).sort_values(["rank", "at"])
    kept = order.drop_duplicates("group").sort_values("at").index
    return server.loc[kept]


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    if name not in frame.columns:
        return [None] * len(frame)
    return [None if _is_na(v) else v for v in frame[name].tolist()]


def _is_na(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _host_port(label: Any) -> tuple[str, str] | None:
    if not isinstance(label, str):
        return None
    try:
        parts = urlsplit(label)
        return (parts.hostname or "", str(parts.port or 6379))
    except ValueError:
        return None


def server_total(snapshot: Snapshot, column: str) -> float:
    """Sum of a server column over nodes, one per replication group; NaN when unknown.

    A partial sum would silently understate a cluster's memory, so one
    unknown node makes the total unknown. A replica listed next to its
    primary is counted once (see :func:`counted_servers`).
    """
    server = counted_servers(snapshot.server)
    values = server[column] if column in server.columns else pd.Series([], dtype="Int64")
    if values.empty or values.isna().any():
        return math.nan
    return float(values.astype("float64").sum())


def used_memory(snapshot: Snapshot) -> float:
    """Redis ``used_memory`` summed over nodes, a replica and its primary once (NaN when unknown).

    Parameters
    ----------
    snapshot
        A scanned snapshot; its ``server`` frame has one row per node.

    Returns
    -------
    float
        Bytes, or NaN when a node did not report ``used_memory`` or the
        snapshot has no server rows.
    """
    return server_total(snapshot, "used_memory")


def maxmemory(snapshot: Snapshot) -> float:
    """Redis ``maxmemory`` summed over nodes: 0 = unlimited, NaN = unknown.

    One unlimited node makes the whole unlimited: nothing stops that node
    from taking all the memory the machine has.
    """
    server = counted_servers(snapshot.server)
    values = server["maxmemory"] if "maxmemory" in server.columns else pd.Series([], dtype="Int64")
    if (values == 0).fillna(False).any():
        return 0.0
    return server_total(snapshot, "maxmemory")


def memory(frame: pd.DataFrame, column: str = "memory_bytes") -> pd.Series:
    """A byte column as plain int64, unknown sizes counted as 0."""
    return frame[column].fillna(0).astype("int64")


def app_bytes(snapshot: Snapshot) -> int:
    """Bytes of every key of the app: the one total every share and every view uses.

    The keys frame when it has rows (MEMORY USAGE of every key scanned);
    else the results' and states' own sizes.
    """
    if len(snapshot.keys):
        keys = snapshot.keys
        if "weight" in keys.columns and snapshot.provenance.sampled:  # scaled up: an estimate
            return int(round(float((memory(keys) * keys["weight"].fillna(1.0)).sum())))
        return int(memory(keys).sum())
    # Hand-built snapshots may carry only the results: count what they say.
    return int(memory(snapshot.results, "total_memory_bytes").sum()
               + memory(snapshot.states).sum())


def placeholder_mask(values: pd.DataFrame) -> pd.Series:
    """Which rows of a ``values`` frame hold Mognet's ``ResultNotReady`` placeholder.

    The one test of "placeholder" every analysis uses (``frames`` derives the
    results' ``value_status == "not_ready"`` from the same column).
    """
    return (values["exception_name"].astype(object) == NOT_READY_NAME).to_numpy(dtype=bool)


def label(values: pd.Series, missing: str = MISSING) -> pd.Series:
    """Text labels for grouping, with NA replaced by ``missing`` (object dtype)."""
    out = values.astype(object)
    return out.where(out.notna(), missing)


def result_labels(results: pd.DataFrame) -> pd.DataFrame:
    """``result_id``, ``name``, ``state``, ``node`` as labels, one row per results row."""
    return pd.DataFrame({
        "result_id": results["result_id"].astype(object),
        "name": label(results["name"]),
        "state": label(results["state"]),
        "node": label(results["node_id"]),
    })


def result_lookup(snapshot: Snapshot) -> pd.DataFrame:
    """One row per result id: ``name``, ``state``, ``node`` as labels, indexed by id."""
    table = result_labels(snapshot.results)
    table = table[table["result_id"].notna()].drop_duplicates("result_id")
    return table.set_index("result_id")


def lookup(ids: pd.Series, table: pd.DataFrame, column: str) -> pd.Series:
    """``table[column]`` for each id; ids without a result get ``NO_RESULT``."""
    found = ids.astype(object).map(table[column]) if len(table) else \
        pd.Series(np.nan, index=ids.index, dtype=object)
    return found.astype(object).where(found.notna(), NO_RESULT)


def add_shares(frame: pd.DataFrame, app_total: float, used: float) -> pd.DataFrame:
    """Add ``share_of_app`` and ``share_of_used_memory`` (0..1, NaN when unknown)."""
    data = frame["bytes"].astype("float64")
    frame["share_of_app"] = data / app_total if app_total else math.nan
    frame["share_of_used_memory"] = data / used if used and not math.isnan(used) else math.nan
    return frame


def keep_top(frame: pd.DataFrame, column: str, top: int | None,
             sums: Sequence[str] = ("keys", "bytes")) -> pd.DataFrame:
    """The first ``top`` rows plus one ``(other)`` row summing the rest.

    Totals still add up, which a plain ``head()`` would break.
    """
    if top is None or len(frame) <= top:
        return frame
    rest = frame.iloc[top:]
    other = pd.DataFrame([{column: OTHER, **{c: rest[c].sum() for c in sums}}])
    out = pd.concat([frame.iloc[:top].astype(object), other.astype(object)], ignore_index=True)
    for name, dtype in frame.dtypes.items():
        out[name] = _restore(out[name], dtype, with_other=name == column)
    return out


def _restore(values: pd.Series, dtype: object, *, with_other: bool) -> pd.Series:
    if isinstance(dtype, pd.CategoricalDtype):
        categories = list(dtype.categories) + ([OTHER] if with_other else [])
        return pd.Series(pd.Categorical(values, categories=dict.fromkeys(categories),
                                        ordered=dtype.ordered), index=values.index)
    return values.astype(dtype)


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``, else raise :class:`~mognet_lab.BadOption`."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise bad_option(name, value, "one of " + ", ".join(repr(c) for c in options))
    return value


def check_count(name: str, value: object, *, minimum: int = 1) -> int:
    """A whole number >= ``minimum``, else raise :class:`~mognet_lab.BadOption`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise bad_option(name, value, f"an integer >= {minimum}")
    return int(value)


def check_number(name: str, value: object, *, positive: bool = True) -> float:
    """A finite real number, > 0 when ``positive`` (else >= 0)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    if math.isfinite(number) and (number > 0 if positive else number >= 0):
        return number
    raise bad_option(name, value, ("a positive" if positive else "a non-negative") + " number")


def as_timedelta(name: str, value: object) -> pd.Timedelta:
    """A positive duration from ``"1h"``, ``"21D"``, a timedelta or seconds."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, (int, float, np.integer, np.floating)):
            parsed = pd.Timedelta(seconds=float(value))
        elif isinstance(value, (str, timedelta, np.timedelta64)):
            parsed = pd.Timedelta(value)
        else:
            raise TypeError(value)
    except (TypeError, ValueError, OverflowError):
        parsed = pd.NaT
    if pd.isna(parsed) or parsed <= pd.Timedelta(0):
        raise bad_option(name, value, "a positive duration such as '1h', '21D', "
                                      "a timedelta or a number of seconds")
    return parsed
