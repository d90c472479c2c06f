"""Mognet's key grammar: which kind of key a name is, and SCAN patterns.

Pure functions over key names (bytes or str); nothing here talks to Redis.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, NamedTuple

__all__ = [
    "KIND_RESULT",
    "KIND_VALUE",
    "KIND_CHILDREN",
    "KIND_METADATA",
    "KIND_STATE",
    "KIND_UNKNOWN",
    "KEY_KINDS",
    "ParsedKey",
    "app_prefix",
    "app_scan_pattern",
    "glob_escape",
    "group_by_kind",
    "parse_key",
    "result_key",
    "split_app",
    "state_key",
    "MOGNET_SCAN_PATTERN",
]

KIND_RESULT = "result"
KIND_VALUE = "value"
KIND_CHILDREN = "children"
KIND_METADATA = "metadata"
KIND_STATE = "state"
KIND_UNKNOWN = "unknown"
KEY_KINDS = (KIND_RESULT, KIND_VALUE, KIND_CHILDREN, KIND_METADATA, KIND_STATE, KIND_UNKNOWN)

# Mognet writes str(uuid.UUID): canonical, lowercase, 36 characters.
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_REST = re.compile(
    rf"^(?:result\.(?P<rid>{_UUID})(?:/(?P<sub>value|children|metadata))?"
    rf"|state\.(?P<sid>.+))\Z",
    re.DOTALL,
)
# Used to find apps: the app is everything before the *last* ".mognet.result."
# or ".mognet.state." so that app names containing ".mognet." still split right.
_ANY_APP = re.compile(
    rf"^(?P<app>.*)\.mognet\.(?P<rest>result\.{_UUID}(?:/(?:value|children|metadata))?"
    rf"|state\..+)\Z",
    re.DOTALL,
)
MOGNET_SCAN_PATTERN = "*.mognet.*"
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


class ParsedKey(NamedTuple):
    """What a key under an app's prefix is."""

    kind: str
    # The result UUID for result-family keys, the request id for state keys.
    owner_id: str | None


def glob_escape(text: str) -> str:
    """Escape SCAN MATCH glob characters so ``text`` matches only itself."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


def app_prefix(app: str) -> str:
    """The prefix every key of ``app`` starts with."""
    return f"{app}.mognet."


def result_key(app: str, result_id: object, kind: str = KIND_RESULT) -> str:
    """``{app}.mognet.result.{id}``, or its ``/value``, ``/children``, ``/metadata`` key.

    The one place key names are built (``kind`` is a ``KIND_*`` of the family).
    """
    key = f"{app_prefix(app)}result.{result_id}"
    return key if kind == KIND_RESULT else f"{key}/{kind}"


def state_key(app: str, request_id: object) -> str:
    """``{app}.mognet.state.{request_id}``: a task's state hash."""
    return f"{app_prefix(app)}state.{request_id}"


def app_scan_pattern(app: str) -> str:
    """SCAN MATCH pattern for exactly this app's keys (``demo`` never matches ``demo2``)."""
    return glob_escape(app_prefix(app)) + "*"


def _text(key: bytes | str) -> str:
    # Bytes that are not UTF-8 become visible escapes (\xff), never surrogates,
    # so ids taken from key names are printable and storable.
    return key.decode("utf-8", "backslashreplace") if isinstance(key, bytes) else key


_UNKNOWN = ParsedKey(KIND_UNKNOWN, None)
# The same grammar over raw key bytes: a scan parses every key, so it avoids
# decoding them first (result ids are ASCII by construction).
# (without "^": match() at a position anchors there, "^" only at the start).
_REST_BYTES = re.compile(_REST.pattern.lstrip("^").encode(), re.DOTALL)
_SUBKINDS = {None: KIND_RESULT, b"value": KIND_VALUE, b"children": KIND_CHILDREN,
             b"metadata": KIND_METADATA}


def parse_key(app: str, key: bytes | str) -> ParsedKey:
    """Classify a key of ``app``; anything outside Mognet's grammar is ``unknown``."""
    if isinstance(key, bytes):
        return _parse_bytes(_prefix_bytes(app), key)
    prefix = app_prefix(app)
    if not key.startswith(prefix):
        return _UNKNOWN
    match = _REST.match(key[len(prefix):])
    if match is None:
        return _UNKNOWN
    if match["sid"] is not None:
        return ParsedKey(KIND_STATE, match["sid"])
    return ParsedKey(match["sub"] or KIND_RESULT, match["rid"])


@lru_cache(maxsize=64)
def _prefix_bytes(app: str) -> bytes:
    return app_prefix(app).encode("utf-8", "surrogateescape")


def _parse_bytes(prefix: bytes, key: bytes) -> ParsedKey:
    if not key.startswith(prefix):
        return _UNKNOWN
    match = _REST_BYTES.match(key, len(prefix))
    if match is None:
        return _UNKNOWN
    state_id = match["sid"]
    if state_id is not None:
        return ParsedKey(KIND_STATE, _text(state_id))
    return ParsedKey(_SUBKINDS[match["sub"]], match["rid"].decode("ascii"))


def group_by_kind(app: str, keys: Iterable[bytes]) -> dict[str, tuple[list[bytes], list[str | None]]]:
    """Keys of ``app`` grouped by kind: ``{kind: (keys, owner ids)}``, as :func:`parse_key`
    classifies them (a scan groups every batch: no object per key)."""
    prefix = _prefix_bytes(app)
    start, match = len(prefix), _REST_BYTES.match
    groups: dict[str, tuple[list[bytes], list[str | None]]] = {}
    for key in keys:
        found = match(key, start) if key.startswith(prefix) else None
        if found is None:
            kind, owner = KIND_UNKNOWN, None
        else:
            result_id, sub, state_id = found.groups()
            if state_id is not None:
                kind, owner = KIND_STATE, _text(state_id)
            else:
                kind, owner = _SUBKINDS[sub], result_id.decode("ascii")
        group = groups.get(kind)
        if group is None:
            group = groups[kind] = ([], [])
        group[0].append(key)
        group[1].append(owner)
    return groups


def split_app(key: bytes | str) -> tuple[str, str] | None:
    """``(app, kind)`` of a key containing ``.mognet.``, else ``None``.

    Keys outside Mognet's grammar count as ``unknown`` keys of the app named
    before their first ``.mognet.``.
    """
    text = _text(key)
    match = _ANY_APP.match(text)
    if match is not None:
        app = match["app"]
        return app, parse_key(app, text).kind
    app, found, _rest = text.partition(".mognet.")
    return (app, KIND_UNKNOWN) if found and app else None
