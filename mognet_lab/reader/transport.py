"""Send a batch of commands in one write; read the replies in bulk.

redis-py's pipeline costs several microseconds of Python per command; a
scan sends millions. This layer packs RESP itself and parses replies with
hiredis straight from the connection's socket (falling back to redis-py's
own parser when hiredis or the socket is unavailable). Connections still
come from, and go back to, redis-py's pool, which handles AUTH, TLS and
timeouts.
"""

from __future__ import annotations

from typing import Any, Sequence

import redis
import redis.exceptions as rex

try:
    import hiredis
except ImportError:  # pragma: no cover - redis-py's parser is the fallback
    hiredis = None  # type: ignore[assignment]

__all__ = ["KEY", "pack_commands", "pack_key", "compile_segments", "Transport", "Stream"]

# Stands for "the key" in a command template (see compile_segments).
KEY = object()

_READ_SIZE = 1 << 17


_SHORT = 24  # command names, field names, numbers: worth remembering packed
_packed_tokens: dict[Any, bytes] = {}
_ARRAY_HEADERS = [b"*%d\r\n" % n for n in range(32)]


def _pack_new(value: Any) -> bytes:
    arg = value if isinstance(value, bytes) else \
        value.encode() if isinstance(value, str) else b"%d" % value
    packed = b"$%d\r\n%s\r\n" % (len(arg), arg)
    if len(arg) <= _SHORT and len(_packed_tokens) < 4096:
        _packed_tokens[value] = packed
    return packed


def pack_commands(commands: Sequence[Sequence[Any]]) -> bytes:
    """RESP encoding of ``commands`` (each a sequence of bytes, str or int)."""
    parts: list[bytes] = []
    append, known = parts.append, _packed_tokens
    for command in commands:
        size = len(command)
        append(_ARRAY_HEADERS[size] if size < 32 else b"*%d\r\n" % size)
        for value in command:
            append(known.get(value) or _pack_new(value))
    return b"".join(parts)


def pack_key(key: bytes) -> bytes:
    """RESP bulk string of one key."""
    return b"$%d\r\n%s\r\n" % (len(key), key)


def compile_segments(commands: Sequence[Sequence[Any]]) -> list[bytes]:
    """RESP of ``commands`` split at every :data:`KEY`, so that
    ``pack_key(key).join(segments)`` packs them for one key in a single call."""
    segments: list[bytes] = []
    current: list[bytes] = []
    for command in commands:
        current.append(b"*%d\r\n" % len(command))
        for value in command:
            if value is KEY:
                segments.append(b"".join(current))
                current = []
            else:
                current.append(_pack_new(value))
    segments.append(b"".join(current))
    return segments


class Transport:
    """Batches of raw commands over connections of ``client``'s pool."""

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool

    def run(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Replies to ``commands`` in order; error replies are ResponseError objects."""
        return self.run_packed(pack_commands(commands), len(commands)) if commands else []

    def run_packed(self, payload: bytes, count: int) -> list[Any]:
        """Send ``count`` commands already packed as RESP; read their ``count`` replies."""
        connection = self._pool.get_connection("MOGNET_LAB_BATCH")
        try:
            connection.send_packed_command([payload])
            replies = self._read(connection, count)
        except BaseException:
            # A half-read connection must not go back to the pool in use.
            connection.disconnect()
            raise
        finally:
            self._pool.release(connection)
        return replies

    @staticmethod
    def _read(connection: Any, count: int) -> list[Any]:
        sock = getattr(connection, "_sock", None)
        if hiredis is None or sock is None:
            return [_read_one(connection) for _ in range(count)]
        return _read_replies(hiredis.Reader(replyError=rex.ResponseError), sock, count)


def _read_replies(reader: Any, sock: Any, count: int) -> list[Any]:
    """The next ``count`` replies, parsed by hiredis from ``sock``."""
    replies: list[Any] = []
    gets, append, recv = reader.gets, replies.append, sock.recv
    while len(replies) < count:
        reply = gets()
        if reply is False:
            data = recv(_READ_SIZE)
            if not data:
                raise rex.ConnectionError("Connection closed by server.")
            reader.feed(data)
            continue
        append(reply)
    return replies


def _read_one(connection: Any) -> Any:
    try:
        return connection.read_response()
    except rex.ResponseError as error:
        return error


class Stream:
    """One connection taken from ``client``'s pool for a whole walk.

    Requests are written ahead of their replies and the replies read back in
    order, so the server works on the next request while the caller decodes
    the last one. It never reconnects: a connection lost mid-walk is an error,
    not a silent switch to another server process. Replies stay in one parser
    across reads, since a read may receive the start of the next request's.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._connection = self._pool.get_connection("MOGNET_LAB_STREAM")
        self._connection.connect()
        self._sock = getattr(self._connection, "_sock", None)
        self._reader = hiredis.Reader(replyError=rex.ResponseError) \
            if hiredis is not None and self._sock is not None else None
        self.unread = 0  # replies requested and not yet read

    def send(self, payload: bytes, count: int) -> None:
        """Write ``count`` packed commands; their replies are read later, in order."""
        try:
            if self._sock is not None:
                self._sock.sendall(payload)
            else:
                self._connection.send_packed_command([payload])
        except BaseException:
            self.close(broken=True)
            raise
        self.unread += count

    def read(self, count: int) -> list[Any]:
        """The next ``count`` replies (error replies as ResponseError objects)."""
        try:
            replies = self._read(count)
        except BaseException:
            self.close(broken=True)
            raise
        self.unread -= count
        return replies

    def _read(self, count: int) -> list[Any]:
        if self._reader is None:
            return [_read_one(self._connection) for _ in range(count)]
        return _read_replies(self._reader, self._sock, count)

    def close(self, *, broken: bool = False) -> None:
        """Give the connection back; one with replies still unread is closed instead."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if broken or self.unread:
            connection.disconnect()
        self._pool.release(connection)
