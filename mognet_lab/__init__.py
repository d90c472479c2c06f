"""mognet_lab: a Mognet app's Redis keyspace as pandas DataFrames, read-only.

>>> import mognet_lab
>>> lab = mognet_lab.connect("redis://localhost:6379/0", app="my_app")  # doctest: +SKIP
>>> snapshot = lab.scan()                                               # doctest: +SKIP
>>> snapshot.results.groupby("state").size()                            # doctest: +SKIP

Importing the package loads neither matplotlib.pyplot, ipywidgets nor IPython.
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
