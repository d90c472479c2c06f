"""The dashboard's error banner: one wording for every message, and its markup.

Every exception a widget callback raises ends here instead of in the kernel's
log. A :class:`~mognet_lab.MognetLabError` (or a lookup of something not in
the scan) is a condition the user can act on: its message is shown as it
is. Anything else is a defect of mognet_lab: the banner says so and folds
its traceback away below. No message starts with a Python class name.
"""

from __future__ import annotations

import traceback

from ..errors import MognetLabError
from ..views import html as h

__all__ = ["RefreshFailed", "banner_html", "banner_message", "error_detail", "sentence"]

# Conditions a user can act on (a LookupError: an id not in this scan).
EXPECTED = (MognetLabError, LookupError)
_STYLE = ("border:1px solid #c62828;background:#fdecea;color:#611a15;"
          "padding:4px 8px;margin:4px 0;border-radius:3px")


class RefreshFailed(MognetLabError):
    """Refresh could not scan again; the dashboard still shows the previous scan."""


def sentence(text: str) -> str:
    """``text`` ending with a full stop (or the ``!``/``?`` it has)."""
    return text if text.endswith((".", "!", "?")) else f"{text}."


def banner_message(exc: BaseException, where: str = "") -> str:
    """The error banner's text for ``exc``: its message, never a Python class name first.

    Parameters
    ----------
    exc
        What a callback raised.
    where
        Which part of the page failed (``"Memory, top keys: "``), or nothing.
    """
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    text = text.strip() or "no message"
    if not isinstance(exc, EXPECTED):  # a defect, not a condition to act on
        text = f"{sentence(text)} (an unexpected {type(exc).__name__}: the traceback below " \
               "says where; please report it)"
    return f"{where}{text}"


def error_detail(exc: BaseException) -> str:
    """The traceback a defect's banner folds away; nothing for an expected condition.

    A failed Refresh is judged by what made the scan fail.
    """
    cause = exc.__cause__ if isinstance(exc, RefreshFailed) and exc.__cause__ else exc
    if isinstance(cause, EXPECTED):
        return ""
    return "".join(traceback.format_exception(type(cause), cause, cause.__traceback__))


def banner_html(errors: list[str], detail: str = "") -> str:
    """The banner's markup: one escaped line per message, then the folded traceback."""
    lines = "".join(f"<div>&#9888; {h.esc(e)}</div>" for e in errors)
    trace = f"<details><summary>traceback</summary>{h.pre(detail)}</details>" if detail else ""
    return f'<div style="{_STYLE}">{lines}{trace}</div>'
