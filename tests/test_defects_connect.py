"""URLs that reach the wrong server: AMQP or HTTP where Redis was expected, rediss:// to
a plain port. Real sockets only: a RabbitMQ when one runs here, and tiny local servers
that answer the way AMQP and HTTP servers do."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from typing import Iterator
from urllib.parse import urlsplit

import pytest

import mognet_lab
from mognet_lab import MognetLabError, NotRedis, RedisUnavailable, TLSFailed
from mognet_lab.cli import EXIT_CODES, main
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis

AMQP_HEADER = b"AMQP\x00\x00\x09\x01"  # what RabbitMQ answers to a foreign protocol
HTTP_400 = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@pytest.fixture
def answering() -> Iterator[object]:
    """``answering(reply)`` -> port of a local TCP server sending ``reply`` to each client."""
    servers: list[socket.socket] = []

    def start(reply: bytes) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        servers.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return  # closed at the end of the test
                with conn:
                    conn.settimeout(2)
                    try:
                        conn.recv(1024)
                        conn.sendall(reply)
                    except OSError:
                        pass

        threading.Thread(target=serve, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in servers:
        listener.close()


@pytest.mark.parametrize("reply, like", [(AMQP_HEADER, "AMQP"), (HTTP_400, "HTTP")])
def test_a_server_that_is_not_redis_exits_3_saying_so(answering, reply: bytes, like: str,
                                                      capsys) -> None:
    port = answering(reply)
    for argv in (["apps"], ["scan", "--app", "a", "--no-progress"]):
        code = main([argv[0], f"redis://u:Pw9hidden@127.0.0.1:{port}/0", *argv[1:]])
        assert code == EXIT_CODES["unreachable"]
        err = capsys.readouterr().err
        assert "is not a Redis server" in err and f"answered like {like}" in err, err
        assert "Pw9hidden" not in err and err.count("\n") == 1 and "Protocol error" not in err


def test_the_library_raises_not_redis(answering) -> None:
    port = answering(AMQP_HEADER)
    with pytest.raises(NotRedis, match="broker") as raised:
        mognet_lab.connect(f"redis://127.0.0.1:{port}/0", app="a")
    assert isinstance(raised.value, RedisUnavailable)


def test_rabbitmq_itself_is_named(rabbitmq_url: str, capsys) -> None:
    where = urlsplit(rabbitmq_url)
    url = f"redis://{where.hostname}:{where.port or 5672}/0"
    assert main(["apps", url]) == EXIT_CODES["unreachable"]
    assert "answered like AMQP" in capsys.readouterr().err


def test_rediss_to_a_plain_port_fails_fast_with_a_tls_error(capsys) -> None:
    with EmbeddedRedis() as server:
        url = f"rediss://127.0.0.1:{server.port}/0"
        started = time.monotonic()
        assert main(["apps", url]) == EXIT_CODES["unreachable"]
        took = time.monotonic() - started
        err = capsys.readouterr().err
        with pytest.raises(TLSFailed, match="plain"):
            mognet_lab.connect(url, app="a")
    assert took < 4.0, f"took {took:.1f} s"
    assert "TLS" in err and "use redis://" in err and err.count("\n") == 1


@pytest.fixture
def tls_redis(tmp_path) -> Iterator[tuple[EmbeddedRedis, int]]:
    """A redis-server with a plain port (to write) and a TLS port (self-signed cert)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl (to make a test certificate) is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        tls_port = int(probe.getsockname()[1])
    server = EmbeddedRedis(extra_args=["--tls-port", str(tls_port), "--tls-cert-file",
                                       str(cert), "--tls-key-file", str(key),
                                       "--tls-ca-cert-file", str(cert),
                                       "--tls-auth-clients", "no"])
    try:
        server.start()
    except MognetLabError as exc:
        pytest.skip(f"this redis-server cannot serve TLS: {exc}")
    try:
        yield server, tls_port
    finally:
        server.stop()


def test_a_real_tls_server_still_scans_with_the_bounded_handshake(tls_redis) -> None:
    server, tls_port = tls_redis
    write_workload(server, Workload(app="tls_app", results=30, seed=5))
    url = f"rediss://127.0.0.1:{tls_port}/0?ssl_cert_reqs=none"
    with mognet_lab.connect(url, app="tls_app") as lab:
        snapshot = lab.scan(progress=False)
    assert len(snapshot.results) == 30 and snapshot.keys["error"].isna().all()
