"""mognet_lab: a Mognet app's Redis keyspace as pandas DataFrames, read-only.

>>> import mognet_lab
>>> lab = mognet_lab.connect("redis://localhost:6379/0", app="my_app")  # doctest: +SKIP
>>> snapshot = lab.scan()                                               # doctest: +SKIP
>>> snapshot.results.groupby("state").size()                            # doctest: +SKIP
>>> offline = mognet_lab.from_rdb("dump.rdb", app="my_app")               # doctest: +SKIP

Importing the package loads neither matplotlib.pyplot, ipywidgets nor IPython;
``mognet_lab.Dashboard`` (the interactive dashboard) and ``mognet_lab.Report``
load ipywidgets and matplotlib on first use.
"""

from ._version import __version__
from .compare import Comparison, compare
from .errors import (
    AccessDenied,
    AppNotFound,
    BadDump,
    BadOption,
    EmbeddedRedisError,
    InvalidURL,
    MognetLabError,
    NotReadOnly,
    NotRedis,
    ScanTooLarge,
    RedisUnavailable,
    ScanWarning,
    TLSFailed,
)
from .dataset import Dataset, open_dataset
from .history import History
from .lab import Lab, connect, discover_apps, from_rdb
from .schemas import FRAME_NAMES, SCHEMAS
from .settings import ScanSettings
from .snapshot import Provenance, Snapshot

__all__ = [
    "__version__",
    "AccessDenied",
    "AppNotFound",
    "BadDump",
    "BadOption",
    "Comparison",
    "Dataset",
    "EmbeddedRedisError",
    "FRAME_NAMES",
    "History",
    "InvalidURL",
    "Lab",
    "MognetLabError",
    "NotReadOnly",
    "NotRedis",
    "Provenance",
    "RedisUnavailable",
    "SCHEMAS",
    "ScanSettings",
    "ScanTooLarge",
    "ScanWarning",
    "Snapshot",
    "TLSFailed",
    "compare",
    "connect",
    "discover_apps",
    "from_rdb",
    "open_dataset",
]


# Presentation classes load on first use, not with the package (the dashboard
# imports ipywidgets, the report matplotlib); they stay out of __all__ so that
# `from mognet_lab import *` does not load them either.
_LAZY = {"Dashboard": "widgets", "Report": "report"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
