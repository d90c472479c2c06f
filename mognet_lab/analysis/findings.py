"""One table an operator can act on: what is wrong, the numbers, what to do.

Each rule below looks at one thing (keys without TTL, stuck tasks, the
server's limits...) and yields a finding for each problem it sees. Every
finding states the numbers it rests on in ``measured``; a keyspace with
nothing wrong gives an empty table. Pure: frames in, a frame out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterator, NamedTuple

import pandas as pd

from ..format import READY_STATES
from ..keys import KIND_UNKNOWN
from ..snapshot import Snapshot
from ._common import (
    app_bytes,
    as_timedelta,
    check_count,
    format_bytes,
    placeholder_mask,
    reference_time,
)
from .estimate import sample_label, scale_seen
from .anomalies import (
    NEEDS_COMPLETE_SCAN,
    anomalies,
    format_age,
    member_of,
    plural,
    unexpected_restarts,
)
from .forecast import forecast
from .pressure import ISSUE_ADVICE, ISSUE_TITLES, server_pressure
from .memo import memoized
from .scan_warnings import nested_apps
from .ttl import without_ttl
from .values import LISTPACK_SHARE, listpack_overflow, poorly_compressed

__all__ = ["SEVERITIES", "findings", "held_placeholders", "top_findings"]

# Ordered so that max() is the most severe; tables list the most severe first.
SEVERITIES = ("info", "warning", "critical")
SEVERITY_DTYPE = pd.CategoricalDtype(SEVERITIES, ordered=True)
_COLUMNS: dict[str, Any] = {"severity": SEVERITY_DTYPE, "code": pd.StringDtype(),
                            "title": pd.StringDtype(), "measured": pd.StringDtype(),
                            "keys": "Int64", "bytes": "Int64", "advice": pd.StringDtype()}
# A stored exception this large carries more than a message and a traceback.
LARGE_EXCEPTION_BYTES = 16 << 10
_POOR_RATIO, _POOR_MIN_BYTES = 1.1, 1024
_SEVERITY_OF_STATUS = {"critical": "critical", "warn": "warning"}


class Finding(NamedTuple):
    severity: str
    code: str
    title: str
    measured: str
    keys: int | None
    bytes: int | None


_Rule = Callable[["_Context"], Iterator[Finding]]


@dataclass(frozen=True)
class _Context:
    snapshot: Snapshot
    anomalies: pd.DataFrame
    pressure: pd.DataFrame
    app_bytes: int
    stuck_after: pd.Timedelta

    def of(self, code: str) -> pd.DataFrame:
        return self.anomalies[self.anomalies["anomaly"] == code]

    def share(self, size: int) -> str:
        """``", 18% of the app"``, or nothing when the app's size is unknown."""
        return f", {size / self.app_bytes:.0%} of the app" if self.app_bytes else ""


