"""One Redis server, read through an allow-list of read-only commands.

Every command mognet_lab sends goes through :class:`Node`. A scan fans out
over a tuple of nodes (one today; Cluster primaries or replicas later), so
nothing above this layer assumes there is a single server.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any, Sequence

import redis
import redis.exceptions as rex

from ..errors import MognetLabError, NotReadOnly, RedisUnavailable
from ..urls import censor_text
from .translate import translate_error
from .transport import KEY, Stream, Transport, compile_segments, pack_commands, pack_key

__all__ = ["ALLOWED_COMMANDS", "KEY", "Command", "Node", "NodeStream", "Template"]

# The complete list of what mognet_lab may send. None of these writes, deletes,
# expires or refreshes a key.
ALLOWED_COMMANDS = frozenset({
    "SCAN", "SSCAN", "TYPE", "PTTL", "MEMORY USAGE", "OBJECT ENCODING", "HGETALL", "HMGET",
    "HKEYS",
    "HGET", "HLEN", "HSTRLEN", "SCARD", "SMEMBERS", "INFO", "CONFIG GET", "CLIENT NO-TOUCH",
    "PING", "DBSIZE", "CLUSTER SLOTS",
    # Lets this connection read a Redis Cluster replica's keys (it changes no data).
    "READONLY",
    # Only ever with mognet_lab's own script, which is declared no-writes: the
    # *_RO variants make the server itself refuse any write it might attempt.
    "EVALSHA_RO", "EVAL_RO",
})
_TWO_WORDS = {"MEMORY", "OBJECT", "CONFIG", "CLIENT", "CLUSTER"}
_SCRIPT_COMMANDS = {"EVALSHA_RO", "EVAL_RO"}
_SCRIPT = resources.files(__package__).joinpath("clip.lua").read_text(encoding="utf-8")
_SCRIPT_SHA = hashlib.sha1(_SCRIPT.encode()).hexdigest()
Command = Sequence[Any]


def _word(token: Any) -> str:
    return (token.decode() if isinstance(token, bytes) else str(token)).upper()


def _check_allowed(commands: Sequence[Command]) -> None:
    for first in {command[0] for command in commands}:
        word = _word(first)
        family = [c for c in commands if c[0] == first]
        names = {f"{word} {_word(c[1])}" if len(c) > 1 else word for c in family} \
            if word in _TWO_WORDS else {word}
        for name in names:
            if name not in ALLOWED_COMMANDS:
                raise NotReadOnly(f"{name} is not a read-only command mognet_lab may send.")
        if word in _SCRIPT_COMMANDS:
            _check_own_script(word, family)


def _check_own_script(word: str, commands: Sequence[Command]) -> None:
    """Read-only scripts are allowed only if they are mognet_lab's own."""
    expected = _SCRIPT_SHA if word == "EVALSHA_RO" else _SCRIPT
    for command in commands:
        given = command[1] if len(command) > 1 else None
        text = given.decode() if isinstance(given, bytes) else given
        if text != expected:
            raise NotReadOnly(f"{word} may only run mognet_lab's own read-only script.")


