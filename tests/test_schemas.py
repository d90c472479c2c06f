"""One declared schema per frame, kept whether a frame has rows or not."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

import mognet_lab
from mognet_lab.schemas import FRAME_NAMES, SCHEMAS, conform, empty_frame

NOW = datetime(2026, 11, 26, tzinfo=timezone.utc)


@pytest.mark.parametrize("name", FRAME_NAMES)
def test_empty_frame_has_the_declared_columns_and_dtypes(name: str) -> None:
    frame = empty_frame(name)
    assert list(frame.columns) == list(SCHEMAS[name])
    for column, dtype in SCHEMAS[name].items():
        assert str(frame[column].dtype) == str(pd.Series([], dtype=dtype).dtype), column


def test_conform_orders_declared_columns_first_and_keeps_extras() -> None:
    frame = conform("metadata", pd.DataFrame({"tenant": ["x"], "result_id": ["r"]}))
    assert list(frame.columns) == [*SCHEMAS["metadata"], "tenant"]
    assert frame.loc[0, "tenant"] == "x" and pd.isna(frame.loc[0, "field_count"])


def test_conform_ignores_the_callers_index() -> None:
    given = pd.DataFrame({"result_id": ["a", "b"], "state": ["SUCCESS", "FAILURE"]},
                         index=[7, 7])
    snapshot = mognet_lab.Snapshot.from_frames(app="x", scanned_at=NOW, results=given)
    assert snapshot.results["result_id"].tolist() == ["a", "b"]
    assert snapshot.results["state"].astype(str).tolist() == ["SUCCESS", "FAILURE"]


def test_timestamps_are_utc_and_unparseable_ones_become_nat() -> None:
    frame = conform("results", pd.DataFrame({"created": ["2026-11-23T05:10:46.924669Z", "x"]}))
    assert str(frame["created"].dtype) == "datetime64[ns, UTC]"
    assert frame["created"].iloc[0] == pd.Timestamp("2026-11-23T05:10:46.924669Z")
    assert pd.isna(frame["created"].iloc[1])


def test_from_frames_rejects_unknown_frame_names() -> None:
    with pytest.raises(mognet_lab.BadOption, match="frames"):
        mognet_lab.Snapshot.from_frames(app="x", scanned_at=NOW, resultz=[{"result_id": "a"}])
