"""Shared fixtures: a private redis-server for the whole session, unique app names.

Tests never touch the Redis at 127.0.0.1:6379: every test talks to the
redis-server this session starts on a free port, and each test writes under
an app name nobody else uses, so tests never see each other's keys.
"""

from __future__ import annotations

import os
import socket
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import redis

from mognet_lab.demo import Demo, Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.snapshot import Snapshot
from naming import unique_app_name

RABBITMQ_URL_ENV = "MOGNET_LAB_RABBITMQ_URL"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """A redis-server owned by this test session (free port, no persistence)."""
    server = EmbeddedRedis().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: EmbeddedRedis) -> str:
    return redis_server.url


@pytest.fixture(scope="session")
def demo_lab() -> Iterator[Demo]:
    """One running demo Redis (300 results) for every test that reads the demo keyspace."""
    running = Demo(results=300)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def demo_keyspace(demo_lab: Demo) -> Snapshot:
    """One scan of the demo keyspace, shared by the presentation tests (never modified)."""
    return demo_lab.scan(progress=False)


@pytest.fixture(scope="session")
def demo_workload(redis_server: EmbeddedRedis) -> tuple[str, str]:
    """``(url, app)`` of a small demo workload written once into the session's redis-server."""
    app = "cli_demo"
    write_workload(redis_server, Workload(app=app, results=60, seed=3))
    return redis_server.url, app


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A plain redis-py client on the test server (bytes replies)."""
    conn = redis.Redis.from_url(redis_url)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def app_name(request: pytest.FixtureRequest) -> str:
    """A Mognet app name used by this test only (``t{n}_{testname}``)."""
    return unique_app_name(request.node.name)


def _reachable(url: str, timeout_s: float = 1.0) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 5672
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """AMQP URL of a reachable RabbitMQ, or skip the test saying how to provide one."""
    url = os.environ.get(RABBITMQ_URL_ENV) or DEFAULT_RABBITMQ_URL
    if not _reachable(url):
        where = urlsplit(url)
        pytest.skip(
            f"no RabbitMQ reachable at {where.hostname}:{where.port or 5672} "
            f"(set {RABBITMQ_URL_ENV})"
        )
    return url
