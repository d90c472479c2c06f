"""Sampled scans: whole families by a fixed hash, exact population counts, row weights,
estimates with 95% intervals that hold a full scan's figures, and the guard.

Every test reads a demo workload written into the session's own redis-server.
"""

from __future__ import annotations

import functools
import json
import random
import uuid
from pathlib import Path

import pandas as pd
import pytest

import mognet_lab
from mognet_lab import analysis
from mognet_lab import lab as lab_module
from mognet_lab.analysis.coverage import coverage
from mognet_lab.cli import EXIT_CODES, main
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.errors import BadOption, ScanTooLarge
from mognet_lab.keys import group_by_kind
from mognet_lab.reader.sample import KeySample, sample_hashes
from mognet_lab.settings import ScanSettings
from mognet_lab.snapshot import Snapshot

_IDENTITY = {"keys": ["key", "kind", "result_id"], "results": ["result_id", "name", "state"],
             "values": ["result_id", "value_type"], "children": ["parent_id", "child_id"]}


@pytest.fixture(scope="module")
def workload(redis_server: EmbeddedRedis) -> tuple[str, str]:
    app = "sampling_app"
    write_workload(redis_server, Workload(app=app, results=2500, seed=5))
    return redis_server.url, app


@pytest.fixture(scope="module")
def full(workload: tuple[str, str]) -> Snapshot:
    with mognet_lab.connect(workload[0], app=workload[1]) as lab:
        # Redis reports freshly written hashes a little larger on their first read.
        lab.scan(progress=False, full=True)
        return lab.scan(progress=False, full=True)


def _scan(workload: tuple[str, str], **options: object) -> Snapshot:
    with mognet_lab.connect(workload[0], app=workload[1]) as lab:
        return lab.scan(progress=False, **options)  # type: ignore[arg-type]


def _family_keys(app: str, result_id: str) -> list[bytes]:
    base = f"{app}.mognet.result.{result_id}"
    return [f"{base}{tail}".encode() for tail in ("", "/value", "/children", "/metadata")]


# -- the filter, pure -------------------------------------------------------------------------
def test_hashes_are_the_same_in_every_process() -> None:
    # CRC-32 + fmix32: no salt, so another day, node or process picks the same ids.
    ids = [b"0f8fad5b-d9cb-469f-a165-70867728950e", b"7c9e6679-7425-40de-944b-e07fc1f90ae7"]
    assert sample_hashes(ids, 0).tolist() == [3648204606, 3769491065]
    assert sample_hashes(ids[:1], 1).tolist() == [3392647735]


def test_a_sample_keeps_whole_families_and_counts_every_key() -> None:
    rng = random.Random(3)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(3000)]
    keys = [key for rid in ids for key in _family_keys("a", rid)[:rng.randint(1, 4)]]
    keys += [b"a.mognet.state.req-1", b"a.mognet.state.req 2", b"a.mognet.weird",
             b"a.mognet.result.NOT-A-UUID", b"a.mognet.result." + ids[0].encode() + b"/other"]
    rng.shuffle(keys)
    sample = KeySample("a", 0.2, seed=7)
    kept = [key for start in range(0, len(keys), 500)
            for key in sample.keep(keys[start:start + 500])]
    expected = {kind: len(found[0]) for kind, found in group_by_kind("a", keys).items()}
    assert {k: n for k, n in sample.population.items() if n} == expected
    kept_ids = {key[16:52] for key in kept if key.startswith(b"a.mognet.result.")}
    for rid in kept_ids:  # every key of a chosen result's family, none of the others
        family = [key for key in keys if key.startswith(b"a.mognet.result." + rid)]
        assert set(family) <= set(kept)
    assert 0.15 < len(kept_ids) / len(ids) < 0.25
    # The page-at-a-time path and the key-by-key grammar choose the same keys.
    slow = KeySample("a", 0.2, seed=7)
    chosen = sample_hashes(slow._owner_ids(keys), 7) < slow._threshold
    assert sorted(kept) == sorted(k for k, c in zip(keys, chosen.tolist()) if c)


def test_sample_options_are_checked() -> None:
    for bad in ({"sample": 0}, {"sample": 1.5}, {"sample": True}, {"sample": "0.1"},
                {"sample_seed": -1}, {"sample_census_bytes": 0}, {"guard_seconds": 0}):
        with pytest.raises(BadOption):
            ScanSettings(**bad)  # type: ignore[arg-type]


