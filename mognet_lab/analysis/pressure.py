"""How close the Redis server is to trouble: one row per check and node.

Pure: reads the snapshot's ``server`` frame (INFO and, where allowed, CONFIG
GET) and its ``keys``/``values`` frames. The thresholds follow Mognet's own
advice (maxmemory with an evicting policy, ``timeout`` above 0, enough
``maxclients``) and Redis's documentation on fragmentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, NamedTuple

import pandas as pd

from ..snapshot import Snapshot
from ._common import app_bytes, format_bytes, memory
from .anomalies import plural
from .ttl import unfinished_placeholders, without_ttl
from .values import LISTPACK_SHARE, listpack_overflow
from .memo import memoized

__all__ = ["CHECKS", "ISSUE_ADVICE", "ISSUE_TITLES", "STATUSES", "server_pressure",
           "unfinished_placeholders"]

CHECKS = ("memory_headroom", "maxmemory_policy", "evictions", "fragmentation", "clients",
          "timeout", "listpack_limits")
STATUSES = ("ok", "warn", "critical", "unknown")
_COLUMNS: dict[str, Any] = {
    "check": pd.CategoricalDtype(CHECKS), "value": pd.StringDtype(),
    "limit": pd.StringDtype(), "status": pd.CategoricalDtype(STATUSES),
    "detail": pd.StringDtype(), "issue": pd.StringDtype(), "node": pd.StringDtype(),
    "bytes": "Int64",
}
# Share of maxmemory in use from which headroom is a warning / critical.
HEADROOM_WARN, HEADROOM_CRITICAL = 0.75, 0.90
CLIENTS_WARN, CLIENTS_CRITICAL = 0.80, 0.95
FRAGMENTATION_WARN = 1.5
# Below this much used memory the fragmentation ratio is dominated by the
# allocator's fixed overhead (an empty Redis reports ratios of 5 and more).
FRAGMENTATION_JUDGED_FROM = 64 << 20


@dataclass(frozen=True)
class _AppFacts:
    """What the app's own keys add to the server's numbers."""

    app_bytes: int
    no_ttl_keys: int
    no_ttl_bytes: int
    placeholders: int  # TTL-less placeholder values of unfinished tasks, not counted above
    values: int
    overflow_values: int  # value hashes too big for a listpack, as listpack_overflow counts
    overflow_bytes: int  # what that costs beyond listpacks (estimate)


class _Check(NamedTuple):
    value: str | None
    limit: str | None
    status: str
    detail: str
    issue: str | None = None
    bytes: int | None = None


@memoized
def server_pressure(snapshot: Snapshot) -> pd.DataFrame:
    """Check the server against the limits that hurt a Mognet app.

    Parameters
    ----------
    snapshot
        A snapshot whose ``server`` frame has one row per node.

    Returns
    -------
    pandas.DataFrame
        One row per check and node: ``check`` (one of :data:`CHECKS`),
        ``value`` and ``limit`` (as text), ``status`` (``ok``, ``warn``,
        ``critical`` or ``unknown`` when the server would not tell, e.g. a
        managed Redis refusing CONFIG), ``detail`` (the numbers and what they
        mean), ``issue`` (a short code of what is wrong, NA when ok),
        ``node`` and ``bytes`` (memory concerned, where there is one).
    """
    facts = _app_facts(snapshot)
    servers = snapshot.server.to_dict("records") or [{"node": None, "unknown":
                                                      "the snapshot holds no server facts"}]
    rows = []
    for server in servers:
        for name in CHECKS:
            fields, check = _CHECKERS[name]
            missing = [f for f in fields if _missing(server.get(f))]
            found = _unknown(missing, server) if missing else check(server, facts)
            rows.append({"check": name, **found._asdict(), "node": server.get("node")})
    return pd.DataFrame(rows, columns=list(_COLUMNS)).astype(_COLUMNS)


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def _unknown(missing: list[str], server: Mapping[str, Any]) -> _Check:
    reason = server.get("unknown")
    why = "not reported" if _missing(reason) else str(reason)
    return _Check(None, None, "unknown", f"{', '.join(missing)} not known ({why})")


def _app_facts(snapshot: Snapshot) -> _AppFacts:
    values, no_ttl = snapshot.values, without_ttl(snapshot)
    over = listpack_overflow(snapshot)
    lasting = no_ttl[~no_ttl["unfinished"]]
    return _AppFacts(app_bytes=app_bytes(snapshot), no_ttl_keys=len(lasting),
                     no_ttl_bytes=int(memory(lasting).sum()),
                     placeholders=int(no_ttl["unfinished"].sum()),
                     values=len(values),
                     overflow_values=int(over["values"].sum()),
                     overflow_bytes=int(over["extra_bytes_estimate"].fillna(0).sum()))


def _share(part: int, whole: int) -> str:
    return f", {part / whole:.0%} of the app" if whole else ""


def _headroom(server: Mapping[str, Any], facts: _AppFacts) -> _Check:
    used, limit = int(server["used_memory"]), int(server["maxmemory"])
    app = f"this app's keys hold {format_bytes(facts.app_bytes)}"
    if limit == 0:
        return _Check(format_bytes(used), "none", "warn",
                      f"maxmemory is 0 (no limit): Redis grows until the machine runs out of "
                      f"memory; {format_bytes(used)} in use now, {app}", "no_maxmemory", used)
    share = used / limit
    status = "critical" if share >= HEADROOM_CRITICAL else "warn" if share >= HEADROOM_WARN \
        else "ok"
    detail = (f"{format_bytes(used)} used of maxmemory {format_bytes(limit)} ({share:.0%}), "
              f"headroom {format_bytes(max(limit - used, 0))}; {app}")
    return _Check(format_bytes(used), format_bytes(limit), status, detail,
                  None if status == "ok" else "memory_near_max", used)


def _policy(server: Mapping[str, Any], facts: _AppFacts) -> _Check:
    policy = str(server["maxmemory_policy"])
    if policy == "noeviction":
        return _Check(policy, None, "warn", "noeviction: at maxmemory every write fails with "
                      "an OOM error, so workers can no longer store results, values or states",
                      "noeviction_policy")
    if policy.startswith("volatile-") and facts.no_ttl_keys:
        return _Check(policy, None, "warn",
                      f"{policy} evicts only keys with a TTL: "
                      f"{plural(facts.no_ttl_keys, 'key')} of this app "
                      f"({format_bytes(facts.no_ttl_bytes)}"
                      f"{_share(facts.no_ttl_bytes, facts.app_bytes)}) "
                      f"{'has' if facts.no_ttl_keys == 1 else 'have'} none "
                      f"and can never be reclaimed under memory pressure{_besides(facts)}",
                      "unevictable_no_ttl", facts.no_ttl_bytes)
    if policy.startswith("volatile-"):
        return _Check(policy, None, "ok", f"{policy}: every key of this app has a TTL, so all "
                      f"of it can be evicted under memory pressure{_besides(facts)}")
    if policy.startswith("allkeys-"):
        return _Check(policy, None, "ok", f"note: {policy} may evict any key, including the "
                      "results, values and states of tasks still running or awaited; those "
                      "then look like lost values or keys without their result")
    return _Check(policy, None, "ok", f"maxmemory-policy {policy}")


def _besides(facts: _AppFacts) -> str:
    if not facts.placeholders:
        return ""
    values = plural(facts.placeholders, "placeholder value")
    return (f" (besides {values} of unfinished tasks, which "
            "get a TTL when their task finishes)")


def _evictions(server: Mapping[str, Any], facts: _AppFacts) -> _Check:
    evicted = int(server["evicted_keys"])
    if evicted == 0:
        return _Check("0", "0", "ok", "no key has been evicted since the statistics were reset")
    return _Check(str(evicted), "0", "warn",
                  f"{plural(evicted, 'key')} evicted since the server started or CONFIG "
                  "RESETSTAT (keys "
                  "of every app on this server): memory ran out at least once", "evictions")


def _fragmentation(server: Mapping[str, Any], facts: _AppFacts) -> _Check:
    ratio, used = float(server["mem_fragmentation_ratio"]), int(server["used_memory"])
    value, limit = f"{ratio:.2f}", f"1.00-{FRAGMENTATION_WARN:.2f}"
    if used < FRAGMENTATION_JUDGED_FROM:
        return _Check(value, limit, "ok", f"ratio {ratio:.2f} with only {format_bytes(used)} in "
                      "use: too little memory for the ratio to mean anything")
    if ratio < 1:
        return _Check(value, limit, "critical",
                      f"ratio {ratio:.2f} < 1 with {format_bytes(used)} in use: the process "
                      "resident memory is smaller than its data, so part of it is swapped out "
                      "and every access may hit the disk", "swapping", used)
    if ratio > FRAGMENTATION_WARN:
        wasted = int(used * (ratio - 1))
        return _Check(value, limit, "warn",
                      f"ratio {ratio:.2f} > {FRAGMENTATION_WARN}: the process holds "
                      f"{format_bytes(wasted)} more than its {format_bytes(used)} of data",
                      "fragmentation", wasted)
    return _Check(value, limit, "ok", f"ratio {ratio:.2f} with {format_bytes(used)} in use")


def _clients(server: Mapping[str, Any], facts: _AppFacts) -> _Check:
    connected, limit = int(server["connected_clients"]), int(server["maxclients"])
    share = connected / limit if limit else 1.0
    status = "critical" if share >= CLIENTS_CRITICAL else "warn" if share >= CLIENTS_WARN \
        else "ok"
    return _Check(str(connected), str(limit), status,
                  f"{plural(connected, 'client')} connected of maxclients {limit} ({share:.0%})",
                  None if status == "ok" else "clients_near_max")


def _timeout(server: Mapping[str, Any], facts: _AppFacts) -> _Check:
    timeout = int(server["timeout"])
    if timeout > 0:
        return _Check(str(timeout), "> 0", "ok", f"idle connections close after {timeout} s")
    return _Check("0", "> 0", "warn", "timeout is 0: Redis never closes idle connections, so "
                  "connections of restarted or idle workers pile up toward maxclients",
                  "timeout_zero")


def _listpack(server: Mapping[str, Any], facts: _AppFacts) -> _Check:
    entries, size = int(server["hash_max_listpack_entries"]), \
        int(server["hash_max_listpack_value"])
    setting = f"{entries} entries, {size} B"
    rule = f"a hash with more than {entries} fields or a field over {size} B is a hashtable"
    if not facts.overflow_values:
        return _Check(setting, None, "ok", f"{rule}; none of this app's "
                      f"{plural(facts.values, 'value hash', 'value hashes')} is one.")
    # The same measure and threshold as the listpack_overflow finding: one verdict.
    costly = facts.overflow_bytes >= LISTPACK_SHARE * facts.app_bytes > 0
    verdict = "see the listpack_overflow finding" if costly else \
        f"under {LISTPACK_SHARE:.0%} of the app, so no finding"
    return _Check(setting, None, "warn" if costly else "ok",
                  f"{rule}: {facts.overflow_values} of this app's "
                  f"{plural(facts.values, 'value hash', 'value hashes')} are, costing about "
                  f"{format_bytes(facts.overflow_bytes)} more than listpacks ({verdict}).")


_Checker = Callable[[Mapping[str, Any], _AppFacts], _Check]
# Each check: the server fields it needs (NA in any -> status unknown) and its rule.
_CHECKERS: dict[str, tuple[tuple[str, ...], _Checker]] = {
    "memory_headroom": (("used_memory", "maxmemory"), _headroom),
    "maxmemory_policy": (("maxmemory_policy",), _policy),
    "evictions": (("evicted_keys",), _evictions),
    "fragmentation": (("mem_fragmentation_ratio", "used_memory"), _fragmentation),
    "clients": (("connected_clients", "maxclients"), _clients),
    "timeout": (("timeout",), _timeout),
    "listpack_limits": (("hash_max_listpack_entries", "hash_max_listpack_value"), _listpack),
}


# What each ``issue`` is called in findings, and what to do about it.
ISSUE_TITLES = {
    "no_maxmemory": "Redis has no memory limit",
    "memory_near_max": "Redis is close to maxmemory",
    "noeviction_policy": "Writes will fail when memory is full (noeviction)",
    "unevictable_no_ttl": "Keys the eviction policy can never reclaim",
    "evictions": "Redis has evicted keys",
    "fragmentation": "Memory is fragmented",
    "swapping": "Redis is swapping",
    "clients_near_max": "Connections close to maxclients",
    "timeout_zero": "Idle connections never close (timeout 0)",
}
ISSUE_ADVICE = {
    "no_maxmemory": "Set maxmemory below the machine's memory (leave room for fork "
                    "copy-on-write and fragmentation) with an evicting maxmemory-policy such "
                    "as volatile-lru, as Mognet's documentation advises.",
    "memory_near_max": "Free memory (see the no_ttl, placeholder_no_ttl and stuck_tasks "
                       "findings), shorten result_ttl / result_value_ttl, or raise maxmemory; "
                       "past the limit the maxmemory-policy decides what is lost.",
    "noeviction_policy": "CONFIG SET maxmemory-policy volatile-lru (and in redis.conf): a full "
                         "Redis then evicts keys that have a TTL instead of failing every "
                         "task's writes.",
    "unevictable_no_ttl": "Give these keys a TTL (the no_ttl and placeholder_no_ttl findings "
                          "say which); allkeys-lru would evict them too, but also results "
                          "still being awaited.",
    "evictions": "Memory ran out: evicted results and values are lost to their callers. Add "
                 "memory or shorten the TTLs; CONFIG RESETSTAT shows whether evictions go on.",
    "fragmentation": "CONFIG SET activedefrag yes (Redis built with jemalloc), or restart or "
                     "fail over the instance at a quiet time.",
    "swapping": "Give the host more RAM or set maxmemory below its physical memory: Redis "
                "must not swap.",
    "clients_near_max": "Set timeout (e.g. 300) so idle connections close, cap each worker's "
                        "pool (RedisResultBackendSettings.max_connections), or raise "
                        "maxclients.",
    "timeout_zero": "CONFIG SET timeout 300 (and in redis.conf): with hundreds of workers, idle "
                    "connections otherwise pile up to maxclients.",
}
