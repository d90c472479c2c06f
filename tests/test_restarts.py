"""A server that restarts or dies during a scan never gives a "complete" snapshot.

Each test runs its own redis-server on a fixed free port, so it can restart
it on the same port mid-scan: exactly what redis-py's silent reconnect would
carry a SCAN cursor across.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis

import mognet_lab
from mognet_lab import cli
from mognet_lab.embedded import _free_port, _pings, find_redis_server
from mognet_lab.errors import RedisUnavailable
from mognet_lab.reader import server as server_module
from mognet_lab.reader import walk as walk_module

APP = "restarts"


class PortServer:
    """A redis-server bound to one port that can be killed and started again there."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp = _free_port(), tmp
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [find_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not _pings(self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PortServer]:
    found = PortServer(tmp_path)
    found.start()
    client = redis.Redis.from_url(found.url)
    with client.pipeline(transaction=False) as pipe:
        for _ in range(3000):
            rid = str(uuid.uuid4())
            pipe.hset(f"{APP}.mognet.result.{rid}", mapping={
                "id": json.dumps(rid), "name": '"t.work"', "state": '"SUCCESS"',
                "number_of_starts": "1", "number_of_stops": "1"})
        pipe.execute()
    client.close()
    try:
        yield found
    finally:
        found.kill()


def _after_first_batches(monkeypatch: pytest.MonkeyPatch, action: Any, batches: int = 2) -> None:
    """Run ``action`` once, after the walk has grouped ``batches`` batches of keys."""
    original = walk_module.group_by_kind
    calls = {"n": 0}

    def wrapper(app: str, keys: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == batches:
            action()
        return original(app, keys)

    monkeypatch.setattr(walk_module, "group_by_kind", wrapper)


def test_restart_mid_walk_is_a_clear_error(server: PortServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    total = redis.Redis.from_url(server.url).dbsize()
    _after_first_batches(monkeypatch, server.restart)
    lab = mognet_lab.connect(server.url, app=APP)
    with pytest.raises(RedisUnavailable, match="during the scan"):
        lab.scan(progress=False, settings=mognet_lab.ScanSettings(batch=200, scan_count=100))
    assert total > 1000  # the walk had plenty of keys left when the server went away


def test_restart_between_checks_marks_the_snapshot_incomplete(
        server: PortServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The restart lands after the walk's first look at the server and before its
    # stream connects: the walk reads an empty server. run_id tells them apart.
    original = server_module.server_identity
    seen = {"n": 0}

    def identity_then_restart(node: Any) -> Any:
        found = original(node)
        seen["n"] += 1
        if seen["n"] == 1:
            server.restart()
        return found

    monkeypatch.setattr("mognet_lab.scanner.server_identity", identity_then_restart)
    lab = mognet_lab.connect(server.url, app=APP)
    with pytest.warns(mognet_lab.ScanWarning, match="restarted"):
        snapshot = lab.scan(progress=False)
    assert snapshot.provenance.complete is False
    assert any("restarted during the scan" in text for text in snapshot.warnings)
    assert "restarted during the scan" in repr(snapshot)
    assert "restarted during the scan" in mognet_lab.Report(snapshot).to_html()


def test_killed_server_is_exit_3_on_the_command_line(server: PortServer,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _after_first_batches(monkeypatch, server.kill)
    code = cli.main(["scan", server.url, "--app", APP, "--no-progress", "--batch", "200"])
    err = capsys.readouterr().err
    assert code == 3
    assert "Traceback" not in err and "during the scan" in err


def test_stalled_server_fails_in_bounded_time(server: PortServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert server.process is not None
    pid = server.process.pid
    _after_first_batches(monkeypatch, lambda: os.kill(pid, signal.SIGSTOP))
    lab = mognet_lab.connect(f"{server.url}?socket_timeout=2", app=APP)
    began = time.monotonic()
    try:
        with pytest.raises(RedisUnavailable):
            lab.scan(progress=False, settings=mognet_lab.ScanSettings(batch=200, scan_count=100))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert time.monotonic() - began < 15