@memoized
def findings(snapshot: Snapshot, *, stuck_after: str | timedelta = "6h",
             min_bytes: int = 0) -> pd.DataFrame:
    """What needs attention in this app's keyspace and on its Redis, worst first.

    Parameters
    ----------
    snapshot
        The scan to judge.
    stuck_after
        RUNNING/SUSPENDED results older than this count as stuck.
    min_bytes
        Leave out findings about less memory than this (findings that are
        not about memory, such as ``timeout_zero``, are always kept).

    Returns
    -------
    pandas.DataFrame
        ``severity`` (ordered categorical critical > warning > info),
        ``code``, ``title``, ``measured`` (the numbers), ``keys`` and
        ``bytes`` (what the finding concerns, NA where not applicable) and
        ``advice``; sorted by severity, then bytes, largest first. On a
        sampled snapshot ``keys`` and ``bytes`` are scaled up, each with
        ``_low``/``_high`` (95%), and ``min_bytes`` keeps a finding only
        when ``bytes_low`` reaches it.
    """
    limit = as_timedelta("stuck_after", stuck_after)
    floor = check_count("min_bytes", min_bytes, minimum=0)
    ctx = _Context(snapshot, anomalies(snapshot, stuck_after=limit),
                   server_pressure(snapshot), app_bytes(snapshot), limit)
    rows = [found._asdict() for rule in _RULES for found in rule(ctx)]
    table = pd.DataFrame(rows, columns=list(Finding._fields))
    table["advice"] = table["code"].map({**ADVICE, **ISSUE_ADVICE})
    table = table.astype(_COLUMNS)
    if snapshot.sampled:
        table = _scaled(table, snapshot)
    # On a sampled snapshot a finding clears the floor only if its whole interval does.
    least = table["bytes_low"] if "bytes_low" in table.columns else table["bytes"]
    table = table[table["bytes"].isna() | (least >= floor).fillna(False)]
    order = table.assign(_rank=table["severity"].cat.codes, _size=table["bytes"].fillna(-1))
    order = order.sort_values(["_rank", "_size", "code"], ascending=[False, False, True])
    return table.loc[order.index].reset_index(drop=True)


