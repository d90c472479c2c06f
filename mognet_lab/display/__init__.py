"""Rich notebook displays (``_repr_html_``) and informative ``__repr__`` texts.

Presentation only: views read a snapshot's frames (or, for :class:`ValueView`,
one value through the reader, on request). ``_repr_html_`` returns escaped
markup without JavaScript and never displays anything itself. Importing this
package loads neither IPython, ipywidgets nor matplotlib.
"""

from .result import ResultView
from .value import ExceptionInfo, ValueView, load_value
from .views import ServerInfo, findings_html, lab_html, snapshot_html, snapshot_text

__all__ = ["ExceptionInfo", "ResultView", "ServerInfo", "ValueView", "findings_html",
           "lab_html", "load_value", "snapshot_html", "snapshot_text"]
