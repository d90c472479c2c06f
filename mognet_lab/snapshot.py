"""Snapshot: the frames of one scan and where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

import pandas as pd

from .schemas import FRAME_NAMES, conform, empty_frame
from .settings import ScanSettings

__all__ = ["Provenance", "Snapshot"]


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

    def __repr__(self) -> str:
        p = self.provenance
        sizes = ", ".join(f"{name}={len(self.frames[name])}" for name in FRAME_NAMES
                          if name != "server")
        partial = "" if p.complete else ", partial"
        return (f"<Snapshot app={p.app!r} url={p.url!r} at {p.scanned_at:%Y-%m-%d %H:%M:%S}Z: "
                f"{sizes}{partial}>")


def _version() -> str:
    from ._version import __version__

    return __version__