def _scaled(table: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
    """A sampled snapshot's findings: keys and bytes scaled up, with 95% intervals; the
    numbers in ``measured`` are those of the sample read, and it says so."""
    label = sample_label(snapshot.sample_fraction)
    columns: dict[str, list[Any]] = {c: [] for c in ("keys", "keys_low", "keys_high", "bytes",
                                                     "bytes_low", "bytes_high")}
    measured = []
    for row in table.itertuples():
        seen = None if pd.isna(row.keys) else \
            scale_seen(snapshot, int(row.keys), 0 if pd.isna(row.bytes) else int(row.bytes))
        for column, values in columns.items():
            values.append(None if seen is None or (column.startswith("bytes") and
                                                   pd.isna(row.bytes)) else seen[column])
        measured.append(row.measured if seen is None else
                        f"{row.measured} [counted in the keys read; {label}: about "
                        f"{seen['keys']:,} ({seen['keys_low']:,}-{seen['keys_high']:,}) in all]")
    out = table.assign(measured=pd.array(measured, dtype=pd.StringDtype()))
    for column, values in columns.items():
        out[column] = pd.array(values, dtype="Int64")
    return out[["severity", "code", "title", "measured", "keys", "keys_low", "keys_high",
                "bytes", "bytes_low", "bytes_high", "advice"]]


def top_findings(snapshot: Snapshot, n: int = 5, **kwargs: Any) -> pd.DataFrame:
    """The ``n`` most important rows of :func:`findings` (keyword arguments go there)."""
    count = check_count("n", n)
    return findings(snapshot, **kwargs).head(count).reset_index(drop=True)


def _breakdown(labels: pd.Series, top: int = 4, *, names_first: bool = False,
               noun: str = "other") -> str:
    """``"300 result, 112 metadata"`` (or ``"worker-1 (3), 2 other nodes (5)"`` with
    ``noun="node"``): counts per label, largest first."""
    counts = labels.astype(object).fillna("?").value_counts()
    # Ties in label order, so the same keyspace always reads the same.
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    parts = [f"{name} ({count})" if names_first else f"{count} {name}"
             for name, count in counts.head(top).items()]
    rest, others = int(counts.iloc[top:].sum()), len(counts) - top
    if rest and names_first:  # "2 other" would not say two what
        parts.append(f"{plural(others, f'other {noun}')} ({rest})")
    elif rest:
        parts.append(f"{rest} other")
    return ", ".join(parts)


def _verb(count: int, one: str = "has", many: str = "have") -> str:
    return one if count == 1 else many


def _size(frame: pd.DataFrame, column: str = "bytes") -> int:
    return int(frame[column].fillna(0).sum())


# --- server --------------------------------------------------------------------------------

def _server(ctx: _Context) -> Iterator[Finding]:
    pressure = ctx.pressure
    bad = pressure[pressure["status"].isin(list(_SEVERITY_OF_STATUS))]
    nodes = pressure["node"].nunique()
    for issue, rows in bad.groupby("issue", sort=False):
        severity = max((_SEVERITY_OF_STATUS[s] for s in rows["status"].astype(str)),
                       key=SEVERITIES.index)
        texts = [f"{node}: {detail}" if nodes > 1 else str(detail)
                 for node, detail in zip(rows["node"], rows["detail"])]
        size = rows["bytes"]
        yield Finding(severity, str(issue), ISSUE_TITLES[str(issue)], "; ".join(texts),
                      None, None if size.isna().all() else _size(rows))


def _server_unknown(ctx: _Context) -> Iterator[Finding]:
    unknown = ctx.pressure[ctx.pressure["status"] == "unknown"]
    if len(unknown):
        checks = ", ".join(dict.fromkeys(unknown["check"].astype(str)))
        reasons = "; ".join(dict.fromkeys(unknown["detail"].astype(str)))
        yield Finding("info", "server_unknown", "Some server limits could not be checked",
                      f"{plural(len(unknown), 'check')} without an answer ({checks}): "
                      f"{reasons}", None, None)


def _forecast(ctx: _Context) -> Iterator[Finding]:
    if not len(ctx.snapshot.results):
        return
    row = forecast(ctx.snapshot).iloc[0]
    eta = row["time_to_maxmemory"]
    if pd.isna(eta) or eta <= pd.Timedelta(0):
        return  # no limit, unknown, never reached, or already full (headroom says so)
    severity = "critical" if eta < pd.Timedelta(days=1) else "warning"
    total = row["steady_state_bytes"] + row["never_expiring_bytes"]
    yield Finding(severity, "maxmemory_forecast", "Redis will reach maxmemory at this rate",
                  f"at {row['rate_per_s']:.3g} results/s the app grows towards "
                  f"{format_bytes(total)} but only {format_bytes(row['headroom_bytes'])} "
                  f"of maxmemory {format_bytes(row['maxmemory'])} is free: full in about "
                  f"{format_age(eta)} (forecast() lists the assumptions)", None, int(total))


# --- TTL -----------------------------------------------------------------------------------

def _no_ttl_keys(ctx: _Context) -> pd.DataFrame:
    """Keys of Mognet's kinds without a TTL, placeholders (reported apart) left out."""
    keys = without_ttl(ctx.snapshot)
    return keys[~keys["placeholder"] & (keys["kind"] != KIND_UNKNOWN).fillna(True)]


def _no_ttl(ctx: _Context) -> Iterator[Finding]:
    keys = _no_ttl_keys(ctx)
    if len(keys):
        size = _size(keys, "memory_bytes")
        # Say how this count relates to "keys without TTL" in every summary.
        apart = len(without_ttl(ctx.snapshot)) - len(keys)
        rest = f" (of {len(keys) + apart:,} keys without TTL in all; {apart:,} placeholders " \
            "or unknown keys are counted apart)" if apart else ""
        yield Finding("warning", "no_ttl", "Keys without a TTL never expire",
                      f"{plural(len(keys), 'key')} ({format_bytes(size)}{ctx.share(size)}) "
                      f"{_verb(len(keys))} no TTL: {_breakdown(keys['kind'])}{rest}",
                      len(keys), size)


def held_placeholders(snapshot: Snapshot, *, stuck_after: pd.Timedelta) -> pd.DataFrame:
    """Placeholder values without TTL whose task will not finish: ready, gone or stuck.

    The rows of ``snapshot.values`` behind the ``placeholder_no_ttl`` finding,
    with ``why``: the result's state (``"REVOKED"``...), ``"without result
    hash"``, or ``"RUNNING for more than 6h"`` and ``stuck`` (True for the last).
    """
    values, results = snapshot.values, snapshot.results
    held = values[placeholder_mask(values) & values["ttl_s"].isna().to_numpy(dtype=bool)]
    by_id = results.drop_duplicates("result_id").set_index("result_id")
    since = by_id["started"].fillna(by_id["created"])
    young = ~by_id["state"].isin(list(READY_STATES)) & \
        (reference_time(snapshot) - since <= stuck_after).fillna(False)
    held = held[~member_of(held["result_id"], young[young].index)]
    if not snapshot.complete:  # a result not read is not a result gone
        held = held[member_of(held["result_id"], by_id.index)]
    why = held["result_id"].map(by_id["state"].astype(object)).fillna("without result hash")
    stuck = ~why.isin(list(READY_STATES)) & (why != "without result hash")
    why = why.where(~stuck, why + f" for more than {format_age(stuck_after)}")
    return held.assign(why=why.astype(object), stuck=stuck.astype(bool))


def _placeholders(ctx: _Context) -> Iterator[Finding]:
    """Placeholders whose task will not finish: ready, gone or stuck results."""
    held = held_placeholders(ctx.snapshot, stuck_after=ctx.stuck_after)
    if not len(held):
        return
    size = _size(held, "memory_bytes")
    yield Finding("warning", "placeholder_no_ttl", "Placeholder values that will never expire",
                  f"{plural(len(held), 'placeholder value')} ({format_bytes(size)}) "
                  f"{_verb(len(held))} no TTL and their task will not finish: "
                  f"{_breakdown(held['why'])}", len(held), size)


# --- anomalies -----------------------------------------------------------------------------

def _stuck(ctx: _Context) -> Iterator[Finding]:
    found = ctx.anomalies[ctx.anomalies["anomaly"].isin(["stuck_running", "stuck_suspended"])]
    if not len(found):
        return
    results = ctx.snapshot.results
    mine = results[member_of(results["result_id"], found["result_id"])]
    oldest = reference_time(ctx.snapshot) - mine["started"].fillna(mine["created"]).min()
    size = _size(found)
    yield Finding("warning", "stuck_tasks", "Tasks stuck RUNNING or SUSPENDED",
                  f"{plural(len(found), 'result')} ({_breakdown(mine['state'])}) stuck for more "
                  f"than {format_age(ctx.stuck_after)}, the oldest for {format_age(oldest)}, on "
                  f"nodes {_breakdown(mine['node_id'], 3, names_first=True, noun='node')}; "
                  f"their keys hold {format_bytes(size)}", len(found), size)


def _orphans(ctx: _Context) -> Iterator[Finding]:
    codes = ["value_without_result", "children_without_result", "metadata_without_result"]
    found = ctx.anomalies[ctx.anomalies["anomaly"].isin(codes)]
    if not len(found):
        return
    keys = ctx.snapshot.keys
    lasting = int(keys.loc[member_of(keys["key"], found["key"]), "ttl_s"].isna().sum())
    kinds = "/" + found["anomaly"].astype(str).str.replace("_without_result", "", regex=False)
    size = _size(found)
    yield Finding("warning" if lasting else "info", "orphan_keys",
                  "Keys that outlived their result hash",
                  f"{plural(len(found), 'key')} ({format_bytes(size)}) "
                  f"{_verb(len(found), 'outlives', 'outlive')} their result hash: "
                  f"{_breakdown(kinds)}; {lasting} of them without TTL",
                  len(found), size)


def _simple(code: str, anomaly: str, severity: str, title: str,
            text: Callable[[pd.DataFrame, _Context], str]) -> _Rule:
    """A rule that reports every occurrence of one anomaly as one finding."""
    def rule(ctx: _Context) -> Iterator[Finding]:
        found = ctx.of(anomaly)
        if len(found):
            yield Finding(severity, code, title, text(found, ctx), len(found), _size(found))
    rule.__name__ = f"_{code}"
    return rule


def _children_text(found: pd.DataFrame, ctx: _Context) -> str:
    return (f"{plural(len(found), 'child', 'children')} listed in the /children sets of "
            f"{plural(found['key'].nunique(), 'result')} {_verb(len(found))} no result hash")


def _lost_text(found: pd.DataFrame, ctx: _Context) -> str:
    results = ctx.snapshot.results
    mine = results[member_of(results["result_id"], found["result_id"])]
    recent = int((reference_time(ctx.snapshot) - mine["finished"]
                  < pd.Timedelta(days=7)).fillna(False).sum())
    return (f"{plural(len(found), 'finished result')} ({_breakdown(mine['state'])}) "
            f"{_verb(len(found))} no /value key; the remaining keys hold "
            f"{format_bytes(_size(found))}; {recent} of "
            "them finished less than 7 days (Mognet's default result_value_ttl) before the scan")


def _state_text(found: pd.DataFrame, ctx: _Context) -> str:
    states, results = ctx.snapshot.states, ctx.snapshot.results
    mine = states[member_of(states["request_id"], found["result_id"])]
    state_of = results.drop_duplicates("result_id").set_index("result_id")["state"]
    verb = _verb(len(found), "belongs", "belong")
    return (f"{plural(len(found), 'state hash', 'state hashes')} "
            f"({format_bytes(_size(found))}) {verb} to finished results "
            f"({_breakdown(found['result_id'].map(state_of.astype(object)))}); "
            f"{int(mine['ttl_s'].isna().sum())} of them without TTL")


def _retries_text(found: pd.DataFrame, ctx: _Context) -> str:
    results = ctx.snapshot.results
    mine = results[member_of(results["result_id"], found["result_id"])]
    restarts = unexpected_restarts(mine)
    return (f"{plural(len(found), 'result')} started without a matching stop "
            f"{plural(int(restarts.sum()), 'time')} in all (at most {int(restarts.max())} on "
            f"one result); tasks: {_breakdown(mine['name'], 3, names_first=True, noun='task')}")


def _unknown_text(found: pd.DataFrame, ctx: _Context) -> str:
    keys = ctx.snapshot.keys
    lasting = int(keys.loc[member_of(keys["key"], found["key"]), "ttl_s"].isna().sum())
    example = found["key"].iloc[0]
    return (f"{plural(len(found), 'key')} ({format_bytes(_size(found))}) under the app's "
            f"prefix {_verb(len(found), 'is', 'are')} not Mognet's (e.g. {example!r}); "
            f"{lasting} of them without TTL")


def _unreadable_text(found: pd.DataFrame, ctx: _Context) -> str:
    return (f"{plural(len(found), 'key')} ({format_bytes(_size(found))}) could not be fully "
            f"read, e.g. {found['key'].iloc[0]!r}: {found['detail'].iloc[0]}")


# --- values --------------------------------------------------------------------------------

def _poor_compression(ctx: _Context) -> Iterator[Finding]:
    poor = poorly_compressed(ctx.snapshot, threshold=_POOR_RATIO, min_bytes=_POOR_MIN_BYTES)
    poor = poor[(poor["encoding"].astype(object) == "gzip") & poor["raw_bytes"].notna()]
    if not len(poor):
        return
    stored, raw = _size(poor, "stored_bytes"), _size(poor, "raw_bytes")
    effect = f"gzip saves only {format_bytes(raw - stored)}" if raw >= stored else \
        f"gzip makes them {format_bytes(stored - raw)} larger"
    yield Finding("info", "poor_compression", "Values that gzip barely shrinks",
                  f"{plural(len(poor), 'gzipped value')} of {format_bytes(_POOR_MIN_BYTES)} or "
                  f"more compress less than {_POOR_RATIO}x: {format_bytes(stored)} stored for "
                  f"{format_bytes(raw)} raw, {effect}", len(poor), stored)


def _listpack(ctx: _Context) -> Iterator[Finding]:
    over = listpack_overflow(ctx.snapshot)
    extra = _size(over, "extra_bytes_estimate")
    if not len(over) or extra < LISTPACK_SHARE * ctx.app_bytes or extra == 0:
        return
    count, limit = int(over["values"].sum()), int(over["limit_bytes"].iloc[0])
    assumed = " (Redis' default; the server did not say)" if over["assumed_limit"].any() else ""
    yield Finding("info", "listpack_overflow", "Value hashes too big for the compact encoding",
                  f"{plural(count, 'value')} exceed hash-max-listpack-value={limit} B{assumed} "
                  f"and are stored as hashtables, which costs about {format_bytes(extra)} "
                  f"more than listpacks would{ctx.share(extra)}", count, extra)


def _large_exceptions(ctx: _Context) -> Iterator[Finding]:
    values = ctx.snapshot.values
    failed = values[values["is_exception"].fillna(False).astype(bool)
                    & ~placeholder_mask(values)
                    & (values["memory_bytes"] >= LARGE_EXCEPTION_BYTES).fillna(False)]
    if not len(failed):
        return
    size, largest = _size(failed, "memory_bytes"), failed.loc[failed["memory_bytes"].idxmax()]
    yield Finding("info", "large_exceptions", "Stored exceptions with large payloads",
                  f"{plural(len(failed), 'stored exception')} of "
                  f"{format_bytes(LARGE_EXCEPTION_BYTES)} or more ({format_bytes(size)} in all; "
                  f"{_breakdown(failed['exception_name'], 3)}), the largest "
                  f"{format_bytes(largest['memory_bytes'])}", len(failed), size)


def _incomplete(ctx: _Context) -> Iterator[Finding]:
    p = ctx.snapshot.provenance
    if not p.complete:
        yield Finding("info", "scan_incomplete", "The scan stopped before the end",
                      f"only {plural(p.keys_read, 'key')} were read{_limit(p.settings.limit)}: "
                      "totals are partial and "
                      f"{', '.join(NEEDS_COMPLETE_SCAN)} were not checked", p.keys_read, None)


def _nested_apps(ctx: _Context) -> Iterator[Finding]:
    app = ctx.snapshot.app
    for row in nested_apps(ctx.snapshot.keys, app).itertuples():
        yield Finding("warning", "nested_app", "Another Mognet app's keys are counted in this one",
                      f"app {row.app!r} keeps {plural(int(row.keys), 'key')} "
                      f"({format_bytes(row.bytes)}{ctx.share(int(row.bytes))}) under "
                      f"{app + '.mognet.'!r}: this scan reads them as unknown keys of {app!r} "
                      "and counts them in its memory", int(row.keys), int(row.bytes))


def _limit(limit: int | None) -> str:
    return "" if limit is None else f" (limit={limit})"


_RULES: tuple[_Rule, ...] = (
    _server, _forecast, _no_ttl, _placeholders, _stuck, _orphans,
    _simple("unexpected_retries", "unexpected_retries", "warning",
            "Tasks restarted after a worker died", _retries_text),
    _simple("unreadable_keys", "unreadable", "warning", "Keys that could not be read",
            _unreadable_text),
    _simple("value_lost", "value_lost", "info", "Finished results whose value is gone",
            _lost_text),
    _simple("children_missing", "child_missing", "info", "Children without a result hash",
            _children_text),
    _simple("finished_state", "state_of_finished", "info", "State kept after the task finished",
            _state_text),
    _simple("unknown_keys", "unknown_key", "info", "Keys under the prefix that are not Mognet's",
            _unknown_text),
    _poor_compression, _listpack, _large_exceptions, _server_unknown, _incomplete,
    _nested_apps,
)

ADVICE = {
    "no_ttl": "Mognet sets TTLs unless result_ttl / result_value_ttl "
              "(RedisResultBackendSettings) or state_ttl (RedisStateBackendSettings) are None: "
              "set them. Keys already without a TTL stay until deleted: EXPIRE or DEL them by "
              "hand (mognet_lab only reads).",
    "placeholder_no_ttl": "Set result_value_ttl and check why tasks never finish: placeholder "
                          "values written by get_or_create get no TTL until the task finishes, "
                          "and revoked, crashed or stuck tasks never do; revoking an unknown "
                          "or pending task with Mognet (App.revoke, `mognet tasks revoke`) "
                          "creates such a placeholder with no TTL. `mognet-lab cleanup-plan` "
                          "writes the UNLINK/EXPIRE commands for these /value keys; see "
                          "stuck_tasks.",
    "stuck_tasks": "Look at the worker nodes named: a worker killed mid-task leaves its results "
                   "RUNNING for good. Revoke the results that will not finish and find what "
                   "hangs (deadlines, external calls); until then their placeholder values "
                   "keep no TTL.",
    "orphan_keys": "Nothing reads these keys any more. Those with a TTL expire on their own; "
                   "DEL those without. Result hashes vanish before their keys when evicted "
                   "(allkeys-* policy), deleted by hand, or when result_ttl is shorter than "
                   "result_value_ttl.",
    "unexpected_retries": "A start without a stop means the worker died during the task (OOM "
                          "kill, SIGKILL, lost broker connection) and the message was "
                          "redelivered; Mognet gives up after max_retries. Check those "
                          "workers' memory limits and logs for the tasks named.",
    "unreadable_keys": "See the 'unreadable' rows of anomalies(): a key of the wrong type under "
                       "Mognet's prefix breaks Mognet's own reads of that result; hashes over "
                       "ScanSettings.max_hash_fields are read by raising it.",
    "value_lost": "By design values expire before results (result_value_ttl 7 d < result_ttl "
                  "21 d), so callers asking later get no value; make the TTLs equal if they "
                  "need it. Values gone sooner than result_value_ttl were evicted: see "
                  "evictions and give Redis more memory.",
    "children_missing": "The children expired or were evicted before the parent's /children "
                        "set: waiting on them (Result.children, tree()) fails. Little memory is "
                        "at stake; children should live as long as their parent.",
    "finished_state": "Mognet's worker clears a task's state when it completes; states of "
                      "revoked or crashed tasks stay until state_ttl (7200 s by default) runs "
                      "out. Set state_ttl where they have none.",
    "unknown_keys": "Something other than Mognet writes under the app's prefix, outside "
                    "Mognet's TTL settings: find the writer and move those keys to another "
                    "prefix, or give them a TTL.",
    "poor_compression": "These values are already compact (binary, compressed or random data): "
                        "gzip costs CPU and saves little. Store large payloads elsewhere "
                        "(object storage) and return a reference.",
    "listpack_overflow": "Raise hash-max-listpack-value (CONFIG SET and redis.conf) above the "
                         "typical stored value size so small values stay compact listpacks; "
                         "only values written afterwards benefit.",
    "large_exceptions": "Each failure stores its message, traceback and pickled exception: "
                        "exceptions that carry large data (request bodies, frames in args) "
                        "multiply with every failure. Raise exceptions with short messages and "
                        "no large attributes.",
    "maxmemory_forecast": "Shorten result_ttl / result_value_ttl (what_if() shows the effect) "
                          "or raise maxmemory before then; keys without TTL only add to this.",
    "server_unknown": "Check these settings in the provider's console (managed Redis often "
                      "refuses CONFIG), or grant the scanning user CONFIG GET.",
    "scan_incomplete": "Scan again without limit for complete figures.",
    "nested_app": "Scan the nested app on its own (discover_apps() lists both) and subtract "
                  "its memory from this app's; better, rename one app so that neither name "
                  "starts with the other's name followed by '.mognet'.",
}
