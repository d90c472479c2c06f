"""The scan's progress bar: whole numbers, a total from DBSIZE or the limit, shown in the
quickstart notebook."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mognet_lab.demo import Demo
from mognet_lab.progress import progress_bar, scan_total

QUICKSTART = Path(__file__).resolve().parents[1] / "notebooks" / "01_quickstart.ipynb"


@pytest.mark.parametrize("dbsizes, limit, expected", [
    ([4194], None, 4194), ([100, 250], None, 350), ([4194], 1000, 1000), ([50], 1000, 50),
    ([None], None, None), ([None], 1000, 1000), ([100, None], None, None), ([], None, None),
])
def test_scan_total(dbsizes: list[int | None], limit: int | None,
                    expected: int | None) -> None:
    assert scan_total(dbsizes, limit) == expected


def test_the_text_bar_counts_whole_keys_out_of_dbsize(demo_lab: Demo, capsys) -> None:
    dbsize = demo_lab.lab.nodes[0].call("DBSIZE")
    snapshot = demo_lab.lab.scan(progress=True)
    err = capsys.readouterr().err
    assert "0.00" not in err and "? keys/s" in err
    assert f"0/{dbsize:,} keys" in err, err[-500:]
    assert 0 < snapshot.provenance.keys_read <= dbsize


def test_a_finished_walk_ends_the_bar_full(capsys) -> None:
    # DBSIZE also counts other apps' keys: the walk's end is the bar's end.
    bar = progress_bar(True, desc="Scanning app", total=1000)
    bar.update(400)
    bar.close()
    assert bar.bar.total == 400
    assert re.search(r"100%\|[^|]*\| 400/400 keys", capsys.readouterr().err)


def test_a_limit_is_the_total(demo_lab: Demo, capsys) -> None:
    demo_lab.lab.scan(progress=True, limit=50)
    assert "0/50 keys" in capsys.readouterr().err


def test_quickstart_shows_the_progress_bar() -> None:
    book = json.loads(QUICKSTART.read_text(encoding="utf-8"))
    scans = ["".join(cell["source"]) for cell in book["cells"]
             if cell["cell_type"] == "code" and ".scan(" in "".join(cell["source"])]
    assert scans and not any("progress=False" in source for source in scans)
