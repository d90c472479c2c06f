"""The pre-flight: what Redis tells for free, a short SCAN walk, and the estimates drawn
from them (the app's keys with an interval, a scan's time and memory, the guard)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Iterator

import numpy as np
import pytest
import redis

import mognet_lab
from mognet_lab.analysis.estimate import share_estimate, t95, wilson
from mognet_lab.analysis.preflight import Estimate, guard_message, suggest_fraction
from mognet_lab.cli import main
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.reader.preflight import Preflight, cursor_fraction
from mognet_lab.settings import ScanSettings

_APP = "preflight_app"


@pytest.fixture(scope="module")
def crowded() -> Iterator[EmbeddedRedis]:
    """A private Redis where the app is a small part: 60,000 other keys, some with TTLs."""
    server = EmbeddedRedis().start()
    try:
        write_workload(server, Workload(app=_APP, results=1500, seed=2))
        client = redis.Redis.from_url(server.url)
        with client.pipeline(transaction=False) as pipe:
            for i in range(60_000):
                pipe.set(f"cache:{i}", "x", ex=3600 if i % 3 else None)
            pipe.execute()
        client.close()
        yield server
    finally:
        server.stop()


def test_the_cursor_read_bit_reversed_is_the_part_walked() -> None:
    assert cursor_fraction(0) == 0.0
    assert cursor_fraction(1) == 0.5  # the lowest bit is the first split of the table
    assert cursor_fraction(3) == 0.75
    assert cursor_fraction(2) == 0.25


def test_interval_helpers() -> None:
    low, high = wilson(0, 1000)
    assert low == pytest.approx(0, abs=1e-12) and 0.003 < high < 0.004  # nothing seen: not 0
    low, high = wilson(50, 100, read_share=1.0)
    assert low == pytest.approx(0.5) and high == pytest.approx(0.5)  # all read: no doubt left
    assert t95(1) == pytest.approx(12.706) and t95(1000) == pytest.approx(1.962, abs=1e-3)
    assert share_estimate(10, 1000, 1000) == (10.0, 10.0, 10.0)
    estimate, low, high = share_estimate(100, 10_000, 1_000_000)
    assert estimate == 10_000 and low < estimate < high


def test_a_complete_walk_is_exact(crowded: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(crowded.url)
    expected = sum(1 for _ in client.scan_iter(match=f"{_APP}.mognet.*", count=1000))
    no_ttl = sum(1 for key in client.scan_iter(count=1000) if client.ttl(key) == -1)
    client.close()
    with mognet_lab.connect(crowded.url, app=_APP) as lab:
        started = time.perf_counter()
        estimate = lab.estimate(seconds=30)
        assert time.perf_counter() - started < 30
    assert estimate.exact and estimate.app_keys == (expected,) * 3
    assert estimate.db_keys_without_ttl == no_ttl
    assert estimate.results[0] == 1500
    text = repr(estimate)
    assert "app keys" in text and "db keys without a TTL" in text and "cache:*" in text
    assert "<table>" in estimate._repr_html_()


def test_a_partial_walk_estimates_the_app_with_an_interval(crowded: EmbeddedRedis) -> None:
    with mognet_lab.connect(crowded.url, app=_APP) as lab:
        estimate = lab.estimate(seconds=0.02)
    truth = sum(crowded_counts(crowded))
    walk = estimate.walks[0]
    assert not walk.complete and 0 < walk.fraction < 1 and walk.walked_keys < 60_000
    value, low, high = estimate.app_keys
    assert low <= value <= high
    # The interval is 95%; four of its half-widths make a flaky miss very unlikely.
    assert abs(value - truth) <= 2 * (high - low) + 1, (value, low, high, truth)
    assert "estimated from" in repr(estimate)


def crowded_counts(server: EmbeddedRedis) -> list[int]:
    client = redis.Redis.from_url(server.url)
    try:
        return [1 for _ in client.scan_iter(match=f"{_APP}.mognet.*", count=1000)]
    finally:
        client.close()


def _walk(app_keys: int, db_keys: int, role: str = "master") -> Preflight:
    return Preflight(label="redis://db:6379/0", redis_version="7.0.15", role=role,
                     db_keys=db_keys, db_expires=db_keys // 2, avg_ttl_ms=None,
                     used_memory=1 << 30, maxmemory=0, walked_keys=db_keys,
                     app_keys={"result": app_keys // 2, "value": app_keys - app_keys // 2},
                     fraction=1.0, complete=True, seconds=0.1, pages=1)


def test_the_guard_suggests_a_sample_and_a_replica() -> None:
    settings = ScanSettings()
    small = Estimate("app", [_walk(100_000, 200_000)])
    assert guard_message(small, settings) is None and Estimate.fits(200_000, settings)
    huge = Estimate("app", [_walk(100_000_000, 120_000_000)])
    message = guard_message(huge, settings)
    assert message is not None and not Estimate.fits(120_000_000, settings)
    fraction = suggest_fraction(huge)
    assert f"sample={fraction:g}" in message and "--full" in message
    assert "replica" in message  # hours against a primary
    assert huge.sampled_seconds(fraction) <= 60 or fraction == 1e-5
    on_replica = Estimate("app", [_walk(100_000_000, 120_000_000, role="slave")])
    assert "replica" not in (guard_message(on_replica, settings) or "")
    limited = replace(settings, limit=1000)
    assert guard_message(huge, limited) is None  # a limited scan reads 1000 keys at most
    assert np.isclose(huge.client_bytes[0], 100_000_000 * 900)


def test_cli_prints_the_estimate(crowded: EmbeddedRedis,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", crowded.url, "--app", _APP, "--estimate"]) == 0
    out = capsys.readouterr().out
    assert "app keys" in out and "full scan" in out and "client memory" in out
