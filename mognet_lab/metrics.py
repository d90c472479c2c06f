"""One scan as a Prometheus text exposition, for node_exporter's textfile collector.

Built with ``prometheus_client`` (the ``metrics`` extra) on a private
:class:`~prometheus_client.CollectorRegistry`, so nothing here touches the
process-wide default registry and a label value (task names are user data)
is escaped by the library, never by hand. Every series carries an ``app``
label; the figures are those of :mod:`mognet_lab.analysis`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import pandas as pd

from .analysis import findings, used_memory, without_ttl
from .errors import MognetLabError
from .keys import KEY_KINDS
from .snapshot import Snapshot

if TYPE_CHECKING:
    from prometheus_client.core import GaugeMetricFamily

__all__ = ["PREFIX", "metrics_text", "require_prometheus_client"]

PREFIX = "mognet_lab"
_INSTALL = "mognet-lab metrics needs prometheus_client: pip install 'mognet-lab[metrics]'"
# Results without a name (a hash holding only "id"), as compare and the views label them.
NO_NAME = "(none)"
_SEVERITIES = ("info", "warning", "critical")


def require_prometheus_client() -> None:
    """Raise a one-line :class:`MognetLabError` naming the extra when it is missing."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError as exc:
        raise MognetLabError(_INSTALL) from exc


def metrics_text(snapshot: Snapshot) -> str:
    """The snapshot's figures in the Prometheus text format (version 0.0.4).

    Parameters
    ----------
    snapshot
        One scan of an app.

    Returns
    -------
    str
        ``mognet_lab_*`` gauges: memory and keys by ``kind``; results and
        their memory by ``task`` and ``state``; keys (and bytes) without TTL
        by ``kind``; findings by ``severity``; Redis ``used_memory``; the
        scan's duration, completeness and time.
    """
    require_prometheus_client()
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(snapshot))
    return generate_latest(registry).decode("utf-8")


class _Collector:
    """Yields the snapshot's metric families when the registry is read."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.snapshot
        yield from _by_kind(snapshot)
        yield from _by_task(snapshot)
        yield from _without_ttl(snapshot)
        yield _findings(snapshot)
        yield from _scan(snapshot)


def _gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    from prometheus_client.core import GaugeMetricFamily

    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=["app", *labels])


def _sum(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").fillna(0)


def _by_kind(snapshot: Snapshot) -> Iterator[GaugeMetricFamily]:
    keys = snapshot.keys
    kinds = keys["kind"].astype(object)
    grouped = pd.DataFrame({"kind": kinds, "bytes": _sum(keys, "memory_bytes")}) \
        .groupby("kind")["bytes"].agg(["size", "sum"])
    memory = _gauge("memory_bytes", "Memory of the app's keys (MEMORY USAGE) by key kind.",
                    ("kind",))
    count = _gauge("keys", "The app's keys by key kind.", ("kind",))
    for kind in KEY_KINDS:  # every kind, 0 included: a series never vanishes
        row = grouped.loc[kind] if kind in grouped.index else pd.Series({"size": 0, "sum": 0})
        memory.add_metric([snapshot.app, kind], float(row["sum"]))
        count.add_metric([snapshot.app, kind], float(row["size"]))
    yield memory
    yield count


def _by_task(snapshot: Snapshot) -> Iterator[GaugeMetricFamily]:
    results = snapshot.results
    frame = pd.DataFrame({"task": results["name"].astype(object).fillna(NO_NAME),
                          "state": results["state"].astype(object).fillna(NO_NAME),
                          "bytes": _sum(results, "total_memory_bytes")})
    grouped = frame.groupby(["task", "state"])["bytes"].agg(["size", "sum"])
    count = _gauge("results", "Result hashes by task name and state.", ("task", "state"))
    memory = _gauge("result_memory_bytes", "Memory of results with their /value, /children "
                    "and /metadata keys, by task name and state.", ("task", "state"))
    for (task, state), row in grouped.iterrows():
        count.add_metric([snapshot.app, str(task), str(state)], float(row["size"]))
        memory.add_metric([snapshot.app, str(task), str(state)], float(row["sum"]))
    yield count
    yield memory


def _without_ttl(snapshot: Snapshot) -> Iterator[GaugeMetricFamily]:
    keys = without_ttl(snapshot)
    grouped = pd.DataFrame({"kind": keys["kind"].astype(object),
                            "bytes": _sum(keys, "memory_bytes")}).groupby("kind")["bytes"]
    sizes, counts = grouped.sum(), grouped.size()
    count = _gauge("keys_without_ttl", "Keys that never expire, by key kind.", ("kind",))
    memory = _gauge("keys_without_ttl_bytes", "Memory of the keys that never expire.",
                    ("kind",))
    for kind in KEY_KINDS:
        count.add_metric([snapshot.app, kind], float(counts.get(kind, 0)))
        memory.add_metric([snapshot.app, kind], float(sizes.get(kind, 0)))
    yield count
    yield memory


def _findings(snapshot: Snapshot) -> GaugeMetricFamily:
    counts = findings(snapshot)["severity"].astype(object).value_counts()
    gauge = _gauge("findings", "Findings of mognet_lab.analysis.findings by severity.",
                   ("severity",))
    for severity in _SEVERITIES:
        gauge.add_metric([snapshot.app, severity], float(counts.get(severity, 0)))
    return gauge


def _scan(snapshot: Snapshot) -> Iterator[GaugeMetricFamily]:
    p, app = snapshot.provenance, snapshot.app
    values: list[tuple[str, str, Any]] = [
        ("redis_used_memory_bytes", "Redis used_memory (a replica and its primary once); "
         "NaN when unknown.", used_memory(snapshot)),
        ("scan_duration_seconds", "How long the scan took.", p.duration_s),
        ("scan_complete", "1 when the scan read every key, 0 when a limit stopped it.",
         int(p.complete)),
        ("scan_keys_read", "Keys the scan read.", p.keys_read),
        ("scan_timestamp_seconds", "When the scan ran (Unix time).",
         pd.Timestamp(p.scanned_at).timestamp()),
    ]
    for name, documentation, value in values:
        gauge = _gauge(name, documentation)
        gauge.add_metric([app], float(value))
        yield gauge
