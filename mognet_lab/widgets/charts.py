"""Charts inside ``ipywidgets.Output``: one pyplot-free Figure per change, shown once.

A :class:`ChartView` calls a :mod:`mognet_lab.charts` function (which draws
on a new :class:`matplotlib.figure.Figure` that pyplot never sees), renders
it as PNG (:func:`mognet_lab.views.html.figure_png`, as the report does) and
*replaces* the Output's outputs with that one image. Replacing the
``outputs`` tuple in one assignment is "clear, then display" without a
moment where both the old and the new figure show, and it works from widget
callbacks and background threads alike (``with output: display(...)`` relies
on the kernel's current message). Nothing is registered with pyplot, so
there is no figure to close: the previous Figure is simply dropped.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, cast

import ipywidgets as widgets
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..views.html import figure_png as png_bytes

__all__ = ["ChartView", "figure_output", "figure_png"]

ChartFunction = Callable[..., Axes]


def figure_png(figure: Figure) -> str:
    """``figure`` as base64 PNG, by the one figure-to-PNG path of every view."""
    return base64.b64encode(png_bytes(figure)).decode("ascii")


def figure_output(figure: Figure) -> dict[str, Any]:
    """The ``display_data`` output (nbformat) that shows ``figure`` once."""
    width, height = figure.get_size_inches() * figure.dpi
    return {"output_type": "display_data",
            "data": {"image/png": figure_png(figure),
                     "text/plain": f"<Figure size {width:.0f}x{height:.0f} with "
                                   f"{len(figure.axes)} Axes>"},
            "metadata": {}}


class ChartView:
    """One chart in its own ``ipywidgets.Output``, redrawn only when asked.

    Parameters
    ----------
    chart
        A :mod:`mognet_lab.charts` function: ``chart(data, *, ax=None, **options) -> Axes``.
    **options
        Keyword options passed on every draw (e.g. ``top=10``).

    Attributes
    ----------
    output : ipywidgets.Output
        Shows the last drawn figure (or the error that stopped the drawing).
    figure : matplotlib.figure.Figure or None
        The last figure drawn, e.g. to ``figure.savefig(path)``.
    draws : int
        How many figures this view has drawn.
    """

    def __init__(self, chart: ChartFunction, **options: Any) -> None:
        self.chart = chart
        self.options = options
        self.output = widgets.Output(layout=widgets.Layout(max_width="100%"))
        self.figure: Figure | None = None
        self.draws = 0

    def draw(self, data: Any, **options: Any) -> Figure:
        """Draw ``data`` on a new Figure and show it instead of the previous one."""
        self.options.update(options)
        try:
            figure = cast(Figure, self.chart(data, **self.options).figure)
            shown = figure_output(figure)
        except Exception as exc:
            self.output.outputs = ({"output_type": "stream", "name": "stderr",
                                    "text": f"{self.chart.__name__} failed: {exc}\n"},)
            self.figure = None
            raise
        self.output.outputs = (shown,)
        self.figure, self.draws = figure, self.draws + 1
        return figure

    def clear(self) -> None:
        self.output.outputs = ()
        self.figure = None
