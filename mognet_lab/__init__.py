"""mognet_lab: a Mognet app's Redis keyspace as pandas DataFrames, read-only.

>>> import mognet_lab
>>> lab = mognet_lab.connect("redis://localhost:6379/0", app="my_app")  # doctest: +SKIP
>>> snapshot = lab.scan()                                               # doctest: +SKIP
>>> snapshot.results.groupby("state").size()                            # doctest: +SKIP

Importing the package loads neither matplotlib.pyplot, ipywidgets nor IPython;
``mognet_lab.Dashboard`` (the interactive dashboard) loads ipywidgets on first use.
"""

from ._version import __version__
from .errors import (
    AccessDenied,
    AppNotFound,
    BadOption,
    EmbeddedRedisError,
    InvalidURL,
    MognetLabError,
    NotReadOnly,
    RedisUnavailable,
    TLSFailed,
)
from .lab import Lab, connect, discover_apps
from .schemas import FRAME_NAMES, SCHEMAS
from .settings import ScanSettings
from .snapshot import Provenance, Snapshot

__all__ = [
    "__version__",
    "AccessDenied",
    "AppNotFound",
    "BadOption",
    "EmbeddedRedisError",
    "FRAME_NAMES",
    "InvalidURL",
    "Lab",
    "MognetLabError",
    "NotReadOnly",
    "Provenance",
    "RedisUnavailable",
    "SCHEMAS",
    "ScanSettings",
    "Snapshot",
    "TLSFailed",
    "connect",
    "discover_apps",
]


def __getattr__(name: str) -> object:
    # mognet_lab.Dashboard imports ipywidgets, so it loads on first use, not with the
    # package; it stays out of __all__ so that `from mognet_lab import *` does not load it.
    if name == "Dashboard":
        from .widgets import Dashboard

        return Dashboard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "Dashboard"])
