"""The cleanup plan, run for real: written by mognet-lab, run by redis-cli, checked by a rescan.

A keyspace written with the real ``mognet`` package under a hostile app name
(spaces, quotes, a newline, non-ASCII), plus keys no plan may touch, goes into
a redis-server this module starts for itself. The plan file is run exactly as
its header says; afterwards the findings it targets are gone and every other
key holds the same bytes with the same TTL.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
import redis

from mognet_lab import analysis, connect
from mognet_lab.cli import main
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.snapshot import Snapshot
from mognet_lab.views.plan import plan_text, redis_quote
from mognet_writer import MognetWriter, write_scenario

REDIS_CLI = shutil.which("redis-cli")
pytestmark = pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli is not on PATH")
APP = 'ops plan "q" \\ é\nx'
TARGETED = {"placeholder_no_ttl", "orphan_keys", "finished_state"}


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedRedis]:
    running = EmbeddedRedis().start()
    try:
        yield running
    finally:
        running.stop()


async def _extras(url: str) -> dict[str, uuid.UUID]:
    """A task stuck RUNNING for 2 days with its placeholder; a revoked task with its state."""
    now = datetime.now(tz=timezone.utc)
    async with MognetWriter(url, APP) as w:
        stuck = await w.submit("ops.stuck", created=now - timedelta(days=2))
        await w.start(stuck, at=now - timedelta(days=2))
        await w.get_or_create(stuck.id)  # the worker's placeholder, no TTL
        stateful = await w.submit("ops.stateful")
        await w.start(stateful)
        await w.set_state(stateful.id, "cursor", {"page": 3})
        await w.revoke(stateful.id)
    return {"stuck": stuck.id, "stateful": stateful.id}


def _hostile_extras(client: redis.Redis) -> list[bytes]:
    """Keys under the prefix that are not Mognet's, and keys of another app: never planned."""
    prefix = f"{APP}.mognet.".encode()
    keys = [prefix + b"result.\xff\x00 not a uuid\n", prefix + b'state.id "with" quotes\r\n',
            b"other.mognet.result." + str(uuid.uuid4()).encode() + b"/value"]
    for key in keys:
        client.hset(key, "f", b"\x00\xff")
    return keys


@pytest.fixture(scope="module")
def keyspace(server: EmbeddedRedis) -> dict[str, uuid.UUID]:
    scenario = asyncio.run(write_scenario(server.url, APP))
    roles = {**scenario.roles, **asyncio.run(_extras(server.url))}
    client = redis.Redis.from_url(server.url)
    # A result hash gone (as eviction does it) leaves its /value, /children, /metadata.
    client.delete(f"{APP}.mognet.result.{roles['parent']}".encode())
    _hostile_extras(client)
    client.close()
    return roles


def _scan(url: str) -> Snapshot:
    with connect(url, app=APP) as lab:
        return lab.scan(progress=False)


def _state_of(client: redis.Redis) -> dict[bytes, tuple[bytes | None, int]]:
    """Every key of the server: its DUMP payload and PTTL (what "unchanged" means)."""
    return {key: (client.dump(key), client.pttl(key)) for key in client.scan_iter(count=500)}


def _run_as_the_header_says(plan: Path) -> subprocess.CompletedProcess[str]:
    line = next(li for li in plan.read_text().splitlines() if li.startswith("#   grep"))
    return subprocess.run(line[len("#   "):], shell=True, cwd=plan.parent, text=True,
                          capture_output=True, timeout=60, check=True)


def test_the_plan_counts_what_the_findings_count(
        server: EmbeddedRedis, keyspace: dict[str, uuid.UUID]) -> None:
    snapshot = _scan(server.url)  # before the plan runs (the next test runs it)
    plan = analysis.cleanup_plan(snapshot)
    assert len(plan) == 4
    found = analysis.findings(snapshot).set_index("code")
    for code, rows in plan.groupby("finding"):
        assert rows["key_count"].sum() == found.loc[code, "keys"]
        assert rows["bytes"].sum() == found.loc[code, "bytes"]
        assert all(len(keys) == count for keys, count in zip(rows["keys"], rows["key_count"]))


