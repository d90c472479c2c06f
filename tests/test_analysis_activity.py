"""throughput, duration_percentiles and arrival_rate on hand-made snapshots."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from mognet_lab import BadOption, Snapshot
from mognet_lab.analysis import arrival_rate, duration_percentiles, throughput
from snapshots import HOUR, T0, all_na, basic, empty


def _created(*ages: timedelta) -> Snapshot:
    """Results created ``ages`` before T0."""
    rows = [{"result_id": f"00000000-0000-4000-8000-{i:012d}", "created": T0 - age}
            for i, age in enumerate(ages)]
    return Snapshot.from_frames(app="lab", scanned_at=T0, results=rows)


def test_throughput_counts_per_hour() -> None:
    got = throughput(basic())
    assert list(got.columns) == ["at", "created", "finished", "failed"]
    assert str(got["at"].dtype) == "datetime64[ns, UTC]"
    # From R3's creation (T0 - 48 h) to the 11:00 period of R1 and R2's ends.
    assert got["at"].iloc[0] == pd.Timestamp(T0) - pd.Timedelta(hours=48)
    assert got["at"].iloc[-1] == pd.Timestamp(T0) - pd.Timedelta(hours=1)
    assert len(got) == 48
    last = got.iloc[-1]
    assert (last["created"], last["finished"], last["failed"]) == (1, 2, 1)
    assert (got["created"].sum(), got["finished"].sum(), got["failed"].sum()) == (3, 2, 1)


def test_throughput_with_a_coarser_period() -> None:
    got = throughput(basic(), freq="1D")
    assert list(got["created"]) == [1, 0, 2]
    assert list(got["failed"]) == [0, 0, 1]


def test_throughput_of_empty_and_na_snapshots() -> None:
    for snap in (empty(), all_na()):
        got = throughput(snap)
        assert got.empty and list(got.columns) == ["at", "created", "finished", "failed"]


@pytest.mark.parametrize("freq", ["0s", "often", None, "1ms"])
def test_throughput_rejects_bad_periods(freq: Any) -> None:
    with pytest.raises(BadOption, match="^freq="):
        throughput(basic(), freq=freq)


def test_duration_percentiles_by_name() -> None:
    got = duration_percentiles(basic())
    assert list(got.columns) == ["name", "count", "queue_p50", "queue_p90", "queue_p99",
                                 "duration_p50", "duration_p90", "duration_p99"]
    report, export = got.iloc[0], got.iloc[1]
    assert (str(report["name"]), report["count"]) == ("report", 2)
    # queue times 1 min and 60 min; run times 9 min and 60 min.
    assert report["queue_p50"] == pd.Timedelta(minutes=30.5)
    assert report["queue_p90"] == pd.Timedelta(minutes=1 + 0.9 * 59)
    assert report["duration_p50"] == pd.Timedelta(minutes=34.5)
    assert (str(export["name"]), export["count"]) == ("export", 1)
    assert export["queue_p99"] == pd.Timedelta(hours=1)
    assert pd.isna(export["duration_p50"])
    assert str(got["queue_p50"].dtype) == "timedelta64[ns]"


def test_duration_percentiles_by_state_and_node() -> None:
    by_state = duration_percentiles(basic(), by="state")
    assert set(by_state["state"].astype(str)) == {"SUCCESS", "FAILURE", "RUNNING"}
    by_node = duration_percentiles(basic(), by="node").set_index("node")
    assert by_node.loc["n1", "count"] == 2 and by_node.loc["n2", "count"] == 1
    with pytest.raises(BadOption, match="^by="):
        duration_percentiles(basic(), by="kind")


def test_duration_percentiles_of_empty_and_na_snapshots() -> None:
    assert duration_percentiles(empty()).empty
    got = duration_percentiles(all_na())
    assert str(got["name"].item()) == "(none)" and pd.isna(got["queue_p50"].item())


def test_arrival_rate_counts_intervals_between_arrivals() -> None:
    # Three results between T0 - 48 h and T0 - 30 min: two intervals in 47.5 h.
    assert arrival_rate(basic()) == pytest.approx(2 / (47.5 * HOUR))


def test_arrival_rate_is_capped_to_the_last_seven_days() -> None:
    snap = _created(timedelta(days=20), timedelta(days=6), timedelta(days=3), timedelta(days=1))
    # The window starts 7 d before the newest (T0 - 8 d): 3 results in it.
    assert arrival_rate(snap) == pytest.approx(3 / (7 * 86400))


def test_arrival_rate_over_an_explicit_window() -> None:
    assert arrival_rate(basic(), window="1D") == pytest.approx(2 / 86400)
    assert arrival_rate(basic(), window=timedelta(hours=1)) == pytest.approx(1 / 3600)
    assert arrival_rate(basic(), window=3 * 86400) == pytest.approx(3 / (3 * 86400))
    with pytest.raises(BadOption, match="^window="):
        arrival_rate(basic(), window="-1h")


def test_arrival_rate_without_enough_results() -> None:
    assert arrival_rate(empty()) == 0.0
    assert arrival_rate(all_na()) == 0.0
    assert arrival_rate(_created(timedelta(hours=1))) == 0.0
    assert math.isnan(arrival_rate(_created(timedelta(hours=1), timedelta(hours=1))))
