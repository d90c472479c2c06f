"""ttl_buckets, expiry_schedule and never_expiring on hand-made snapshots."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mognet_lab import BadOption, Snapshot
from mognet_lab.analysis import TTL_BUCKETS, expiry_schedule, never_expiring, ttl_buckets
from mognet_lab.analysis.ttl import ttl_bucket
from mognet_lab.keys import KEY_KINDS
from snapshots import APP_BYTES, DAY, HOUR, R1, T0, all_na, basic, empty

SCHEDULE_COLUMNS = ["at", "hours", "released_bytes", "released_keys", "remaining_bytes",
                    "remaining_keys", "never_bytes"]


def _cells(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    nonzero = frame[frame["keys"] > 0]
    return {(str(k), str(b)): (n, size) for k, b, n, size in
            zip(nonzero["kind"], nonzero["bucket"], nonzero["keys"], nonzero["bytes"])}


@pytest.mark.parametrize(("ttl", "bucket"), [
    (None, "no TTL"), (0.0, "<1 h"), (3599.0, "<1 h"), (HOUR, "1-4 h"), (5 * HOUR, "4-12 h"),
    (12 * HOUR, "12-24 h"), (DAY, "1-7 d"), (7 * DAY - 1, "1-7 d"), (7 * DAY, "7-30 d"),
    (21 * DAY, "7-30 d"), (30 * DAY, ">30 d"),
])
def test_ttl_bucket_edges(ttl: float | None, bucket: str) -> None:
    got = ttl_bucket(pd.Series([ttl], dtype="float64"))
    assert str(got.iloc[0]) == bucket


def test_ttl_buckets_counts_every_key_in_its_bucket() -> None:
    got = ttl_buckets(basic())
    assert list(got.columns) == ["kind", "bucket", "keys", "bytes"]
    assert _cells(got) == {
        ("result", "7-30 d"): (3, 400),
        ("value", "no TTL"): (1, 300), ("value", "1-7 d"): (3, 1900),
        ("children", "7-30 d"): (1, 80), ("metadata", "7-30 d"): (1, 50),
        ("state", "<1 h"): (1, 40), ("unknown", "no TTL"): (1, 30),
    }
    assert got["bytes"].sum() == APP_BYTES


def test_ttl_buckets_has_every_combination_in_order() -> None:
    for snap in (basic(), empty()):
        got = ttl_buckets(snap)
        assert len(got) == len(KEY_KINDS) * len(TTL_BUCKETS)
        assert got["bucket"].cat.ordered
        assert list(got["bucket"].cat.categories) == list(TTL_BUCKETS)
        assert list(got["bucket"].iloc[:len(TTL_BUCKETS)].astype(str)) == list(TTL_BUCKETS)
    assert ttl_buckets(empty())["keys"].sum() == 0


def test_ttl_buckets_keeps_an_unexpected_kind() -> None:
    got = ttl_buckets(all_na())
    assert _cells(got) == {("(none)", "no TTL"): (1, 0)}


def test_expiry_schedule_releases_each_key_at_its_ttl() -> None:
    got = expiry_schedule(basic(), horizon="21D", freq="1D")
    assert list(got.columns) == SCHEDULE_COLUMNS
    assert len(got) == 22
    assert got["at"].iloc[0] == pd.Timestamp(T0)
    assert got["at"].iloc[-1] == pd.Timestamp(T0) + pd.Timedelta(days=21)
    assert str(got["at"].dtype) == "datetime64[ns, UTC]"
    released = dict(zip(got["hours"] / 24, got["released_bytes"]))
    # state 1800 s -> day 1; R4's value 3 d; R1/R2 values 6 d; R3 19 d; R1/R2 20 d.
    assert {d: b for d, b in released.items() if b} == {1: 40, 3: 400, 6: 1500, 19: 280, 20: 250}
    first = got.iloc[0]
    assert (first["released_bytes"], first["remaining_bytes"], first["remaining_keys"]) == \
        (0, APP_BYTES, 11)
    last = got.iloc[-1]
    # R3's placeholder value and the unknown key have no TTL.
    assert (last["remaining_bytes"], last["remaining_keys"]) == (330, 2)
    assert (got["never_bytes"] == 330).all()


def test_expiry_schedule_keeps_keys_beyond_the_horizon() -> None:
    got = expiry_schedule(basic(), horizon="7D", freq="12h")
    assert len(got) == 15
    assert got["released_bytes"].sum() == 40 + 400 + 1500
    assert got["remaining_bytes"].iloc[-1] == APP_BYTES - 1940
    assert got.loc[got["hours"] == 144, "released_bytes"].item() == 1500


def test_expiry_schedule_of_an_empty_snapshot_is_all_zeros() -> None:
    got = expiry_schedule(empty(), horizon="2h", freq="1h")
    assert len(got) == 3
    assert (got[SCHEDULE_COLUMNS[2:]] == 0).all().all()


@pytest.mark.parametrize(("options", "name"), [
    ({"freq": "0h"}, "freq"), ({"freq": "soon"}, "freq"), ({"horizon": -5}, "horizon"),
    ({"horizon": "365D", "freq": "1s"}, "freq"), ({"freq": True}, "freq"),
])
def test_expiry_schedule_rejects_bad_options(options: dict[str, Any], name: str) -> None:
    with pytest.raises(BadOption, match=rf"^{name}="):
        expiry_schedule(basic(), **options)


def test_never_expiring_by_kind_and_owning_state() -> None:
    got = never_expiring(basic())
    assert list(got.columns) == ["kind", "state", "keys", "bytes"]
    rows = list(zip(got["kind"].astype(str), got["state"].astype(str), got["keys"], got["bytes"]))
    assert rows == [("value", "RUNNING", 1, 300), ("unknown", "(n/a)", 1, 30)]


def test_never_expiring_marks_keys_whose_result_is_gone() -> None:
    snap = Snapshot.from_frames(app="lab", scanned_at=T0, keys=[
        {"key": f"lab.mognet.result.{R1}/value", "kind": "value", "result_id": R1,
         "memory_bytes": 500, "ttl_s": None},
        {"key": f"lab.mognet.result.{R1}/children", "kind": "children", "result_id": R1,
         "memory_bytes": 70, "ttl_s": None},
        {"key": "lab.mognet.state.x", "kind": "state", "memory_bytes": 9, "ttl_s": 60.0},
    ])
    got = never_expiring(snap)
    assert list(zip(got["kind"].astype(str), got["state"].astype(str), got["bytes"])) == \
        [("value", "(no result)", 500), ("children", "(no result)", 70)]


def test_never_expiring_of_empty_and_na_snapshots() -> None:
    assert never_expiring(empty()).empty
    got = never_expiring(all_na())
    assert list(got["keys"]) == [1]


def test_without_ttl_is_the_one_definition_of_keys_without_ttl() -> None:
    from mognet_lab.analysis import overview, server_pressure, without_ttl

    snap = basic()
    got = without_ttl(snap)
    keys = snap.keys
    assert sorted(got["key"]) == sorted(keys.loc[keys["ttl_s"].isna(), "key"])
    # R3's value is Mognet's placeholder of a RUNNING task: it gets a TTL when the task ends.
    flags = {(str(k), bool(p), bool(u)) for k, p, u in
             zip(got["kind"], got["placeholder"], got["unfinished"])}
    assert flags == {("value", True, True), ("unknown", False, False)}
    assert int(never_expiring(snap)["bytes"].sum()) == int(got["memory_bytes"].sum()) == 330
    figures = overview(snap)
    assert (figures["no_ttl_keys"], figures["no_ttl_bytes"]) == (2, 330)
    # server_pressure leaves out only the unfinished placeholder: the unknown key stays.
    policy = server_pressure(snap).set_index("check").loc["maxmemory_policy"]
    assert "1 key of this app (30 B" in policy["detail"]
    assert "1 placeholder value of unfinished tasks" in policy["detail"]
