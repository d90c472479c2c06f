"""One Redis server, read through an allow-list of read-only commands.

Every command mognet_lab sends goes through :class:`Node`. A scan fans out
over a tuple of nodes (one today; Cluster primaries or replicas later), so
nothing above this layer assumes there is a single server.
"""

from __future__ import annotations

from typing import Any, Sequence

import redis
import redis.exceptions as rex

from ..errors import NotReadOnly
from .translate import translate_error

__all__ = ["ALLOWED_COMMANDS", "Command", "Node"]

# The complete list of what mognet_lab may send. None of these writes, deletes,
# expires or refreshes a key.
ALLOWED_COMMANDS = frozenset({
    "SCAN", "SSCAN", "TYPE", "PTTL", "MEMORY USAGE", "OBJECT ENCODING", "HGETALL",
    "SCARD", "SMEMBERS", "INFO", "CONFIG GET", "CLIENT NO-TOUCH", "PING", "DBSIZE",
})
Command = Sequence[Any]


def _command_name(command: Command) -> str:
    name = str(command[0]).upper()
    if name in ("MEMORY", "OBJECT", "CONFIG", "CLIENT") and len(command) > 1:
        name = f"{name} {str(command[1]).upper()}"
    return name


def _check_allowed(commands: Sequence[Command]) -> None:
    for command in commands:
        name = _command_name(command)
        if name not in ALLOWED_COMMANDS:
            raise NotReadOnly(f"{name} is not a read-only command mognet_lab may send.")


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
        self._client = client
        self.label = label
        self.no_touch = False

    def call(self, *command: Any) -> Any:
        """Send one allowed command and return its reply."""
        _check_allowed([command])
        try:
            return self._client.execute_command(*command)
        except (rex.RedisError, OSError) as exc:
            raise translate_error(exc, self.label) from exc

    def batch(self, commands: Sequence[Command]) -> list[Any]:
        """Send ``commands`` in one round trip; per-command errors are returned, not raised."""
        _check_allowed(commands)
        pipe = self._client.pipeline(transaction=False)
        # NO-TOUCH keeps the scan from refreshing LRU/LFU access times, so the
        # scan does not change what Redis evicts next; it is per connection,
        # so it is switched on and off inside the same pipeline.
        wrap = self.no_touch
        if wrap:
            pipe.execute_command("CLIENT", "NO-TOUCH", "ON")
        for command in commands:
            pipe.execute_command(*command)
        if wrap:
            pipe.execute_command("CLIENT", "NO-TOUCH", "OFF")
        try:
            replies = pipe.execute(raise_on_error=False)
        except (rex.RedisError, OSError) as exc:
            raise translate_error(exc, self.label) from exc
        return replies[1:-1] if wrap else replies

    def close(self) -> None:
        """Release this node's connections."""
        self._client.close()

    def __repr__(self) -> str:
        return f"Node({self.label})"
