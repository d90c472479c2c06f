"""Entry points: :func:`connect` -> :class:`Lab` -> :meth:`Lab.scan`, :func:`from_rdb`
(the same snapshot from an RDB dump) and :func:`discover_apps`."""

from __future__ import annotations

import dataclasses
import os
import uuid
import warnings
from typing import TYPE_CHECKING, Any, Sequence, overload

import pandas as pd

from .errors import AppNotFound, ScanTooLarge, ScanWarning, bad_option
from .keys import KEY_KINDS, MOGNET_SCAN_PATTERN, app_scan_pattern, split_app
from .reader import Node, has_keys, iter_keys, open_node, ping
from .reader.cluster import expand_cluster
from .reader.value import find_value, value_key
from .offline import looks_like_dump
from .scanner import scan_app
from .settings import ScanSettings
from .snapshot import Snapshot

if TYPE_CHECKING:
    from .dataset import Dataset
    from .analysis.preflight import Estimate
    from .display import ValueView
    from .offline import Thresholds

__all__ = ["Lab", "connect", "discover_apps", "from_rdb"]

# Count columns of discover_apps, one per key kind.
_KIND_COLUMNS = {"result": "results", "value": "values", "children": "children",
                 "metadata": "metadata", "state": "states", "unknown": "unknown"}
_APP_COLUMNS = ["app", "keys", *_KIND_COLUMNS.values()]


