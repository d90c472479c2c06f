"""The pure decoders, on bytes captured from Mognet 2.0.0 (no Redis).

The ``*_JSON`` documents below are ``ResultValueHolder.model_dump_json()`` as
Mognet's ``RedisResultBackend._encode_result_value`` stores them (gzip with
``mtime=0`` so they are reproducible): a dict result, a ValueError whose
message holds quotes and a backslash, and the ResultNotReady placeholder.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import uuid
import zlib
from typing import Any

import pytest

from mognet_lab.decode import (
    ResultDecoder,
    decode_children,
    decode_json_hash,
    decode_value,
    flatten,
)
from mognet_lab.decode.gzipsize import MAX_DEFLATE_RATIO, max_member_size, measure_gzip
from mognet_lab.format import EXCEPTION_INFO_TYPE, NOT_READY_NAME, RESULT_FIELDS
from mognet_lab.raw import Clipped

# -- bytes captured from Mognet 2.0.0 ---------------------------------------------
SUCCESS_DICT_JSON = base64.b64decode(
    "eyJ2YWx1ZV90eXBlIjoiYnVpbHRpbnM6ZGljdCIsInJhd192YWx1ZSI6eyJ0b3RhbCI6MywiaXRlbXMiOlsiYS"
    "IsImIiXX19")
SUCCESS_DICT_GZIP = base64.b64decode(
    "H4sIAAAAAAACA6tWKkvMKU2NL6ksSFWyUkoqzcwpycwrtkrJTC5R0lEqSiyPBytQsqpWKskvScxRsjLWUcosSc"
    "0tVrKKVkoEqklSiq2tBQBzyEJWSAAAAA==")
FAILURE_JSON = base64.b64decode(
    "eyJ2YWx1ZV90eXBlIjoibW9nbmV0Lm1vZGVsLnJlc3VsdDpfRXhjZXB0aW9uSW5mbyIsInJhd192YWx1ZSI6ey"
    "JuYW1lIjoiYnVpbHRpbnM6VmFsdWVFcnJvciIsIm1lc3NhZ2UiOiJiYWQgXCJxdW90ZWRcIiBpbnB1dCBcXCBo"
    "ZXJlIiwidHJhY2ViYWNrIjoiVHJhY2ViYWNrIChtb3N0IHJlY2VudCBjYWxsIGxhc3QpOlxuXG4gIEZpbGUgXC"
    "IvdG1wL2NhcHR1cmUucHlcIiwgbGluZSAxMiwgaW4gcmFpc2VfaXRcbiAgICByYWlzZSBleGNcblxuVmFsdWVF"
    "cnJvcjogYmFkIFwicXVvdGVkXCIgaW5wdXQgXFwgaGVyZVxuIiwicmF3X2RhdGEiOiJnQVNWT3dBQUFBQUFBQU"
    "NNQ0dKMWFXeDBhVzV6bEl3S1ZtRnNkV1ZGY25KdmNwU1RsSXdaWW1Ga0lDSnhkVzkwWldRaUlHbHVjSFYwSUZ3"
    "Z2FHVnlaWlNGbEZLVUxnPT0iLCJyYXdfZGF0YV9lbmNvZGluZyI6ImFwcGxpY2F0aW9uL3B5dGhvbi1waWNrbG"
    "UifX0=")
FAILURE_GZIP = base64.b64decode(
    "H4sIAAAAAAACA31RTUvDQBD9K8ueFGo/BA8GeiilqWkVkdYEw0KYbsZ06WZ33d00qaX/3aRW9OSc5uO9eW+YI9"
    "2DrDDzB4M0oKUuFPp+qXOUfYuukj7IZg1H44VWkXrXtEct1NmZRYMjVVB2xE0lpBfKBXE3mFmrbYss0TkoznPI"
    "CaMflfaYM0qEMpUnjJEtWmyB3gLHDfBdC13/5OSq1M4TixyVJxykJBKcvw6YYoqQUEhsdw58aQYcjK8s9s2B0R"
    "6RQiEZ3fZaGWJBOMyE7xjkuyLY8G7Fr9WA/OePqcvROXhoDRaTVfxcTy4xfZrOFyNImiEkd58yqpdxGbo8iUOu"
    "FntuVuu2l76V4S6aLpo8uR+myYuI5rLiD/EwCusC5vEhTVehDJevj8V4/EctQ8V1LlTRyoIxUnDoHjEwB7/V6s"
    "YIvpNIT6cvmM/iG8cBAAA=")
NOT_READY_JSON = base64.b64decode(
    "eyJ2YWx1ZV90eXBlIjoibW9nbmV0Lm1vZGVsLnJlc3VsdDpfRXhjZXB0aW9uSW5mbyIsInJhd192YWx1ZSI6ey"
    "JuYW1lIjoibW9nbmV0LmV4Y2VwdGlvbnMucmVzdWx0X2V4Y2VwdGlvbnM6UmVzdWx0Tm90UmVhZHkiLCJtZXNz"
    "YWdlIjoiIiwidHJhY2ViYWNrIjoibW9nbmV0LmV4Y2VwdGlvbnMucmVzdWx0X2V4Y2VwdGlvbnMuUmVzdWx0Tm"
    "90UmVhZHlcbiIsInJhd19kYXRhIjoiZ0FTVlBRQUFBQUFBQUFDTUkyMXZaMjVsZEM1bGVHTmxjSFJwYjI1ekxu"
    "SmxjM1ZzZEY5bGVHTmxjSFJwYjI1emxJd09VbVZ6ZFd4MFRtOTBVbVZoWkhtVWs1UXBVcFF1IiwicmF3X2RhdG"
    "FfZW5jb2RpbmciOiJhcHBsaWNhdGlvbi9weXRob24tcGlja2xlIn19")
NOT_READY_GZIP = base64.b64decode(
    "H4sIAAAAAAACA42OT0/CQBDFv8uetWJND/RGiEqNoq22JsSkGXbH0nT2T7pboBC+uwupEW7OaeZlfu+9PVsDdV"
    "i63iCLmdSVQhdILZCCFm1HLi7vtxyNq7VK1LdmV6yFTXmiWLxnCuQZiL+vdqDLPyXOTspcuwxB9N5IorVQHXF/"
    "uBY4LoE3/3MLLt2+1FBMgAPvUE3ei7d0Msz0JQlv14swIjGNCB/nxGeZWYbR7lk9Eb8rrHgYX+iUbF5zWezE53"
    "b0Iccjv68WM5k3UWpyk3ZnaSUqrkWtKh8LxlDN4djwxvRupdW1qXlDyA6HH0xOCCNrAQAA")
FAILURE_MESSAGE = 'bad "quoted" input \\ here'

GZIP, NULL, APP_JSON = b'"gzip"', b"null", b'"application/json"'
CAP, HEAD = 1 << 20, 16 << 10


def test_captured_bytes_are_what_mognet_reads() -> None:
    for doc, gz in ((SUCCESS_DICT_JSON, SUCCESS_DICT_GZIP), (FAILURE_JSON, FAILURE_GZIP),
                    (NOT_READY_JSON, NOT_READY_GZIP)):
        assert gzip.decompress(gz) == doc
        json.loads(doc)


# -- measure_gzip ----------------------------------------------------------------------
def measure(data: bytes, **options: Any) -> Any:
    return measure_gzip(data, **{"cap": CAP, "head_bytes": HEAD, **options})


def test_measure_exact_size() -> None:
    data = os.urandom(3000)
    size = measure(gzip.compress(data), head_bytes=100)
    assert size == (3000, "decompressed", data[:100], None)


def test_measure_head_shorter_than_head_bytes() -> None:
    assert measure(SUCCESS_DICT_GZIP) == (len(SUCCESS_DICT_JSON), "decompressed",
                                          SUCCESS_DICT_JSON, None)


def test_measure_multi_member_stream() -> None:
    first, second = b"a" * 1000, b"b" * 700
    size = measure(gzip.compress(first) + gzip.compress(second), head_bytes=1200)
    assert size == (1700, "decompressed", first + second[:200], None)


@pytest.mark.parametrize("keep", [1, 9, 10, 30, -8, -1])
def test_measure_truncated(keep: int) -> None:
    whole = gzip.compress(os.urandom(500))
    size = measure(whole[:keep])
    assert size.raw_bytes is None and size.source is None
    assert size.error == "truncated gzip stream"


@pytest.mark.parametrize(("where", "detail"), [(-8, "incorrect data check"),
                                               (-1, "incorrect length check"),
                                               (0, "incorrect header check")])
def test_measure_corrupt(where: int, detail: str) -> None:
    data = bytearray(gzip.compress(b"hello " * 100))
    data[where] ^= 0xFF
    size = measure(bytes(data))
    assert size.raw_bytes is None and size.source is None
    assert size.error is not None and size.error.startswith("corrupt gzip stream")
    assert detail in size.error


def test_measure_not_gzip_and_trailing_garbage() -> None:
    assert measure(b"plain text").error.startswith("corrupt gzip stream")
    assert measure(SUCCESS_DICT_GZIP + b"junk").error.startswith("corrupt gzip stream")


def test_measure_empty() -> None:
    assert measure(b"") == (None, None, b"", "empty gzip stream")


def test_measure_cap_boundary() -> None:
    data = os.urandom(1000)
    assert measure(gzip.compress(data), cap=1000)[:2] == (1000, "decompressed")
    size = measure(gzip.compress(data + b"x"), cap=1000, head_bytes=10)
    assert size == (1001, "gzip_trailer", data[:10], None)


def test_measure_bomb_uses_the_trailer() -> None:
    bomb = gzip.compress(bytes(20 << 20))
    size = measure(bomb, head_bytes=64)
    assert size == (20 << 20, "gzip_trailer", bytes(64), None)


def test_measure_trailer_smaller_than_produced() -> None:
    stream = gzip.compress(b"q" * 100_000)
    lying = stream[:-4] + (10).to_bytes(4, "little")
    size = measure(lying, cap=1000)
    assert size.raw_bytes is None and size.source is None
    assert "gzip trailer says 10 bytes" in size.error


def test_measure_clipped_with_trailer() -> None:
    data = os.urandom(50_000).hex().encode()
    stream = gzip.compress(data)
    size = measure(stream[:4096], stored_size=len(stream), trailer=stream[-4:], head_bytes=100)
    assert size == (len(data), "gzip_trailer", data[:100], None)


def test_measure_clipped_head_bytes_beyond_prefix() -> None:
    data = os.urandom(20_000)
    stream = gzip.compress(data)
    size = measure(stream[:50], stored_size=len(stream), trailer=stream[-4:])
    assert size.raw_bytes == 20_000 and size.source == "gzip_trailer"
    assert data.startswith(size.head)


def test_measure_clipped_ambiguous_over_4_gib() -> None:
    data = os.urandom(5_000).hex().encode()
    stream = gzip.compress(data)
    stored = 2**32 // MAX_DEFLATE_RATIO + 1
    size = measure(stream[:1000], stored_size=stored, trailer=stream[-4:])
    assert size.raw_bytes is None and size.source is None
    assert "4 GiB" in size.error and data.startswith(size.head) and size.head
    # Just below the wrap the trailer is believed when it is plausible for the size...
    plausible = (stored - 2).to_bytes(4, "little")
    below = measure(stream[:1000], stored_size=stored - 2, trailer=plausible)
    assert below.raw_bytes == stored - 2 and below.error is None
    # ...and not when 4 MB of gzip would claim to hold only 10,000 bytes.
    below = measure(stream[:1000], stored_size=stored - 2, trailer=stream[-4:])
    assert below.raw_bytes is None and "too few" in below.error


def test_measure_whole_stream_ambiguous_over_4_gib() -> None:
    # Incompressible data: stored * 1032 >= 2**32 with only ~4 MB of stream.
    stream = gzip.compress(os.urandom(4_200_000), compresslevel=1)
    assert len(stream) * MAX_DEFLATE_RATIO >= 2**32
    size = measure(stream, cap=1 << 16)
    assert size.raw_bytes is None and "4 GiB" in size.error
    assert measure(stream).error is not None  # the default 1 MiB cap is passed too


def test_measure_impossible_trailer() -> None:
    stream = gzip.compress(b"z" * 100_000)
    lying = stream[:-4] + (4_000_000_000).to_bytes(4, "little")
    size = measure(lying, cap=1000)
    assert size.raw_bytes is None and size.error is not None


def test_measure_clipped_at_a_member_boundary() -> None:
    # The trailer only covers the last member: the total size is unknown, not 500.
    first, second = gzip.compress(b"a" * 1000), gzip.compress(b"b" * 500)
    size = measure(first, stored_size=len(first + second), trailer=second[-4:])
    assert size.raw_bytes is None and "trailer" in (size.error or "")


def _with_isize(stream: bytes, isize: int) -> bytes:
    return stream[:-4] + (isize % 2**32).to_bytes(4, "little")


def test_measure_trailer_too_small_for_the_stored_size() -> None:
    # A 1 MB stream (incompressible data) whose trailer claims 5,000 bytes.
    data = os.urandom(1_000_000)
    lying = _with_isize(gzip.compress(data), 5_000)
    # Fewer bytes decompressed than claimed (cap, or a clipped head): only the
    # size of the stream can tell the claim is false.
    for size in (measure(lying, cap=1_000, head_bytes=100),
                 measure(lying[:4096], stored_size=len(lying), trailer=lying[-4:],
                         head_bytes=100)):
        assert size.raw_bytes is None and size.source is None
        assert "says 5000 bytes, too few for" in size.error and "size unknown" in size.error
        assert size.head == data[:100]  # the head is still read


@pytest.mark.parametrize("level", [0, 1, 9])
def test_measure_believes_honest_trailers_at_every_level(level: int) -> None:
    # Level 0 writes stored blocks only: the most a real encoder expands data.
    for data in (os.urandom(300_000), b"ab" * 150_000, b""):
        stream = gzip.compress(data, compresslevel=level)
        assert len(stream) <= max_member_size(len(data))
        size = measure(stream[:4096], stored_size=len(stream), trailer=stream[-4:],
                       head_bytes=16)
        assert (size.raw_bytes, size.error) == (len(data), None), level


def test_measure_counts_optional_header_fields() -> None:
    # A 3,000-byte file name in the header: small data, large member, still honest.
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="n" * 3000, mode="wb", fileobj=buffer, mtime=0) as handle:
        handle.write(os.urandom(2000))
    stream = buffer.getvalue()
    assert len(stream) > max_member_size(2000)
    size = measure(stream[:4096], stored_size=len(stream), trailer=stream[-4:], cap=1000)
    assert (size.raw_bytes, size.error) == (2000, None)
    # A name running past the fetched head: the header size is unknown, so not judged.
    size = measure(stream[:100], stored_size=len(stream), trailer=stream[-4:], head_bytes=10)
    assert size.raw_bytes == 2000


def test_measure_multi_member_trailer_counts_the_last_member_only() -> None:
    first, second = gzip.compress(os.urandom(500_000)), gzip.compress(b"x" * 100)
    stream = first + second
    size = measure(stream[:4096], stored_size=len(stream), trailer=stream[-4:], head_bytes=16)
    assert size.raw_bytes is None and "several members" in size.error
    # Decompressed whole (under the cap), the members add up exactly.
    assert measure(stream, cap=1 << 20)[:2] == (500_100, "decompressed")


def test_measure_trailer_wrapped_past_4_gib_is_unknown_not_small() -> None:
    # 4 GiB + 10 bytes claimed by a stream large enough to hold it: ISIZE reads 10.
    stream = gzip.compress(os.urandom(5_000))
    stored = 2**32 // MAX_DEFLATE_RATIO + 10
    size = measure(stream[:1000], stored_size=stored, trailer=(10).to_bytes(4, "little"))
    assert size.raw_bytes is None and "4 GiB" in size.error


# -- decode_value ---------------------------------------------------------------------
def value(contents: bytes | Clipped | None, encoding: bytes | None = GZIP,
          content_type: bytes | None = APP_JSON, *, cap: int = CAP, head: int = HEAD,
          **extra: bytes) -> dict[str, Any]:
    fields: dict[bytes, Any] = {k.encode(): v for k, v in extra.items()}
    for name, raw in ((b"contents", contents), (b"encoding", encoding),
                      (b"content_type", content_type)):
        if raw is not None:
            fields[name] = raw
    return decode_value("rid", fields, decompress_cap=cap, head_bytes=head)


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_decode_success_dict(gz: bool) -> None:
    contents = SUCCESS_DICT_GZIP if gz else SUCCESS_DICT_JSON
    record = value(contents, GZIP if gz else NULL)
    assert record == {
        "result_id": "rid", "encoding": "gzip" if gz else None,
        "content_type": "application/json", "stored_bytes": len(contents),
        "raw_bytes": len(SUCCESS_DICT_JSON),
        "raw_bytes_source": "decompressed" if gz else "plain",
        "compression_ratio": len(SUCCESS_DICT_JSON) / len(contents),
        "value_type": "builtins:dict", "is_exception": False, "exception_name": None,
        "exception_message": None, "readable": True, "error": None,
    }


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_decode_exception_info(gz: bool) -> None:
    record = value(FAILURE_GZIP if gz else FAILURE_JSON, GZIP if gz else NULL)
    assert record["value_type"] == EXCEPTION_INFO_TYPE and record["is_exception"] is True
    assert record["exception_name"] == "builtins:ValueError"
    assert record["exception_message"] == FAILURE_MESSAGE
    assert record["raw_bytes"] == len(FAILURE_JSON) and record["error"] is None


def test_decode_not_ready_placeholder() -> None:
    record = value(NOT_READY_GZIP)
    assert record["exception_name"] == NOT_READY_NAME and record["exception_message"] == ""
    assert record["is_exception"] is True and record["error"] is None


@pytest.mark.parametrize("head", [120, 150, 200, 300])
@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_decode_prefix_path_for_huge_heads(head: int, gz: bool) -> None:
    record = value(FAILURE_GZIP if gz else FAILURE_JSON, GZIP if gz else NULL, head=head)
    assert record["raw_bytes"] == len(FAILURE_JSON) and record["error"] is None
    assert record["value_type"] == EXCEPTION_INFO_TYPE and record["is_exception"] is True
    assert record["exception_name"] == "builtins:ValueError"
    message_end = FAILURE_JSON.index(b'","traceback"')
    if head > message_end:
        assert record["exception_message"] == FAILURE_MESSAGE
    else:  # cut inside the message: its start, never a crash
        assert FAILURE_MESSAGE.startswith(record["exception_message"].rstrip("\\"))


def test_decode_prefix_path_cut_inside_an_escape() -> None:
    start = FAILURE_JSON.index(b"\\\\ here")
    record = value(FAILURE_JSON, NULL, head=start + 1)
    assert record["exception_name"] == "builtins:ValueError"
    assert record["exception_message"].startswith('bad "quoted" input ')
    assert record["error"] is None


def test_decode_big_value_beyond_the_cap() -> None:
    document = json.dumps({"value_type": "builtins:list",
                           "raw_value": [os.urandom(8).hex()] * 50_000}).encode()
    record = value(gzip.compress(document), cap=4096, head=256)
    assert (record["raw_bytes"], record["raw_bytes_source"]) == (len(document), "gzip_trailer")
    assert record["value_type"] == "builtins:list" and record["is_exception"] is False
    assert record["error"] is None


def test_decode_clipped_contents() -> None:
    document = json.dumps({"value_type": "builtins:str",
                           "raw_value": os.urandom(30_000).hex()}).encode()
    stream = gzip.compress(document)
    clipped = Clipped(len(stream), stream[:2048], stream[-4:])
    record = value(clipped, head=512)
    assert record["stored_bytes"] == len(stream)
    assert (record["raw_bytes"], record["raw_bytes_source"]) == (len(document), "gzip_trailer")
    assert record["value_type"] == "builtins:str" and record["error"] is None
    plain = value(Clipped(len(document), document[:2048], document[-4:]), NULL, head=512)
    assert (plain["raw_bytes"], plain["raw_bytes_source"]) == (len(document), "plain")
    assert plain["value_type"] == "builtins:str" and plain["error"] is None


def test_decode_value_problems() -> None:
    missing = value(None)
    assert "no 'contents' field" in missing["error"] and missing["stored_bytes"] is None
    zstd = value(b"\x28\xb5\x2f\xfd", b'"zstd"')
    assert zstd["raw_bytes"] is None and "unknown encoding 'zstd'" in zstd["error"]
    other = value(SUCCESS_DICT_GZIP, content_type=b'"application/msgpack"')
    assert other["value_type"] is None and "unknown content_type" in other["error"]
    assert other["raw_bytes"] == len(SUCCESS_DICT_JSON)
    not_json = value(gzip.compress(b"<html>"))
    assert not_json["value_type"] is None and "not JSON" in not_json["error"]
    holder = value(gzip.compress(b"[1, 2]"))
    assert "not a Mognet value holder" in holder["error"]
    extra = value(SUCCESS_DICT_GZIP, checksum=b"1")
    assert extra["value_type"] == "builtins:dict" and "checksum" in extra["error"]
    bad_encoding = value(SUCCESS_DICT_GZIP, encoding=b"gzip")  # not JSON text
    assert bad_encoding["raw_bytes"] == len(SUCCESS_DICT_JSON)
    assert "'encoding' is not JSON" in bad_encoding["error"]
    not_utf8 = value(SUCCESS_DICT_JSON.replace(b"total", b"t\xffotal"), NULL)
    assert "contents is not valid UTF-8" in not_utf8["error"]
    assert not_utf8["value_type"] == "builtins:dict"


@pytest.mark.parametrize(("contents", "encoding", "content_type", "readable"), [
    (SUCCESS_DICT_GZIP, GZIP, APP_JSON, True),
    (NOT_READY_GZIP, GZIP, APP_JSON, True),
    (FAILURE_JSON, NULL, APP_JSON, True),
    (SUCCESS_DICT_GZIP[:-6], GZIP, APP_JSON, False),  # truncated, value_type still seen
    (SUCCESS_DICT_GZIP[:-8] + b"\0\0\0\0" + SUCCESS_DICT_GZIP[-4:], GZIP, APP_JSON, False),
    (None, GZIP, APP_JSON, False),
    (SUCCESS_DICT_GZIP, b'"zstd"', APP_JSON, False),
    (SUCCESS_DICT_GZIP, GZIP, b'"application/msgpack"', False),
    (gzip.compress(b"<html>"), GZIP, APP_JSON, False),
    (gzip.compress(b"[1]"), GZIP, APP_JSON, False),
    (SUCCESS_DICT_JSON.replace(b"total", b"t\xffotal"), NULL, APP_JSON, False),
])
def test_decode_value_readable(contents: bytes | None, encoding: bytes, content_type: bytes,
                               readable: bool) -> None:
    record = value(contents, encoding, content_type)
    assert record["readable"] is readable
    assert (record["error"] is None) is readable


def test_decode_value_too_large_to_size_is_still_readable() -> None:
    stream = gzip.compress(SUCCESS_DICT_JSON + b" " * 100_000)
    clipped = Clipped(2**32 // MAX_DEFLATE_RATIO + 1, stream[:4096], stream[-4:])
    record = value(clipped)
    assert record["raw_bytes"] is None and "4 GiB" in record["error"]
    assert record["value_type"] == "builtins:dict" and record["readable"] is True


def test_decode_value_long_message_is_shortened() -> None:
    document = json.dumps({"value_type": EXCEPTION_INFO_TYPE, "raw_value": {
        "name": "builtins:KeyError", "message": "m" * 5000, "traceback": ""}}).encode()
    for head in (HEAD, 300):
        record = value(document, NULL, head=head)
        assert record["exception_name"] == "builtins:KeyError"
        assert len(record["exception_message"]) <= 500
        assert record["exception_message"].startswith("mmm")


# -- ResultDecoder --------------------------------------------------------------------
def jb(value: Any) -> bytes:
    return json.dumps(value).encode()


RID = "8c5d9e4e-6a73-4b5e-9a55-0a8f4d3c2b1a"
PARENT = "0f0e0d0c-0b0a-4908-8706-050403020100"


def raw_row(rid: str = RID, **overrides: bytes | None) -> list[bytes | None]:
    fields = {"id": jb(rid), "name": b'"tasks.add"', "state": b'"SUCCESS"',
              "number_of_starts": b"1", "number_of_stops": b"1", "parent_id": jb(PARENT),
              "created": b'"2026-11-23T05:10:46.924669Z"', "started": b'"2026-11-23T05:10:47Z"',
              "finished": b"null", "node_id": b'"node-1"', "request_kwargs_repr": b'"x=1"'}
    fields.update(overrides)
    return [fields[name] for name in RESULT_FIELDS]


def decode_one(**overrides: bytes | None) -> dict[str, Any]:
    columns = ResultDecoder().decode_rows([RID], [raw_row(**overrides)])
    return {name: column[0] for name, column in columns.items()}


def test_decode_rows_good_row() -> None:
    assert decode_one() == {
        "result_id": RID, "name": "tasks.add", "state": "SUCCESS", "number_of_starts": 1,
        "number_of_stops": 1, "parent_id": PARENT, "created": "2026-11-23T05:10:46.924669Z",
        "started": "2026-11-23T05:10:47Z", "finished": None, "node_id": "node-1",
        "request_kwargs_repr": "x=1", "extra_fields": None, "error": None,
    }


@pytest.mark.parametrize(("field", "raw", "want", "note"), [
    ("name", b"null", None, None),
    ("name", b"5", "5", "'name' is not a string"),
    ("name", b"tasks.add", None, "'name' is not JSON"),
    ("name", b'"caf\xe9"', "caf\ufffd", "'name' is not valid UTF-8"),
    ("name", None, None, None),
    ("state", b"null", "PENDING", None),
    ("state", None, "PENDING", None),
    ("state", b'"EXPLODED"', "EXPLODED", "unknown state"),
    ("state", b"7", "7", "unknown state"),
    ("state", b'"REVOKED"', "REVOKED", None),
    ("number_of_starts", b"0", 0, None),
    ("number_of_starts", b"null", 0, None),
    ("number_of_starts", None, 0, None),
    ("number_of_starts", b"-1", None, "'number_of_starts' is not a count"),
    ("number_of_starts", b"1.5", None, "'number_of_starts' is not a count"),
    ("number_of_starts", b"true", None, "'number_of_starts' is not a count"),
    ("number_of_stops", b'"2"', None, "'number_of_stops' is not a count"),
    ("parent_id", b"null", None, None),
    ("parent_id", jb(PARENT.upper()), PARENT, None),
    ("parent_id", b'"nope"', None, "'parent_id' is not a UUID"),
    ("created", b"null", None, None),
    ("created", None, None, None),
    ("created", b'"yesterday"', "yesterday", None),  # parsed (and noted) by frames
    ("created", b'"2026-11-23T05:10:46\\u002e5Z"', "2026-11-23T05:10:46.5Z", None),
    ("started", b"12345", None, "'started' is not a timestamp"),
    ("finished", b"{", None, "'finished' is not JSON"),
    ("node_id", b'["a"]', '["a"]', "'node_id' is not a string"),
    ("request_kwargs_repr", b'"a=\\"b\\""', 'a="b"', None),
])
def test_decode_rows_field_by_field(field: str, raw: bytes | None, want: Any,
                                    note: str | None) -> None:
    record = decode_one(**{field: raw})
    assert record[field] == want
    if note is None:
        assert record["error"] is None
    else:
        assert note in record["error"]


def test_decode_rows_id_checks() -> None:
    assert "no 'id' field" in decode_one(id=None)["error"]
    assert "differs from the key's id" in decode_one(id=jb(PARENT))["error"]
    assert "differs" in decode_one(id=jb(RID.upper()))["error"]


def test_decode_rows_cache_and_repeated_notes() -> None:
    decoder = ResultDecoder()
    ids = [str(uuid.uuid4()) for _ in range(4)]
    rows = [raw_row(ids[0]), raw_row(ids[1], name=b"5", state=b'"X"'),
            raw_row(ids[2], name=b"5"), raw_row(ids[3], state=b'"X"')]
    first = decoder.decode_rows(ids, rows)
    second = decoder.decode_rows(ids, rows)
    assert first == second
    assert first["name"] == ["tasks.add", "5", "5", "tasks.add"]
    assert first["error"][0] is None
    assert "'name' is not a string" in first["error"][1] and "unknown state" in first["error"][1]
    assert "'name' is not a string" in first["error"][2] and "state" not in first["error"][2]
    assert "unknown state" in first["error"][3] and "name" not in first["error"][3]
    # The same raw bytes in another field are decoded as that field.
    again = decoder.decode_rows([ids[0]], [raw_row(ids[0], node_id=b"5")])
    assert again["node_id"] == ["5"] and "'node_id' is not a string" in again["error"][0]


def test_decode_rows_empty() -> None:
    columns = ResultDecoder().decode_rows([], [])
    assert all(values == [] for values in columns.values())
    assert {"result_id", "error", "extra_fields", "state"} <= set(columns)


def test_decode_mapping_matches_rows_and_keeps_extra_fields() -> None:
    decoder = ResultDecoder()
    fields = {name.encode(): raw for name, raw in zip(RESULT_FIELDS, raw_row()) if raw}
    record = decoder.decode_mapping(RID, fields)
    assert record == decode_one()
    fields.update({b"retries": b"3", b"tags": b'["a"]', b"weird": b"not json",
                   b"\xff": b"1"})
    record = decoder.decode_mapping(RID, fields)
    assert json.loads(record["extra_fields"]) == {"retries": 3, "tags": ["a"],
                                                  "weird": "not json", "\ufffd": 1}
    assert "'weird' is not JSON" in record["error"]
    assert "field name is not valid UTF-8" in record["error"]
    assert record["state"] == "SUCCESS" and record["number_of_starts"] == 1


def test_decode_mapping_only_id() -> None:
    record = ResultDecoder().decode_mapping(RID, {b"id": jb(RID)})
    assert record["state"] == "PENDING" and record["error"] is None
    assert (record["number_of_starts"], record["number_of_stops"]) == (0, 0)
    assert record["created"] is None and record["extra_fields"] is None


# -- children, JSON hashes, flatten -----------------------------------------------------
def test_decode_children() -> None:
    kids = [uuid.uuid4() for _ in range(3)]
    members = [k.bytes for k in kids] + [b"short", b"", str(kids[0]).encode()]
    ids, problems = decode_children(members)
    assert ids == [str(k) for k in kids]
    assert len(problems) == 3 and all("expected 16" in p for p in problems)
    assert "member of 5 bytes" in problems[0] and "member of 36 bytes" in problems[2]
    assert decode_children([]) == ([], [])


def test_decode_json_hash() -> None:
    fields = {b"a": b"1", b"b": b'{"c": [1, 2]}', b"bad": b"{oops", b"\xfe": b'"x"',
              b"v": b'"\xff"', b"n": b"null"}
    decoded, error = decode_json_hash(fields)
    assert decoded == {"a": 1, "b": {"c": [1, 2]}, "bad": "{oops", "\ufffd": "x",
                       "v": "\ufffd", "n": None}
    assert "'bad' is not JSON" in error and "a field name is not valid UTF-8" in error
    assert "field 'v' is not valid UTF-8" in error
    assert decode_json_hash({}) == ({}, None)
    assert decode_json_hash({b"ok": b"true"}) == ({"ok": True}, None)


def test_flatten() -> None:
    nested = {"a": {"b": {"c": 1}, "d": [1, {"e": 2}]}, "f": {}, "g": None, "h": "x",
              "i": [], "j": {"k": {}}}
    assert flatten(nested) == {"a.b.c": 1, "a.d": '[1, {"e": 2}]', "f": "{}", "g": None,
                               "h": "x", "i": "[]", "j.k": "{}"}
    assert flatten({"x": {"y": 1}}, "meta.") == {"meta.x.y": 1}
    assert flatten({}) == {}


def test_zlib_error_is_the_kind_measure_gzip_reports() -> None:
    # Guards the corrupt-stream tests above: zlib must raise on a flipped CRC.
    data = bytearray(gzip.compress(b"abc"))
    data[-8] ^= 1
    with pytest.raises(zlib.error):
        zlib.decompress(bytes(data), wbits=31)
