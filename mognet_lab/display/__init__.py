"""One result's stored value, read on request and decoded safely (``Lab.value``).

Rendering comes from :mod:`mognet_lab.views`, like every other view.
"""

from .value import ExceptionInfo, ValueView, load_value

__all__ = ["ExceptionInfo", "ValueView", "load_value"]