def test_a_plan_run_by_redis_cli_removes_its_findings_and_nothing_else(
        server: EmbeddedRedis, keyspace: dict[str, uuid.UUID], tmp_path: Path) -> None:
    before = _scan(server.url)
    plan = analysis.cleanup_plan(before)
    assert TARGETED <= set(analysis.findings(before)["code"])
    assert set(plan["finding"]) == TARGETED and set(plan["action"]) == {"UNLINK", "EXPIRE"}
    planned = {k.encode("utf-8") for keys in plan["keys"] for k in keys}
    client = redis.Redis.from_url(server.url)
    untouched = {k: v for k, v in _state_of(client).items() if k not in planned}

    target = tmp_path / "plan.redis"
    assert main(["cleanup-plan", server.url, "--app", APP, "--no-progress",
                 "-o", str(target)]) == 0
    done = _run_as_the_header_says(target)
    assert "ERR" not in done.stdout + done.stderr

    after = _scan(server.url)
    assert not TARGETED & set(analysis.findings(after)["code"])
    assert analysis.cleanup_plan(after).empty
    assert set(analysis.findings(after)["code"]) == \
        set(analysis.findings(before)["code"]) - TARGETED
    now = _state_of(client)
    for key, (payload, pttl) in untouched.items():
        assert now[key][0] == payload, key
        assert (now[key][1] < 0) == (pttl < 0) and abs(now[key][1] - pttl) < 30_000, key
    expired = {k.encode() for k in plan.loc[plan["action"] == "EXPIRE", "keys"].iloc[0]}
    # The task stuck RUNNING (and an id-only result, never started) may still finish.
    assert f"{APP}.mognet.result.{keyspace['stuck']}/value".encode() in expired
    assert f"{APP}.mognet.result.{keyspace['revoked']}/value".encode() not in expired
    assert all(604_000 < client.ttl(k) <= 604_800 for k in expired)
    assert not any(client.exists(k) for k in planned - expired)
    client.close()


def test_hostile_key_names_reach_redis_exactly(server: EmbeddedRedis) -> None:
    """Every byte value, quotes, spaces and line breaks: each UNLINK removes its key only."""
    client = redis.Redis.from_url(server.url)
    names = [bytes(range(256)), b'a "quoted" key', b"line\nbreak\r\n", b"back\\slash\\x41",
             b"#not a comment", b"  spaced  ", "caf\u00e9 \u2603".encode()]
    decoys = [name + b"~" for name in names] + [b"back\\slashA"]
    for name in names + decoys:
        client.set(name, b"1")
    script = "".join(f"UNLINK {redis_quote(name)}\n" for name in names)
    done = subprocess.run([str(REDIS_CLI), "-p", str(server.port)], input=script.encode(),
                          capture_output=True, timeout=30, check=True)
    assert done.stdout.split() == [b"1"] * len(names)
    assert all(client.exists(decoy) for decoy in decoys)
    client.close()


def test_text_from_the_keyspace_never_leaves_a_comment_line() -> None:
    snapshot = Snapshot.from_frames(app="evil\nFLUSHALL\n", scanned_at=datetime.now(timezone.utc),
                                    url="redis://h:1/0\nFLUSHALL")
    text = plan_text(analysis.cleanup_plan(snapshot), snapshot)
    assert all(line == "" or line.startswith("#") for line in text.splitlines())
    assert "Nothing to clean up" in text


def test_an_empty_keyspace_gives_an_empty_plan_with_its_columns() -> None:
    snapshot = Snapshot.from_frames(app=APP, scanned_at=datetime.now(timezone.utc))
    assert analysis.cleanup_plan(snapshot).empty
    assert list(analysis.cleanup_plan(snapshot).columns) == [
        "finding", "group", "action", "seconds", "keys", "key_count", "bytes", "why"]


def test_cleanup_plan_needs_an_output_and_checks_it_before_scanning(tmp_path: Path) -> None:
    assert main(["cleanup-plan", "redis://127.0.0.1:1/0", "--app", "x"]) == 2
    missing = tmp_path / "no" / "plan.redis"
    assert main(["cleanup-plan", "redis://127.0.0.1:1/0", "--app", "x",
                 "-o", str(missing)]) == 2


def test_the_advice_says_revoking_creates_placeholders() -> None:
    from mognet_lab.analysis.findings import ADVICE

    assert "revoking an unknown or pending task" in ADVICE["placeholder_no_ttl"]


def test_a_partial_scan_says_what_the_plan_does_not_cover(
        server: EmbeddedRedis, keyspace: dict[str, uuid.UUID]) -> None:
    with connect(server.url, app=APP) as lab:
        partial = lab.scan(progress=False, limit=5)
    text = plan_text(analysis.cleanup_plan(partial), partial)
    assert "stopped at its key limit" in text
    assert "orphan_keys" not in set(analysis.cleanup_plan(partial)["finding"])
