"""Open a private, read-only view of a Redis server from a URL or a client."""

from __future__ import annotations

import inspect
import re
from typing import Any

import redis
import redis.exceptions as rex

from ..errors import InvalidURL, bad_option
from ..urls import censor_text, censor_url, check_redis_url
from .node import Node

__all__ = ["open_node", "describe_client"]

# No reply byte for this long means the server is stalled (or, for rediss://
# to a plain port, a TLS handshake that will never finish). Options in the URL
# (?socket_timeout=30) win over these.
_TIMEOUTS = {"socket_connect_timeout": 5.0, "socket_timeout": 6.0}
# A TLS server answers a ClientHello at once, but a plain Redis port reads it as
# a command line without end and says nothing: the handshake alone gets this
# long (not the socket timeout), so rediss:// to a plain port fails fast.
_HANDSHAKE_TIMEOUT = 2.5
# The reader parses RESP2. redis-py 5+ can speak RESP3 (8+ does by default, and
# may then interleave push messages), so ask for RESP2 where the option exists.
_RESP2 = {"protocol": 2} if "protocol" in inspect.signature(redis.Redis.__init__).parameters \
    else {}
# What is copied from a caller's client: where and how to connect, nothing else
# (newer redis-py keeps RESP3-only machinery among its connection options).
_UNKNOWN_OPTION = re.compile(r"unexpected keyword argument '(\w+)'")
_CONNECTION_OPTIONS = frozenset({
    "host", "port", "db", "username", "password", "path", "credential_provider",
    "socket_timeout", "socket_connect_timeout", "socket_keepalive", "socket_keepalive_options",
    "client_name",
})


class _TLSConnection(redis.SSLConnection):
    """redis-py's TLS connection with the handshake bounded by ``_HANDSHAKE_TIMEOUT``."""

    def _connect(self) -> Any:
        # redis-py runs the handshake under socket_timeout (set on the socket just
        # before wrapping it, in every version): lower it for that moment only.
        # (getattr/setattr: redis-py's stubs disagree across versions on its type.)
        steady: float | None = getattr(self, "socket_timeout")
        setattr(self, "socket_timeout", min(steady or _HANDSHAKE_TIMEOUT, _HANDSHAKE_TIMEOUT))
        try:
            sock = super()._connect()
        finally:
            setattr(self, "socket_timeout", steady)
        sock.settimeout(steady)
        return sock


def _bounded(connection_class: type) -> type:
    return _TLSConnection if connection_class is redis.SSLConnection else connection_class


def open_node(url_or_client: Any) -> Node:
    """A :class:`Node` with its own connection pool (the caller's client is never changed).

    The private pool reads raw bytes (values are binary gzip) over RESP2,
    whatever the caller's client was configured for.
    """
    if isinstance(url_or_client, str):
        url = check_redis_url(url_or_client)
        return Node(_client_from_url(url), label=censor_url(url))
    pool = getattr(url_or_client, "connection_pool", None)
    if not isinstance(url_or_client, redis.Redis) or pool is None:
        raise bad_option("url_or_client", type(url_or_client).__name__,
                         "a redis:// or rediss:// URL, or a redis.Redis client")
    kwargs = {name: value for name, value in pool.connection_kwargs.items()
              if name in _CONNECTION_OPTIONS or name.startswith("ssl_")}
    private = redis.ConnectionPool(connection_class=_bounded(pool.connection_class),
                                   decode_responses=False, **kwargs, **_RESP2)
    tls = issubclass(pool.connection_class, redis.SSLConnection)
    return Node(redis.Redis(connection_pool=private), label=describe_client(kwargs, tls=tls))


def _client_from_url(url: str) -> redis.Redis:
    """A client for ``url``; anything redis-py refuses in it is an :class:`InvalidURL`.

    redis-py checks some options in ``from_url`` and the rest only when it
    builds a connection, at the first command: one connection object is built
    here (no socket is opened) so that every bad option is reported now, once.
    """
    try:
        client = redis.Redis.from_url(url, decode_responses=False, **_TIMEOUTS, **_RESP2)
        pool = client.connection_pool
        pool.connection_class = _bounded(pool.connection_class)
        pool.connection_class(**pool.connection_kwargs)
    except (ValueError, TypeError, rex.RedisError) as exc:
        unknown = _UNKNOWN_OPTION.search(str(exc)) if isinstance(exc, TypeError) else None
        why = f"unknown option {unknown[1]!r}" if unknown else \
            censor_text(str(exc)) or type(exc).__name__
        raise InvalidURL(f"{censor_url(url)!r} is not a valid Redis URL: {why}.") from exc
    return client


def describe_client(kwargs: dict[str, Any], *, tls: bool = False) -> str:
    """A URL-like label for connection kwargs, never showing the password."""
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    user = kwargs.get("username")
    auth = f"{user}:***@" if user else (":***@" if kwargs.get("password") else "")
    scheme = "rediss" if tls else "redis"
    host, port, db = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0)
    return f"{scheme}://{auth}{host}:{port}/{db}"
