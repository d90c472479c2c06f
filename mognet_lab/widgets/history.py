"""The dashboard's History tab: memory over time of saved snapshots, with the forecast line.

Shown when the dashboard is given a :class:`~mognet_lab.History`. The history
does not change with Refresh (it is what was saved), so the tab is drawn once,
the first time it is shown, from the same section the report prints
(:func:`mognet_lab.views.history.history_section`).
"""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as widgets

from .. import charts
from ..history import History
from ..views import html as h
from ..views.history import history_section
from .charts import ChartView

__all__ = ["HistoryTab"]

TITLE = "History"


class HistoryTab:
    """Two charts (memory by kind, by task) over time and the figures of every scan.

    Attributes
    ----------
    widget : ipywidgets.VBox
    charts : dict of str to ChartView
    """

    def __init__(self, history: History) -> None:
        self.history = history
        self.charts = {by: ChartView(charts.memory_over_time, by=by) for by in ("kind", "task")}
        self.figures_html = widgets.HTML(layout=widgets.Layout(max_width="100%",
                                                               overflow="auto"))
        self.drawn = False
        self.widget = widgets.VBox([self.charts["kind"].output, self.charts["task"].output,
                                    self.figures_html])

    def draw(self) -> None:
        """Draw the charts and the table, once."""
        if self.drawn:
            return
        section = history_section(self.history)
        # The charts are drawn by the ChartViews above (one PNG each), not in the HTML.
        self.figures_html.value = h.fragment(h.section_html(replace(section, charts=())))
        if len(self.history):
            for view in self.charts.values():
                view.draw(self.history)
        self.drawn = True
