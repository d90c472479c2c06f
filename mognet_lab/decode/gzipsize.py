"""How big a gzip stream is once uncompressed, without trusting it.

Decompression output is capped, so a gzip bomb or a corrupt value costs at
most ``cap`` bytes of memory; past the cap (or past the end of a clipped
prefix) the RFC 1952 trailer (ISIZE, the size modulo 2**32) gives the size
when it cannot be ambiguous, and only when it is plausible for the stored size.

A trailer is checked both ways. Deflate cannot expand data more than ~1032:1,
so a stream cannot hold more than 1032 bytes per stored byte. Nor does an
encoder spend much more than one byte per byte: when compression does not pay,
zlib (and every common encoder) falls back to stored blocks, so one gzip member
of ``raw`` bytes takes at most :func:`max_member_size` bytes. A trailer that
claims fewer bytes than that allows is not believed: the stream is corrupt, or
holds several members (the trailer then counts only the last one).
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

__all__ = ["GzipSize", "measure_gzip", "max_member_size", "MAX_DEFLATE_RATIO"]

# Deflate cannot expand data more than ~1032:1, so a stream of n bytes holds at
# most n * 1032 bytes: below 4 GiB the trailer's size cannot have wrapped.
MAX_DEFLATE_RATIO = 1032
_CHUNK = 64 * 1024
_TRAILER = 8  # CRC32 and ISIZE
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 2, 4, 8, 16


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
                    return _from_trailer(tail, size or 0, produced, bytes(head), cap, clipped,
                                         _header_size(data))
                if not piece and not rest:
                    return GzipSize(None, None, bytes(head), "truncated gzip stream")
            rest = inflater.unused_data
    except zlib.error as exc:
        return GzipSize(None, None, bytes(head), f"corrupt gzip stream ({exc})")
    if trailer is not None:
        # Only a prefix was read: even a clean member boundary is not the end.
        return _from_trailer(trailer, size or 0, produced, bytes(head), cap, clipped,
                             _header_size(data))
    return GzipSize(produced, "decompressed", bytes(head), None)


def max_member_size(raw: int, header: int = 10) -> int:
    """The most bytes one gzip member of ``raw`` uncompressed bytes can take.

    zlib's conservative ``deflateBound()`` (for any compression settings:
    stored blocks plus block headers, ``raw + raw/8 + raw/64 + 5``), plus the
    member's ``header`` (10 bytes with no optional fields) and 8-byte trailer.
    """
    return raw + (raw + 7) // 8 + (raw + 63) // 64 + 5 + header + _TRAILER


def _header_size(data: bytes) -> int | None:
    """Length of the first member's header (RFC 1952 2.3), None if not all in ``data``."""
    if len(data) < 10 or data[:2] != b"\x1f\x8b":
        return None
    flags, end = data[3], 10
    if flags & _FEXTRA:
        if len(data) < end + 2:
            return None
        end += 2 + int.from_bytes(data[end:end + 2], "little")
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            zero = data.find(b"\0", end)
            if zero < 0:
                return None
            end = zero + 1
    end += 2 if flags & _FHCRC else 0
    return end if end <= len(data) else None


def _from_trailer(tail: bytes, stored: int, produced: int, head: bytes, cap: int,
                  clipped: bool, header: int | None) -> GzipSize:
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
    # Below 4 GiB the trailer cannot have wrapped, so isize is the claim to check.
    if header is not None and stored > max_member_size(isize, header):
        return GzipSize(None, None, head, f"gzip trailer says {isize} bytes, too few for "
                        f"{stored} stored bytes (one gzip member of {isize} bytes takes at "
                        f"most {max_member_size(isize, header)}): several members or "
                        "corrupt, size unknown")
    return GzipSize(isize, "gzip_trailer", head, None)
