"""What a scan would find and cost, from the pre-flight (:mod:`mognet_lab.reader.preflight`).

:class:`Estimate` is what ``lab.estimate()`` and ``mognet-lab scan --estimate``
show; :func:`guard_message` is the guard of a full scan (``ScanTooLarge``).
The estimators and cost constants are those of :mod:`.estimate`.
"""

from __future__ import annotations

import html
import math
from typing import Mapping, Protocol, Sequence

from ..keys import KIND_RESULT
from ..settings import ScanSettings
from ..units import format_bytes
from .estimate import (
    CLIENT_BYTES_PER_KEY,
    SCAN_KEYS_PER_S,
    WALK_KEYS_PER_S,
    share_estimate,
)



class Preflight(Protocol):
    """What one node's pre-flight told (``mognet_lab.reader.preflight.Preflight``)."""

    @property
    def label(self) -> str: ...

    @property
    def role(self) -> str | None: ...

    @property
    def db_keys(self) -> int | None: ...

    @property
    def db_expires(self) -> int | None: ...

    @property
    def used_memory(self) -> int | None: ...

    @property
    def maxmemory(self) -> int | None: ...

    @property
    def walked_keys(self) -> int: ...

    @property
    def app_keys(self) -> Mapping[str, int]: ...

    @property
    def complete(self) -> bool: ...

    @property
    def others(self) -> Mapping[str, int]: ...


__all__ = ["Estimate", "guard_message", "suggest_fraction"]

# A sampled scan aims at about a minute; below 1 in 100,000 a sample holds too
# few results of a typical app to say anything.
_TARGET_S = 60.0
_MIN_FRACTION = 1e-5
_NICE = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 5e-4, 2e-4, 1e-4,
         5e-5, 2e-5, 1e-5)
# A full scan longer than this against a primary should go to a replica instead.
_REPLICA_S = 600.0


class Estimate:
    """The pre-flight of one app: its keys (estimate, 95% interval) and a scan's cost.

    Attributes
    ----------
    app_keys, results
        ``(estimate, low, high)`` of the app's keys and of its result hashes.
    db_keys, db_expires
        Keys of the db(s) and keys with a TTL (exact, ``None`` when not told).
    """

    def __init__(self, app: str, walks: Sequence[Preflight]) -> None:
        self.app, self.walks = app, tuple(walks)
        self.app_keys = self._sum(lambda w: sum(w.app_keys.values()))
        self.results = self._sum(lambda w: w.app_keys.get(KIND_RESULT, 0))
        self.db_keys = _total([w.db_keys for w in walks])
        self.db_expires = _total([w.db_expires for w in walks])
        self.used_memory = _total([w.used_memory for w in walks])
        self.maxmemory = _total([w.maxmemory for w in walks])

    def _sum(self, count: object) -> tuple[float, float, float]:
        parts = [share_estimate(count(w), w.walked_keys,  # type: ignore[operator]
                                w.db_keys if w.db_keys is not None else w.walked_keys)
                 if not w.complete else (float(count(w)),) * 3  # type: ignore[operator]
                 for w in self.walks]
        return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))

    @property
    def exact(self) -> bool:
        """Whether every walk reached the end (then the counts are exact)."""
        return all(w.complete for w in self.walks)

    @property
    def db_keys_without_ttl(self) -> int | None:
        """Keys of the db(s) that have no TTL: ``keys - expires``, exact."""
        if self.db_keys is None or self.db_expires is None:
            return None
        return self.db_keys - self.db_expires

    @property
    def scan_seconds(self) -> tuple[float, float, float]:
        """Expected time of a full scan of the app (estimate, low, high)."""
        return tuple(k / SCAN_KEYS_PER_S for k in self.app_keys)  # type: ignore[return-value]

    @property
    def client_bytes(self) -> tuple[float, float, float]:
        """Expected peak client memory of a full scan (estimate, low, high)."""
        return tuple(k * CLIENT_BYTES_PER_KEY for k in self.app_keys)  # type: ignore[return-value]

    def sampled_seconds(self, fraction: float) -> float:
        """Expected time of a sampled scan: SCAN names every key of the db (MATCH filters
        on the server), the scan reads ``fraction`` of the app's."""
        keys = self.app_keys[0]
        named = max(self.db_keys or 0, keys)
        return named / WALK_KEYS_PER_S + fraction * keys / SCAN_KEYS_PER_S

    @property
    def on_primary(self) -> bool:
        return any(w.role == "master" for w in self.walks)

    @staticmethod
    def fits(keys: int, settings: ScanSettings) -> bool:
        """Whether a scan of ``keys`` keys stays within the guard whatever the app's share."""
        return keys / SCAN_KEYS_PER_S <= settings.guard_seconds and \
            keys * CLIENT_BYTES_PER_KEY <= settings.guard_bytes

    def lines(self) -> list[tuple[str, str]]:
        """``(label, text)`` rows of the estimate: what both reprs show."""
        keys, results, secs, mem = self.app_keys, self.results, self.scan_seconds, \
            self.client_bytes
        how = "exact (the walk reached the end)" if self.exact else \
            f"estimated from {_share(self)} of the keyspace, 95% interval"
        rows = [("app keys", f"{_n(keys[0])} ({how}: {_n(keys[1])} - {_n(keys[2])})"),
                ("results", f"{_n(results[0])} ({_n(results[1])} - {_n(results[2])})"),
                ("full scan", f"~{_secs(secs[0])} ({_secs(secs[1])} - {_secs(secs[2])}) at "
                              f"{SCAN_KEYS_PER_S:,.0f} keys/s"),
                ("client memory", f"~{format_bytes(mem[0])} (up to {format_bytes(mem[2])}) at "
                                  f"{CLIENT_BYTES_PER_KEY:.0f} B/key")]
        fraction = suggest_fraction(self)
        if fraction < 1:
            rows.append(("sample", f"--sample {fraction:g} takes ~"
                                   f"{_secs(self.sampled_seconds(fraction))}"))
        rows += [("db keys", _n(self.db_keys)), ("db keys with a TTL", _n(self.db_expires)),
                 ("db keys without a TTL", _n(self.db_keys_without_ttl)),
                 ("used_memory / maxmemory", f"{_bytes(self.used_memory)} / "
                                            f"{_limit(self.maxmemory)}")]
        others = _dominant(self)
        if others:
            rows.append(("other keys", others))
        return rows

    def __repr__(self) -> str:
        width = max(len(label) for label, _ in self.lines())
        body = "\n".join(f"  {label:<{width}}  {text}" for label, text in self.lines())
        return f"Estimate of app {self.app!r} at {', '.join(w.label for w in self.walks)}\n{body}"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
                       f"<td style='text-align:left'>{html.escape(text)}</td></tr>"
                       for label, text in self.lines())
        return (f"<div><strong>Estimate of app {html.escape(self.app)}</strong>"
                f"<table>{rows}</table></div>")


