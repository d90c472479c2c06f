"""How much memory the app settles at, and what changing its TTLs or gzip would do.

The model is Little's law per key kind: at a steady arrival rate, the
memory held by keys with a TTL is ``rate x bytes per result x TTL``. Keys
with no TTL are outside the model: they are reported as they are now (they
only grow). Growth towards maxmemory is taken as linear at ``rate x bytes
per result`` until the steady state, ignoring the expiry of the keys stored
today (pessimistic). Every number used is written out in ``assumptions``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import pandas as pd

from ..errors import bad_option
from ..format import DEFAULT_RESULT_TTL_S, DEFAULT_STATE_TTL_S, DEFAULT_VALUE_TTL_S
from ..keys import KIND_CHILDREN, KIND_METADATA, KIND_RESULT, KIND_STATE, KIND_VALUE
from ..snapshot import Snapshot
from ._common import (
    app_bytes,
    check_number,
    format_bytes,
    label,
    maxmemory,
    memory,
    reference_time,
    used_memory,
)
from .activity import arrival_rate
from .memo import memoized
from .ttl import without_ttl

__all__ = ["FORECAST_KINDS", "SCENARIO_OPTIONS", "family_bytes", "forecast", "what_if"]

FORECAST_KINDS = (KIND_RESULT, KIND_VALUE, KIND_CHILDREN, KIND_METADATA, KIND_STATE)
SCENARIO_OPTIONS = ("scenario", "result_ttl_s", "value_ttl_s", "state_ttl_s", "gzip", "window")
# Which TTL option governs each kind (children and metadata get result_ttl).
_TTL_OPTION = {KIND_RESULT: "result_ttl_s", KIND_VALUE: "value_ttl_s",
               KIND_CHILDREN: "result_ttl_s", KIND_METADATA: "result_ttl_s",
               KIND_STATE: "state_ttl_s"}
_DEFAULT_TTL = {"result_ttl_s": float(DEFAULT_RESULT_TTL_S),
                "value_ttl_s": float(DEFAULT_VALUE_TTL_S),
                "state_ttl_s": float(DEFAULT_STATE_TTL_S)}
_GZIP_TEXT = {None: "gzip as observed", True: "all gzipped", False: "none gzipped"}


@memoized
def family_bytes(snapshot: Snapshot) -> pd.DataFrame:
    """Mean bytes each new result adds, per key kind.

    The mean divides a kind's bytes by the results that can own such a key
    now: every result for result/children/metadata keys; results whose
    value has not expired (``value_status != "lost"``) for values; results
    active (created, started or finished) within Mognet's default state TTL
    before the scan for state keys.

    Returns
    -------
    pandas.DataFrame
        ``[kind, keys, bytes, expiring_bytes, families, mean_bytes,
        mean_expiring_bytes]``, one row per kind of :data:`FORECAST_KINDS`;
        ``expiring_*`` count only keys with a TTL (the forecastable part).
        Means are 0 when there is no result to divide by.
    """
    keys = snapshot.keys
    kinds = label(keys["kind"])
    expiring = keys["ttl_s"].notna().to_numpy()
    sizes = memory(keys)
    families = _families(snapshot)
    rows = []
    for kind in FORECAST_KINDS:
        mine = (kinds == kind).to_numpy()
        total, timed = int(sizes[mine].sum()), int(sizes[mine & expiring].sum())
        count = families[kind]
        rows.append({"kind": kind, "keys": int(mine.sum()), "bytes": total,
                     "expiring_bytes": timed, "families": count,
                     "mean_bytes": total / count if count else 0.0,
                     "mean_expiring_bytes": timed / count if count else 0.0})
    out = pd.DataFrame(rows)
    out["kind"] = pd.Categorical(out["kind"], categories=FORECAST_KINDS)
    return out


def _families(snapshot: Snapshot) -> dict[str, int]:
    results = snapshot.results
    total = len(results)
    lost = int(results["value_status"].astype(object).eq("lost").fillna(False).sum())
    since = reference_time(snapshot) - pd.Timedelta(seconds=DEFAULT_STATE_TTL_S)
    last = results[["created", "started", "finished"]].max(axis=1)
    active = int((last >= since).fillna(False).sum())
    return {KIND_RESULT: total, KIND_CHILDREN: total, KIND_METADATA: total,
            KIND_VALUE: total - lost, KIND_STATE: active}


@memoized
def forecast(snapshot: Snapshot, *, result_ttl_s: float | None = None,
             value_ttl_s: float | None = None, state_ttl_s: float | None = None,
             gzip: bool | None = None, window: object = None,
             scenario: str | None = None) -> pd.DataFrame:
    """Steady-state memory of this app, and time until maxmemory.

    Parameters
    ----------
    snapshot
        The scan to analyse.
    result_ttl_s, value_ttl_s, state_ttl_s
        TTLs in seconds (``None``: Mognet's defaults, 21 d, 7 d and 7200 s).
        ``result_ttl_s`` also governs children and metadata keys.
    gzip
        ``None``: values as stored. ``False``: gzipped values stored plain
        (each grows by its raw - stored bytes, or by the observed ratio when
        its raw size is unknown). ``True``: plain values gzipped at the
        byte-weighted ratio observed on gzipped ones.
    window
        Arrival-rate window, see :func:`~mognet_lab.analysis.arrival_rate`.
    scenario
        Label of the row (default: ``"current"``, or the options given).

    Returns
    -------
    pandas.DataFrame
        One row: ``scenario, rate_per_s, result_ttl_s, value_ttl_s,
        state_ttl_s, gzip, current_bytes, steady_state_bytes,
        never_expiring_bytes, total_bytes, maxmemory, used_memory,
        headroom_bytes, time_to_maxmemory, assumptions``. ``maxmemory`` is 0
        when unlimited and NaN when unknown; ``time_to_maxmemory`` is NaT
        when it is either, or when the steady state stays below it.
    """
    ttls = _ttls(result_ttl_s=result_ttl_s, value_ttl_s=value_ttl_s, state_ttl_s=state_ttl_s)
    if gzip is not None and not isinstance(gzip, bool):
        raise bad_option("gzip", gzip, "None (as observed), True or False")
    rate = arrival_rate(snapshot, window=window)
    per_family = family_bytes(snapshot).set_index("kind")
    means = per_family["mean_expiring_bytes"].astype("float64").to_dict()
    means[KIND_VALUE], gzip_note = _value_bytes(snapshot, means[KIND_VALUE],
                                                int(per_family.loc[KIND_VALUE, "families"]), gzip)
    steady = sum(rate * means[kind] * ttls[_TTL_OPTION[kind]] for kind in FORECAST_KINDS)
    facts = _memory_facts(snapshot, per_family)
    growth = rate * sum(means.values())
    ttm = _time_to_maxmemory(facts["headroom_bytes"], growth, steady - facts["expiring"])
    label_ = scenario if scenario is not None else _describe_options(
        result_ttl_s=result_ttl_s, value_ttl_s=value_ttl_s, state_ttl_s=state_ttl_s,
        gzip=gzip, window=window)
    text = _assumptions(snapshot, rate, window, means, ttls, gzip, gzip_note, facts)
    row = {"scenario": label_, "rate_per_s": rate, **ttls, "gzip": gzip,
           "current_bytes": facts["current"], "steady_state_bytes": steady,
           "never_expiring_bytes": facts["never"], "total_bytes": steady + facts["never"],
           "maxmemory": facts["maxmemory"], "used_memory": facts["used_memory"],
           "headroom_bytes": facts["headroom_bytes"], "time_to_maxmemory": ttm,
           "assumptions": text}
    return _typed(pd.DataFrame([row]))


@memoized
def what_if(snapshot: Snapshot, scenarios: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """:func:`forecast` for the current settings, then for each set of overrides.

    Parameters
    ----------
    snapshot
        The scan to analyse.
    scenarios
        Dicts of :func:`forecast` options (``result_ttl_s``, ``value_ttl_s``,
        ``state_ttl_s``, ``gzip``, ``window``) and an optional ``scenario``
        label, e.g. ``[{"value_ttl_s": 86400}, {"gzip": False}]``.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`forecast`; the first row is ``"current"``.
    """
    if isinstance(scenarios, Mapping) or not isinstance(scenarios, Sequence) or \
            isinstance(scenarios, str):
        raise bad_option("scenarios", scenarios, "a list of dicts of forecast options")
    rows = [forecast(snapshot, scenario="current")]
    for options in scenarios:
        unknown = set(options) - set(SCENARIO_OPTIONS) if isinstance(options, Mapping) else None
        if unknown is None or unknown:
            raise bad_option("scenarios", options,
                             "dicts with keys from " + ", ".join(SCENARIO_OPTIONS))
        rows.append(forecast(snapshot, **options))
    return _typed(pd.concat(rows, ignore_index=True))


def _ttls(**given: float | None) -> dict[str, float]:
    return {name: _DEFAULT_TTL[name] if value is None else check_number(name, value)
            for name, value in given.items()}


def _value_bytes(snapshot: Snapshot, mean: float, families: int,
                 gzip: bool | None) -> tuple[float, str]:
    """Mean value bytes per result under the gzip option, and how it was found.

    Only the contents change size; the hash around them costs the same.
    """
    if gzip is None or not families:
        return mean, ""
    values = snapshot.values[snapshot.values["ttl_s"].notna()]
    zipped = values["encoding"].astype(object).eq("gzip").fillna(False).astype(bool)
    known = zipped & values["raw_bytes"].notna() & values["stored_bytes"].notna()
    stored, raw = memory(values, "stored_bytes"), memory(values, "raw_bytes")
    ratio = raw[known].sum() / stored[known].sum() if stored[known].sum() else math.nan
    if math.isnan(ratio):
        return mean, "no gzipped value with a known raw size: values kept as stored"
    if gzip:
        change = -stored[values["encoding"].isna()].sum() * (1 - 1 / ratio)
    else:  # sizes known exactly where the gzip trailer told; else the ratio
        change = (raw - stored)[known].sum() + stored[zipped & ~known].sum() * (ratio - 1)
    return mean + change / families, f"observed gzip ratio {ratio:.2f}"


def _memory_facts(snapshot: Snapshot, per_family: pd.DataFrame) -> dict[str, float]:
    limit, used = maxmemory(snapshot), used_memory(snapshot)
    headroom = limit - used if limit > 0 else math.nan  # NaN limit stays NaN
    return {"current": float(app_bytes(snapshot)),
            "never": float(memory(without_ttl(snapshot)).sum()),
            "expiring": float(per_family["expiring_bytes"].sum()),
            "maxmemory": limit, "used_memory": used, "headroom_bytes": headroom}


def _time_to_maxmemory(headroom: float, growth_per_s: float,
                       room_to_grow: float) -> pd.Timedelta:
    """Linear growth until maxmemory, NaT if the steady state is reached first."""
    if math.isnan(headroom):
        return pd.NaT
    if headroom <= 0:
        return pd.Timedelta(0)
    if not growth_per_s > 0 or not room_to_grow >= headroom:
        return pd.NaT
    seconds = headroom / growth_per_s
    # Beyond ~292 years a Timedelta overflows; that is "never" in practice.
    return pd.Timedelta(seconds=seconds) if seconds < 9e9 else pd.NaT


def _describe_options(**options: Any) -> str:
    given = [f"{name}={value!r}" for name, value in options.items() if value is not None]
    return ", ".join(given) or "current"


def _duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _assumptions(snapshot: Snapshot, rate: float, window: object, means: dict[str, float],
                 ttls: dict[str, float], gzip: bool | None, gzip_note: str,
                 facts: dict[str, float]) -> str:
    seen = "last " + str(window) + " before the scan" if window is not None else \
        "between the oldest and newest result created (at most 7 d)"
    per = ", ".join(f"{kind} {format_bytes(means[kind])} x "
                    f"{_duration_text(ttls[_TTL_OPTION[kind]])}" for kind in FORECAST_KINDS)
    gzip_text = _GZIP_TEXT[gzip] + (f" ({gzip_note})" if gzip_note else "")
    if facts["maxmemory"] > 0:
        limit = f"maxmemory {format_bytes(facts['maxmemory'])}, used_memory " \
                f"{format_bytes(facts['used_memory'])}, the rest of the server held constant"
    else:
        limit = "maxmemory " + ("unlimited" if facts["maxmemory"] == 0 else "unknown") + \
            ": no time to maxmemory"
    count = len(snapshot.results)
    return (f"{rate:.4g} results/s ({count} result{'' if count == 1 else 's'}, {seen}); "
            f"per result: {per}; values {gzip_text}; keys without TTL stay at "
            f"{format_bytes(facts['never'])} (not forecast to grow); {limit}; growth = rate x "
            "bytes per result until the steady state, ignoring expiry of today's keys.")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    floats = ["rate_per_s", "result_ttl_s", "value_ttl_s", "state_ttl_s", "current_bytes",
              "steady_state_bytes", "never_expiring_bytes", "total_bytes", "maxmemory",
              "used_memory", "headroom_bytes"]
    frame = frame.astype({c: "float64" for c in floats})
    frame["gzip"] = frame["gzip"].astype("boolean")
    # An all-NaT column is inferred as datetimes: rebuild it as durations.
    frame["time_to_maxmemory"] = pd.Series(
        [pd.NaT if pd.isna(v) else pd.Timedelta(v) for v in frame["time_to_maxmemory"]],
        index=frame.index, dtype="timedelta64[ns]")
    frame["scenario"] = frame["scenario"].astype("string")
    frame["assumptions"] = frame["assumptions"].astype("string")
    return frame
