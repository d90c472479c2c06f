"""Snapshot: the frames of one scan and where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import pandas as pd

from .keys import KEY_KINDS
from .schemas import FRAME_NAMES, WEIGHT, conform, empty_frame
from .settings import ScanSettings

if TYPE_CHECKING:
    from pathlib import Path

    from .views import ResultView, ServerInfo
    from .widgets import Dashboard

__all__ = ["MEMORY_SOURCES", "Provenance", "Snapshot", "census_ids"]

# Where ``memory_bytes`` comes from: Redis' own MEMORY USAGE (a live scan), or the
# model of mognet_lab.offline.memory_model (a snapshot read from an RDB dump).
MEMORY_SOURCES = ("memory_usage", "rdb_model")


def census_ids(values: pd.DataFrame, census_bytes: int | None) -> pd.Index:
    """Result ids a sampled scan read whatever the hash: their value's contents hold at
    least ``census_bytes`` (``ScanSettings.sample_census_bytes``)."""
    if census_bytes is None or not len(values):
        return pd.Index([], dtype=object)
    large = (values["stored_bytes"] >= census_bytes).fillna(False).to_numpy(dtype=bool)
    return pd.Index(values.loc[large, "result_id"].dropna().astype(object).unique())


@dataclass(frozen=True)
class Provenance:
    """Which app, which server, when and how a snapshot was scanned."""

    app: str
    url: str  # password censored
    scanned_at: datetime
    duration_s: float
    settings: ScanSettings
    complete: bool  # False when `limit` stopped the scan early
    keys_read: int
    version: str
    # Caveats about the figures (nested apps, LRU touched), one sentence each.
    warnings: tuple[str, ...] = ()
    # "memory_usage" (MEMORY USAGE, live) or "rdb_model" (modelled from an RDB dump).
    memory_source: str = "memory_usage"
    # A sampled scan read this fraction of the app (None: every key), chosen by
    # sample_seed; population holds (kind, keys) of every key its walk counted.
    sample_fraction: float | None = None
    sample_seed: int | None = None
    population: tuple[tuple[str, int], ...] = ()

    @property
    def memory_modelled(self) -> bool:
        """Whether ``memory_bytes`` is modelled (read from an RDB dump), not measured."""
        return self.memory_source == "rdb_model"

    @property
    def sampled(self) -> bool:
        """Whether only a sample of the app's keys was read (figures are estimates)."""
        return self.sample_fraction is not None


