"""One memo of analyses per snapshot: each analysis runs once per snapshot and options.

A :class:`~mognet_lab.Snapshot` never changes after it is built, so an
analysis of it gives the same frame every time. :func:`memoized` keeps that
frame in the snapshot's private ``_cache`` on first use; every view (report,
reprs, CLI summary, dashboard) asks the same memo, so one rendering never
runs an analysis twice and the views cannot disagree. Callers get a copy:
changing a returned frame never changes what the next caller sees. The
frames of a snapshot are not to be changed in place either (the memo would
not know): build a new one with :meth:`Snapshot.from_frames`, as redaction does.
"""

from __future__ import annotations

import copy
import functools
import inspect
from typing import Any, Callable, TypeVar, cast

import pandas as pd

__all__ = ["memoized"]

F = TypeVar("F", bound=Callable[..., Any])


def _key(function: Callable[..., Any], bound: inspect.BoundArguments) -> tuple[Any, ...]:
    """The function and its arguments as given or defaulted (``by="kind"`` == ``"kind"``)."""
    options = tuple(item for item in bound.arguments.items())[1:]  # the snapshot is the cache
    key = (function.__module__, function.__qualname__, options)
    try:
        hash(key)
    except TypeError:  # lists of scenarios (what_if): their text is their identity
        return (function.__module__, function.__qualname__, repr(options))
    return key


def _copy(value: Any) -> Any:
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy()
    return value if isinstance(value, (int, float, str, pd.Index)) else copy.deepcopy(value)


def memoized(function: F) -> F:
    """``function(snapshot, ...)`` computed once per snapshot and arguments.

    Objects without a ``_cache`` (anything but a Snapshot) are computed
    every time.
    """
    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(snapshot: Any, *args: Any, **kwargs: Any) -> Any:
        cache = getattr(snapshot, "_cache", None)
        if not isinstance(cache, dict):
            from .on_dataset import check_runs_on_datasets

            check_runs_on_datasets(function.__name__, snapshot)
            return function(snapshot, *args, **kwargs)
        bound = signature.bind(snapshot, *args, **kwargs)
        bound.apply_defaults()
        key = _key(function, bound)
        if key not in cache:
            cache[key] = function(snapshot, *args, **kwargs)
        return _copy(cache[key])
    return cast(F, wrapper)