class Lab:
    """A read-only view of one Mognet app in one Redis.

    Create it with :func:`connect`; each :meth:`scan` reads the app afresh.
    """

    def __init__(self, nodes: tuple[Node, ...], app: str) -> None:
        self.nodes = nodes
        self.app = app

    @property
    def url(self) -> str:
        """Where the app lives, password censored."""
        return ", ".join(node.label for node in self.nodes)

    @overload
    def scan(self, *, progress: bool = ..., limit: int | None = ..., batch: int | None = ...,
             sample: float | None = ..., sample_seed: int | None = ..., full: bool = ...,
             settings: ScanSettings | None = ..., to: None = ...,
             part_keys: int | None = ..., buckets: int | None = ...) -> Snapshot: ...

    @overload
    def scan(self, *, progress: bool = ..., limit: int | None = ..., batch: int | None = ...,
             sample: float | None = ..., sample_seed: int | None = ..., full: bool = ...,
             settings: ScanSettings | None = ..., to: str | os.PathLike[str],
             part_keys: int | None = ..., buckets: int | None = ...) -> Dataset: ...

    def scan(self, *, progress: bool = True, limit: int | None = None,
             batch: int | None = None, sample: float | None = None,
             sample_seed: int | None = None, full: bool = False,
             settings: ScanSettings | None = None,
             to: str | os.PathLike[str] | None = None, part_keys: int | None = None,
             buckets: int | None = None) -> Snapshot | Dataset:
        """Read every key of the app into a :class:`~mognet_lab.Snapshot`.

        Parameters
        ----------
        progress
            Show a tqdm bar (a widget in Jupyter, text in a terminal).
        limit
            Stop after this many keys; the snapshot is then marked incomplete.
        batch
            At most this many keys per pipelined round trip (default 1000).
        sample
            Read only this fraction of the app (e.g. ``0.01``): results chosen
            by a hash of their id, each with its whole family; every total an
            analysis gives is then an estimate with a 95% interval.
        sample_seed
            Another seed picks another sample (default 0: the same ids every time).
        full
            Scan even when the pre-flight expects the scan to exceed
            ``settings.guard_seconds`` or ``settings.guard_bytes``.
        settings
            Further options (:class:`~mognet_lab.ScanSettings`); ``limit``,
            ``batch``, ``sample`` and ``sample_seed``, when given here, override
            its values.
        to
            Write the scan to this dataset directory instead (Parquet, bounded
            memory whatever the keyspace) and return it opened
            (:func:`~mognet_lab.open_dataset`); an unfinished scan there is
            resumed if the server is the same process. A dataset holds every
            key: no ``sample``, and no size guard (its memory stays bounded).
        part_keys, buckets
            With ``to``: keys per part written while scanning, and partitions
            of the finished frames (see :func:`mognet_lab.dataset.scan_to_dataset`).

        Raises
        ------
        ScanTooLarge
            A full scan (no ``sample``, no ``full=True``, no ``to``) the
            pre-flight expects to take longer than ``guard_seconds`` or more
            client memory than ``guard_bytes``; the message suggests a sample
            fraction.

        Warns
        -----
        ScanWarning
            Once per caveat about the figures, also kept in the snapshot's
            ``provenance.warnings``: another app's keys nested under this
            app's prefix, or a Redis below 7.2 evicting by LRU/LFU (the scan
            refreshed every key's access time: scan a replica).
        """
        from .analysis.scan_warnings import scan_warnings

        chosen = settings or ScanSettings()
        overrides: dict[str, Any] = {name: value for name, value in
                                     (("limit", limit), ("batch", batch), ("sample", sample),
                                      ("sample_seed", sample_seed)) if value is not None}
        if overrides:
            chosen = dataclasses.replace(chosen, **overrides)
        if to is not None:
            from .dataset import open_dataset, scan_to_dataset

            if chosen.sample is not None:
                raise bad_option("sample", chosen.sample, "None with to= (a dataset holds "
                                 "every key; sample into memory instead)")
            return open_dataset(scan_to_dataset(self.nodes, self.app, chosen, url=self.url, to=to,
                                                progress=progress, part_keys=part_keys,
                                                buckets=buckets))
        if not full and chosen.sample is None:
            self._guard(chosen)
        snapshot = scan_app(self.nodes, self.app, chosen, url=self.url, progress=progress)
        # with_warnings keeps each sentence once, should the scanner have added it too.
        snapshot = snapshot.with_warnings(scan_warnings(snapshot))
        for text in snapshot.warnings:
            warnings.warn(f"{self.app}: {text}", ScanWarning, stacklevel=2)
        return snapshot

    def estimate(self, *, seconds: float = 2.0) -> Estimate:
        """What a scan of the app would find and cost, within seconds, before any scan.

        Reads what each server tells for free (``INFO keyspace``/``memory``,
        ``DBSIZE``, on Redis 8 ``INFO keysizes``) and walks SCAN for about
        ``seconds``: the part of the hash table walked is a hash sample of
        the keys, so the app's share of it estimates the app's keys.

        Parameters
        ----------
        seconds
            How long the partial SCAN walk may take on each node, at most.

        Returns
        -------
        mognet_lab.analysis.preflight.Estimate
            Keys of the app (estimate and 95% interval), expected scan time
            and client memory, the db's keys, keys with a TTL and memory.
        """
        from .analysis.preflight import Estimate
        from .reader.preflight import preflight

        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or \
                not 0 < seconds <= 60:
            raise bad_option("seconds", seconds, "a number of seconds from 0 to 60")
        walks = [preflight(node, self.app, seconds=float(seconds)) for node in self.nodes]
        return Estimate(self.app, walks)

    def _guard(self, settings: ScanSettings) -> None:
        """Refuse a full scan the pre-flight expects to be too large (cheap when small)."""
        from .analysis.preflight import Estimate, guard_message
        from .reader.preflight import db_keys, preflight

        if settings.limit is not None and Estimate.fits(settings.limit, settings):
            return  # a limited scan reads no more than that
        if Estimate.fits(sum(db_keys(node) for node in self.nodes), settings):
            return  # even every key of the db would fit: no walk needed
        estimate = Estimate(self.app, [preflight(node, self.app, seconds=1.0)
                                       for node in self.nodes])
        message = guard_message(estimate, settings)
        if message is not None:
            raise ScanTooLarge(message)

    def close(self) -> None:
        """Release the connections mognet_lab opened."""
        for node in self.nodes:
            node.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def value(self, result_id: str | uuid.UUID, *, max_bytes: int = 1_000_000) -> ValueView:
        """Read one result's stored value now and decode it (JSON; never unpickled).

        Parameters
        ----------
        result_id
            The result's full id.
        max_bytes
            Read, decompress and show at most this many bytes. A larger value
            is shown as the start of its text, not parsed; its size is asked
            first and no more than about ``max_bytes`` of it is transferred
            (on Redis before 7.0, which cannot send part of a field, a value
            stored in more than ``max_bytes`` is reported with its size only).
        """
        from .display.value import decode_stored_value

        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
            raise bad_option("max_bytes", max_bytes, "a positive integer")
        wanted = _canonical_id(result_id)
        fields = find_value(self.nodes, self.app, wanted, max_bytes=max_bytes)
        return decode_stored_value(wanted, value_key(self.app, wanted), fields,
                                   max_bytes=max_bytes)

    def _repr_html_(self) -> str:
        from .views import lab_page, render_html

        return render_html(lab_page(self))

    def __repr__(self) -> str:
        return f"<Lab app={self.app!r} url={self.url!r} nodes={len(self.nodes)}>"


def _canonical_id(result_id: object) -> str:
    try:
        return str(result_id if isinstance(result_id, uuid.UUID) else uuid.UUID(str(result_id)))
    except ValueError:
        raise bad_option("result_id", result_id, "a result's full id (a UUID); "
                         "snapshot.result(prefix).value(lab) also takes a prefix") from None


