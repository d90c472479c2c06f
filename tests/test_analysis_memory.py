"""memory_by and the shared helpers, on hand-made snapshots and on real Mognet data."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pandas as pd
import pytest

import mognet_lab
from mognet_lab import BadOption
from mognet_lab.analysis import (
    AGE_BUCKETS,
    expiry_schedule,
    format_bytes,
    maxmemory,
    memory_by,
    used_memory,
)
from mognet_lab.analysis._common import reference_time
from mognet_writer import RESULT_TTL_S, VALUE_TTL_S, MognetWriter
from snapshots import APP_BYTES, KIND_BYTES, R1, R2, R3, R4, T0, USED_MEMORY, all_na, basic, empty

SHARE_COLUMNS = ["keys", "bytes", "share_of_app", "share_of_used_memory"]


def _as_dict(frame: pd.DataFrame, by: str, column: str = "bytes") -> dict[str, Any]:
    return dict(zip(frame[by].astype(str), frame[column]))


def test_by_kind_sums_every_key_largest_first() -> None:
    got = memory_by(basic(), "kind")
    assert list(got.columns) == ["kind", *SHARE_COLUMNS]
    assert list(got["kind"].astype(str)) == ["value", "result", "children", "metadata", "state",
                                             "unknown"]
    assert _as_dict(got, "kind") == KIND_BYTES
    assert _as_dict(got, "kind", "keys") == {"value": 4, "result": 3, "children": 1,
                                             "metadata": 1, "state": 1, "unknown": 1}
    assert got["share_of_app"].sum() == pytest.approx(1.0)
    assert got["share_of_used_memory"].iloc[0] == pytest.approx(2200 / USED_MEMORY)


def test_by_name_counts_result_families_and_orphans() -> None:
    got = memory_by(basic(), "name")
    # report = R1 (3 keys, 1150 B) + R2 (2 keys, 600 B); export = R3 with a
    # placeholder value and children; R4's value has no result hash.
    assert list(got["name"].astype(str)) == ["report", "export", "(no result)"]
    assert list(got["bytes"]) == [1750, 580, 400]
    assert list(got["keys"]) == [5, 3, 1]
    assert got["share_of_app"].iloc[0] == pytest.approx(1750 / APP_BYTES)
    assert isinstance(got["name"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize(("by", "expected"), [
    ("state", {"SUCCESS": 1150, "FAILURE": 600, "RUNNING": 580, "(no result)": 400}),
    ("node", {"n1": 1750, "n2": 580, "(no result)": 400}),
    ("age", {"<1 h": 1150, "1-6 h": 600, "1-7 d": 580, "unknown": 400}),
])
def test_by_state_node_and_age(by: str, expected: dict[str, int]) -> None:
    got = memory_by(basic(), by)
    assert _as_dict(got, by) == expected
    assert list(got["bytes"]) == sorted(got["bytes"], reverse=True)


def test_age_is_an_ordered_categorical_of_all_buckets() -> None:
    age = memory_by(basic(), "age")["age"]
    assert age.cat.ordered
    assert list(age.cat.categories) == list(AGE_BUCKETS)


def test_missing_labels_read_none() -> None:
    got = memory_by(all_na(), "name")
    assert list(got["name"].astype(str)) == ["(none)"]
    assert list(got["keys"]) == [1]


def test_by_family_is_one_row_per_result() -> None:
    got = memory_by(basic(), "family")
    assert list(got["result_id"]) == [R1, R2, R3, R4]
    assert list(got["family"]) == [R1, R2, R3, R4]
    assert list(got["bytes"]) == [1150, 600, 580, 400]
    assert list(got["keys"]) == [3, 2, 3, 1]
    assert list(got["name"].astype(str)) == ["report", "report", "export", "(no result)"]
    assert list(got["state"].astype(str)) == ["SUCCESS", "FAILURE", "RUNNING", "(no result)"]


@pytest.mark.parametrize("by", ["kind", "name", "state", "node", "age", "family"])
def test_top_keeps_totals(by: str) -> None:
    full = memory_by(basic(), by)
    got = memory_by(basic(), by, top=2)
    assert len(got) == 3
    assert str(got[by].iloc[-1]) == "(other)"
    assert got["bytes"].sum() == full["bytes"].sum()
    assert got["keys"].sum() == full["keys"].sum()
    assert got["bytes"].iloc[-1] == full["bytes"].iloc[2:].sum()
    assert got["share_of_app"].iloc[-1] == pytest.approx(full["share_of_app"].iloc[2:].sum())


def test_top_larger_than_the_groups_adds_no_other_row() -> None:
    got = memory_by(basic(), "name", top=10)
    assert "(other)" not in set(got["name"].astype(str))


def test_share_of_used_memory_is_nan_when_used_memory_unknown() -> None:
    got = memory_by(basic(used_memory=None), "kind")
    assert got["share_of_used_memory"].isna().all()
    assert got["share_of_app"].notna().all()


@pytest.mark.parametrize("by", ["kind", "name", "state", "node", "age", "family"])
def test_empty_snapshot_gives_declared_columns(by: str) -> None:
    got = memory_by(empty(), by)
    assert got.empty
    assert by in got.columns and set(SHARE_COLUMNS) <= set(got.columns)


@pytest.mark.parametrize(("options", "name"), [
    ({"by": "colour"}, "by"), ({"by": "kind", "top": 0}, "top"),
    ({"by": "kind", "top": 1.5}, "top"),
])
def test_bad_options_are_rejected(options: dict[str, Any], name: str) -> None:
    with pytest.raises(BadOption, match=rf"^{name}="):
        memory_by(basic(), **options)


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 B"), (512, "512 B"), (1536, "1.5 KiB"), (1.5 * 2**20, "1.5 MiB"),
    (3 * 2**30, "3.0 GiB"), (2**20 - 1, "1.0 MiB"), (-2048, "-2.0 KiB"), (None, "unknown"),
    (float("nan"), "unknown"), (pd.NA, "unknown"),
])
def test_format_bytes(n: Any, text: str) -> None:
    assert format_bytes(n) == text


def test_used_memory_and_maxmemory_sum_nodes() -> None:
    assert used_memory(basic()) == USED_MEMORY
    assert math.isnan(used_memory(empty()))
    assert math.isnan(used_memory(basic(used_memory=None)))
    assert maxmemory(basic(maxmemory=0)) == 0.0
    assert math.isnan(maxmemory(basic(maxmemory=None)))


def test_reference_time_is_the_scan_time_in_utc() -> None:
    assert reference_time(basic()) == pd.Timestamp(T0)
    naive = mognet_lab.Snapshot.from_frames(app="x", scanned_at=T0.replace(tzinfo=None))
    assert reference_time(naive) == pd.Timestamp(T0)


# -- data written by the real mognet package ---------------------------------
async def _write(url: str, app: str) -> None:
    async with MognetWriter(url, app) as writer:
        for i in range(3):
            res = await writer.submit("demo.job", i, metadata={"batch": i} if i == 0 else None)
            await writer.start(res)
            await writer.complete(res, {"rows": list(range(40 * (i + 1)))})


def test_real_mognet_keys_add_up_and_expire_on_schedule(redis_url: str, app_name: str) -> None:
    asyncio.run(_write(redis_url, app_name))
    snap = mognet_lab.connect(redis_url, app=app_name).scan(progress=False)
    keys = snap.keys
    by_kind = memory_by(snap, "kind")
    expected = keys.groupby("kind", observed=True)["memory_bytes"].sum().astype(int).to_dict()
    assert _as_dict(by_kind, "kind") == expected
    assert by_kind["bytes"].sum() == keys["memory_bytes"].sum()
    assert memory_by(snap, "name")["bytes"].sum() == keys["memory_bytes"].sum()

    schedule = expiry_schedule(snap, horizon="22D", freq="1h")
    released = schedule.set_index("hours")["released_bytes"]
    value_bytes = expected["value"]
    family_bytes = expected["result"] + expected["metadata"]
    # A TTL read a few seconds after the write is a little under 7 d / 21 d.
    assert released.loc[VALUE_TTL_S / 3600] == value_bytes
    assert released.loc[RESULT_TTL_S / 3600] == family_bytes
    assert released.sum() == keys["memory_bytes"].sum()
    assert schedule["remaining_bytes"].iloc[-1] == 0
