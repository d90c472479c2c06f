"""compression, exceptions, largest values, listpack overflow and the value summary."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pandas as pd
import pytest

import mognet_lab
from mognet_lab import BadOption
from mognet_lab.analysis import (
    compression,
    exceptions,
    largest_values,
    listpack_overflow,
    poorly_compressed,
    value_summary,
)
from mognet_lab.analysis.values import LISTPACK_OVERHEAD_BYTES
from mognet_lab.format import EXCEPTION_INFO_TYPE
from mognet_writer import MognetWriter
from snapshots import R1, R2, R3, R4, all_na, basic, empty

COMPRESSION_COLUMNS = ["values", "stored_bytes", "raw_bytes", "saved_bytes", "ratio_mean",
                       "ratio_p50", "ratio_p10", "ratio_p90"]


def test_compression_by_name_and_type() -> None:
    got = compression(basic())
    assert list(got.columns[:10]) == ["name", "value_type", *COMPRESSION_COLUMNS]
    rows = list(zip(got["name"].astype(str), got["value_type"].astype(str), got["stored_bytes"],
                    got["raw_bytes"], got["saved_bytes"], got["ratio_mean"]))
    assert rows == [
        ("report", "builtins:dict", 700, 2100, 1400, 3.0),
        ("report", EXCEPTION_INFO_TYPE, 300, 600, 300, 2.0),
        ("(no result)", "builtins:str", 200, 200, 0, 1.0),
        ("export", EXCEPTION_INFO_TYPE, 60, 120, 60, 2.0),
    ]


def test_compression_percentiles_per_group() -> None:
    report = compression(basic(), by="name").set_index("name").loc["report"]
    assert report["values"] == 2
    assert (report["stored_bytes"], report["raw_bytes"], report["saved_bytes"]) == \
        (1000, 2700, 1700)
    assert report["ratio_mean"] == pytest.approx(2.5)
    assert report["ratio_p50"] == pytest.approx(2.5)
    assert report["ratio_p10"] == pytest.approx(2.1)
    assert report["ratio_p90"] == pytest.approx(2.9)
    assert report["ratio_overall"] == pytest.approx(2.7)


def test_compression_ignores_unknown_raw_sizes_in_raw_and_saved() -> None:
    snap = mognet_lab.Snapshot.from_frames(
        app="lab", scanned_at=pd.Timestamp("2026-01-01", tz="UTC"),
        values=[{"result_id": R1, "stored_bytes": 100, "raw_bytes": 300,
                 "compression_ratio": 3.0},
                {"result_id": R2, "stored_bytes": 50}])
    got = compression(snap, by=["encoding"]).iloc[0]
    assert (got["values"], got["stored_bytes"], got["raw_bytes"], got["saved_bytes"]) == \
        (2, 150, 300, 200)
    assert got["ratio_overall"] == pytest.approx(3.0)


@pytest.mark.parametrize("by", ["colour", (), ("name", "name"), 3])
def test_compression_rejects_bad_groups(by: Any) -> None:
    with pytest.raises(BadOption, match="^by="):
        compression(basic(), by=by)


def test_poorly_compressed() -> None:
    assert poorly_compressed(basic()).empty  # nothing stores 1 KiB
    got = poorly_compressed(basic(), min_bytes=100)
    assert list(got["result_id"]) == [R4]
    got = poorly_compressed(basic(), threshold=2.5, min_bytes=0)
    assert list(got["result_id"]) == [R2, R4, R3]
    assert list(got["name"].astype(str)) == ["report", "(no result)", "export"]


@pytest.mark.parametrize(("options", "name"), [
    ({"threshold": 0}, "threshold"), ({"threshold": "x"}, "threshold"),
    ({"min_bytes": -1}, "min_bytes"),
])
def test_poorly_compressed_rejects_bad_options(options: dict[str, Any], name: str) -> None:
    with pytest.raises(BadOption, match=rf"^{name}="):
        poorly_compressed(basic(), **options)


def test_exceptions_leave_out_the_placeholder() -> None:
    got = exceptions(basic())
    assert list(got.columns) == ["exception_name", "values", "stored_bytes", "memory_bytes",
                                 "example_message"]
    assert list(got["exception_name"].astype(str)) == ["builtins:ValueError"]
    assert (got["values"].item(), got["stored_bytes"].item()) == (1, 300)
    assert got["example_message"].item() == "bad input"


def test_largest_values() -> None:
    got = largest_values(basic(), n=2)
    assert list(got["result_id"]) == [R1, R2]
    assert list(got["memory_bytes"]) == [1000, 500]
    assert list(got["state"].astype(str)) == ["SUCCESS", "FAILURE"]
    assert len(largest_values(basic())) == 4
    with pytest.raises(BadOption, match="^n="):
        largest_values(basic(), n=0)


def test_listpack_overflow_estimates_the_hashtable_overhead() -> None:
    got = listpack_overflow(basic())
    # key name "lab.mognet.result.<36>/value" = 60 B; other fields 52 B (gzip)
    # or 50 B (encoding null); R3's 60-byte placeholder still fits a listpack.
    fixed = 60 + LISTPACK_OVERHEAD_BYTES
    r1, r2, r4 = 1000 - (700 + 52 + fixed), 500 - (300 + 52 + fixed), 400 - (200 + 50 + fixed)
    rows = list(zip(got["name"].astype(str), got["values"], got["memory_bytes"],
                    got["extra_bytes_estimate"]))
    assert rows == [("report", 2, 1500, r1 + r2), ("(no result)", 1, 400, r4)]
    assert (got["limit_bytes"] == 64).all()
    assert not got["assumed_limit"].any()


def test_listpack_overflow_assumes_redis_default_when_unknown() -> None:
    got = listpack_overflow(basic(hash_max_listpack_value=None))
    assert (got["limit_bytes"] == 64).all() and got["assumed_limit"].all()
    # A larger limit: only the values Redis reported as hashtable remain.
    got = listpack_overflow(basic(hash_max_listpack_value=1000))
    assert got["values"].sum() == 3


def test_listpack_overflow_compares_sizes_when_the_encoding_is_unknown() -> None:
    snap = mognet_lab.Snapshot.from_frames(
        app="lab", scanned_at=pd.Timestamp("2026-01-01", tz="UTC"),
        values=[{"result_id": R1, "stored_bytes": 100, "memory_bytes": 600},
                {"result_id": R2, "stored_bytes": 50, "memory_bytes": 200},
                {"result_id": R3, "stored_bytes": 30, "memory_bytes": 500,
                 "redis_encoding": "hashtable"},
                {"result_id": R4, "stored_bytes": 90, "memory_bytes": 250,
                 "redis_encoding": "listpack"}])
    got = listpack_overflow(snap)
    # R1 by size; R3 as Redis says (written under a lower limit); not R4 (still a listpack).
    assert got["values"].item() == 2 and got["memory_bytes"].item() == 1100
    assert got["assumed_limit"].item()


def test_value_summary() -> None:
    got = value_summary(basic())
    assert len(got) == 1
    row = got.iloc[0]
    assert (row["values"], row["placeholders"], row["exceptions"]) == (4, 1, 1)
    assert (row["stored_bytes"], row["raw_bytes"], row["saved_bytes"]) == (1260, 3020, 1760)
    assert row["ratio"] == pytest.approx(3020 / 1260)
    assert (row["memory_bytes"], row["no_ttl"], row["errors"]) == (2200, 1, 0)


def test_empty_and_na_snapshots() -> None:
    for snap in (empty(), all_na()):
        for frame in (compression(snap), poorly_compressed(snap), exceptions(snap),
                      largest_values(snap), listpack_overflow(snap)):
            assert len(frame) <= 1
        summary = value_summary(snap).iloc[0]
        assert summary["stored_bytes"] == 0 and math.isnan(summary["ratio"])
    assert list(compression(empty()).columns[:10]) == ["name", "value_type",
                                                       *COMPRESSION_COLUMNS]


# -- data written by the real mognet package ---------------------------------
async def _write(url: str, app: str) -> None:
    async with MognetWriter(url, app) as writer:
        for i in range(3):
            res = await writer.submit("demo.job", i)
            await writer.start(res)
            await writer.complete(res, {"rows": list(range(100 * (i + 1)))})


def test_real_gzip_values_overflow_the_listpack(redis_url: str, app_name: str) -> None:
    asyncio.run(_write(redis_url, app_name))
    snap = mognet_lab.connect(redis_url, app=app_name).scan(progress=False)
    assert set(snap.values["redis_encoding"].astype(str)) == {"hashtable"}
    got = listpack_overflow(snap)
    assert got["values"].sum() == 3
    # Measured on Redis 7.0: a hashtable value hash costs ~250 B more than a listpack.
    assert 150 * 3 <= got["extra_bytes_estimate"].sum() <= 350 * 3
    ratios = compression(snap, by="name")
    assert ratios["ratio_p10"].item() > 1.5
