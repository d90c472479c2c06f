"""Redis Cluster: one node's URL reads every primary; scripts stay within one slot.

The test starts its own 3-node cluster on free ports (skipped, with the reason,
where redis-server cannot run in cluster mode). Mognet itself needs one
non-cluster Redis: this is about never giving a third of the keys as the whole.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import redis

import mognet_lab
from mognet_lab.embedded import _free_port, _pings, find_redis_server

APP = "clustered"
SLOTS = 16384


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is a free port too."""
    while True:
        port = _free_port()
        if port + 10000 <= 65535 and _bindable(port + 10000):
            return port


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--cluster-enabled", "yes", "--dir", str(tmp),
         "--cluster-config-file", f"nodes-{port}.conf"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    tmp = tmp_path_factory.mktemp("cluster")
    ports = [_cluster_port() for _ in range(3)]
    processes = [_start(tmp, port) for port in ports]
    try:
        deadline = time.monotonic() + 15
        while not all(_pings(port) for port in ports):
            if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
                pytest.skip("redis-server could not start in cluster mode here")
            time.sleep(0.05)
        clients = [redis.Redis(port=port) for port in ports]
        share = SLOTS // 3
        for index, client in enumerate(clients):  # test setup on the test's own servers
            last = SLOTS if index == 2 else (index + 1) * share
            client.execute_command("CLUSTER", "ADDSLOTS", *range(index * share, last))
        for client in clients[1:]:
            client.execute_command("CLUSTER", "MEET", "127.0.0.1", ports[0])
        while any(c.info("cluster").get("cluster_enabled") != 1 or
                  b"cluster_state:ok" not in c.execute_command("CLUSTER", "INFO")
                  for c in clients):
            if time.monotonic() > deadline + 15:
                pytest.skip("the test cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        yield ports
    finally:
        for process in _REPLICAS:
            process.kill()
            process.wait()
        for process in processes:
            process.kill()
            process.wait()


_REPLICAS: list[subprocess.Popen[bytes]] = []


@pytest.fixture(scope="module")
def replica(cluster: list[int], tmp_path_factory: pytest.TempPathFactory) -> int:
    """A replica of the first primary (the other two primaries have none)."""
    tmp = tmp_path_factory.mktemp("replica")
    port = _cluster_port()
    _REPLICAS.append(_start(tmp, port))
    deadline = time.monotonic() + 15
    while not _pings(port):
        if time.monotonic() > deadline:
            pytest.skip("the replica's redis-server did not start")
        time.sleep(0.05)
    client = redis.Redis(port=port)
    client.execute_command("CLUSTER", "MEET", "127.0.0.1", cluster[0])
    primary_id = redis.Redis(port=cluster[0]).execute_command("CLUSTER", "MYID")
    while True:  # the replica must know the primary before it can follow it
        try:
            client.execute_command("CLUSTER", "REPLICATE", primary_id)
            break
        except redis.ResponseError:
            if time.monotonic() > deadline + 15:
                pytest.skip("the replica could not join the test cluster")
            time.sleep(0.1)
    while client.info("replication").get("master_link_status") != "up":
        if time.monotonic() > deadline + 30:
            pytest.skip("the replica did not sync with its primary")
        time.sleep(0.1)
    while not all(_lists_replica(other, port) for other in cluster):  # gossip takes a while
        if time.monotonic() > deadline + 45:
            pytest.skip("the cluster did not learn of the replica")
        time.sleep(0.1)
    return port


def _lists_replica(port: int, replica_port: int) -> bool:
    slots = redis.Redis(port=port).execute_command("CLUSTER", "SLOTS")
    return any(int(server[1]) == replica_port for entry in slots for server in entry[3:])


def _write(ports: list[int], count: int) -> list[str]:
    client = redis.cluster.RedisCluster(host="127.0.0.1", port=ports[0])
    ids = []
    for _ in range(count):
        rid = str(uuid.uuid4())
        ids.append(rid)
        base = f"{APP}.mognet.result.{rid}"
        client.hset(base, mapping={"id": json.dumps(rid), "state": '"SUCCESS"',
                                   "name": '"t.clustered"'})
        document = json.dumps({"value_type": "builtins:bytes",
                               "raw_value": os.urandom(6000).hex()}).encode()
        client.hset(f"{base}/value", mapping={
            "contents": gzip.compress(document), "encoding": '"gzip"',
            "content_type": '"application/json"'})
    client.close()
    return ids


def test_one_node_url_reads_the_whole_cluster(cluster: list[int]) -> None:
    ids = _write(cluster, 150)
    url = f"redis://127.0.0.1:{cluster[1]}/0"
    lab = mognet_lab.connect(url, app=APP)
    assert len(lab.nodes) == 3
    # Values over 8 KiB are clipped by the server: several per batch and per node,
    # on keys of different slots, which one script call may not span.
    snapshot = lab.scan(progress=False, settings=mognet_lab.ScanSettings(
        server_clip_bytes=8192))
    assert snapshot.provenance.complete
    assert len(snapshot.results) == 150 and len(snapshot.keys) == 300
    assert set(snapshot.results["result_id"]) == set(ids)
    assert snapshot.keys["error"].isna().all()
    assert (snapshot.values["raw_bytes_source"] == "gzip_trailer").all()
    assert snapshot.values["readable"].all()
    apps = mognet_lab.discover_apps(url)
    assert int(apps.set_index("app").loc[APP, "keys"]) == 300
    # Lab.value finds a key whichever primary holds it.
    for rid in ids[:5]:
        view = lab.value(rid)
        assert view.value_type == "builtins:bytes"
    lab.close()


def _key_reads(port: int) -> int:
    stats = redis.Redis(port=port).info("commandstats")
    return sum(int(entry["calls"]) for name, entry in stats.items()
               if name.split("|")[0] in ("cmdstat_hget", "cmdstat_hgetall", "cmdstat_hmget",
                                         "cmdstat_memory", "cmdstat_pttl"))


def test_replicas_are_read_instead_of_their_primaries(cluster: list[int], replica: int) -> None:
    ids = _write(cluster, 60)
    primary = redis.Redis(port=cluster[0])
    primary.execute_command("WAIT", 1, 5000)  # test setup: the replica has every write
    url = f"redis://127.0.0.1:{cluster[2]}/0"
    with pytest.warns(mognet_lab.ScanWarning, match="No replica .* reads the primary"):
        lab = mognet_lab.connect(url, app=APP, replicas=True)
    labels = [node.label for node in lab.nodes]
    assert len(labels) == 3
    assert sum("(replica)" in label for label in labels) == 1
    assert any(f":{replica}/" in label for label in labels)
    before = _key_reads(cluster[0])
    snapshot = lab.scan(progress=False)
    lab.close()
    # The primary that has a replica was not read; its keys came from the replica.
    assert _key_reads(cluster[0]) == before
    assert set(ids) <= set(snapshot.results["result_id"])
    assert snapshot.provenance.complete and snapshot.keys["error"].isna().all()
    everything = mognet_lab.connect(url, app=APP).scan(progress=False)
    assert len(snapshot.keys) == len(everything.keys)


def test_cli_reads_replicas(cluster: list[int], replica: int,
                            capsys: pytest.CaptureFixture[str]) -> None:
    from mognet_lab.cli import main

    _write(cluster, 5)
    redis.Redis(port=cluster[0]).execute_command("WAIT", 1, 5000)
    code = main(["scan", f"redis://127.0.0.1:{cluster[0]}/0", "--app", APP, "--replicas",
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.count("mognet-lab: warning: No replica") == 2

