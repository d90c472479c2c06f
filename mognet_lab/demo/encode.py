"""Pure encoders for the bytes Mognet 2.0.0 stores in Redis.

The demo writer builds a keyspace without importing ``mognet``, so this module
reproduces, byte for byte, what Mognet's Redis backend writes (see
``/work/shared/mognet-redis-format.md``): JSON-text hash fields, the compact
JSON of a value holder (gzip or plain), exception records with a base64
pickle, and 16-byte children members. Nothing here talks to Redis.
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import json.encoder
import pickle
import struct
import zlib
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence
from uuid import UUID

from ..keys import KIND_RESULT
from ..keys import result_key as _result_key
from ..keys import state_key as _state_key

__all__ = [
    "EXCEPTION_INFO_TYPE",
    "NOT_READY_NAME",
    "ResultRecord",
    "GzipEncoder",
    "children_members",
    "exception_info",
    "format_traceback",
    "holder_json",
    "iso_utc",
    "json_hash",
    "not_ready_info",
    "pickle_exception",
    "standard_dumps",
    "result_hash",
    "result_key",
    "state_key",
    "value_hash",
]

EXCEPTION_INFO_TYPE = "mognet.model.result:_ExceptionInfo"
NOT_READY_NAME = "mognet.exceptions.result_exceptions:ResultNotReady"
_PICKLE_ENCODING = "application/python-pickle"
_GZIP = json.dumps("gzip").encode()
_PLAIN = json.dumps(None).encode()
_JSON_CONTENT = json.dumps("application/json").encode()
# The string encoder json.dumps itself uses (ASCII-escaped, quoted).
_quote = json.encoder.encode_basestring_ascii


@dataclass(frozen=True)
class ResultRecord:
    """The fields of a Mognet result hash, in the order Mognet writes them."""

    id: UUID
    name: str | None
    state: str
    number_of_starts: int
    number_of_stops: int
    parent_id: UUID | None
    created: datetime | None
    started: datetime | None
    finished: datetime | None
    node_id: str | None
    request_kwargs_repr: str | None


def result_key(app: str, result_id: UUID, sub: str | None = None) -> str:
    """``{app}.mognet.result.{uuid}`` or one of its ``/value`` ... sub-keys."""
    return _result_key(app, result_id, sub or KIND_RESULT)


def state_key(app: str, request_id: UUID) -> str:
    """``{app}.mognet.state.{request_id}``."""
    return _state_key(app, request_id)


def iso_utc(moment: datetime | None) -> str | None:
    """A UTC datetime as pydantic v2 serialises it: ``Z`` suffix, no fraction at .000000."""
    if moment is None:
        return None
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    # isoformat() already drops the fraction when microsecond == 0, like pydantic.
    return moment.isoformat()[:-6] + "Z"  # "+00:00" -> "Z"


def _json_text(value: object) -> bytes:
    # json.dumps(value).encode() for the types a result holds, without json.dumps'
    # per-call overhead (eleven fields times hundreds of thousands of results).
    if value is None:
        return b"null"
    if isinstance(value, str):
        return _quote(value).encode()
    if type(value) is int:
        return str(value).encode()
    if isinstance(value, UUID):
        return b'"%s"' % str(value).encode()
    if isinstance(value, datetime):
        return b'"%s"' % iso_utc(value).encode()  # type: ignore[union-attr]
    return json.dumps(value).encode()


_RESULT_FIELDS = tuple(f.name for f in fields(ResultRecord))


def result_hash(record: ResultRecord) -> dict[str, bytes]:
    """Field -> JSON text, exactly as Mognet's ``RedisResultBackend.set`` writes a result."""
    # Not dataclasses.astuple: it deep-copies every field.
    return {name: _json_text(getattr(record, name)) for name in _RESULT_FIELDS}


def json_hash(mapping: Mapping[str, Any]) -> dict[str, bytes]:
    """Field -> JSON text, as Mognet writes metadata and state hashes."""
    return {key: json.dumps(value).encode() for key, value in mapping.items()}


def children_members(ids: Iterable[UUID]) -> list[bytes]:
    """Children set members: the 16 raw bytes of each UUID (not its text)."""
    return [child.bytes for child in ids]


def holder_json(value_type: str, raw_value: Any) -> bytes:
    """Compact JSON of a value holder, as pydantic's ``model_dump_json()`` writes it.

    pydantic writes raw UTF-8 and no spaces, like this. It writes floats
    below 1e-4 differently (``0.00001`` and ``1e-7`` where json writes
    ``1e-05`` and ``1e-07``), so callers keep such floats out of values.
    """
    holder = {"value_type": value_type, "raw_value": raw_value}
    return json.dumps(holder, separators=(",", ":"), ensure_ascii=False).encode()


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x01\x00\x00\x00\x02\xff"  # gzip.compress(level 9, mtime=1)
_MIN_LOOKAHEAD = 262  # zlib's MIN_LOOKAHEAD: window bytes deflate keeps out of match reach


def _gzip(contents: bytes) -> bytes:
    """Same bytes as ``gzip.compress(contents, mtime=1)``, faster for small contents.

    While the input fits in deflate's reachable window, zlib's output does not
    depend on the window size, and a small window is several times cheaper
    to set up than the default 32 KiB one.
    """
    wbits = min(15, max(9, (len(contents) + _MIN_LOOKAHEAD - 1).bit_length()))
    deflater = zlib.compressobj(9, zlib.DEFLATED, -wbits, 8)
    body = deflater.compress(contents) + deflater.flush()
    trailer = struct.pack("<II", zlib.crc32(contents), len(contents) & 0xFFFFFFFF)
    return _GZIP_HEADER + body + trailer


