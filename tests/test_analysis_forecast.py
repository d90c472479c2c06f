"""family_bytes, forecast and what_if on the known snapshot of tests/snapshots.py."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mognet_lab import BadOption, Snapshot
from mognet_lab.analysis import family_bytes, forecast, what_if
from snapshots import DAY, HOUR, T0, USED_MEMORY, all_na, basic, empty

RATE = 2 / (47.5 * HOUR)  # see test_analysis_activity
# Expiring bytes per result: 3 results; values of 3 results (none lost); the
# state key shared by the 2 results active in the last 2 h.
MEANS = {"result": 400 / 3, "value": 1900 / 3, "children": 80 / 3, "metadata": 50 / 3,
         "state": 40 / 2}
NEVER = 330  # R3's placeholder value and the unknown key
EXPIRING = 400 + 1900 + 80 + 50 + 40
FORECAST_COLUMNS = ["scenario", "rate_per_s", "result_ttl_s", "value_ttl_s", "state_ttl_s",
                    "gzip", "current_bytes", "steady_state_bytes", "never_expiring_bytes",
                    "total_bytes", "maxmemory", "used_memory", "headroom_bytes",
                    "time_to_maxmemory", "assumptions"]


def _steady(result_ttl: float = 21 * DAY, value_ttl: float = 7 * DAY, state_ttl: float = 7200,
            value_mean: float = MEANS["value"]) -> float:
    per_result = ((MEANS["result"] + MEANS["children"] + MEANS["metadata"]) * result_ttl
                  + value_mean * value_ttl + MEANS["state"] * state_ttl)
    return RATE * per_result


def test_family_bytes_per_kind() -> None:
    got = family_bytes(basic()).set_index("kind")
    assert list(got.index.astype(str)) == ["result", "value", "children", "metadata", "state"]
    assert got.loc["value", "bytes"] == 2200 and got.loc["value", "expiring_bytes"] == 1900
    assert got.loc["value", "keys"] == 4
    assert dict(got["families"]) == {"result": 3, "value": 3, "children": 3, "metadata": 3,
                                     "state": 2}
    for kind, mean in MEANS.items():
        assert got.loc[kind, "mean_expiring_bytes"] == pytest.approx(mean)
    assert got.loc["value", "mean_bytes"] == pytest.approx(2200 / 3)


def test_family_bytes_leaves_out_results_whose_value_expired() -> None:
    frames = dict(basic().frames)
    results = frames["results"].astype({"value_status": object})
    results.loc[1, "value_status"] = "lost"
    snap = Snapshot.from_frames(app="lab", scanned_at=T0, **{**frames, "results": results})
    assert family_bytes(snap).set_index("kind").loc["value", "families"] == 2


def test_forecast_with_mognet_defaults() -> None:
    got = forecast(basic())
    assert list(got.columns) == FORECAST_COLUMNS and len(got) == 1
    row = got.iloc[0]
    assert row["scenario"] == "current"
    assert row["rate_per_s"] == pytest.approx(RATE)
    assert (row["result_ttl_s"], row["value_ttl_s"], row["state_ttl_s"]) == (21 * DAY, 7 * DAY,
                                                                             7200)
    assert pd.isna(row["gzip"])
    assert row["steady_state_bytes"] == pytest.approx(_steady())
    assert row["never_expiring_bytes"] == NEVER
    assert row["total_bytes"] == pytest.approx(_steady() + NEVER)
    assert (row["current_bytes"], row["maxmemory"], row["used_memory"]) == (2800, 100_000,
                                                                           USED_MEMORY)
    assert row["headroom_bytes"] == 100_000 - USED_MEMORY
    # The steady state (~8.2 kB) never reaches 72 kB of headroom.
    assert pd.isna(row["time_to_maxmemory"])
    assert "21 d" in row["assumptions"] and "7 d" in row["assumptions"]
    assert "633 B" in row["assumptions"]


def test_forecast_with_other_ttls() -> None:
    row = forecast(basic(), result_ttl_s=DAY, value_ttl_s=HOUR, state_ttl_s=60).iloc[0]
    assert row["steady_state_bytes"] == pytest.approx(_steady(DAY, HOUR, 60))
    assert row["scenario"] == "result_ttl_s=86400.0, value_ttl_s=3600.0, state_ttl_s=60"


def test_forecast_without_gzip_stores_raw_bytes() -> None:
    row = forecast(basic(), gzip=False).iloc[0]
    # Expiring gzipped values: R1 700 -> 2100 and R2 300 -> 600 bytes.
    value_mean = (1900 + 1400 + 300) / 3
    assert row["steady_state_bytes"] == pytest.approx(_steady(value_mean=value_mean))
    assert not row["gzip"]
    assert "ratio 2.70" in row["assumptions"]


def test_forecast_with_gzip_shrinks_plain_values_at_the_observed_ratio() -> None:
    row = forecast(basic(), gzip=True).iloc[0]
    value_mean = (1900 - 200 * (1 - 1 / 2.7)) / 3  # R4 stores 200 plain bytes
    assert row["steady_state_bytes"] == pytest.approx(_steady(value_mean=value_mean))


def test_time_to_maxmemory_at_the_current_growth() -> None:
    row = forecast(basic(maxmemory=30_000)).iloc[0]
    growth = RATE * sum(MEANS.values())
    assert row["headroom_bytes"] == 2000
    assert row["time_to_maxmemory"].total_seconds() == pytest.approx(2000 / growth, rel=1e-6)
    full = forecast(basic(maxmemory=20_000)).iloc[0]
    assert full["time_to_maxmemory"] == pd.Timedelta(0)


@pytest.mark.parametrize(("maxmemory", "text"), [(0, "unlimited"), (None, "unknown")])
def test_no_time_to_maxmemory_without_a_limit(maxmemory: Any, text: str) -> None:
    row = forecast(basic(maxmemory=maxmemory)).iloc[0]
    assert pd.isna(row["time_to_maxmemory"]) and pd.isna(row["headroom_bytes"])
    assert f"maxmemory {text}" in row["assumptions"]


def test_what_if_starts_with_the_current_settings() -> None:
    got = what_if(basic(), [{"value_ttl_s": DAY}, {"gzip": False, "scenario": "plain JSON"}])
    assert list(got.columns) == FORECAST_COLUMNS
    assert list(got["scenario"]) == ["current", "value_ttl_s=86400.0", "plain JSON"]
    assert got["steady_state_bytes"].iloc[0] == pytest.approx(_steady())
    assert got["steady_state_bytes"].iloc[1] == pytest.approx(_steady(value_ttl=DAY))
    assert got["steady_state_bytes"].iloc[2] > got["steady_state_bytes"].iloc[0]
    assert str(got["time_to_maxmemory"].dtype) == "timedelta64[ns]"
    assert str(got["gzip"].dtype) == "boolean"


@pytest.mark.parametrize(("call", "name"), [
    (lambda s: forecast(s, value_ttl_s=0), "value_ttl_s"),
    (lambda s: forecast(s, result_ttl_s="21D"), "result_ttl_s"),
    (lambda s: forecast(s, gzip="yes"), "gzip"),
    (lambda s: forecast(s, window="never"), "window"),
    (lambda s: what_if(s, {"gzip": False}), "scenarios"),
    (lambda s: what_if(s, [{"colour": "red"}]), "scenarios"),
])
def test_bad_options_are_rejected(call: Any, name: str) -> None:
    with pytest.raises(BadOption, match=rf"^{name}="):
        call(basic())


def test_empty_and_na_snapshots_forecast_nothing() -> None:
    for snap in (empty(), all_na()):
        row = what_if(snap, [{"gzip": False}, {"gzip": True}]).iloc[0]
        assert (row["rate_per_s"], row["steady_state_bytes"], row["never_expiring_bytes"]) == \
            (0, 0, 0)
        assert pd.isna(row["time_to_maxmemory"])
    assert (family_bytes(empty())["mean_bytes"] == 0).all()
