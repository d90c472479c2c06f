"""Which keys an operator could remove or expire, grouped by the finding that names them.

:func:`cleanup_plan` turns three findings into groups of keys with one action
each: the placeholder values that will never expire (``placeholder_no_ttl``),
keys that outlived their result hash (``orphan_keys``) and the state hashes of
finished tasks (``finished_state``). The keys are those the findings and
anomalies already name: nothing here decides anew what is garbage.

Pure, and advice only: mognet_lab never sends these commands. A presentation
module (:mod:`mognet_lab.views.plan`) writes them as a file for ``redis-cli``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator, NamedTuple

import pandas as pd

from ..keys import KIND_CHILDREN, KIND_METADATA, KIND_VALUE, result_key, state_key
from ..snapshot import Snapshot
from ._common import as_timedelta, format_bytes
from .anomalies import anomalies
from .findings import held_placeholders
from .memo import memoized

__all__ = ["ACTIONS", "VALUE_TTL_S", "cleanup_plan"]

ACTIONS = ("UNLINK", "EXPIRE")
# Mognet's default result_value_ttl: what a stuck task's placeholder is given,
# the TTL it would have had, had its task finished.
VALUE_TTL_S = 7 * 24 * 3600
_COLUMNS: dict[str, Any] = {"finding": pd.StringDtype(), "group": pd.StringDtype(),
                            "action": pd.StringDtype(), "seconds": "Int64", "keys": object,
                            "key_count": "Int64", "bytes": "Int64", "why": pd.StringDtype()}
_ORPHANS = {"value_without_result": KIND_VALUE, "children_without_result": KIND_CHILDREN,
            "metadata_without_result": KIND_METADATA}
_REVOKE_NOTE = ("Revoking an unknown or pending task with Mognet (App.revoke, `mognet tasks "
                "revoke`) creates such a placeholder, with no TTL.")


class _Group(NamedTuple):
    finding: str
    group: str
    action: str
    seconds: int | None
    keys: tuple[str, ...]
    bytes: int
    why: str


@memoized
def cleanup_plan(snapshot: Snapshot, *, stuck_after: str | timedelta = "6h") -> pd.DataFrame:
    """The keys that findings say should go, one row per group with one action.

    Parameters
    ----------
    snapshot
        The scan to plan from (a complete scan: orphans are only judged there).
    stuck_after
        As in :func:`~mognet_lab.analysis.findings`: RUNNING/SUSPENDED
        results older than this are stuck.

    Returns
    -------
    pandas.DataFrame
        ``finding`` (the finding's code), ``group`` (a short label),
        ``action`` (``"UNLINK"`` or ``"EXPIRE"``), ``seconds`` (the TTL an
        EXPIRE sets, NA for UNLINK), ``keys`` (a tuple of key names, sorted),
        ``key_count``, ``bytes`` (memory the keys hold: freed at once by
        UNLINK, when the TTL runs out by EXPIRE) and ``why``. Empty groups
        are left out; a healthy keyspace gives an empty table.
    """
    limit = as_timedelta("stuck_after", stuck_after)
    groups = [*_placeholders(snapshot, limit), *_orphans(snapshot, limit),
              *_finished_states(snapshot, limit)]
    rows = [{**g._asdict(), "key_count": len(g.keys)} for g in groups if g.keys]
    return pd.DataFrame(rows, columns=list(_COLUMNS)).astype(_COLUMNS)


def _size(frame: pd.DataFrame, column: str) -> int:
    return int(pd.to_numeric(frame[column], errors="coerce").fillna(0).sum())


def _counted(labels: pd.Series) -> str:
    counts = labels.astype(object).value_counts().sort_index()
    return ", ".join(f"{count} {label}" for label, count in counts.items())


def _placeholders(snapshot: Snapshot, limit: pd.Timedelta) -> Iterator[_Group]:
    held = held_placeholders(snapshot, stuck_after=limit)
    gone, stuck = held[~held["stuck"]], held[held["stuck"]]
    yield _Group(
        "placeholder_no_ttl", "placeholders of finished or vanished tasks", "UNLINK", None,
        _value_keys(snapshot.app, gone), _size(gone, "memory_bytes"),
        f"ResultNotReady placeholder values with no TTL whose result is {_counted(gone['why'])}: "
        "no worker will write their value any more, so nothing replaces or expires them. "
        + _REVOKE_NOTE)
    yield _Group(
        "placeholder_no_ttl", "placeholders of stuck tasks", "EXPIRE", VALUE_TTL_S,
        _value_keys(snapshot.app, stuck), _size(stuck, "memory_bytes"),
        f"placeholder values with no TTL of results {_counted(stuck['why'])}: a worker may "
        "still finish them, so they get Mognet's default result_value_ttl (7 days) instead "
        "of going now; a value written later sets its own TTL.")


def _value_keys(app: str, rows: pd.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(result_key(app, rid, KIND_VALUE) for rid in rows["result_id"]))


def _orphans(snapshot: Snapshot, limit: pd.Timedelta) -> Iterator[_Group]:
    found = anomalies(snapshot, stuck_after=limit)
    found = found[found["anomaly"].isin(list(_ORPHANS))]
    # Names rebuilt from the app and id: the scanned name of a key whose app is
    # not UTF-8 is a display form, the rebuilt one encodes back to its bytes.
    keys = tuple(sorted(result_key(snapshot.app, rid, _ORPHANS[str(code)])
                        for code, rid in zip(found["anomaly"], found["result_id"])))
    ttl = snapshot.keys.drop_duplicates("key").set_index("key")["ttl_s"]
    lasting = int(found["key"].map(ttl).isna().sum())
    kinds = found["anomaly"].astype(str).str.replace("_without_result", "", regex=False)
    yield _Group(
        "orphan_keys", "keys without a result hash", "UNLINK", None, keys,
        _size(found, "bytes"),
        f"{_counted('/' + kinds)} keys whose result hash is gone: nothing reads them any "
        f"more; {lasting} of them without TTL (those never go on their own).")


def _finished_states(snapshot: Snapshot, limit: pd.Timedelta) -> Iterator[_Group]:
    found = anomalies(snapshot, stuck_after=limit)
    found = found[found["anomaly"] == "state_of_finished"]
    states = snapshot.states.drop_duplicates("request_id").set_index("request_id")
    lasting = int(found["result_id"].map(states["ttl_s"]).isna().sum())
    keys = tuple(sorted(state_key(snapshot.app, rid) for rid in found["result_id"]))
    yield _Group(
        "finished_state", "state hashes of finished tasks", "UNLINK", None, keys,
        _size(found, "bytes"),
        f"state hashes of results that finished ({format_bytes(_size(found, 'bytes'))}): "
        "Mognet's worker clears a task's state when it completes, so only revoked or "
        f"crashed runs leave one; {lasting} of them without TTL.")
