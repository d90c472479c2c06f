"""anomalies() / anomaly_summary(): each anomaly fires on its fault and only there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from anomaly_snapshots import Keyspace, healthy, uid
from mognet_lab.analysis.anomalies import (
    ANOMALIES,
    NEEDS_COMPLETE_SCAN,
    anomalies,
    anomaly_summary,
    format_age,
)
from mognet_lab.errors import BadOption


def _of(space: Keyspace, code: str, **kwargs: Any) -> pd.DataFrame:
    found = anomalies(space.snapshot(), **kwargs)
    return found[found["anomaly"] == code].reset_index(drop=True)


def test_healthy_keyspace_has_no_anomaly() -> None:
    found = anomalies(healthy().snapshot())
    assert found.empty
    assert list(found.columns) == ["anomaly", "key", "result_id", "detail", "bytes"]
    assert list(found["anomaly"].cat.categories) == list(ANOMALIES)
    assert str(found["bytes"].dtype) == "Int64"
    assert anomaly_summary(healthy().snapshot()).empty


@pytest.mark.parametrize(("kind", "suffix"), [("value", "/value"), ("children", "/children"),
                                              ("metadata", "/metadata")])
def test_family_key_without_result_fires(kind: str, suffix: str) -> None:
    space = healthy()
    orphan = uid(900)
    if kind == "value":
        key = space.value(orphan, memory=250, ttl=None)
    elif kind == "children":
        key = space.children(orphan, [uid(1)], memory=250, ttl=None)
    else:
        key = space.metadata(orphan, memory=250, ttl=None)
    found = _of(space, f"{kind}_without_result")
    assert len(found) == 1
    assert found.loc[0, "key"] == key and key.endswith(suffix)
    assert found.loc[0, "result_id"] == orphan
    assert found.loc[0, "bytes"] == 250
    assert "250 B" in found.loc[0, "detail"] and "no TTL" in found.loc[0, "detail"]


def test_family_keys_with_their_result_do_not_fire() -> None:
    space = healthy()
    rid = space.result("SUCCESS")
    space.metadata(rid)
    space.children(rid, [uid(1)])
    found = anomalies(space.snapshot())
    assert not found["anomaly"].astype(str).str.endswith("_without_result").any()


def test_child_missing_fires_only_for_the_missing_child() -> None:
    space = healthy()
    parent = space.result("SUCCESS")
    key = space.children(parent, [uid(1), uid(950)])
    found = _of(space, "child_missing")
    assert len(found) == 1
    assert found.loc[0, "result_id"] == uid(950)
    assert found.loc[0, "key"] == key
    assert found.loc[0, "bytes"] == 0
    assert uid(950) in found.loc[0, "detail"] and parent in found.loc[0, "detail"]


def test_children_that_exist_do_not_fire() -> None:
    assert _of(healthy(), "child_missing").empty  # healthy() has a parent with two children


def test_value_lost_fires_for_a_ready_result_without_value() -> None:
    space = healthy()
    rid = space.result("SUCCESS", value=None, age=timedelta(days=9), memory=340)
    found = _of(space, "value_lost")
    assert len(found) == 1
    assert found.loc[0, "result_id"] == rid
    assert found.loc[0, "bytes"] == 340
    assert "SUCCESS" in found.loc[0, "detail"] and "8d 23h" in found.loc[0, "detail"]


def test_unfinished_result_without_value_is_not_lost() -> None:
    space = healthy()
    space.result("PENDING", value=None)  # the value comes when it finishes
    assert _of(space, "value_lost").empty


@pytest.mark.parametrize(("state", "code"), [("RUNNING", "stuck_running"),
                                             ("SUSPENDED", "stuck_suspended")])
def test_stuck_fires_after_stuck_after(state: str, code: str) -> None:
    space = healthy()
    rid = space.result(state, age=timedelta(hours=9), memory=300, value="placeholder",
                       value_memory=200)
    found = _of(space, code)
    assert len(found) == 1
    assert found.loc[0, "result_id"] == rid
    assert found.loc[0, "bytes"] == 500
    detail = found.loc[0, "detail"]
    assert f"{state} for 9h (> 6h)" in detail and "500 B" in detail and "worker-1" in detail


@pytest.mark.parametrize("state", ["RUNNING", "SUSPENDED"])
def test_stuck_respects_stuck_after(state: str) -> None:
    space = healthy()
    space.result(state, age=timedelta(hours=9))
    found = anomalies(space.snapshot(), stuck_after="12h")
    assert not found["anomaly"].isin(["stuck_running", "stuck_suspended"]).any()
    # ...and healthy() has a task RUNNING for 5 minutes, never stuck.
    assert _of(healthy(), "stuck_running").empty


def test_state_of_finished_fires_for_a_ready_result() -> None:
    space = healthy()
    rid = space.result("REVOKED")
    key = space.state(rid, fields=3, memory=130)
    found = _of(space, "state_of_finished")
    assert len(found) == 1
    assert found.loc[0, "key"] == key
    assert found.loc[0, "bytes"] == 130
    assert "REVOKED" in found.loc[0, "detail"] and "3 fields" in found.loc[0, "detail"]


def test_state_of_running_task_does_not_fire() -> None:
    assert _of(healthy(), "state_of_finished").empty  # the RUNNING task has a state


def test_unexpected_retries_fire() -> None:
    space = healthy()
    failed = space.result("FAILURE", starts=3, stops=1, memory=300, value_memory=200)
    running = space.result("RUNNING", starts=3, stops=1, age=timedelta(minutes=1))
    found = _of(space, "unexpected_retries").set_index("result_id")
    assert set(found.index) == {failed, running}
    assert found.loc[failed, "bytes"] == 500
    assert "2 unexpected restarts" in found.loc[failed, "detail"]
    # A RUNNING result's own start has no stop yet: only the earlier one counts.
    assert "1 unexpected restart " in found.loc[running, "detail"]


def test_running_task_without_its_stop_is_no_retry() -> None:
    space = healthy()
    space.result("RUNNING", starts=1, stops=0, age=timedelta(minutes=1))
    assert _of(space, "unexpected_retries").empty


def test_unknown_key_fires() -> None:
    space = healthy()
    key = space.unknown("cache:thing", memory=96)
    found = _of(space, "unknown_key")
    assert len(found) == 1
    assert found.loc[0, "key"] == key and found.loc[0, "bytes"] == 96
    assert pd.isna(found.loc[0, "result_id"])
    assert "string key" in found.loc[0, "detail"] and "96 B" in found.loc[0, "detail"]


def test_unknown_key_does_not_fire_on_mognet_keys() -> None:
    assert _of(healthy(), "unknown_key").empty


def test_unreadable_is_one_row_per_key_with_its_errors() -> None:
    space = healthy()
    rid = space.result("SUCCESS", error="field 'created' is not an ISO-8601 timestamp",
                       memory=310)
    space.value(space.result("SUCCESS", value=None), error="bad gzip", memory=220)
    found = _of(space, "unreadable").set_index("result_id")
    assert len(found) == 2
    assert found.loc[rid, "bytes"] == 310
    assert found.loc[rid, "detail"] == "field 'created' is not an ISO-8601 timestamp"
    assert found["key"].str.endswith("/value").sum() == 1


def test_readable_keys_are_not_unreadable() -> None:
    assert _of(healthy(), "unreadable").empty


def test_incomplete_scan_skips_missing_key_anomalies_and_says_so() -> None:
    space = healthy()
    space.value(uid(900), ttl=None)
    space.result("SUCCESS", value=None, age=timedelta(days=9))
    space.result("RUNNING", age=timedelta(days=1))
    found = anomalies(space.snapshot(complete=False))
    assert set(found["anomaly"].astype(str)) == {"stuck_running"}
    assert found.attrs["skipped"] == list(NEEDS_COMPLETE_SCAN)
    assert "incomplete" in found.attrs["note"]
    assert "incomplete" in anomaly_summary(space.snapshot(complete=False)).attrs["note"]
    assert "note" not in anomalies(space.snapshot()).attrs


def test_summary_counts_bytes_and_example() -> None:
    space = healthy()
    space.unknown("a", memory=50)
    space.unknown("b", memory=70)
    space.result("RUNNING", age=timedelta(days=2), memory=1000, value=None)
    summary = anomaly_summary(space.snapshot())
    assert list(summary.columns) == ["anomaly", "count", "bytes", "example"]
    assert list(summary["anomaly"].astype(str)) == ["stuck_running", "unknown_key"]
    unknown = summary.set_index("anomaly").loc["unknown_key"]
    assert (unknown["count"], unknown["bytes"]) == (2, 120)
    assert "70 B" in unknown["example"]  # the example is the largest occurrence


def test_bad_stuck_after_is_rejected() -> None:
    with pytest.raises(BadOption, match="stuck_after"):
        anomalies(healthy().snapshot(), stuck_after="soon")


@pytest.mark.parametrize(("seconds", "text"), [(40, "40s"), (9 * 3600, "9h"),
                                               (9 * 3600 + 720, "9h 12m"),
                                               (2 * 86400 + 3 * 3600 + 5, "2d 3h")])
def test_format_age(seconds: int, text: str) -> None:
    assert format_age(pd.Timedelta(seconds=seconds)) == text
