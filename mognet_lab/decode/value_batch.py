"""Decode a batch of value hashes into ``values`` columns (pure, never raises).

Nearly every value Mognet writes has the same shape: ``contents`` (one small
gzip member of a JSON document), ``encoding`` ``"gzip"`` and ``content_type``
``"application/json"``. Those are decoded here with one decompression and
one JSON parse each, straight into column lists; anything else (other
fields, plain or unknown encodings, large or clipped contents, several gzip
members, documents that do not parse) goes through the exact per-value path,
:func:`~mognet_lab.decode.value.decode_value`, which gives the same cells.
"""

from __future__ import annotations

import zlib
from typing import Any, Mapping, Sequence

from ..format import EXCEPTION_INFO_TYPE
from .common import parse_json
from .gzipsize import MAX_DEFLATE_RATIO
from .value import MESSAGE_CHARS, _short, decode_value

__all__ = ["VALUE_COLUMNS", "decode_values"]

VALUE_COLUMNS = ("result_id", "encoding", "content_type", "stored_bytes", "raw_bytes",
                 "raw_bytes_source", "compression_ratio", "value_type", "is_exception",
                 "exception_name", "exception_message", "readable", "error")
_GZIP, _JSON = b'"gzip"', b'"application/json"'
_SHAPE = frozenset({b"contents", b"encoding", b"content_type"})


def decode_values(ids: Sequence[str], hashes: Sequence[Mapping[bytes, Any] | None], *,
                  decompress_cap: int, head_bytes: int) -> dict[str, list[Any]]:
    """Columns of :data:`VALUE_COLUMNS` for value hashes (``None``: not read)."""
    columns: dict[str, list[Any]] = {name: [] for name in VALUE_COLUMNS}
    appends = [columns[name].append for name in VALUE_COLUMNS]
    # Below this stored size even a maximal deflate ratio stays under the cap,
    # so one unbounded decompression call is safe.
    safe = min(decompress_cap // MAX_DEFLATE_RATIO, head_bytes)
    for result_id, fields in zip(ids, hashes):
        row = _common_value(result_id, fields, safe, head_bytes) if fields is not None else None
        if row is None:
            record = {"result_id": result_id} if fields is None else decode_value(
                result_id, fields, decompress_cap=decompress_cap, head_bytes=head_bytes)
            row = tuple(record.get(name) for name in VALUE_COLUMNS)
        for append, cell in zip(appends, row):
            append(cell)
    return columns


def _common_value(result_id: str, fields: Mapping[bytes, Any], safe: int,
                  head_bytes: int) -> tuple[Any, ...] | None:
    """The row of a value of Mognet's usual shape, or None to take the exact path."""
    if fields.keys() != _SHAPE or fields[b"encoding"] != _GZIP or \
            fields[b"content_type"] != _JSON:
        return None
    contents = fields[b"contents"]
    if type(contents) is not bytes or not contents or len(contents) > safe:
        return None
    inflater = zlib.decompressobj(wbits=31)
    try:
        document = inflater.decompress(contents)
    except zlib.error:
        return None
    if not inflater.eof or inflater.unused_data or len(document) > head_bytes:
        return None
    described = _describe(document)
    if described is None:
        return None
    stored, raw = len(contents), len(document)
    return (result_id, "gzip", "application/json", stored, raw, "decompressed", raw / stored,
            *described, True, None)


def _describe(document: bytes) -> tuple[Any, ...] | None:
    """value_type, is_exception, exception name and message of a whole document."""
    ok, parsed, _ = parse_json(document)
    if not ok or type(parsed) is not dict:  # the exact path says what is wrong
        return None
    value_type = parsed.get("value_type")
    if value_type is None or type(value_type) is not str:
        return None
    if value_type != EXCEPTION_INFO_TYPE:
        return value_type, False, None, None
    info = parsed.get("raw_value")
    if type(info) is not dict:
        return value_type, True, None, None
    return (value_type, True, _short(info.get("name")),
            _short(info.get("message"), MESSAGE_CHARS))