@dataclass(frozen=True)
class Snapshot:
    """Every frame of one scan of a Mognet app.

    Attributes hold DataFrames with the columns declared in
    :mod:`mognet_lab.schemas`: ``results``, ``values``, ``keys``,
    ``children``, ``metadata``, ``states`` and ``server``.
    """

    frames: Mapping[str, pd.DataFrame]
    provenance: Provenance
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_frames(cls, *, app: str, scanned_at: datetime, url: str = "(in memory)",
                    complete: bool = True, **frames: pd.DataFrame | list[dict[str, Any]]
                    ) -> Snapshot:
        """A Snapshot from frames or lists of row dicts (missing frames are empty).

        Every frame is given its declared schema; derived columns are taken as
        given, not recomputed. Useful for loading saved data and for tests.
        """
        unknown = set(frames) - set(FRAME_NAMES)
        if unknown:
            from .errors import bad_option

            raise bad_option("frames", sorted(unknown), "names from " + ", ".join(FRAME_NAMES))
        built = {}
        for name in FRAME_NAMES:
            given = frames.get(name)
            if given is None or len(given) == 0:
                built[name] = empty_frame(name)
            else:
                built[name] = conform(name, given if isinstance(given, pd.DataFrame)
                                      else pd.DataFrame(list(given)))
            if WEIGHT in built[name].columns:  # rows given without weights: one key each
                built[name][WEIGHT] = built[name][WEIGHT].fillna(1.0)
        keys_read = len(built["keys"])
        provenance = Provenance(app=app, url=url, scanned_at=scanned_at, duration_s=0.0,
                                settings=ScanSettings(), complete=complete,
                                keys_read=keys_read, version=_version())
        return cls(built, provenance)

    def frame(self, name: str) -> pd.DataFrame:
        """The frame called ``name`` (one of :data:`mognet_lab.schemas.FRAME_NAMES`)."""
        if name not in FRAME_NAMES:
            from .errors import bad_option

            raise bad_option("frame", name, "one of " + ", ".join(FRAME_NAMES))
        return self.frames[name]

    @property
    def results(self) -> pd.DataFrame:
        return self.frames["results"]

    @property
    def values(self) -> pd.DataFrame:
        return self.frames["values"]

    @property
    def keys(self) -> pd.DataFrame:
        return self.frames["keys"]

    @property
    def children(self) -> pd.DataFrame:
        return self.frames["children"]

    @property
    def metadata(self) -> pd.DataFrame:
        return self.frames["metadata"]

    @property
    def states(self) -> pd.DataFrame:
        return self.frames["states"]

    @property
    def server(self) -> pd.DataFrame:
        return self.frames["server"]

    @property
    def app(self) -> str:
        return self.provenance.app

    @property
    def complete(self) -> bool:
        return self.provenance.complete

    @property
    def sampled(self) -> bool:
        """Whether the scan read only a sample (``provenance.sample_fraction``)."""
        return self.provenance.sampled

    @property
    def sample_fraction(self) -> float | None:
        """The fraction of the app's keys a sampled scan chose (``None``: a full scan)."""
        return self.provenance.sample_fraction

    @property
    def census(self) -> pd.Index:
        """Result ids a sampled scan read with their whole family whatever the hash (their
        value is large, see ``ScanSettings.sample_census_bytes``); empty for a full scan."""
        if not self.provenance.sampled:
            return pd.Index([], dtype=object)
        if "census" not in self._cache:
            self._cache["census"] = census_ids(self.values,
                                               self.provenance.settings.sample_census_bytes)
        return self._cache["census"]

    @property
    def population(self) -> dict[str, int]:
        """Keys of the app by kind (every kind, zeros too) as a sampled scan's walk counted
        them (exact); a full scan's keys by kind."""
        if self.provenance.sampled:
            return dict(self.provenance.population)
        counts = self.keys["kind"].astype(object).value_counts()
        return {**dict.fromkeys(KEY_KINDS, 0), **{str(kind): int(n) for kind, n in counts.items()}}

    @property
    def warnings(self) -> tuple[str, ...]:
        """Caveats about this scan's figures (``provenance.warnings``)."""
        return self.provenance.warnings

    def with_warnings(self, warnings: Sequence[str]) -> Snapshot:
        """This snapshot with ``warnings`` added to its provenance (each kept once)."""
        added = tuple(dict.fromkeys([*self.provenance.warnings, *warnings]))
        if added == self.provenance.warnings:
            return self
        return Snapshot(self.frames, replace(self.provenance, warnings=added))

    def result(self, result_id: str) -> ResultView:
        """One result (full id or a unique prefix of >= 8 characters); KeyError if absent."""
        from .views import ResultView

        return ResultView(self, result_id)

    def to_widget(self, *, page_size: int = 50) -> Dashboard:
        """This snapshot in an interactive :class:`~mognet_lab.widgets.Dashboard` (no Refresh)."""
        from .widgets import Dashboard

        return Dashboard(self, page_size=page_size)

    def server_info(self) -> ServerInfo:
        """The Redis server's memory, limits, policy and clients, as a rich view."""
        from .views import ServerInfo

        return ServerInfo(self)

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save to a directory of Parquet files (see :func:`mognet_lab.persist.save_snapshot`)."""
        from .persist import save_snapshot

        return save_snapshot(self, path, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        """Load a snapshot saved by :meth:`save` (see :func:`mognet_lab.persist.load_snapshot`)."""
        from .persist import load_snapshot

        return load_snapshot(path)

    # Doorways to the layers above, imported on use: views (reprs, one result, the
    # server), widgets (to_widget), persist (save/load). The layer test lists them.
    def _repr_html_(self) -> str:
        from .views import render_html, snapshot_page

        return render_html(snapshot_page(self))

    def __repr__(self) -> str:
        from .views import render_text, snapshot_page

        return render_text(snapshot_page(self))


def _version() -> str:
    from ._version import __version__

    return __version__
