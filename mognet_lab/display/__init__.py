"""Rich notebook displays (``_repr_html_``) and informative ``__repr__`` texts.

Presentation only: views read a snapshot's frames (or, for :class:`ValueView`,
one value that :meth:`Lab.value <mognet_lab.Lab.value>` read through the reader).
``_repr_html_`` returns escaped markup without JavaScript and never displays
anything itself. Importing this
package loads neither IPython, ipywidgets nor matplotlib.
"""

from .result import ResultView
from .value import ExceptionInfo, ValueView
from .views import ServerInfo, findings_html, lab_html, snapshot_html, snapshot_text

__all__ = ["ExceptionInfo", "ResultView", "ServerInfo", "ValueView", "findings_html",
           "lab_html", "snapshot_html", "snapshot_text"]
