"""Fuzzing the pure decoders: arbitrary bytes and hostile JSON never raise.

Hypothesis feeds every decoder in ``mognet_lab.decode`` (and the value view's
pure decoder) random bytes, random gzip streams and structured hostile JSON:
nesting far past any recursion limit, numbers too long to convert, broken
escapes. Each must return a record, with an ``error`` where the input was bad.
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mognet_lab.decode import ResultDecoder, decode_children, decode_json_hash, decode_value
from mognet_lab.decode.common import MAX_JSON_DEPTH, Problems, json_text_field, parse_json, \
    parse_utc
from mognet_lab.decode.gzipsize import measure_gzip
from mognet_lab.display.value import decode_stored_value
from mognet_lab.format import RESULT_FIELDS
from mognet_lab.raw import Clipped

# MOGNET_LAB_FUZZ_EXAMPLES=5000 for a longer hunt than the suite's.
FUZZ = settings(max_examples=int(os.environ.get("MOGNET_LAB_FUZZ_EXAMPLES", "150")),
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _nest(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"1" + b"]" * depth
    if kind == "dict":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'[{"a":' * depth + b"1" + b"}]" * depth


# Documents that break naive decoders: deep nesting (past the recursion limit
# too), unclosed nesting, 5,000-digit numbers, lone surrogates, broken escapes.
HOSTILE_JSON = st.one_of(
    st.builds(_nest, st.integers(MAX_JSON_DEPTH - 2, 60_000),
              st.sampled_from(["list", "dict", "mixed"])),
    st.integers(1, 60_000).map(lambda n: b"[" * n),
    st.integers(4_000, 6_000).map(lambda n: b"1" * n),
    st.sampled_from([b'"\\ud800"', b'"\\u12"', b'"\\', b"NaN", b"-Infinity", b"1e999",
                     b'{"a":1,"a":2}', b"\xff\xfe", b"\x00", b"", b'"' + b"\\" * 9 + b'"']),
)
RAW = st.one_of(st.binary(max_size=300), HOSTILE_JSON)
# A recursion-proof JSON strategy of ordinary shape, to mix into hostile ones.
PLAIN_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
).map(lambda value: json.dumps(value).encode())
FIELD = st.one_of(RAW, PLAIN_JSON)


def _gzip_member(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


CONTENTS = st.one_of(
    st.binary(max_size=400),
    FIELD.map(_gzip_member),
    st.builds(lambda v, t: _gzip_member(b'{"value_type":"builtins:dict","raw_value":' + v
                                        + b"}")[:t],
              FIELD, st.integers(0, 10_000)),
    st.builds(lambda a, b: _gzip_member(a) + b, FIELD, st.binary(max_size=40)),
)


@FUZZ
@given(FIELD)
def test_parse_json_never_raises(raw: bytes) -> None:
    ok, value, why = parse_json(raw)
    assert ok == (why is None)
    if ok:
        json.dumps(value)  # whatever it accepted, later steps can serialise


def test_parse_json_says_why() -> None:
    assert parse_json(b"1" * 5000) == (False, None, "a number too long to read")
    assert parse_json(b'"\xff"') == (False, None, "not valid UTF-8")
    assert parse_json("{") == (False, None, "not JSON")
    assert parse_json(_nest(MAX_JSON_DEPTH, "list"))[0]  # 100 levels of lists: read
    assert not parse_json(_nest(MAX_JSON_DEPTH + 1, "list"))[0]


@FUZZ
@given(st.builds(_nest, st.integers(MAX_JSON_DEPTH + 1, 60_000),
                 st.sampled_from(["list", "dict", "mixed"])))
def test_too_deep_json_is_refused_with_a_reason(raw: bytes) -> None:
    assert parse_json(raw) == (False, None, f"nested more than {MAX_JSON_DEPTH} levels deep")


@FUZZ
@given(st.dictionaries(st.binary(max_size=20), FIELD, max_size=5))
def test_decode_json_hash(fields: dict[bytes, bytes]) -> None:
    decoded, error = decode_json_hash(fields)
    assert len(decoded) <= len(fields)
    json.dumps(decoded, default=str)


@FUZZ
@given(st.lists(st.one_of(st.none(), FIELD), min_size=len(RESULT_FIELDS),
                max_size=len(RESULT_FIELDS)),
       st.dictionaries(st.binary(max_size=12), FIELD, max_size=3))
def test_result_decoder(row: list[bytes | None], extra: dict[bytes, bytes]) -> None:
    decoder = ResultDecoder()
    columns = decoder.decode_rows(["r"], [row])
    assert columns["result_id"] == ["r"]
    mapping = {name.encode(): raw for name, raw in zip(RESULT_FIELDS, row) if raw is not None}
    record = decoder.decode_mapping("r", {**mapping, **extra})
    assert record["result_id"] == "r"


@FUZZ
@given(CONTENTS, st.one_of(st.none(), FIELD), st.one_of(st.none(), FIELD),
       st.dictionaries(st.binary(max_size=8), st.binary(max_size=8), max_size=2))
def test_decode_value(contents: bytes, encoding: bytes | None, content_type: bytes | None,
                      extra: dict[bytes, bytes]) -> None:
    fields = {**extra, b"contents": contents, b"encoding": b'"gzip"',
              b"content_type": b'"application/json"'}
    for name, raw in ((b"encoding", encoding), (b"content_type", content_type)):
        if raw is not None:
            fields[name] = raw
    record = decode_value("r", fields, decompress_cap=100_000, head_bytes=4096)
    assert record["result_id"] == "r"
    assert record["readable"] in (True, False)
    view = decode_stored_value("r", "k", fields, max_bytes=50_000)
    repr(view), view._repr_html_()


@FUZZ
@given(CONTENTS, st.integers(0, 2**40), st.binary(min_size=0, max_size=6))
def test_decode_clipped_value(head: bytes, size: int, tail: bytes) -> None:
    fields: dict[bytes, Any] = {b"contents": Clipped(size, head, tail),
                                b"encoding": b'"gzip"', b"content_type": b'"application/json"'}
    record = decode_value("r", fields, decompress_cap=100_000, head_bytes=4096)
    assert record["stored_bytes"] == size


@FUZZ
@given(st.one_of(st.binary(max_size=300), CONTENTS), st.integers(1, 70_000),
       st.integers(0, 5_000))
def test_measure_gzip(data: bytes, cap: int, head_bytes: int) -> None:
    size = measure_gzip(data, cap=cap, head_bytes=head_bytes)
    assert (size.raw_bytes is None) == (size.error is not None)
    assert len(size.head) <= head_bytes


@FUZZ
@given(st.lists(st.binary(max_size=20), max_size=10))
def test_decode_children(members: list[bytes]) -> None:
    child_ids, bad = decode_children(members)
    assert len(child_ids) + len(bad) == len(members)


@FUZZ
@given(st.one_of(st.text(max_size=40), PLAIN_JSON.map(json.loads), st.integers(),
                 st.sampled_from(["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
                                  "2026-02-30T00:00:00Z", "2026-11-23T05:10:46.924669Z"])))
def test_parse_utc(value: Any) -> None:
    problems = Problems()
    parsed = parse_utc("created", value, problems)
    assert parsed is None or parsed.tzinfo is not None


@FUZZ
@given(st.one_of(st.none(), FIELD))
def test_json_text_field(raw: bytes | None) -> None:
    fields = {} if raw is None else {b"encoding": raw}
    json_text_field(fields, b"encoding", Problems())


def test_deep_value_document_is_an_error_not_a_crash() -> None:
    document = b'{"value_type":"builtins:list","raw_value":' + _nest(50_000, "list") + b"}"
    fields = {b"contents": document, b"encoding": b"null",
              b"content_type": b'"application/json"'}
    record = decode_value("r", fields, decompress_cap=10**7, head_bytes=10**6)
    assert record["readable"] is False and "nested more than" in record["error"]
    view = decode_stored_value("r", "k", fields, max_bytes=10**6)
    assert view.status == "unreadable" and "nested more than" in (view.error or "")
