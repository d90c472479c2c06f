"""The reader layer: allow-list, RESP packing, bulk reply reading, connect/discover/limit,
and the package's layering rules."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pytest
import redis
import redis.exceptions as rex
from redis.connection import Connection

try:  # redis-py 4.x
    from redis.connection import PythonParser
except ImportError:  # redis-py 5 and later moved it
    from redis._parsers import _RESP2Parser as PythonParser

import mognet_lab
from mognet_lab.errors import BadOption, NotReadOnly
from mognet_lab.reader import ALLOWED_COMMANDS, Node, open_node
from mognet_lab.reader import transport as transport_module
from mognet_lab.reader.node import Template
from mognet_lab.reader.transport import KEY, Transport, pack_commands

PACKAGE = Path(mognet_lab.__file__).parent


@pytest.fixture
def node(redis_url: str) -> Iterator[Node]:
    found = open_node(redis_url)
    try:
        yield found
    finally:
        found.close()


def jb(value: Any) -> bytes:
    return json.dumps(value).encode()


# -- the allow-list ---------------------------------------------------------------------
REFUSED = [
    ("DEL", "k"), ("UNLINK", "k"), ("HSET", "k", "f", "v"), ("HSETNX", "k", "f", "v"),
    ("HDEL", "k", "f"), ("SET", "k", "v"), ("SADD", "k", "m"), ("EXPIRE", "k", 10),
    ("PEXPIRE", "k", 10), ("PERSIST", "k"), ("TOUCH", "k"), ("GETDEL", "k"),
    ("GETEX", "k"), ("RENAME", "k", "k2"), ("CONFIG", "SET", "timeout", "1"),
    ("CONFIG", "RESETSTAT"), ("CONFIG", "REWRITE"), ("OBJECT", "FREQ", "k"),
    ("MEMORY", "PURGE"), ("CLIENT", "KILL", "ID", "1"), ("CLIENT", "SETNAME", "x"),
    ("EVAL", "return 1", 0), ("EVALSHA", "0" * 40, 0), ("FCALL", "f", 0),
    ("SCRIPT", "FLUSH"), ("FLUSHALL",), ("FLUSHDB",), ("DEBUG", "SLEEP", 0),
    ("SHUTDOWN",), ("KEYS", "*"), ("GET", "k"), ("del", "k"), (b"DEL", b"k"),
    ("Expire", "k", 1), ("config", "set", "timeout", "1"), (b"OBJECT", b"FREQ", b"k"),
]
_NAMES = [" ".join(str(t.decode() if isinstance(t, bytes) else t) for t in c[:2])
          for c in REFUSED]


def _stats(client: redis.Redis) -> tuple[int, dict[str, Any]]:
    processed = int(client.info("stats")["total_commands_processed"])
    return processed, client.info("commandstats")


@pytest.mark.parametrize("command", REFUSED, ids=_NAMES)
def test_allow_list_refuses_before_sending(node: Node, client: redis.Redis,
                                           command: tuple[Any, ...]) -> None:
    before, stats_before = _stats(client)
    with pytest.raises(NotReadOnly, match="not a read-only command"):
        node.call(*command)
    with pytest.raises(NotReadOnly):
        node.batch([("PTTL", "k"), command, ("PING",)])
    with pytest.raises(NotReadOnly):
        node.batch([command])
    after, stats_after = _stats(client)
    # Only the first INFO stats/commandstats pair ran in between: nothing was sent.
    assert after - before == 2
    word = str(command[0].decode() if isinstance(command[0], bytes) else command[0]).lower()
    key = f"cmdstat_{word}" if word not in ("config", "object", "memory", "client", "script",
                                            "debug") else None
    if key is not None:
        assert stats_before.get(key) == stats_after.get(key)
    assert stats_before.get("cmdstat_pttl") == stats_after.get("cmdstat_pttl")


def test_allow_list_lets_reads_through(node: Node, client: redis.Redis, app_name: str) -> None:
    key = f"{app_name}.mognet.state.s"
    client.hset(key, "f", "1")
    replies = node.batch([("PTTL", key), ("hlen", key), (b"MEMORY", b"USAGE", key),
                          ("OBJECT", "ENCODING", key), ("CONFIG", "GET", "timeout"),
                          ("type", key), ("HGETALL", key)])
    assert replies[0] == -1 and replies[1] == 1 and replies[2] > 0
    assert replies[5] == b"hash" and replies[6] == [b"f", b"1"]
    assert node.call("PING") is True


def test_allowed_commands_are_all_reads() -> None:
    writes = {"DEL", "HSET", "EXPIRE", "PERSIST", "TOUCH", "CONFIG SET", "OBJECT FREQ",
              "EVAL", "EVALSHA", "FLUSHALL", "SET", "UNLINK"}
    assert not writes & ALLOWED_COMMANDS
    assert {"SCAN", "HGETALL", "MEMORY USAGE", "EVALSHA_RO"} <= ALLOWED_COMMANDS


@pytest.mark.parametrize("word", ["CONFIG", "OBJECT", "MEMORY", "CLIENT"])
def test_allow_list_refuses_bare_command_families(node: Node, word: str) -> None:
    with pytest.raises(NotReadOnly):
        node.call(word)


def test_allow_list_refuses_foreign_scripts(node: Node) -> None:
    # On Redis 7 a foreign read-only script could still TOUCH keys or run OBJECT FREQ.
    with pytest.raises(NotReadOnly):
        node.call("EVAL_RO", "return redis.call('TOUCH', KEYS[1])", 1, "k")
    with pytest.raises(NotReadOnly):
        node.batch([("EVALSHA_RO", "0" * 40, 0)])
    with pytest.raises(NotReadOnly):
        node.call("EVAL_RO")


@pytest.mark.parametrize("commands", [
    [("DEL", KEY)], [("PTTL", KEY), ("EXPIRE", KEY, 5)], [("OBJECT", "FREQ", KEY)],
    [("CONFIG",)], [("EVAL_RO", "return 1", 1, KEY)]], ids=str)
def test_templates_are_checked_when_built(commands: list[tuple[Any, ...]]) -> None:
    with pytest.raises(NotReadOnly):
        Template(*commands)


def test_batch_keyed_packs_like_pack_commands(node: Node, client: redis.Redis,
                                              reference: redis.Redis,
                                              mixed_keys: list[str]) -> None:
    template = Template(("PTTL", KEY), ("MEMORY", "USAGE", KEY, "SAMPLES", 0), ("TYPE", KEY),
                        ("HMGET", KEY, "a", "b"), ("SCARD", KEY))
    keys = [key.encode() for key in mixed_keys] + [b"\x00\r\n odd key \xff"]
    for key in keys[:3]:
        assert template.pack(key) == pack_commands(
            [tuple(key if part is KEY else part for part in c) for c in template.commands])
    pairs = [(template, keys[i % len(keys)]) for i in range(2000)]  # 10,000 commands
    got = node.batch_keyed(pairs)
    want = _reference_replies(reference, [tuple(k if p is KEY else p for p in c)
                                          for t, k in pairs for c in t.commands])
    assert len(got) == 10_000 and _comparable(got) == _comparable(want)


# -- pack_commands ------------------------------------------------------------------------
def _redis_py_packed(commands: list[tuple[Any, ...]]) -> bytes:
    connection = Connection()
    return b"".join(b"".join(connection.pack_command(*c)) for c in commands)


def test_pack_commands_matches_redis_py() -> None:
    commands: list[tuple[Any, ...]] = [
        ("PING",), (b"HGET", b"k", b"contents"),
        ("SCAN", 0, "MATCH", "a\\*.mognet.*", "COUNT", 1000),
        ("HMGET", "k", *[f"f{i}" for i in range(40)]), ("X", b"", "", -1, 0, 2**40),
        ("X", b"bin\r\n\x00\xff" * 3, "é✓", "line\r\nbreak"), ("X", b"z" * 100_000),
        ("HLEN", "k"), ("HLEN", "k"), (b"HLEN", b"k"),
    ]
    assert pack_commands(commands) == _redis_py_packed(commands)
    assert pack_commands(commands) == pack_commands(commands)  # the token cache changes nothing
    assert pack_commands([]) == b""
    assert pack_commands([("A", 1)]) == b"*2\r\n$1\r\nA\r\n$1\r\n1\r\n"


def test_pack_commands_many_distinct_tokens() -> None:
    commands = [("HGET", f"key:{i}", i) for i in range(6000)]
    assert pack_commands(commands) == _redis_py_packed(commands)


# -- the transport ---------------------------------------------------------------------------
@pytest.fixture
def reference(redis_url: str) -> Iterator[redis.Redis]:
    """redis-py with its pure-Python parser, for comparison."""
    pool = redis.ConnectionPool.from_url(redis_url, parser_class=PythonParser)
    conn = redis.Redis(connection_pool=pool)
    try:
        yield conn
    finally:
        conn.close()


def _reference_replies(conn: redis.Redis, commands: list[tuple[Any, ...]]) -> list[Any]:
    connection = conn.connection_pool.get_connection("_")
    try:
        connection.send_packed_command(connection.pack_commands(commands))
        replies = []
        for _ in commands:
            try:
                replies.append(connection.read_response())
            except rex.ResponseError as error:
                replies.append(error)
        return replies
    finally:
        conn.connection_pool.release(connection)


def _comparable(reply: Any) -> Any:
    if isinstance(reply, Exception):
        return (type(reply).__name__, str(reply))
    if isinstance(reply, list):
        return [_comparable(item) for item in reply]
    return reply


@pytest.fixture
def mixed_keys(client: redis.Redis, app_name: str) -> list[str]:
    keys = []
    pipe = client.pipeline(transaction=False)
    for i in range(50):
        h, s, v = (f"{app_name}:h{i}", f"{app_name}:s{i}", f"{app_name}:v{i}")
        pipe.hset(h, mapping={"a": jb(i), "b": b"\x00\xff\r\n", "c": "x" * (i * 50)})
        pipe.sadd(s, *(uuid.uuid4().bytes for _ in range(i + 1)))
        pipe.set(v, gzip.compress(b"y" * (i * 1000)))
        keys += [h, s, v]
    pipe.set(f"{app_name}:big", b"\x1f\x8b" + bytes(range(256)) * 4096)  # ~1 MB
    pipe.execute()
    return keys + [f"{app_name}:big", f"{app_name}:missing"]


def _ten_thousand(keys: list[str]) -> list[tuple[Any, ...]]:
    shapes = [lambda k: ("PTTL", k), lambda k: ("TYPE", k), lambda k: ("HGETALL", k),
              lambda k: ("HMGET", k, "a", "nope", "b"), lambda k: ("SCARD", k),
              lambda k: ("HLEN", k), lambda k: ("MEMORY", "USAGE", k),
              lambda k: ("HGET", k, "b"), lambda k: ("SSCAN", k, 0, "COUNT", 5)]
    commands = [shapes[i % len(shapes)](keys[i % len(keys)]) for i in range(9990)]
    commands += [("PING",), ("ECHO", b"\r\n"), ("HGET", keys[-2], "x"),
                 ("SMEMBERS", keys[1]), ("OBJECT", "ENCODING", keys[0]), ("DBSIZE",),
                 ("PTTL", keys[-1]), ("HGETALL", keys[-1]), ("HSTRLEN", keys[0], "c"),
                 ("TYPE", keys[-2])]
    return commands


@pytest.mark.parametrize("parser", ["hiredis", "redis-py"])
def test_transport_reads_a_batch_of_10000(client: redis.Redis, reference: redis.Redis,
                                          mixed_keys: list[str], parser: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if parser == "redis-py":
        monkeypatch.setattr(transport_module, "hiredis", None)
    commands = _ten_thousand(mixed_keys)
    got = Transport(client).run(commands)
    want = _reference_replies(reference, commands)
    assert len(got) == len(want) == 10_000
    errors = [r for r in got if isinstance(r, Exception)]
    assert errors and all(isinstance(e, rex.ResponseError) for e in errors)  # WRONGTYPE
    assert _comparable(got) == _comparable(want)
    # The connection went back to the pool in a clean state.
    assert Transport(client).run([("PING",), ("ECHO", "ok")]) == [b"PONG", b"ok"]


def test_transport_empty_batch(client: redis.Redis) -> None:
    assert Transport(client).run([]) == []


# -- connect() with a user's client ------------------------------------------------------------
def test_connect_with_a_decoding_client(redis_url: str, client: redis.Redis,
                                        app_name: str) -> None:
    rid = str(uuid.uuid4())
    document = json.dumps({"value_type": "builtins:bytes", "raw_value": "é" * 300}).encode()
    client.hset(f"{app_name}.mognet.result.{rid}", mapping={"id": jb(rid), "state": jb("SUCCESS")})
    client.hset(f"{app_name}.mognet.result.{rid}/value", mapping={
        "contents": gzip.compress(document), "encoding": jb("gzip"),
        "content_type": jb("application/json")})
    client.sadd(f"{app_name}.mognet.result.{rid}/children", uuid.UUID(rid).bytes)
    user = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=7.5)
    before = dict(user.connection_pool.connection_kwargs)
    pool = user.connection_pool
    try:
        with mognet_lab.connect(user, app=app_name) as lab:
            snap = lab.scan(progress=False)
        assert user.connection_pool is pool
        assert user.connection_pool.connection_kwargs == before
        assert user.get_encoder().decode_responses is True
        assert user.hget(f"{app_name}.mognet.result.{rid}", "state") == '"SUCCESS"'
    finally:
        user.close()
    value = snap.values.iloc[0]
    assert value["raw_bytes"] == len(document) and value["raw_bytes_source"] == "decompressed"
    assert value["value_type"] == "builtins:bytes" and pd.isna(value["error"])
    assert snap.children["child_id"].tolist() == [rid]


def test_connect_client_label_hides_the_password(redis_url: str, app_name: str,
                                                 client: redis.Redis) -> None:
    client.hset(f"{app_name}.mognet.state.s", "k", "1")
    user = redis.Redis.from_url(redis_url, password="not-needed-but-set")
    try:
        # The session server has no password: AUTH fails, and the message must not show it.
        with pytest.raises(mognet_lab.MognetLabError) as caught:
            mognet_lab.connect(user, app=app_name)
        assert "not-needed-but-set" not in str(caught.value)
        lab = mognet_lab.connect(user, app=app_name, check=False)
        assert "not-needed-but-set" not in repr(lab) and ":***@" in lab.url
        lab.close()
    finally:
        user.close()


@pytest.mark.parametrize("bad", [object(), 6379, None, {"host": "x"}])
def test_connect_rejects_non_clients(bad: object) -> None:
    with pytest.raises((BadOption, mognet_lab.InvalidURL)):
        mognet_lab.connect(bad, app="x")


@pytest.mark.parametrize("app", ["", None, 3])
def test_connect_rejects_bad_app_names(redis_url: str, app: Any) -> None:
    with pytest.raises(BadOption, match="app="):
        mognet_lab.connect(redis_url, app=app)


# -- discover_apps -------------------------------------------------------------------------------
@pytest.fixture
def apps_db(redis_url: str) -> Iterator[tuple[str, redis.Redis]]:
    url = redis_url.rsplit("/", 1)[0] + "/13"
    conn = redis.Redis.from_url(url)
    try:
        yield url, conn
    finally:
        keys = list(conn.scan_iter(count=1000))
        if keys:
            conn.delete(*keys)
        conn.close()


def test_discover_apps_counts(apps_db: tuple[str, redis.Redis]) -> None:
    url, conn = apps_db
    empty = mognet_lab.discover_apps(url)
    assert list(empty.columns) == ["app", "keys", "results", "values", "children",
                                   "metadata", "states", "unknown"] and empty.empty
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for rid in ids:
        conn.hset(f"shop.mognet.result.{rid}", "id", jb(rid))
    conn.hset(f"shop.mognet.result.{ids[0]}/value", "contents", "x")
    conn.sadd(f"shop.mognet.result.{ids[0]}/children", uuid.uuid4().bytes)
    conn.hset(f"shop.mognet.result.{ids[1]}/metadata", "k", "1")
    conn.hset("shop.mognet.state.r1", "k", "1")
    conn.hset("shop.mognet.state.r2", "k", "1")
    conn.set("shop.mognet.odd", "x")
    conn.hset(f"shop.mognet.x.mognet.result.{ids[0]}", "id", jb(ids[0]))
    conn.hset("sh*p.mognet.state.r", "k", "1")
    conn.set("shop2.mognet.state.r", "x")
    conn.set("unrelated", "x")
    conn.set("mognet.result.x", "x")
    found = mognet_lab.discover_apps(url)
    rows = {row["app"]: row for row in found.to_dict("records")}
    assert set(rows) == {"shop", "shop.mognet.x", "sh*p", "shop2"}
    assert rows["shop"] == {"app": "shop", "keys": 9, "results": 3, "values": 1,
                            "children": 1, "metadata": 1, "states": 2, "unknown": 1}
    assert rows["shop.mognet.x"]["results"] == 1 and rows["shop.mognet.x"]["keys"] == 1
    assert rows["sh*p"]["states"] == 1 and rows["shop2"]["states"] == 1
    assert found["app"].iloc[0] == "shop"
    assert list(found["app"]) == ["shop", "sh*p", "shop.mognet.x", "shop2"]
    assert str(found["keys"].dtype) == "Int64"


def test_discover_apps_with_a_non_utf8_app_name(apps_db: tuple[str, redis.Redis]) -> None:
    url, conn = apps_db
    conn.set(b"caf\xe9.mognet.state.s", "x")
    conn.set(b"ok.mognet.state.s", "x")
    found = mognet_lab.discover_apps(url)
    assert len(found) == 2 and "ok" in set(found["app"])


# -- Lab.scan(limit=...) ----------------------------------------------------------------------
@pytest.fixture
def thirty_keys(client: redis.Redis, app_name: str) -> str:
    for i in range(30):
        client.hset(f"{app_name}.mognet.state.r{i}", "k", jb(i))
    return app_name


@pytest.mark.parametrize(("limit", "batch"), [(1, 1000), (7, 5), (7, 7), (29, 10)])
def test_scan_limit(redis_url: str, thirty_keys: str, limit: int, batch: int) -> None:
    with mognet_lab.connect(redis_url, app=thirty_keys) as lab:
        snap = lab.scan(progress=False, limit=limit, batch=batch)
    assert snap.complete is False and len(snap.keys) <= limit
    assert len(snap.keys) == snap.provenance.keys_read == len(snap.states)
    assert snap.provenance.settings.limit == limit


def test_scan_limit_above_the_key_count(redis_url: str, thirty_keys: str) -> None:
    with mognet_lab.connect(redis_url, app=thirty_keys) as lab:
        snap = lab.scan(progress=False, limit=1000)
        whole = lab.scan(progress=False)
    assert snap.complete is True and whole.complete is True
    assert len(snap.keys) == len(whole.keys) == 30


def test_scan_limit_from_settings(redis_url: str, thirty_keys: str) -> None:
    settings = mognet_lab.ScanSettings(limit=7, batch=5)
    with mognet_lab.connect(redis_url, app=thirty_keys) as lab:
        snap = lab.scan(progress=False, settings=settings)
    assert snap.complete is False and len(snap.keys) <= 7
    assert snap.provenance.settings == settings


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": -1}, {"batch": 0}, {"batch": 10**6}])
def test_scan_bad_options(redis_url: str, thirty_keys: str, bad: dict[str, int]) -> None:
    with mognet_lab.connect(redis_url, app=thirty_keys) as lab:
        with pytest.raises(BadOption, match=f"{next(iter(bad))}="):
            lab.scan(progress=False, **bad)


# -- layering (STYLE rules 1 and 8) -----------------------------------------------------------
# Methods of redis-py clients, pipelines and connections that nothing else in the
# package has (generic names such as get/set/scan/info would match dicts and Lab.scan).
_CLIENT_CALLS = re.compile(
    r"\.(execute_command|pipeline|hgetall|hget|hmget|hset|hsetnx|hlen|hstrlen|hdel|"
    r"scan_iter|sscan|sscan_iter|smembers|scard|sadd|pttl|ttl|expire|pexpire|persist|"
    r"memory_usage|config_get|config_set|object|evalsha|eval_ro|evalsha_ro|script_load|"
    r"dbsize|flushdb|flushall|unlink|send_packed_command|pack_commands|read_response|"
    r"get_connection|from_url)\(")
_MAY_CALL = ("reader/", "embedded.py", "demo/")


def _sources() -> list[tuple[str, str]]:
    return [(path.relative_to(PACKAGE).as_posix(), path.read_text(encoding="utf-8"))
            for path in sorted(PACKAGE.rglob("*.py"))]


def test_only_the_reader_talks_to_redis() -> None:
    offenders = []
    for name, text in _sources():
        if name.startswith(_MAY_CALL):
            continue
        if re.search(r"^\s*(import|from)\s+(redis|hiredis)\b", text, re.MULTILINE):
            offenders.append(f"{name}: imports redis")
        for number, line in enumerate(text.splitlines(), 1):
            if _CLIENT_CALLS.search(line.split("#", 1)[0]):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_layering_check_would_catch_a_client_call() -> None:
    assert _CLIENT_CALLS.search("replies = client.pipeline(transaction=False)")
    assert _CLIENT_CALLS.search("self._client.execute_command(*command)")
    assert not _CLIENT_CALLS.search("fields.get(b'contents'); lab.scan(progress=False)")


def test_pure_layers_import_no_redis_and_no_plotting() -> None:
    pure = ("decode/", "keys.py", "urls.py", "records.py", "frames.py", "schemas.py",
            "format.py", "raw.py", "settings.py", "errors.py", "snapshot.py")
    for name, text in _sources():
        if name.startswith(pure):
            imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", text, re.MULTILINE)
            bad = [m for m in imports if m.split(".")[0] in
                   ("redis", "hiredis", "matplotlib", "ipywidgets", "IPython")]
            assert not bad, (name, bad)


def test_presentation_layers_never_import_the_reader() -> None:
    # Lab.value reads through reader/value.py; display/ only decodes and renders.
    for name, text in _sources():
        if name.startswith(("display/", "widgets/", "report/", "charts/", "analysis/")):
            imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", text, re.MULTILINE)
            assert not [m for m in imports if "reader" in m.split(".")], name


def test_import_has_no_heavy_side_effects() -> None:
    code = ("import sys, mognet_lab\n"
            "heavy = ('matplotlib.pyplot', 'ipywidgets', 'IPython')\n"
            "bad = [m for m in heavy if m in sys.modules]\n"
            "print(','.join(bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "", done.stdout


def test_public_api_is_pinned() -> None:
    assert mognet_lab.__all__ == [
        "__version__", "AccessDenied", "AppNotFound", "BadDump", "BadOption", "Comparison",
        "Dataset", "EmbeddedRedisError", "FRAME_NAMES", "History", "InvalidURL", "Lab",
        "MognetLabError", "NotReadOnly", "NotRedis", "Provenance", "RedisUnavailable",
        "SCHEMAS", "ScanSettings", "ScanTooLarge", "ScanWarning", "Snapshot", "TLSFailed",
        "compare", "connect", "discover_apps", "from_rdb", "open_dataset",
    ]
    for name in mognet_lab.__all__:
        assert hasattr(mognet_lab, name), name
    # Loaded on first use, outside __all__:
    assert mognet_lab.Report.__module__.startswith("mognet_lab.report")
    assert mognet_lab.Dashboard.__module__.startswith("mognet_lab.widgets")


# -- CLIENT NO-TOUCH -------------------------------------------------------------------------
@pytest.mark.parametrize(("version", "wanted"), [("7.2.0", True), ("7.4.2", True), ("8.0.1", True),
                                                 ("7.0.15", False), ("6.2.14", False),
                                                 (None, False), ("unknown", False)])
def test_no_touch_only_where_the_server_has_it(node: Node, version: str | None,
                                               wanted: bool) -> None:
    node.configure(version)
    assert node.no_touch is wanted and node.configured


def test_no_touch_wraps_each_batch_and_keeps_replies_aligned(
        node: Node, client: redis.Redis, app_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key = f"{app_name}.mognet.state.s"
    client.hset(key, "f", "1")
    sent: list[bytes] = []
    original = Transport.run_packed

    def spy(self: Transport, payload: bytes, count: int) -> list[Any]:
        sent.append(payload)
        return original(self, payload, count)

    monkeypatch.setattr(Transport, "run_packed", spy)
    node.no_touch = True
    # On servers before 7.2 the wrapping commands fail harmlessly; the replies
    # to the batch itself must still line up.
    assert node.batch([(b"PTTL", key), (b"HLEN", key)]) == [-1, 1]
    assert sent[-1].startswith(b"*3\r\n$6\r\nCLIENT\r\n$8\r\nNO-TOUCH\r\n$2\r\nON\r\n")
    assert sent[-1].endswith(b"*3\r\n$6\r\nCLIENT\r\n$8\r\nNO-TOUCH\r\n$3\r\nOFF\r\n")


# -- several servers as one keyspace -----------------------------------------------------------
def test_scan_fans_out_over_several_servers(redis_server, client: redis.Redis,
                                            app_name: str) -> None:
    from mognet_lab.demo import Workload, write_workload
    from mognet_lab.embedded import EmbeddedRedis

    with EmbeddedRedis() as second:
        write_workload(second, Workload(app=app_name, results=20, seed=5))
        write_workload(redis_server, Workload(app=app_name, results=30, seed=6))
        # A key on both servers (a replica's copy, say) counts once.
        copied = next(k for k in client.scan_iter(f"{app_name}.mognet.result.*", count=1000)
                      if b"/" not in k)
        redis.Redis.from_url(second.url).restore(copied, 0, client.dump(copied))
        with mognet_lab.connect([redis_server.url, second.url], app=app_name) as lab:
            snap = lab.scan(progress=False)
        assert len(snap.results) == 50 and snap.keys["key"].is_unique
        assert len(snap.server) == 2 and snap.server["node"].nunique() == 2
        with pytest.raises(mognet_lab.AppNotFound):
            mognet_lab.connect([redis_server.url, second.url], app=app_name + "_none")
