"""The interactive dashboard (ipywidgets) and its static HTML fallback.

>>> from mognet_lab import Dashboard
>>> Dashboard(lab)             # doctest: +SKIP  (scans now; Refresh scans again)
>>> snapshot.to_widget()       # doctest: +SKIP  (a saved or earlier scan: no Refresh)

Importing this package imports ipywidgets and matplotlib (not pyplot);
``import mognet_lab`` imports neither.
"""

from __future__ import annotations

try:
    import ipywidgets as _ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "mognet_lab's dashboard needs ipywidgets (>= 8), which is not installed: run "
        "`pip install ipywidgets` (or `conda install ipywidgets`), restart the kernel and "
        "import again. Without widgets, snapshot._repr_html_() and mognet_lab.analysis work."
    ) from exc

from .dashboard import TAB_TITLES, Dashboard

__all__ = ["Dashboard", "TAB_TITLES"]
