"""Values whose gzip trailer lies: the size becomes unknown, not wrong."""

from __future__ import annotations

import gzip
import os

import pandas as pd
import redis

from test_bad_input import Good, row, scan, value_hash, write_result


def test_trailer_too_small_for_the_stored_size(client: redis.Redis, app_name: str,
                                               redis_url: str) -> None:
    good = Good(client, app_name)
    doc = b'{"value_type":"builtins:bytes","raw_value":"' + os.urandom(500_000).hex().encode() \
        + b'"}'
    stream = gzip.compress(doc, compresslevel=1)
    lying = write_result(client, app_name, value={
        **value_hash(), "contents": stream[:-4] + (5_000).to_bytes(4, "little")})
    members = gzip.compress(os.urandom(300_000)) + gzip.compress(doc[:20_000])
    two_members = write_result(client, app_name, value={**value_hash(), "contents": members})
    honest = write_result(client, app_name, value=value_hash(doc))

    snap = scan(redis_url, app_name)

    good.check(snap)
    for rid, claimed in ((lying, 5_000), (two_members, 20_000)):
        value = row(snap.values, "result_id", rid)
        assert pd.isna(value["raw_bytes"]) and pd.isna(value["compression_ratio"])
        assert f"gzip trailer says {claimed} bytes, too few for" in value["error"]
        assert "size unknown" in value["error"]
    # The head is still read, so the value is not called unreadable for its size.
    assert row(snap.values, "result_id", lying)["value_type"] == "builtins:bytes"
    value = row(snap.values, "result_id", honest)
    assert value["raw_bytes"] == len(doc) and pd.isna(value["error"])