def connect(url_or_client: Any, *, app: str, check: bool = True,
            replicas: bool = False) -> Lab:
    """Connect to a Redis holding a Mognet app.

    Parameters
    ----------
    url_or_client
        ``redis://[user:password@]host:port/db`` (``rediss://`` for TLS), or a
        ``redis.Redis`` client (it is not modified: mognet_lab opens its own pool).
        A list of them reads several servers as one keyspace; a key found on more
        than one counts once. A Redis Cluster node stands for the whole cluster:
        every primary is read.
    app
        The Mognet app's name (the ``{app}`` in ``{app}.mognet.result.*``).
    check
        Ping the servers, find a Redis Cluster's primaries, and raise
        :class:`~mognet_lab.errors.AppNotFound` (naming the apps that exist)
        when none holds a key of the app.
    replicas
        Read each server's replica instead (a Redis Cluster: each primary's; a
        plain primary: its first online replica), so that the scan adds no load
        to the servers Mognet writes to. A primary without a replica that
        answers is read itself, with a :class:`~mognet_lab.ScanWarning`.
        Needs ``check=True``.
    """
    if not isinstance(app, str) or not app:
        raise bad_option("app", app, "the Mognet app's name, a non-empty string")
    sources = list(url_or_client) if isinstance(url_or_client, (list, tuple)) else \
        [url_or_client]
    if not sources:
        raise bad_option("url_or_client", url_or_client, "at least one URL or client")
    opened = [open_node(source) for source in sources]
    try:
        if check:
            for node in opened:
                ping(node)
        # check=False sends nothing now: a Cluster is then read as the nodes given.
        if replicas and not check:
            raise bad_option("replicas", replicas, "False when check=False (finding a "
                             "replica needs to ask the server)")
        lab = Lab(expand_cluster(opened, replicas=replicas) if check else tuple(opened), app)
    except Exception:
        for node in opened:
            node.close()
        raise
    if check:
        try:
            _require_app(lab.nodes, app)
        except Exception:
            lab.close()
            raise
    return lab


def _require_app(nodes: tuple[Node, ...], app: str) -> None:
    if any(has_keys(node, app_scan_pattern(app)) for node in nodes):
        return
    counts = pd.concat([_count_apps(node, progress=False) for node in nodes])
    # Most keys first, as discover_apps lists them.
    totals = counts.groupby("app", sort=False)["keys"].sum()
    known = sorted(totals.index, key=lambda name: (-int(totals[name]), name))
    hint = f"apps found: {', '.join(repr(a) for a in known[:10])}" if known else \
        "no Mognet keys at all in this database (is the db number in the URL right?)"
    where = ", ".join(node.label for node in nodes)
    raise AppNotFound(f"No keys of Mognet app {app!r} at {where}; {hint}.",
                      app=app, known_apps=known)


def discover_apps(url_or_client: Any, *, progress: bool = False) -> pd.DataFrame:
    """Which Mognet apps live in this Redis (or RDB dump), with key counts by kind.

    One SCAN over ``*.mognet.*`` (for the path of an RDB dump: one pass over
    the file, database 0); columns ``app``, ``keys``, ``results``,
    ``values``, ``children``, ``metadata``, ``states`` and ``unknown`` are
    counts, largest app first.
    """
    if _is_dump(url_or_client):
        from .offline import dump_apps

        return dump_apps(url_or_client, progress=progress)
    nodes = expand_cluster([open_node(url_or_client)])  # a Cluster: every primary
    try:
        for node in nodes:
            ping(node)
        counts = [_count_apps(node, progress=progress) for node in nodes]
    finally:
        for node in nodes:
            node.close()
    if len(counts) == 1:
        return counts[0]
    totals = pd.concat(counts).groupby("app", sort=False, as_index=False).sum()
    return totals.sort_values(["keys", "app"], ascending=[False, True], ignore_index=True)


def _is_dump(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike)) and not str(source).startswith(
        ("redis://", "rediss://", "unix://")) and looks_like_dump(source)


@overload
def from_rdb(path: str | os.PathLike[str], *, app: str, progress: bool = ...,
             settings: ScanSettings | None = ..., db: int = ..., allocator: str = ...,
             thresholds: Thresholds | None = ..., to: None = ...,
             part_keys: int | None = ..., buckets: int | None = ...) -> Snapshot: ...


@overload
def from_rdb(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *, app: str,
             progress: bool = ..., settings: ScanSettings | None = ..., db: int = ...,
             allocator: str = ..., thresholds: Thresholds | None = ...,
             to: str | os.PathLike[str], part_keys: int | None = ...,
             buckets: int | None = ...) -> Dataset: ...


