"""The embedded demo: a private Redis filled with a realistic Mognet workload.

:class:`Demo` keeps its server running (for notebooks, dashboards with a
Refresh button) until :meth:`Demo.stop` or interpreter exit;
:func:`demo_snapshot` starts one, scans it and cleans up in a single call.
"""

from __future__ import annotations

from ..embedded import EmbeddedRedis
from ..lab import Lab, connect
from ..snapshot import Snapshot
from .workload import Workload, WorkloadSummary, write_workload

__all__ = ["Demo", "demo_snapshot"]


class Demo:
    """A running demo: ``.url``, ``.app``, ``.lab`` and what was written (``.written``).

    Use as a context manager, or call :meth:`stop` (it also stops at exit).
    """

    def __init__(self, *, results: int = 2000, seed: int = 1, app: str = "demo") -> None:
        self.workload = Workload(app=app, results=results, seed=seed)
        self._server = EmbeddedRedis().start()
        try:
            self.written: WorkloadSummary = write_workload(self._server, self.workload)
            self.lab: Lab = connect(self._server.url, app=app)
        except BaseException:
            self._server.stop()
            raise

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def app(self) -> str:
        return self.workload.app

    def scan(self, *, progress: bool = True) -> Snapshot:
        """Scan the demo app."""
        return self.lab.scan(progress=progress)

    def stop(self) -> None:
        """Close the connections and stop the private Redis."""
        self.lab.close()
        self._server.stop()

    def __enter__(self) -> Demo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Demo app={self.app!r} url={self.url!r} results={self.workload.results}>"


def demo_snapshot(*, results: int = 2000, seed: int = 1, progress: bool = True) -> Snapshot:
    """Start a demo Redis, write the workload, scan it, stop the server: one call.

    Parameters
    ----------
    results
        How many Mognet results the workload holds (about 2.2 keys each).
    seed
        The workload is deterministic for a given seed.
    progress
        Show a progress bar while scanning.
    """
    with Demo(results=results, seed=seed) as demo:
        return demo.scan(progress=progress)