def suggest_fraction(estimate: Estimate, *, seconds: float = _TARGET_S) -> float:
    """The largest round sample fraction whose scan should take about ``seconds``."""
    keys = estimate.app_keys[0]
    if not keys or math.isnan(keys):
        return 1.0
    for fraction in _NICE:
        if estimate.sampled_seconds(fraction) <= seconds:
            return fraction
    return _MIN_FRACTION


def guard_message(estimate: Estimate, settings: ScanSettings) -> str | None:
    """Why a full scan should not start (``None``: it may), and what to do instead."""
    keys = estimate.app_keys[0]
    if settings.limit is not None:
        keys = min(keys, settings.limit)
    seconds, memory = keys / SCAN_KEYS_PER_S, keys * CLIENT_BYTES_PER_KEY
    if seconds <= settings.guard_seconds and memory <= settings.guard_bytes:
        return None
    fraction = suggest_fraction(estimate)
    text = (f"A full scan of {estimate.app!r} (about {_n(keys)} keys) is expected to take "
            f"~{_secs(seconds)} and ~{format_bytes(memory)} of client memory, beyond the "
            f"guard ({_secs(settings.guard_seconds)}, {format_bytes(settings.guard_bytes)}): "
            f"scan(sample={fraction:g}) / --sample {fraction:g} takes about "
            f"{_secs(estimate.sampled_seconds(fraction))}; scan(full=True) / --full scans "
            "everything anyway")
    if estimate.on_primary and seconds > _REPLICA_S:
        text += "; a scan this long is better run against a replica or an RDB dump"
    return text + "."


def _total(values: Sequence[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _share(estimate: Estimate) -> str:
    named = sum(w.walked_keys for w in estimate.walks)
    db = estimate.db_keys or named
    return f"{named:,} keys ({named / db:.1%})" if db else f"{named:,} keys"


def _dominant(estimate: Estimate) -> str:
    counts: dict[str, int] = {}
    for walk in estimate.walks:
        for name, n in walk.others.items():
            counts[name] = counts.get(name, 0) + n
    named = sum(w.walked_keys for w in estimate.walks)
    top = sorted(counts.items(), key=lambda item: -item[1])[:3]
    return ", ".join(f"{name} {n / named:.0%}" for name, n in top if named)


def _n(value: float | int | None) -> str:
    return "unknown" if value is None or math.isnan(value) else f"{value:,.0f}"


def _secs(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _bytes(value: int | None) -> str:
    return "unknown" if value is None else format_bytes(value)


def _limit(value: int | None) -> str:
    return "no limit" if value == 0 else _bytes(value)
