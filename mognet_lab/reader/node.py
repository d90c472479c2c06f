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

from ..errors import NotReadOnly
from .translate import translate_error

__all__ = ["ALLOWED_COMMANDS", "Command", "Node"]

# The complete list of what mognet_lab may send. None of these writes, deletes,
# expires or refreshes a key.
ALLOWED_COMMANDS = frozenset({
    "SCAN", "SSCAN", "TYPE", "PTTL", "MEMORY USAGE", "OBJECT ENCODING", "HGETALL",
    "SCARD", "SMEMBERS", "HLEN", "INFO", "CONFIG GET", "CLIENT NO-TOUCH", "PING", "DBSIZE",
    # Only ever with mognet_lab's own script, which is declared no-writes: the
    # *_RO variants make the server itself refuse any write it might attempt.
    "EVALSHA_RO", "EVAL_RO",
})
_SCRIPT = resources.files(__package__).joinpath("script.lua").read_text(encoding="utf-8")
_SCRIPT_SHA = hashlib.sha1(_SCRIPT.encode()).hexdigest()
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
        self.scripting = False

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

    def run_script(self, keys: Sequence[bytes], args: Sequence[Any]) -> list[Any]:
        """Run the batch reader script (see ``script.lua``) over ``keys``."""
        tail = (len(keys), *keys, *args)
        try:
            return self._run_script(("EVALSHA_RO", _SCRIPT_SHA, *tail))
        except rex.NoScriptError:
            return self._run_script(("EVAL_RO", _SCRIPT, *tail))

    def _run_script(self, command: Command) -> list[Any]:
        _check_allowed([command])
        try:
            if not self.no_touch:
                return list(self._client.execute_command(*command))
            pipe = self._client.pipeline(transaction=False)
            pipe.execute_command("CLIENT", "NO-TOUCH", "ON")
            pipe.execute_command(*command)
            pipe.execute_command("CLIENT", "NO-TOUCH", "OFF")
            return list(pipe.execute()[1])
        except rex.NoScriptError:
            raise
        except (rex.RedisError, OSError) as exc:
            raise translate_error(exc, self.label) from exc

    def try_scripting(self, version: str | None) -> bool:
        """Use the batch script when the server has read-only scripts and allows them."""
        major = int((version or "0").split(".")[0] or 0)
        if major < 7:
            return False
        try:
            self.run_script([], ["", 1, 1, 1, 1])
        except Exception:  # noqa: BLE001 - any refusal means: use pipelines
            return False
        self.scripting = True
        return True

    def close(self) -> None:
        """Release this node's connections."""
        self._client.close()

    def __repr__(self) -> str:
        return f"Node({self.label})"