# -- a sampled scan of a real Redis ------------------------------------------------------------
def test_a_sampled_scan_reads_whole_families_and_counts_the_population(
        workload: tuple[str, str], full: Snapshot) -> None:
    sampled = _scan(workload, sample=0.1)
    assert sampled.sampled and sampled.sample_fraction == 0.1 and not full.sampled
    assert sampled.population == full.population
    assert 0.05 < len(sampled.results) / len(full.results) < 0.2
    by_id = full.keys.groupby(full.keys["result_id"].astype(object))["key"].agg(set)
    read = sampled.keys.groupby(sampled.keys["result_id"].astype(object))["key"].agg(set)
    for rid, names in read.items():
        assert names == by_id[rid], rid  # the whole family, as the full scan saw it
    assert sampled.keys["key"].is_unique
    assert (full.keys["weight"] == 1.0).all() and (full.results["weight"] == 1.0).all()
    census = set(sampled.census)
    ordinary = sampled.keys[~sampled.keys["result_id"].isin(census)]
    for kind, rows in ordinary.groupby(ordinary["kind"].astype(object)):
        whole = int(sampled.keys["result_id"].isin(census)[sampled.keys["kind"] == kind].sum())
        expected = (sampled.population[kind] - whole) / len(rows)
        assert rows["weight"].tolist() == pytest.approx([expected] * len(rows))


def test_large_values_are_read_whatever_the_hash(workload: tuple[str, str],
                                                 full: Snapshot) -> None:
    large = full.values.loc[full.values["stored_bytes"] >= 4096, "result_id"]
    assert len(large), "the workload writes a few large values"
    sampled = _scan(workload, sample=0.01, settings=ScanSettings(sample_census_bytes=4096))
    assert set(large) <= set(sampled.values["result_id"])
    taken = sampled.keys[sampled.keys["result_id"].isin(set(large))]
    assert (taken["weight"] == 1.0).all()
    wanted = full.keys[full.keys["result_id"].isin(set(large))]
    assert set(taken["key"]) == set(wanted["key"])  # their families too, read by name


def test_sampling_is_deterministic_and_the_seed_picks_another(
        workload: tuple[str, str]) -> None:
    first, again = _scan(workload, sample=0.1), _scan(workload, sample=0.1)
    other = _scan(workload, sample=0.1, sample_seed=1)
    for name, columns in _IDENTITY.items():
        pd.testing.assert_frame_equal(first.frames[name][columns], again.frames[name][columns])
    ids, other_ids = set(first.results["result_id"]), set(other.results["result_id"])
    assert ids != other_ids and len(ids & other_ids) < 0.5 * len(ids)
    assert other.provenance.sample_seed == 1


def test_intervals_hold_the_full_scans_figures(workload: tuple[str, str],
                                               full: Snapshot) -> None:
    checks = pd.concat([coverage(_scan(workload, sample=0.2, sample_seed=seed), full)
                        for seed in range(8)])
    by_figure = checks.groupby("figure")["covered"].mean()
    assert checks["covered"].mean() >= 0.85, by_figure
    assert by_figure.min() >= 0.7, by_figure
    # The estimates are not trivially wide: bytes by kind within a factor of 2.
    kinds = checks[checks["figure"] == "bytes by kind"]
    big = kinds[kinds["exact"] > 100_000]
    assert ((big["high"] - big["low"]) < big["exact"]).all()


def test_analyses_scale_up_and_say_so(workload: tuple[str, str], full: Snapshot) -> None:
    sampled = _scan(workload, sample=0.2)
    kinds = analysis.memory_by(sampled, "kind").set_index("kind")
    exact = analysis.memory_by(full, "kind").set_index("kind")
    assert kinds["keys"].to_dict() == exact["keys"].to_dict()  # counted by the walk
    assert (kinds["bytes_low"] <= kinds["bytes"]).all()
    assert (kinds["bytes"] <= kinds["bytes_high"]).all()
    assert "bytes_low" not in exact.columns  # a full scan's figures are exact
    states = analysis.memory_by(sampled, "state")
    assert set(states["state"].astype(str)) >= {"SUCCESS", "PENDING", "SUSPENDED"}
    assert states["results"].sum() == pytest.approx(len(full.results), rel=0.1)
    head = analysis.overview(sampled)
    assert head["keys"] == len(full.keys) and head["results"] == len(full.results)
    assert head["bytes_low"] <= head["bytes"] <= head["bytes_high"]
    assert head["no_ttl_keys_low"] <= head["no_ttl_keys"] <= head["no_ttl_keys_high"]
    assert {"keys_low", "bytes_high"} <= set(analysis.ttl_buckets(sampled).columns)
    assert "placeholders_high" in analysis.value_summary(sampled).columns
    assert "results_low" in analysis.value_statuses(sampled).columns
    assert "estimated from a 20% sample" in repr(sampled)
    assert "estimated from a 20% sample" in sampled._repr_html_()
    found = analysis.findings(sampled)
    scaled = found[found["keys"].notna()]
    assert len(scaled) and (scaled["keys_low"] <= scaled["keys_high"]).all()
    assert scaled["measured"].str.contains("estimated from a 20% sample").all()
    floor = int(scaled["bytes_low"].max()) + 1
    kept = analysis.findings(sampled, min_bytes=floor)
    assert not kept["bytes_low"].dropna().lt(floor).any()  # the interval must clear it


