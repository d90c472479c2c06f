"""Scan settings: one frozen dataclass passed explicitly down the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import bad_option

__all__ = ["ScanSettings"]


@dataclass(frozen=True)
class ScanSettings:
    """How a scan reads Redis.

    Attributes
    ----------
    batch
        At most this many keys are read per pipelined round trip.
    scan_count
        ``COUNT`` of each SCAN call: the server time one call takes grows with
        it (about 2 ms for 1000 on a 2-core machine), and other clients wait
        that long; pages gather into batches of up to ``batch`` keys.
    limit
        Stop after this many keys (``None``: read them all). A limited
        snapshot is marked ``complete=False``.
    memory_samples
        ``SAMPLES`` for MEMORY USAGE (``None``: the server default, 5; 0: exact).
    decompress_cap
        At most this many bytes of one value are decompressed (gzip bombs and
        corrupt values cannot exhaust memory); past it, the gzip trailer gives
        the size.
    head_bytes
        Uncompressed bytes of a value parsed for its type and exception name.
    max_members_per_call
        Children sets larger than this are read with SSCAN pages.
    max_hash_fields
        Hashes with more fields than this are not read (an error row says so);
        Mognet's own hashes have a dozen.
    max_fetch_bytes
        A value's contents larger than this are measured from their size, first
        ``head_bytes`` and gzip trailer instead of being decompressed whole
        (``raw_bytes_source`` says ``gzip_trailer``).
    max_field_bytes
        A hash field longer than this (a result's ``request_kwargs_repr``, a
        value's ``encoding``) is not read; an error cell gives its length.
    max_key_bytes
        A hash Redis puts above this many bytes (MEMORY USAGE) is not read
        whole; an error cell says how big it is. Value contents are measured
        from their head and trailer whatever their size.
    max_batch_bytes
        About this many reply bytes per round trip at most: they sit in the
        server's output buffer (counted in ``used_memory``) until read, so a
        scan of a nearly full Redis must not let them pile up.
    max_contents_bytes
        Value contents longer than this are not read at all, not even clipped
        by the server (a script's reply copies them into its memory); an error
        cell gives their size. ``None`` (default): no limit, except on a server
        near its ``maxmemory`` (see ``overlap``), where it is a quarter of the
        memory left.
    overlap
        Keep the next requests in flight while a batch is decoded (the fast
        way). ``None`` (default): yes, unless the server is within 64 MiB (or
        5%) of its ``maxmemory``, where replies waiting in its output buffer
        could make it evict keys; there (or with False) each reply is read at
        once and values over ``max_fetch_bytes`` are clipped by the server.
    max_edges_per_parent
        At most this many children of one parent are kept (read in SSCAN
        pages); ``children_count`` still gives the set's true size.
    max_metadata_columns
        Metadata field names that get a column of their own, at most (the most
        frequent, when there are more); the other fields of each hash are kept
        as JSON in ``metadata.other_fields``.
    server_clip_bytes
        Contents larger than this are clipped by the server where it runs
        read-only scripts (Redis 7+): only their size, head and trailer are
        transferred. Smaller ones are fetched whole and clipped here: a script
        call copies the contents into Lua, which costs the server more time
        than sending them (measured on Redis 7.0: 1.4 ms against 0.07 ms for 1 MiB).
    sample
        Read only this fraction of the app (0 < sample <= 1; ``None``: all):
        results chosen by a hash of their id with their whole family, state
        hashes by a hash of their id, other keys by a hash of the key. The
        walk still counts every key of the app by kind, so totals can be
        scaled up with intervals (:mod:`mognet_lab.analysis.estimate`).
    sample_seed
        Picks another sample of the same fraction; the same seed chooses the
        same ids on every day and every node.
    sample_census_bytes
        A sampled scan also reads every value whose contents are at least this
        large, with its whole family, whatever the hash (``None``: none): a few
        large values can hold much of the memory, and a sample that missed them
        would be badly off. Their families count as they are (weight 1); the
        walk asks ``HSTRLEN`` of each value it leaves out.
    sample_scan_count
        ``COUNT`` of each SCAN call of a sampled walk: it reads few of the keys
        a page names, so larger pages walk the keyspace in fewer round trips.
    guard_seconds, guard_bytes
        A full scan that the pre-flight expects to take longer than this, or
        to need more client memory, raises
        :class:`~mognet_lab.errors.ScanTooLarge` (``scan(full=True)`` goes ahead).
    """

    batch: int = 1000
    scan_count: int = 250
    limit: int | None = None
    memory_samples: int | None = None
    decompress_cap: int = 1 << 20
    head_bytes: int = 4 << 10
    max_members_per_call: int = 10_000
    max_hash_fields: int = 10_000
    max_fetch_bytes: int = 4 << 10
    server_clip_bytes: int = 1 << 20
    max_field_bytes: int = 1 << 20
    max_key_bytes: int = 16 << 20
    max_batch_bytes: int = 1 << 20
    max_edges_per_parent: int = 10_000
    max_metadata_columns: int = 100
    max_contents_bytes: int | None = None
    overlap: bool | None = None
    sample: float | None = None
    sample_seed: int = 0
    sample_scan_count: int = 1000
    sample_census_bytes: int | None = 64 << 10
    guard_seconds: float = 300.0
    guard_bytes: int = 4 << 30

    def __post_init__(self) -> None:
        if not isinstance(self.batch, int) or not 1 <= self.batch <= 100_000:
            raise bad_option("batch", self.batch, "an integer from 1 to 100000")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 1):
            raise bad_option("limit", self.limit, "None or a positive integer")
        if self.overlap is not None and not isinstance(self.overlap, bool):
            raise bad_option("overlap", self.overlap, "None, True or False")
        if self.max_contents_bytes is not None and (
            not isinstance(self.max_contents_bytes, int) or self.max_contents_bytes < 1
        ):
            raise bad_option("max_contents_bytes", self.max_contents_bytes,
                             "None or a positive integer")
        if self.memory_samples is not None and (
            not isinstance(self.memory_samples, int) or self.memory_samples < 0
        ):
            raise bad_option("memory_samples", self.memory_samples, "None or an integer >= 0")
        self._check_sampling()
        for name in ("scan_count", "sample_scan_count", "guard_bytes", "decompress_cap",
                     "head_bytes", "max_members_per_call", "max_hash_fields",
                     "max_fetch_bytes", "server_clip_bytes", "max_field_bytes",
                     "max_key_bytes", "max_batch_bytes",
                     "max_edges_per_parent", "max_metadata_columns"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise bad_option(name, value, "a positive integer")

    def _check_sampling(self) -> None:
        sample = self.sample
        if sample is not None and (isinstance(sample, bool) or
                                   not isinstance(sample, (int, float)) or
                                   not 0 < sample <= 1):
            raise bad_option("sample", sample, "None or a fraction with 0 < sample <= 1")
        if isinstance(self.sample_seed, bool) or not isinstance(self.sample_seed, int) or \
                not 0 <= self.sample_seed < 1 << 63:
            raise bad_option("sample_seed", self.sample_seed, "an integer >= 0")
        census = self.sample_census_bytes
        if census is not None and (isinstance(census, bool) or not isinstance(census, int)
                                   or census < 1):
            raise bad_option("sample_census_bytes", census, "None or a positive integer")
        guard = self.guard_seconds
        if isinstance(guard, bool) or not isinstance(guard, (int, float)) or not guard > 0:
            raise bad_option("guard_seconds", guard, "a positive number of seconds")
