"""One result's stored value, decoded safely and shown (``Lab.value`` reads it).

:meth:`Lab.value <mognet_lab.Lab.value>` reads the value through the reader;
this package decodes it (never unpickling) and renders it with
:mod:`mognet_lab.views`, like every other view.
"""

from .value import ExceptionInfo, ValueView

__all__ = ["ExceptionInfo", "ValueView"]
