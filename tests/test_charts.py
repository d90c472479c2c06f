"""Charts draw what the analysis says, on the Axes they are given, without pyplot.

Snapshots are built by hand with :meth:`Snapshot.from_frames`, so every
number a chart should draw is known here.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Iterator

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt  # noqa: E402  (only the tests use pyplot: to check it is unused)
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from mognet_lab import BadOption, Snapshot, analysis, charts  # noqa: E402

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
R1 = "11111111-1111-4111-8111-111111111111"
R2 = "22222222-2222-4222-8222-222222222222"
R3 = "33333333-3333-4333-8333-333333333333"
DAY = 86400.0

# Key memory the charts must draw, by kind and TTL status.
VALUE_WITH_TTL, VALUE_NO_TTL, RESULTS, METADATA, STATE = 2000, 1000, 900, 200, 150
APP_BYTES = VALUE_WITH_TTL + VALUE_NO_TTL + RESULTS + METADATA + STATE  # 4250
USED, MAXMEMORY = 10 * 1024 ** 2, 100 * 1024 ** 2


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    """Close any pyplot figure a failing test may have left (charts make none)."""
    yield
    plt.close("all")


def _key(rid: str, kind: str, size: int, ttl_s: float | None) -> dict[str, object]:
    suffix = "" if kind == "result" else f"/{kind}"
    return {"key": f"app.mognet.result.{rid}{suffix}", "kind": kind, "result_id": rid,
            "redis_type": "hash", "memory_bytes": size, "ttl_s": ttl_s}


def _result(rid: str, name: str, state: str, minutes_ago: int, duration_s: float,
            total: int) -> dict[str, object]:
    created = NOW - timedelta(minutes=minutes_ago)
    started = created + timedelta(seconds=1)
    return {"result_id": rid, "name": name, "state": state, "node_id": "worker-1",
            "created": created.isoformat(), "started": started.isoformat(),
            "finished": (started + timedelta(seconds=duration_s)).isoformat(),
            "queue_time": timedelta(seconds=1), "duration": timedelta(seconds=duration_s),
            "total_memory_bytes": total, "memory_bytes": 450}


def _value(rid: str, encoding: str, stored: int, raw: int) -> dict[str, object]:
    return {"result_id": rid, "encoding": encoding, "stored_bytes": stored, "raw_bytes": raw,
            "compression_ratio": raw / stored, "memory_bytes": stored}


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    keys = [
        _key(R1, "result", 500, 20 * DAY), _key(R1, "value", VALUE_WITH_TTL, 3 * DAY),
        _key(R1, "metadata", METADATA, 20 * DAY),
        _key(R2, "result", 400, 2 * 3600.0), _key(R2, "value", VALUE_NO_TTL, None),
        {"key": "app.mognet.state.req-1", "kind": "state", "result_id": "req-1",
         "redis_type": "hash", "memory_bytes": STATE, "ttl_s": 1800.0},
    ]
    results = [
        _result(R1, "app.tasks.big", "SUCCESS", 90, 2.0, 2700),
        _result(R2, "app.tasks.small", "FAILURE", 30, 0.01, 1400),
        _result(R3, "app.tasks.small", "SUCCESS", 20, 0.03, 0),
    ]
    values = [_value(R1, "gzip", 500, 2000), _value(R2, "gzip", 1000, 800),
              _value(R3, "none", 100, 100)]
    server = [{"node": "redis://x:6379/0", "used_memory": USED, "maxmemory": MAXMEMORY}]
    return Snapshot.from_frames(app="app", scanned_at=NOW, keys=keys, results=results,
                                values=values, server=server)


@pytest.fixture(scope="module")
def empty() -> Snapshot:
    return Snapshot.from_frames(app="app", scanned_at=NOW)


def _bars(ax: Axes) -> list[Rectangle]:
    return [p for container in ax.containers for p in container.patches]


def _widths_by_row(ax: Axes) -> dict[str, float]:
    """Total bar width per y tick label (stacked segments added up)."""
    labels = {round(t): lab.get_text() for t, lab in zip(ax.get_yticks(), ax.get_yticklabels())}
    totals: dict[str, float] = {}
    for bar in _bars(ax):
        row = labels[round(bar.get_y() + bar.get_height() / 2)]
        totals[row] = totals.get(row, 0.0) + bar.get_width()
    return totals


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _legend(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


ALL_CHARTS = [getattr(charts, name) for name in charts.__all__]


def test_public_names_are_pinned() -> None:
    assert charts.__all__ == [
        "compression_histogram", "duration_percentiles", "expiry_schedule", "memory_by_kind",
        "memory_by_task", "memory_gauge", "task_throughput", "top_keys", "ttl_buckets",
        "value_sizes",
    ]


# --- memory.py ---------------------------------------------------------------

def test_memory_by_kind_bar_widths_are_memory_per_kind(snapshot: Snapshot) -> None:
    ax = charts.memory_by_kind(snapshot)
    assert ax.get_title() == "Memory by key kind"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["value", "result", "metadata",
                                                             "state"]
    assert _widths_by_row(ax) == {"value": 3000, "result": 900, "metadata": 200, "state": 150}
    with_ttl, no_ttl = ax.containers
    assert [b.get_width() for b in with_ttl] == [VALUE_WITH_TTL, RESULTS, METADATA, STATE]
    assert [b.get_width() for b in no_ttl] == [VALUE_NO_TTL, 0, 0, 0]
    assert _legend(ax) == ["with TTL", "no TTL"]
    assert "MEMORY USAGE" in ax.get_xlabel()


def test_memory_by_kind_labels_bars_with_bytes_and_share(snapshot: Snapshot) -> None:
    texts = _texts(charts.memory_by_kind(snapshot))
    assert texts[0].startswith(f"2.9 KiB ({3000 / APP_BYTES:.0%})")
    assert "1000 B no TTL" in texts[0]


def test_memory_by_kind_axis_ticks_are_in_binary_units(snapshot: Snapshot) -> None:
    ax = charts.memory_by_kind(snapshot)
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text() not in ("", "0")]
    assert labels and all(label.endswith(" KiB") for label in labels)


def test_memory_by_kind_accepts_a_memory_by_kind_frame() -> None:
    frame = pd.DataFrame({"kind": ["result", "value"], "bytes": [100, 300]})
    ax = charts.memory_by_kind(frame)
    assert _widths_by_row(ax) == {"value": 300, "result": 100}
    assert ax.get_legend() is None  # one bar per kind: nothing to tell apart


def test_memory_by_task_orders_names_and_folds_the_rest(snapshot: Snapshot) -> None:
    ax = charts.memory_by_task(snapshot)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["app.tasks.big", "app.tasks.small"]
    assert _widths_by_row(ax) == {"app.tasks.big": 2700, "app.tasks.small": 1400}
    assert ax.get_title() == "Memory by task name (top 10)"


def test_memory_by_task_puts_other_last() -> None:
    frame = pd.DataFrame({"name": ["a", "(other)", "b", "c"], "bytes": [50, 5, 30, 10]})
    ax = charts.memory_by_task(frame, top=2)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "(other)"]
    assert _widths_by_row(ax) == {"a": 50, "b": 30, "(other)": 15}


def test_top_keys_shows_the_largest_keys_by_kind_and_short_id(snapshot: Snapshot) -> None:
    ax = charts.top_keys(snapshot, n=3)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["value 11111111  big", "value 22222222  small", "result 11111111  big"]
    assert [b.get_width() for b in _bars(ax)] == [2000, 1000, 500]
    assert ax.get_title() == "Largest keys (top 3)"
    assert _legend(ax) == ["value", "result"]


# --- ttl.py ------------------------------------------------------------------

def test_ttl_buckets_stacks_bytes_per_bucket(snapshot: Snapshot) -> None:
    ax = charts.ttl_buckets(snapshot)
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "no TTL", "<1 h", "1-4 h", "4-12 h", "12-24 h", "1-7 d", "7-30 d", ">30 d"]
    heights = np.zeros(8)
    for bar in _bars(ax):
        heights[round(bar.get_x() + bar.get_width() / 2)] += bar.get_height()
    assert heights.tolist() == [1000, 150, 400, 0, 0, 2000, 700, 0]
    assert _legend(ax) == ["value", "result", "metadata", "state"]
    assert ax.get_title() == "Memory by remaining TTL"


def test_expiry_schedule_falls_to_the_never_expiring_floor(snapshot: Snapshot) -> None:
    ax = charts.expiry_schedule(snapshot)
    held = next(line for line in ax.lines if line.get_label() == "memory still held")
    remaining = np.asarray(held.get_ydata(), dtype=float)
    days = np.asarray(held.get_xdata(), dtype=float)
    assert remaining[0] == APP_BYTES
    assert remaining[-1] == VALUE_NO_TTL  # only the key without a TTL is left
    assert days[0] == 0 and days[-1] == pytest.approx(21)
    assert remaining[days == 3].item() == APP_BYTES - 150 - 400 - 2000  # value of R1 gone
    floor = [line for line in ax.lines if line.get_label().startswith("never expires")]
    assert len(floor) == 1 and set(floor[0].get_ydata()) == {VALUE_NO_TTL}
    assert any("never expires (no TTL): 1000 B" in text for text in _legend(ax))
    assert "days" in ax.get_xlabel()


def test_expiry_schedule_accepts_the_analysis_frame() -> None:
    frame = pd.DataFrame({"hours": [0.0, 24.0, 48.0], "remaining_bytes": [300, 200, 100],
                          "never_bytes": [100, 100, 100]})
    ax = charts.expiry_schedule(frame)
    assert list(ax.lines[0].get_xdata()) == [0, 1, 2]
    assert list(ax.lines[0].get_ydata()) == [300, 200, 100]


# --- values.py ---------------------------------------------------------------

def test_compression_histogram_counts_gzip_values_and_marks_no_gain(snapshot: Snapshot) -> None:
    ax = charts.compression_histogram(snapshot, bins=5)
    assert len(ax.patches) in (5, 6)
    assert sum(p.get_height() for p in ax.patches) == 2  # the "none" value is left out
    edges = [p.get_x() for p in ax.patches]
    assert any(edge == pytest.approx(1.0) for edge in edges)  # no bin straddles "no gain"
    no_gain = [line for line in ax.lines if list(line.get_xdata()) == [1.0, 1.0]]
    assert len(no_gain) == 1
    assert _legend(ax) == ["1.0: no gain"]
    assert "50% bigger than raw" in _texts(ax)[0]


def test_value_sizes_uses_a_log_axis_and_log_spaced_bins(snapshot: Snapshot) -> None:
    ax = charts.value_sizes(snapshot, bins=4)
    assert ax.get_xscale() == "log"
    assert sum(p.get_height() for p in ax.patches) == 3
    edges = [p.get_x() for p in ax.patches] + [ax.patches[-1].get_x() + ax.patches[-1].get_width()]
    assert edges[0] == pytest.approx(100) and edges[-1] == pytest.approx(1000)
    assert np.allclose(np.diff(np.log(edges)), np.log(10) / 4)
    ax.figure.canvas.draw()
    assert any(t.get_text().endswith(" B") for t in ax.get_xticklabels())


# --- pressure.py -------------------------------------------------------------

def test_memory_gauge_draws_used_app_and_maxmemory(snapshot: Snapshot) -> None:
    ax = charts.memory_gauge(snapshot)
    track, used, app = (b.get_width() for b in _bars(ax))
    assert (track, used, app) == (MAXMEMORY, USED, APP_BYTES)
    assert any(list(line.get_xdata()) == [MAXMEMORY, MAXMEMORY] for line in ax.lines)
    legend = _legend(ax)
    assert "used_memory: 10.0 MiB (10% of maxmemory)" in legend
    assert "maxmemory: 100.0 MiB" in legend
    steady = float(analysis.forecast(snapshot)["total_bytes"].iloc[0])
    marker = next(line for line in ax.lines if "steady state" in line.get_label())
    assert list(marker.get_xdata()) == pytest.approx([USED - APP_BYTES + steady] * 2)


def test_memory_gauge_says_when_no_maxmemory_is_set() -> None:
    server = pd.DataFrame({"used_memory": [USED], "maxmemory": [0]})
    ax = charts.memory_gauge(server)
    assert "no maxmemory set" in " ".join(_texts(ax))
    assert [b.get_width() for b in _bars(ax)][1] == USED


def test_memory_gauge_says_when_maxmemory_is_unknown() -> None:
    server = pd.DataFrame({"used_memory": [USED], "maxmemory": pd.array([None], dtype="Int64")})
    assert "maxmemory unknown" in " ".join(_texts(charts.memory_gauge(server)))


# --- tasks.py ----------------------------------------------------------------

def test_task_throughput_draws_counts_per_period(snapshot: Snapshot) -> None:
    ax = charts.task_throughput(snapshot, freq="1h")
    assert _legend(ax) == ["created (3)", "finished (3)", "of which failed (1)"]
    finished = next(line for line in ax.lines if line.get_label().startswith("finished"))
    # Periods 10:00 (R1 finished 10:31) and 11:00; the last count repeats to close 11-12 h.
    assert list(finished.get_ydata()) == [1, 2, 2]
    starts = pd.to_datetime(finished.get_xdata())
    assert list(starts) == [pd.Timestamp("2024-05-01 10:00"), pd.Timestamp("2024-05-01 11:00"),
                            pd.Timestamp("2024-05-01 12:00")]
    assert ax.get_ylabel() == "tasks per 1h"


def test_duration_percentiles_bars_are_the_percentiles(snapshot: Snapshot) -> None:
    ax = charts.duration_percentiles(snapshot)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["app.tasks.small  (n=2)",
                                                             "app.tasks.big  (n=1)"]
    p50, p90, p99 = ([b.get_width() for b in c] for c in ax.containers)
    assert p50 == pytest.approx([0.02, 2.0])
    assert p90 == pytest.approx([0.028, 2.0])
    assert p99 == pytest.approx([0.0298, 2.0])
    assert ax.get_xscale() == "log"  # 0.02 s to 2 s: too wide for a linear axis
    assert _legend(ax) == ["p50", "p90", "p99"]


def test_duration_percentiles_stays_linear_for_a_narrow_range() -> None:
    frame = pd.DataFrame({"name": ["a"], "count": [3], "duration_p50": [pd.Timedelta("1s")],
                          "duration_p90": [pd.Timedelta("2s")],
                          "duration_p99": [pd.Timedelta("3s")]})
    ax = charts.duration_percentiles(frame)
    assert ax.get_xscale() == "linear"
    assert [c.patches[0].get_width() for c in ax.containers] == [1, 2, 3]


# --- _base.py -----------------------------------------------------------------

KIB, MIB, GIB = 1024, 1024 ** 2, 1024 ** 3


@pytest.mark.parametrize(("top", "unit", "tick", "label"), [
    (900, 1, 500, "500 B"), (3 * KIB, KIB, 2 * KIB, "2 KiB"),
    (5 * MIB, MIB, MIB / 2, "0.5 MiB"), (3 * GIB, GIB, 2 * GIB, "2 GiB"),
])
def test_byte_ticks_use_one_binary_unit_chosen_from_the_range(top: float, unit: int,
                                                               tick: float, label: str) -> None:
    from mognet_lab.charts._base import BytesFormatter, bytes_axis

    ax = Figure().add_subplot()
    bytes_axis(ax.yaxis)
    ax.set_ylim(0, top)
    formatter = ax.yaxis.get_major_formatter()
    assert isinstance(formatter, BytesFormatter)
    assert formatter(tick) == label
    ticks = ax.yaxis.get_major_locator()() / unit
    assert np.allclose(ticks, np.round(ticks, 1))  # round numbers in that unit


@pytest.mark.parametrize(("days", "label"),
                         [(0.25, "6 h"), (3, "3 d"), (0, "0"), (1 / 1440, "1 min")])
def test_duration_ticks_read_in_hours_or_days(days: float, label: str) -> None:
    from mognet_lab.charts._base import DurationFormatter

    assert DurationFormatter("d")(days) == label


# --- every chart -------------------------------------------------------------

@pytest.mark.parametrize("chart", ALL_CHARTS, ids=charts.__all__)
def test_empty_snapshot_says_no_data(chart: object, empty: Snapshot) -> None:
    ax = chart(empty)  # type: ignore[operator]
    assert isinstance(ax, Axes)
    assert ax.get_title()
    assert any(text.startswith("no data") for text in _texts(ax))


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=charts.__all__)
def test_draws_on_the_given_axes(chart: object, snapshot: Snapshot) -> None:
    figure = Figure()
    given = figure.add_subplot()
    assert chart(snapshot, ax=given) is given  # type: ignore[operator]
    assert given.get_title()
    assert figure.axes == [given]


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=charts.__all__)
def test_new_figure_is_not_a_pyplot_figure(chart: object, snapshot: Snapshot) -> None:
    plt.close("all")
    ax = chart(snapshot)  # type: ignore[operator]
    assert isinstance(ax.figure, Figure)
    assert plt.get_fignums() == []


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=charts.__all__)
def test_rejects_data_that_is_not_a_snapshot_or_frame(chart: object) -> None:
    with pytest.raises(BadOption, match="data="):
        chart([1, 2, 3])  # type: ignore[operator]


def test_rejects_an_ax_that_is_not_an_axes(snapshot: Snapshot) -> None:
    with pytest.raises(BadOption, match="ax="):
        charts.memory_by_kind(snapshot, ax="left")  # type: ignore[arg-type]


@pytest.mark.parametrize(("chart", "option"), [
    (charts.memory_by_task, {"top": 0}), (charts.top_keys, {"n": -1}),
    (charts.compression_histogram, {"bins": 2.5}), (charts.value_sizes, {"bins": True}),
    (charts.duration_percentiles, {"top": "3"}),
])
def test_rejects_counts_that_are_not_positive_integers(chart: object, option: dict,
                                                       snapshot: Snapshot) -> None:
    with pytest.raises(BadOption, match=f"{next(iter(option))}="):
        chart(snapshot, **option)  # type: ignore[operator]


def test_charts_leave_rcparams_alone(snapshot: Snapshot) -> None:
    import matplotlib

    before = dict(matplotlib.rcParams)
    for chart in ALL_CHARTS:
        chart(snapshot).figure.canvas.draw()
    assert dict(matplotlib.rcParams) == before


def test_importing_charts_does_not_import_pyplot() -> None:
    code = ("import sys, mognet_lab; assert 'matplotlib' not in sys.modules, 'mognet_lab'; "
            "import mognet_lab.charts; assert 'matplotlib.pyplot' not in sys.modules, 'charts'")
    subprocess.run([sys.executable, "-c", code], check=True)