def from_rdb(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *, app: str,
             progress: bool = True, settings: ScanSettings | None = None, db: int = 0,
             allocator: str = "jemalloc", thresholds: Thresholds | None = None,
             to: str | os.PathLike[str] | None = None, part_keys: int | None = None,
             buckets: int | None = None) -> Snapshot | Dataset:
    """Read every key of ``app`` from an RDB dump into a :class:`~mognet_lab.Snapshot`.

    Sends nothing to any Redis: the dump (``dump.rdb``, a backup, a replica's
    dump) is streamed in bounded memory and keys of other apps or databases
    are left out.
    The frames have the schemas and cells of a live :meth:`Lab.scan`; what a
    dump does not hold is modelled and said so: ``memory_bytes`` (a
    per-encoding model of ``MEMORY USAGE``, :mod:`mognet_lab.offline.memory_model`;
    ``provenance.memory_source`` is ``"rdb_model"``), TTLs counted from the
    dump's creation time (also ``provenance.scanned_at``), and a ``server``
    frame with only the Redis version and the used memory at save time.

    Parameters
    ----------
    path
        The RDB file. Needs the ``[rdb]`` extra: ``pip install 'mognet-lab[rdb]'``
        (Python 3.10+).
    app
        The Mognet app's name.
    progress
        Show a tqdm bar.
    settings
        The byte bounds of a live scan (:class:`~mognet_lab.ScanSettings`),
        applied alike; ``limit`` stops after that many of the app's keys.
    db
        The database whose keys are read (a Redis URL's ``/N``).
    allocator
        How the server's malloc rounds sizes (a dump does not say):
        ``"jemalloc"`` (default: Redis' own build, as in official packages,
        Docker images and most managed services), ``"jemalloc-16"`` (a
        distribution's shared jemalloc, e.g. Debian's ``redis-server``) or
        ``"libc"`` (``INFO memory`` says ``mem_allocator:libc``).
    thresholds
        The server's ``hash-max-listpack-*`` / ``set-max-*`` settings, where
        they are not Redis' defaults (a dump does not record them), as a
        :class:`mognet_lab.offline.Thresholds`.
    to
        Write the app's keys to this dataset directory instead (new or empty)
        and return it opened (:func:`~mognet_lab.open_dataset`): ``path`` may
        then be a list of dumps (several nodes', or several days'), read one
        after another, a key in two of them kept once.
    part_keys, buckets
        With ``to``: as for :meth:`Lab.scan`.

    Raises
    ------
    BadDump
        Not an RDB file, truncated, corrupt, or of an RDB version the parser
        does not know.
    AppNotFound
        No key of ``app`` in the dump (the message names the apps it holds).
    MissingExtra
        ``rdb-py`` is not installed.
    """
    from .analysis.scan_warnings import nested_app_warnings
    from .offline import snapshot_from_dump

    if to is not None:
        from .dataset import open_dataset
        from .dataset.dump import dumps_to_dataset

        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        return open_dataset(dumps_to_dataset(paths, app, to=to, settings=settings,
                                             progress=progress, db=db, allocator=allocator,
                                             thresholds=thresholds, part_keys=part_keys,
                                             buckets=buckets))
    if not isinstance(path, (str, os.PathLike)):
        raise bad_option("path", path, "one RDB file (several dumps go to a dataset: to=DIR)")

    snapshot = snapshot_from_dump(path, app=app, progress=progress, settings=settings, db=db,
                                  allocator=allocator, thresholds=thresholds)
    snapshot = snapshot.with_warnings(nested_app_warnings(snapshot.keys, app))
    for text in snapshot.warnings:
        warnings.warn(f"{app}: {text}", ScanWarning, stacklevel=2)
    return snapshot


def _count_apps(node: Node, *, progress: bool) -> pd.DataFrame:
    from .progress import progress_bar

    counts: dict[str, dict[str, int]] = {}
    bar = progress_bar(progress, desc="Finding apps")
    for keys in iter_keys(node, MOGNET_SCAN_PATTERN, count=1000, seen=set()):
        for key in keys:
            found = split_app(key)
            if found is not None:
                app_counts = counts.setdefault(found[0], dict.fromkeys(KEY_KINDS, 0))
                app_counts[found[1]] += 1
        bar.update(len(keys))
    bar.close()
    rows = [{"app": app, "keys": sum(c.values()), **{_KIND_COLUMNS[k]: n for k, n in c.items()}}
            for app, c in counts.items()]
    frame = pd.DataFrame(rows, columns=_APP_COLUMNS)
    frame = frame.astype({c: "Int64" for c in _APP_COLUMNS[1:]}).astype({"app": "string"})
    return frame.sort_values(["keys", "app"], ascending=[False, True], ignore_index=True)