def test_a_sampled_snapshot_saves_and_loads(workload: tuple[str, str], full: Snapshot,
                                            tmp_path: Path) -> None:
    sampled = _scan(workload, sample=0.1, sample_seed=3)
    loaded = Snapshot.load(sampled.save(tmp_path / "s.mognetlab"))
    assert loaded.sampled and loaded.provenance.sample_seed == 3
    assert loaded.population == sampled.population
    pd.testing.assert_series_equal(loaded.keys["weight"], sampled.keys["weight"])
    assert analysis.overview(loaded)["bytes"] == analysis.overview(sampled)["bytes"]
    # A snapshot saved before sampling existed: no weights, no sample fields.
    old = full.save(tmp_path / "old.mognetlab")
    record = json.loads((old / "provenance.json").read_text())
    for name in ("sample_fraction", "sample_seed", "population"):
        record.pop(name)
    for frame in record["frames"].values():
        frame["columns"].pop("weight", None)
    (old / "provenance.json").write_text(json.dumps(record))
    keys = pd.read_parquet(old / "keys.parquet").drop(columns="weight")
    keys.to_parquet(old / "keys.parquet", index=False)
    reloaded = Snapshot.load(old)
    assert not reloaded.sampled and (reloaded.keys["weight"] == 1.0).all()
    assert analysis.overview(reloaded)["bytes"] == analysis.overview(full)["bytes"]


# -- the command line and the guard ------------------------------------------------------------
def test_cli_scans_a_sample(workload: tuple[str, str],
                            capsys: pytest.CaptureFixture[str]) -> None:
    url, app = workload
    code = main(["scan", url, "--app", app, "--sample", "0.2", "--sample-seed", "2",
                 "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "estimated from a 20% sample (seed 2)" in out and " [" in out
    assert main(["scan", url, "--app", app, "--sample", "3", "--no-progress"]) == \
        EXIT_CODES["usage"]


def test_the_guard_refuses_a_full_scan_it_expects_to_be_too_long(
        workload: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    tight = ScanSettings(guard_seconds=0.01)
    with mognet_lab.connect(workload[0], app=workload[1]) as lab:
        with pytest.raises(ScanTooLarge) as refused:
            lab.scan(progress=False, settings=tight)
        assert "--sample" in str(refused.value) and "full=True" in str(refused.value)
        assert len(lab.scan(progress=False, settings=tight, full=True).keys)
        assert lab.scan(progress=False, settings=tight, sample=0.05).sampled
    monkeypatch.setattr(lab_module, "ScanSettings",
                        functools.partial(ScanSettings, guard_seconds=0.01))
    argv = ["scan", workload[0], "--app", workload[1], "--no-progress"]
    assert main(argv) == EXIT_CODES["too_large"] == 8
    assert "--full" in capsys.readouterr().err
    assert main([*argv, "--full"]) == 0


def test_a_key_on_two_nodes_counts_once(workload: tuple[str, str], full: Snapshot) -> None:
    # The same server given twice is one keyspace read through two nodes.
    with mognet_lab.connect([workload[0], workload[0]], app=workload[1]) as lab:
        sampled = lab.scan(progress=False, sample=0.1)
    assert sampled.population == full.population
    assert sampled.keys["key"].is_unique
    single = _scan(workload, sample=0.1)
    assert set(sampled.keys["key"]) == set(single.keys["key"])


def test_every_chart_of_a_sample_says_it_is_an_estimate(workload: tuple[str, str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mognet_lab import charts

    sampled = _scan(workload, sample=0.2)
    for name in charts.__all__:
        ax = getattr(charts, name)(sampled)
        assert "estimated from a 20% sample" in ax.get_title(), name
        plt.close(ax.figure)
