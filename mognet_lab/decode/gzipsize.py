"""How big a gzip stream is once uncompressed, without trusting it.

Decompression output is capped, so a gzip bomb or a corrupt value costs at
most ``cap`` bytes of memory; past the cap (or past the end of a clipped
prefix) the RFC 1952 trailer (ISIZE, the size modulo 2**32) gives the size
when it cannot be ambiguous.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

__all__ = ["GzipSize", "measure_gzip", "MAX_DEFLATE_RATIO"]

# Deflate cannot expand data more than ~1032:1, so a stream of n bytes holds at
# most n * 1032 bytes: below 4 GiB the trailer's size cannot have wrapped.
MAX_DEFLATE_RATIO = 1032
_CHUNK = 64 * 1024


class GzipSize(NamedTuple):
    """Outcome of measuring one gzip stream."""

    raw_bytes: int | None  # None when unknown (see error)
    source: str | None  # "decompressed" (exact, CRC checked) or "gzip_trailer"
    head: bytes  # the first ``head_bytes`` of the uncompressed data
    error: str | None


def measure_gzip(data: bytes, *, cap: int, head_bytes: int, stored_size: int | None = None,
                 trailer: bytes | None = None) -> GzipSize:
    """Measure a gzip stream (one or more members), decompressing at most ``cap`` bytes.

    ``data`` is the whole stream, or only its first bytes when ``stored_size``
    and ``trailer`` (its last 4 bytes) are given.
    """
    if not data:
        return GzipSize(None, None, b"", "empty gzip stream")
    clipped = trailer is not None
    size = stored_size if clipped else len(data)
    produced, head, rest = 0, bytearray(), data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=31)
            while not inflater.eof:
                room = cap - produced + 1
                if clipped:
                    room = min(room, max(head_bytes - produced, 1))
                # Ask for about what the stream holds: a fixed 64 KiB request
                # allocates (and faults in) that much for every small value.
                piece = inflater.decompress(rest, min(_CHUNK, room, 8 * len(rest) + 256))
                produced += len(piece)
                if len(head) < head_bytes:
                    head += piece[: head_bytes - len(head)]
                rest = inflater.unconsumed_tail
                # Of a clipped stream only the head is wanted: the size comes from
                # the trailer anyway.
                done_with_head = clipped and produced >= head_bytes
                if produced > cap or done_with_head or (clipped and not piece and not rest):
                    tail = trailer if trailer is not None else data[-4:]
                    return _from_trailer(tail, size or 0, produced, bytes(head), cap, clipped)
                if not piece and not rest:
                    return GzipSize(None, None, bytes(head), "truncated gzip stream")
            rest = inflater.unused_data
    except zlib.error as exc:
        return GzipSize(None, None, bytes(head), f"corrupt gzip stream ({exc})")
    if trailer is not None:
        # Only a prefix was read: even a clean member boundary is not the end.
        return _from_trailer(trailer, size or 0, produced, bytes(head), cap, clipped)
    return GzipSize(produced, "decompressed", bytes(head), None)


def _from_trailer(tail: bytes, stored: int, produced: int, head: bytes, cap: int,
                  clipped: bool) -> GzipSize:
    isize = int.from_bytes(tail[-4:], "little")
    reason = "was too large to fetch whole" if clipped else \
        f"decompresses to more than {cap} bytes (the decompression cap)"
    if stored * MAX_DEFLATE_RATIO >= 2**32:
        return GzipSize(None, None, head, f"value {reason} and may exceed 4 GiB "
                        "uncompressed: size unknown")
    if isize > stored * MAX_DEFLATE_RATIO:
        return GzipSize(None, None, head, f"gzip trailer says {isize} bytes, more than "
                        f"{stored} bytes of deflate can hold: corrupt")
    if isize < produced:
        return GzipSize(None, None, head, f"gzip trailer says {isize} bytes but more than "
                        f"{produced} were decompressed: corrupt or not one stream")
    return GzipSize(isize, "gzip_trailer", head, None)