def _version_at_least(version: str | None, wanted: tuple[int, int]) -> bool:
    try:
        major, minor = (int(part) for part in (version or "").split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= wanted


class Template:
    """Commands about one key (:data:`KEY` marks where it goes), checked and packed once.

    A scan sends the same few commands for hundreds of thousands of keys;
    checking them against the allow-list and packing them ahead of time
    leaves one join per key.
    """

    def __init__(self, *commands: Command) -> None:
        _check_allowed(commands)
        self.commands = commands
        self.count = len(commands)
        self._segments = compile_segments(commands)

    def pack(self, key: bytes) -> bytes:
        return pack_key(key).join(self._segments)

    def __repr__(self) -> str:
        return f"Template({self.commands!r})"


def _read_from_replica(connection: Any) -> None:
    """Connect as usual, then allow reads on this Cluster replica connection."""
    connection.on_connect()
    _check_allowed([(b"READONLY",)])
    connection.send_command("READONLY")
    if connection.read_response() not in (b"OK", "OK"):
        raise rex.ResponseError("READONLY was refused")


_NO_TOUCH_ON = pack_commands([(b"CLIENT", b"NO-TOUCH", b"ON")])
_NO_TOUCH_OFF = pack_commands([(b"CLIENT", b"NO-TOUCH", b"OFF")])


class Node:
    """A Redis server seen through a private, binary-safe client.

    Parameters
    ----------
    client
        A client mognet_lab owns (responses not decoded, RESP2).
    label
        Where the node is, with any password censored; used in messages.
    """

    def __init__(self, client: redis.Redis, *, label: str) -> None:
        self.cluster = False  # a Redis Cluster node: a script may touch one slot only
        self._client = client
        self._transport = Transport(client)
        self.label = label
        self.no_touch = False
        self.scripting = False
        self.configured = False

    def call(self, *command: Any) -> Any:
        """Send one allowed command and return its (redis-py parsed) reply."""
        _check_allowed([command])
        try:
            return self._client.execute_command(*command)
        except (rex.RedisError, OSError) as exc:
            raise translate_error(exc, self.label) from exc

    def batch(self, commands: Sequence[Command]) -> list[Any]:
        """Send ``commands`` in one round trip; per-command errors are returned, not raised."""
        if not commands:
            return []
        _check_allowed(commands)
        # NO-TOUCH keeps the scan from refreshing LRU/LFU access times, so the
        # scan does not change what Redis evicts next; it is per connection,
        # so it is switched on and off around each batch on the same one.
        if self.no_touch:
            commands = [(b"CLIENT", b"NO-TOUCH", b"ON"), *commands,
                        (b"CLIENT", b"NO-TOUCH", b"OFF")]
        try:
            replies = self._transport.run(commands)
        except (rex.RedisError, OSError) as exc:
            raise translate_error(exc, self.label) from exc
        return replies[1:-1] if self.no_touch else replies

    def batch_keyed(self, pairs: Sequence[tuple[Template, bytes]]) -> list[Any]:
        """Run each template on its key, all in one round trip; replies in order."""
        if not pairs:
            return []
        payload = b"".join([template.pack(key) for template, key in pairs])
        return self._run_packed(payload, sum(template.count for template, _ in pairs))

    def batch_grouped(self, groups: Sequence[tuple[Template, Sequence[bytes]]]) -> list[Any]:
        """Run each template on each of its keys, all in one round trip; replies in order."""
        payload = b"".join([b"".join([template.pack(key) for key in keys])
                            for template, keys in groups])
        return self._run_packed(payload, sum(t.count * len(keys) for t, keys in groups))

    def _run_packed(self, payload: bytes, count: int) -> list[Any]:
        if not count:
            return []
        if self.no_touch:
            # See batch(): NO-TOUCH on and off around the batch, on one connection.
            payload, count = _NO_TOUCH_ON + payload + _NO_TOUCH_OFF, count + 2
        try:
            replies = self._transport.run_packed(payload, count)
        except (rex.RedisError, OSError) as exc:
            raise translate_error(exc, self.label) from exc
        return replies[1:-1] if self.no_touch else replies

    def clip_contents(self, keys: Sequence[bytes], head_bytes: int) -> list[Any]:
        """``[size, head, last 4 bytes]`` of each value's contents (the clip.lua script)."""
        if self.cluster and len(keys) > 1:
            # Keys of one call must share a hash slot on a cluster node (CROSSSLOT).
            return [reply for key in keys for reply in self.clip_contents([key], head_bytes)]
        args = (len(keys), *keys, head_bytes)
        replies = self.batch([(b"EVALSHA_RO", _SCRIPT_SHA, *args)])
        if isinstance(replies[0], rex.ResponseError) and str(replies[0]).startswith("NOSCRIPT"):
            replies = self.batch([(b"EVAL_RO", _SCRIPT, *args)])
        if isinstance(replies[0], Exception):
            raise translate_error(replies[0], self.label)
        return list(replies[0])

    def configure(self, version: str | None) -> None:
        """Use what this server offers: CLIENT NO-TOUCH (Redis 7.2+), read-only scripts (7.0+)."""
        self.no_touch = _version_at_least(version, (7, 2))
        self.try_scripting(version)
        self.configured = True

    def ensure_configured(self) -> None:
        """:meth:`configure` from INFO server, once (a refused INFO leaves the safe defaults)."""
        if self.configured:
            return
        try:
            info = self.call("INFO", "server")
        except MognetLabError:
            info = {}
        version = info.get("redis_version") if isinstance(info, dict) else None
        self.configure(version.decode() if isinstance(version, bytes) else version)

    def try_scripting(self, version: str | None) -> bool:
        """Use the clipping script when the server has read-only scripts and allows them."""
        if not _version_at_least(version, (7, 0)):
            return False
        try:
            self.clip_contents([], 1)
        except Exception:  # noqa: BLE001 - any refusal means: fetch values whole
            return False
        self.scripting = True
        return True

    def sibling(self, host: str, port: int, *, replica: bool = False,
                cluster: bool = False) -> Node:
        """A node for another server reached with this one's options (user, password, TLS).

        ``replica`` and ``cluster``: a Redis Cluster replica, whose connections
        each say ``READONLY`` first (else it redirects every key to its primary).
        """
        pool = self._client.connection_pool
        kwargs = {**pool.connection_kwargs, "host": host, "port": port}
        if replica and cluster:
            kwargs["redis_connect_func"] = _read_from_replica
        client = redis.Redis(connection_pool=redis.ConnectionPool(
            connection_class=pool.connection_class, **kwargs))
        label = self.label
        head, _, rest = label.partition("://")
        auth = rest.rpartition("@")[0]
        where = f"{host}:{port}"
        db = kwargs.get("db", 0)
        label = f"{head}://{auth + '@' if auth else ''}{where}/{db}" if rest else where
        node = Node(client, label=f"{label} (replica)" if replica else label)
        node.cluster = cluster
        return node

    @property
    def address(self) -> tuple[str, int] | None:
        """``(host, port)`` this node connects to (None for a unix socket)."""
        kwargs = self._client.connection_pool.connection_kwargs
        if kwargs.get("path"):
            return None
        return str(kwargs.get("host", "localhost")), int(kwargs.get("port", 6379))

    @property
    def db(self) -> int:
        """The database number this node selects (its line in ``INFO keyspace``)."""
        return int(self._client.connection_pool.connection_kwargs.get("db", 0) or 0)

    def stream(self) -> NodeStream:
        """A connection of its own for a pipelined walk (see :class:`NodeStream`)."""
        try:
            return NodeStream(self, Stream(self._client))
        except (rex.RedisError, OSError) as exc:
            raise translate_error(exc, self.label) from exc

    def close(self) -> None:
        """Release this node's connections."""
        self._client.close()

    def __repr__(self) -> str:
        return f"Node({self.label})"


class NodeStream:
    """Allowed commands written ahead of their replies on one connection of a node.

    ``CLIENT NO-TOUCH`` (where the server has it) is switched on once for the
    whole walk; the connection goes back to the pool only with it off again.
    """

    def __init__(self, node: Node, stream: Stream) -> None:
        self.label, self._stream, self._no_touch = node.label, stream, node.no_touch
        if self._no_touch:
            self.send_commands([(b"CLIENT", b"NO-TOUCH", b"ON")])
            self.read(1)

    def send_grouped(self, groups: Sequence[tuple[Template, Sequence[bytes]]]) -> int:
        """Each template on each of its keys; returns how many replies will come."""
        payload = b"".join([b"".join([template.pack(key) for key in keys])
                            for template, keys in groups])
        return self._send(payload, sum(t.count * len(keys) for t, keys in groups))

    def send_keyed(self, pairs: Sequence[tuple[Template, bytes]]) -> int:
        payload = b"".join([template.pack(key) for template, key in pairs])
        return self._send(payload, sum(template.count for template, _ in pairs))

    def send_commands(self, commands: Sequence[Command]) -> int:
        _check_allowed(commands)
        return self._send(pack_commands(commands), len(commands))

    def _send(self, payload: bytes, count: int) -> int:
        if count:
            try:
                self._stream.send(payload, count)
            except (rex.RedisError, OSError) as exc:
                raise self._lost(exc) from exc
        return count

    def read(self, count: int) -> list[Any]:
        if not count:
            return []
        try:
            return self._stream.read(count)
        except (rex.RedisError, OSError) as exc:
            raise self._lost(exc) from exc

    def _lost(self, exc: BaseException) -> MognetLabError:
        error = translate_error(exc, self.label)
        if not isinstance(error, RedisUnavailable):
            return error
        # Never carried on over a new connection: that may be another server process.
        return RedisUnavailable(
            f"Lost the connection to Redis at {self.label} during the scan "
            f"({censor_text(str(exc)) or type(exc).__name__}): the server stopped, restarted "
            "or stalled, so no snapshot is made from part of its keys. Scan again once it "
            "answers.")

    def close(self) -> None:
        if self._no_touch and not self._stream.unread:
            try:
                self.send_commands([(b"CLIENT", b"NO-TOUCH", b"OFF")])
                self.read(1)
            except MognetLabError:
                pass  # the connection is closed on the way out anyway
        self._stream.close()