class GzipEncoder:
    """``gzip.compress`` with the header timestamp of the write, caching deflate work.

    Mognet calls ``gzip.compress(contents)``, whose header holds the write time.
    Deflating costs far more than the header, and many contents repeat
    (placeholders, small ints, shared payloads), so the stream is compressed
    once per distinct contents and only the 4 mtime bytes are patched.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._cache: dict[bytes, bytes] = {}
        self._max_entries = max_entries

    def compress(self, contents: bytes, mtime: int) -> bytes:
        stream = self._cache.get(contents)
        if stream is None:
            stream = _gzip(contents)
            if len(self._cache) >= self._max_entries:
                # Most entries are one-off values; starting afresh keeps the shared ones hot.
                self._cache.clear()
            self._cache[contents] = stream
        return stream[:4] + struct.pack("<I", mtime) + stream[8:]


def value_hash(contents: bytes, *, mtime: int, encoder: GzipEncoder | None) -> dict[str, bytes]:
    """The ``/value`` hash fields; ``encoder=None`` stores ``contents`` uncompressed."""
    if encoder is None:
        return {"contents": contents, "encoding": _PLAIN, "content_type": _JSON_CONTENT}
    return {
        "contents": encoder.compress(contents, mtime),
        "encoding": _GZIP,
        "content_type": _JSON_CONTENT,
    }


# The pure-Python pickler: the C one offers no hook to name a class without importing it.
_PurePickler: Any = pickle._Pickler


class _StandardPickler(pickle.Pickler):
    """The C pickler with the standard reducers only.

    A library imported beside mognet_lab may register reducers for every exception
    class process-wide (tblib, which dask and distributed install, does); Mognet's
    workers store what the standard reducers give.
    """

    dispatch_table: dict[Any, Any] = {}


def standard_dumps(obj: Any) -> bytes:
    """``pickle.dumps(obj)`` with the standard reducers, whatever ``copyreg`` holds."""
    buffer = io.BytesIO()
    _StandardPickler(buffer, pickle.DEFAULT_PROTOCOL).dump(obj)
    return buffer.getvalue()


class _NamedClassPickler(_PurePickler):  # type: ignore[misc]
    """Pickles classes by their ``__module__``/``__qualname__`` without importing them.

    The stock pickler checks that a class is importable; mognet_lab writes
    exceptions of modules it must not import (Mognet's, the demo app's), and
    the bytes are only ever stored, never loaded.
    """

    dispatch_table: dict[Any, Any] = {}  # the standard reducers (see _StandardPickler)

    def save_global(self, obj: Any, name: str | None = None) -> None:
        if not getattr(obj, "_mognet_lab_stand_in", False):
            super().save_global(obj, name)
            return
        self.save(obj.__module__)
        self.save(name or obj.__qualname__)
        self.write(pickle.STACK_GLOBAL)
        self.memoize(obj)


def pickle_exception(
    name: str, args: Sequence[Any] = (), attrs: Mapping[str, Any] | None = None
) -> bytes:
    """The pickle Mognet stores for an exception ``module:qualname(*args)`` with ``attrs``.

    Same bytes as ``pickle.dumps(exc)`` on the real class, for exceptions whose
    state is their args plus plain instance attributes.
    """
    module, _, qualname = name.partition(":")
    builtin = getattr(builtins, qualname, None) if module == "builtins" else None
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        # The real class is at hand, and the C pickler is far faster.
        return standard_dumps(_with_attrs(builtin(*args), attrs))
    stand_in = type(qualname.rpartition(".")[2], (Exception,), {
        "__module__": module, "__qualname__": qualname, "_mognet_lab_stand_in": True})
    buffer = io.BytesIO()
    _NamedClassPickler(buffer, pickle.DEFAULT_PROTOCOL).dump(_with_attrs(stand_in(*args), attrs))
    return buffer.getvalue()


def _with_attrs(exc: BaseException, attrs: Mapping[str, Any] | None) -> BaseException:
    if attrs:
        # Only when needed: touching __dict__ creates it, and the pickle then
        # carries an empty state that the real exception would not have.
        exc.__dict__.update(attrs)
    return exc


def format_traceback(chunks: Sequence[str]) -> str:
    """Join ``traceback.format_exception`` chunks the way Mognet does.

    Mognet joins chunks that already end in a newline with ``"\\n"``, so its
    tracebacks have a blank line between frames.
    """
    return "\n".join(chunks)


def exception_info(name: str, message: str, traceback: str, raw_pickle: bytes) -> dict[str, str]:
    """The ``raw_value`` of a failure: Mognet's ``_ExceptionInfo`` fields, in order."""
    return {
        "name": name,
        "message": message,
        "traceback": traceback,
        "raw_data": base64.b64encode(raw_pickle).decode(),
        "raw_data_encoding": _PICKLE_ENCODING,
    }


def not_ready_info() -> dict[str, str]:
    """The placeholder value Mognet writes before a result has its final value."""
    # A ResultNotReady that was created, never raised: no frames in its traceback.
    plain_name = NOT_READY_NAME.replace(":", ".")
    return exception_info(NOT_READY_NAME, "", format_traceback([plain_name + "\n"]),
                          pickle_exception(NOT_READY_NAME))
