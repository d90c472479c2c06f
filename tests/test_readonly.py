"""mognet_lab never writes: proven by ACLs and by comparing the keyspace before/after.

These tests run on a redis-server of their own (not the session one): they
create ACL users and reset INFO commandstats, which must not disturb, nor be
disturbed by, any other test.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, Iterator

import pytest
import redis

import mognet_lab
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.errors import AccessDenied
from mognet_writer import Scenario, unique_app_name, write_scenario

# Commands that change data, TTLs or access metadata. Any call of one of these
# (or of any command Redis flags "write") during a scan fails the test.
WRITE_COMMANDS = (
    "hset", "hsetnx", "hmset", "hdel", "hincrby", "set", "setex", "psetex", "del",
    "unlink", "expire", "pexpire", "expireat", "pexpireat", "persist", "touch",
    "sadd", "srem", "rename", "restore", "copy", "flushdb", "flushall", "lpush",
    "rpush", "getdel", "getex",
)


@pytest.fixture(scope="module")
def ro_server() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def admin(ro_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(ro_server.url)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(scope="module")
def keyspace(ro_server: EmbeddedRedis, admin: redis.Redis) -> Scenario:
    """Everything Mognet writes, a second app, and a few odd keys under the prefix."""
    app = unique_app_name("readonly")
    scenario = asyncio.run(write_scenario(ro_server.url, app))
    asyncio.run(write_scenario(ro_server.url, app + "2"))
    admin.set(f"{app}.mognet.notes", "a string planted under the prefix")
    admin.rpush(f"{app}.mognet.result.list", "a", "list", "under", "the", "prefix")
    admin.set("unrelated:key", "not mognet", ex=3600)
    return scenario


def _acl_user(admin: redis.Redis, port: int, name: str, *rules: str) -> str:
    admin.execute_command("ACL", "SETUSER", name, "reset", "on", ">pw", "~*", *rules)
    return f"redis://{name}:pw@127.0.0.1:{port}/0"


def _frame_sizes(snap: Any) -> dict[str, int]:
    return {name: len(getattr(snap, name))
            for name in ("results", "values", "keys", "children", "metadata", "states")}


# -- (1) an ACL user that can only read ---------------------------------------
@pytest.mark.parametrize(
    "rules",
    [
        ("-@all", "+@read", "+ping", "+info"),
        ("-@all", "+@read", "+ping", "+info", "+config|get"),
    ],
    ids=["read+ping+info", "read+ping+info+config_get"],
)
def test_full_scan_works_for_a_read_only_acl_user(
    ro_server: EmbeddedRedis, admin: redis.Redis, keyspace: Scenario, rules: tuple[str, ...]
) -> None:
    assert ro_server.port is not None
    url = _acl_user(admin, ro_server.port, "ro", *rules)
    try:
        as_reader = mognet_lab.connect(url, app=keyspace.app).scan(progress=False)
        as_admin = mognet_lab.connect(ro_server.url, app=keyspace.app).scan(progress=False)
        apps = mognet_lab.discover_apps(url)
    finally:
        admin.execute_command("ACL", "DELUSER", "ro")
    assert _frame_sizes(as_reader) == _frame_sizes(as_admin)
    prefix = f"{keyspace.app}.mognet."
    truth = [k for k in admin.keys("*") if k.startswith(prefix.encode())]
    assert len(as_reader.keys) == len(truth)
    assert len(as_reader.results) == len(keyspace.written)
    assert len(as_reader.states) == len(keyspace.states)
    assert (as_reader.keys["kind"] == "unknown").sum() == 2
    assert as_reader.results["error"].isna().all()
    assert sorted(as_reader.results["result_id"]) == sorted(as_admin.results["result_id"])
    row = apps[apps["app"] == keyspace.app].iloc[0]
    assert (row["keys"], row["results"]) == (len(truth), len(keyspace.written))


def test_a_user_without_read_permission_gets_access_denied(
    ro_server: EmbeddedRedis, admin: redis.Redis, keyspace: Scenario
) -> None:
    assert ro_server.port is not None
    url = _acl_user(admin, ro_server.port, "noread", "-@all", "+ping")
    try:
        with pytest.raises(AccessDenied):
            mognet_lab.connect(url, app=keyspace.app).scan(progress=False)
        with pytest.raises(AccessDenied):
            mognet_lab.discover_apps(url)
    finally:
        admin.execute_command("ACL", "DELUSER", "noread")


def test_a_wrong_password_gets_access_denied(
    ro_server: EmbeddedRedis, admin: redis.Redis, keyspace: Scenario
) -> None:
    assert ro_server.port is not None
    _acl_user(admin, ro_server.port, "ro2", "-@all", "+@read", "+ping", "+info")
    url = f"redis://ro2:not-the-password@127.0.0.1:{ro_server.port}/0"
    try:
        with pytest.raises(AccessDenied):
            mognet_lab.connect(url, app=keyspace.app).scan(progress=False)
    finally:
        admin.execute_command("ACL", "DELUSER", "ro2")


# -- (2) nothing changes: payloads, TTLs, types; no write command runs ---------
def _state(admin: redis.Redis) -> dict[bytes, tuple[bytes, bytes, int]]:
    """key -> (type, DUMP payload, PTTL ms) for every key of the server."""
    out = {}
    for key in admin.scan_iter(count=1000):
        pipe = admin.pipeline(transaction=False)
        pipe.type(key)
        pipe.dump(key)
        pipe.pttl(key)
        kind, payload, pttl = pipe.execute()
        out[key] = (kind, payload, pttl)
    return out


def _assert_unchanged(before: dict, after: dict, elapsed_ms: float) -> None:
    # Only a key whose TTL could have run out meanwhile may disappear.
    expired = {k for k, (_, _, pttl) in before.items() if 0 <= pttl <= elapsed_ms + 50}
    assert set(after) - set(before) == set(), "keys appeared"
    assert set(before) - set(after) <= expired, "keys disappeared"
    problems = []
    for key, (kind, payload, pttl) in before.items():
        if key not in after:
            continue
        kind2, payload2, pttl2 = after[key]
        if kind2 != kind:
            problems.append(f"{key!r}: type {kind!r} -> {kind2!r}")
        if payload2 != payload:
            problems.append(f"{key!r}: DUMP payload changed")
        if pttl < 0 and pttl2 != pttl:
            problems.append(f"{key!r}: had no TTL, now PTTL {pttl2}")
        if pttl >= 0 and not (pttl - elapsed_ms - 50 <= pttl2 <= pttl):
            problems.append(f"{key!r}: PTTL {pttl} -> {pttl2} in {elapsed_ms:.0f} ms")
    assert not problems, "\n".join(problems)


def _write_calls(admin: redis.Redis) -> dict[str, int]:
    """Calls of write commands since the last CONFIG RESETSTAT."""
    stats = admin.info("commandstats")
    writes = set(WRITE_COMMANDS)
    for name, info in admin.command().items():
        flags = {f.decode() if isinstance(f, bytes) else f for f in info.get("flags", ())}
        if "write" in flags:
            writes.add(name.decode() if isinstance(name, bytes) else name)
    calls = {}
    for entry, values in stats.items():
        command = entry.removeprefix("cmdstat_").split("|")[0]
        if command in writes and values.get("calls", 0):
            calls[entry] = values["calls"]
    return calls


def _scan_calls(admin: redis.Redis) -> int:
    return int(admin.info("commandstats").get("cmdstat_scan", {}).get("calls", 0))


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda url, app: mognet_lab.connect(url, app=app).scan(progress=False), id="scan"),
        pytest.param(lambda url, app: mognet_lab.connect(url, app=app).scan(progress=False, batch=7),
                     id="scan_small_batches"),
        pytest.param(lambda url, app: mognet_lab.discover_apps(url), id="discover_apps"),
    ],
)
def test_reading_changes_nothing(
    ro_server: EmbeddedRedis, admin: redis.Redis, keyspace: Scenario,
    operation: Callable[[str, str], Any],
) -> None:
    started = time.monotonic()
    before = _state(admin)
    admin.config_resetstat()
    operation(ro_server.url, keyspace.app)
    writes = _write_calls(admin)
    scans = _scan_calls(admin)
    after = _state(admin)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert writes == {}, f"write commands ran during the read: {writes}"
    assert scans > 0, "no SCAN was sent at all: this test would measure nothing"
    _assert_unchanged(before, after, elapsed_ms)
