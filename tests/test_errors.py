"""Errors a user meets when connecting: right class, one line saying what to do, no password.

These tests run a password-protected redis-server of their own.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import traceback
from typing import Any, Callable, Iterator

import pytest
import redis

import mognet_lab
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.errors import (
    AccessDenied,
    AppNotFound,
    InvalidURL,
    MognetLabError,
    RedisUnavailable,
    TLSFailed,
)

PASSWORD = "s3cret"


@pytest.fixture(scope="module")
def locked() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(password=PASSWORD).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def admin(locked: EmbeddedRedis) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(locked.url)
    for app, count in (("alpha", 3), ("beta", 2), ("alpha2", 1)):
        for i in range(count):
            conn.hset(f"{app}.mognet.state.r{i}", "k", "1")
    try:
        yield conn
    finally:
        conn.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raised(action: Callable[[], Any]) -> MognetLabError:
    with pytest.raises(MognetLabError) as caught:
        action()
    return caught.value


def check_message(exc: BaseException, *secrets: str) -> str:
    """One line, and no secret anywhere in it or in the chained exceptions."""
    message = str(exc)
    assert message and "\n" not in message, message
    whole = "".join(traceback.format_exception(exc))
    for secret in (PASSWORD, *secrets):
        assert secret not in message and secret not in repr(exc) and secret not in whole
    return message


# -- nothing listening --------------------------------------------------------------------
@pytest.mark.parametrize("auth", ["", f":{PASSWORD}@", f"default:{PASSWORD}@"])
def test_unreachable(auth: str) -> None:
    port = closed_port()
    url = f"redis://{auth}127.0.0.1:{port}/0"
    for action in (lambda: mognet_lab.connect(url, app="x"),
                   lambda: mognet_lab.discover_apps(url)):
        exc = raised(action)
        assert type(exc) is RedisUnavailable and isinstance(exc, ConnectionError)
        message = check_message(exc)
        assert f"127.0.0.1:{port}" in message and "is the server running" in message
        assert exc.__cause__ is not None


def test_unreachable_without_check_fails_at_scan() -> None:
    lab = mognet_lab.connect(f"redis://:{PASSWORD}@127.0.0.1:{closed_port()}/0", app="x",
                             check=False)
    try:
        exc = raised(lambda: lab.scan(progress=False))
        assert isinstance(exc, RedisUnavailable)
        check_message(exc)
    finally:
        lab.close()


# -- credentials -----------------------------------------------------------------------------
@pytest.mark.parametrize("auth", [":wr0ngpw@", "default:wr0ngpw@", "wr0ngpw@", "",
                                  "nobody:wr0ngpw@"])
def test_wrong_or_missing_password(locked: EmbeddedRedis, admin: redis.Redis,
                                   auth: str) -> None:
    url = f"redis://{auth}127.0.0.1:{locked.port}/0"
    for action in (lambda: mognet_lab.connect(url, app="alpha"),
                   lambda: mognet_lab.discover_apps(url)):
        exc = raised(action)
        assert type(exc) is AccessDenied and isinstance(exc, PermissionError)
        message = check_message(exc, "wr0ngpw")
        assert "password" in message and f"127.0.0.1:{locked.port}" in message


def test_wrong_password_through_a_client(locked: EmbeddedRedis, admin: redis.Redis) -> None:
    user = redis.Redis(host="127.0.0.1", port=locked.port, password="wr0ngpw")
    try:
        exc = raised(lambda: mognet_lab.connect(user, app="alpha"))
        assert isinstance(exc, AccessDenied)
        assert ":***@" in check_message(exc, "wr0ngpw")
    finally:
        user.close()


def test_acl_user_without_a_needed_command(locked: EmbeddedRedis, admin: redis.Redis) -> None:
    admin.execute_command("ACL", "SETUSER", "noscan", "reset", "on", ">pw2", "~*", "+@all",
                          "-scan")
    try:
        url = f"redis://noscan:pw2@127.0.0.1:{locked.port}/0"
        exc = raised(lambda: mognet_lab.connect(url, app="alpha"))
        assert type(exc) is AccessDenied
        message = check_message(exc, "pw2")
        assert "denied a read command" in message and "scan" in message.lower()
    finally:
        admin.execute_command("ACL", "DELUSER", "noscan")


# -- TLS --------------------------------------------------------------------------------------
def _tls_error(exc: MognetLabError) -> None:
    assert isinstance(exc, (TLSFailed, RedisUnavailable))
    assert "TLS" in check_message(exc)


def test_rediss_to_a_plain_server(locked: EmbeddedRedis, admin: redis.Redis) -> None:
    # A short socket_timeout: see test_rediss_to_a_plain_server_fails_fast.
    url = f"rediss://:{PASSWORD}@127.0.0.1:{locked.port}/0?socket_timeout=1.5"
    started = time.monotonic()
    _tls_error(raised(lambda: mognet_lab.connect(url, app="alpha")))
    user = redis.Redis(host="127.0.0.1", port=locked.port, password=PASSWORD, ssl=True,
                       ssl_cert_reqs="none", socket_timeout=1.5)
    try:
        _tls_error(raised(lambda: mognet_lab.connect(user, app="alpha")))
    finally:
        user.close()
    assert time.monotonic() - started < 10


def test_rediss_to_a_plain_server_fails_fast(locked: EmbeddedRedis, admin: redis.Redis) -> None:
    code = ("import mognet_lab, sys\n"
            "try:\n"
            f"    mognet_lab.connect('rediss://127.0.0.1:{locked.port}/0', app='alpha')\n"
            "except mognet_lab.MognetLabError as exc:\n"
            "    print(type(exc).__name__, exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=9)  # killed after 9 s: TimeoutExpired fails the test
    assert "TLS" in done.stdout


def test_tls_client_label_says_rediss(locked: EmbeddedRedis) -> None:
    user = redis.Redis(host="127.0.0.1", port=locked.port, password=PASSWORD, ssl=True)
    try:
        lab = mognet_lab.connect(user, app="alpha", check=False)
        assert lab.url.startswith("rediss://") and PASSWORD not in lab.url
        lab.close()
    finally:
        user.close()


# -- bad URLs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://x", "https://u:s3cret@x/0", "", "localhost:6379",
                                 "ftp://redis/0"])
def test_invalid_url(url: str) -> None:
    for action in (lambda: mognet_lab.connect(url, app="x"),
                   lambda: mognet_lab.discover_apps(url)):
        exc = raised(action)
        assert type(exc) is InvalidURL
        assert "redis://" in check_message(exc)


# -- unknown app ---------------------------------------------------------------------------
def test_unknown_app_names_the_apps_that_exist(locked: EmbeddedRedis, admin: redis.Redis) -> None:
    for app in ("nope", "alph*", "alpha[2]", "alph", "Alpha"):
        exc = raised(lambda: mognet_lab.connect(locked.url, app=app))
        assert type(exc) is AppNotFound and isinstance(exc, LookupError)
        assert exc.app == app
        assert exc.known_apps == ["alpha", "beta", "alpha2"]  # most keys first
        message = check_message(exc)
        assert repr(app) in message
        assert all(repr(known) in message for known in exc.known_apps)


def test_unknown_app_in_an_empty_database(locked: EmbeddedRedis, admin: redis.Redis) -> None:
    url = locked.url.rsplit("/", 1)[0] + "/5"
    exc = raised(lambda: mognet_lab.connect(url, app="alpha"))
    assert isinstance(exc, AppNotFound) and exc.known_apps == []
    assert "db number" in check_message(exc)


def test_unknown_app_with_many_apps(locked: EmbeddedRedis, admin: redis.Redis) -> None:
    url = locked.url.rsplit("/", 1)[0] + "/6"
    conn = redis.Redis.from_url(url)
    try:
        for i in range(15):
            conn.set(f"app{i:02d}.mognet.state.s", "x")
        exc = raised(lambda: mognet_lab.connect(url, app="nope"))
        assert isinstance(exc, AppNotFound) and len(exc.known_apps) == 15
        message = check_message(exc)
        assert "'app00'" in message and len(message) < 400
    finally:
        conn.flushdb()
        conn.close()


def test_lab_repr_hides_the_password(locked: EmbeddedRedis, admin: redis.Redis) -> None:
    with mognet_lab.connect(locked.url, app="alpha") as lab:
        assert PASSWORD not in repr(lab) and PASSWORD not in lab.url
        snap = lab.scan(progress=False)
    assert PASSWORD not in repr(snap) and PASSWORD not in snap.provenance.url
    assert PASSWORD not in snap.server.to_csv()
    assert len(snap.states) == 3
