"""One result's stored value, decoded safely and rendered (``Lab.value``).

The value is read by :mod:`mognet_lab.reader.value` (this module sends no
command); what is here is pure: fields in, a :class:`ValueView` out.

Decoding never unpickles: a failure's ``raw_data`` (a base64 pickle of the
exception) is only measured. Decompression output is capped at ``max_bytes``
(:mod:`mognet_lab.decode.gzipsize`), so a huge or hostile value costs at most
that much memory; a value over the cap is shown as text, not parsed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..decode.common import Problems, json_text_field, parse_json
from ..decode.gzipsize import measure_gzip
from ..format import EXCEPTION_INFO_TYPE, NOT_READY_NAME
from ..raw import Clipped
from ..views.cells import format_size, shorten
from ..views.html import render_html
from ..views.model import Fact, Page, Section
from ..views.text import render_text

__all__ = ["VALUE_VIEW_STATUSES", "ExceptionInfo", "ValueView", "decode_stored_value"]

# "value": decoded; "exception": a stored failure; "not_ready": Mognet's placeholder;
# "missing": no value key; "truncated": over max_bytes, not parsed; "unreadable": broken.
VALUE_VIEW_STATUSES = ("value", "exception", "not_ready", "missing", "truncated", "unreadable")
TEXT_CHARS = 2_000  # shown by __repr__
HTML_CHARS = 20_000  # shown by _repr_html_
_VALUE_TYPE = re.compile(r'"value_type"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ExceptionInfo:
    """A stored failure: what Mognet kept of the exception (the pickle is not loaded)."""

    name: str | None
    message: str | None
    traceback: str | None
    pickled_bytes: int | None  # size of ``raw_data``, the pickled exception

    def lines(self) -> list[tuple[str, str]]:
        pickled = "none" if self.pickled_bytes is None else \
            f"pickled exception, {self.pickled_bytes:,} bytes, not loaded"
        return [("exception", self.name or "-"), ("message", self.message or ""),
                ("raw_data", pickled)]


@dataclass(frozen=True, repr=False)
class ValueView:
    """A result's value as stored in ``{app}.mognet.result.{id}/value``.

    ``status`` is one of :data:`VALUE_VIEW_STATUSES`; ``value`` holds the
    decoded ``raw_value`` when it is ``"value"``; ``exception`` the failure's
    name, message and traceback; ``text`` the first ``max_bytes`` as text
    when the value was too large (``"truncated"``) or not JSON.
    """

    result_id: str
    key: str
    status: str
    max_bytes: int
    value: Any = None
    value_type: str | None = None
    exception: ExceptionInfo | None = None
    encoding: str | None = None
    content_type: str | None = None
    stored_bytes: int | None = None
    raw_bytes: int | None = None
    text: str | None = None
    error: str | None = None

    @property
    def truncated(self) -> bool:
        return self.status == "truncated"

    def _facts(self) -> list[tuple[str, str]]:
        facts = [("status", self.status), ("type", self.value_type or "-"),
                 ("encoding", self.encoding or "none"),
                 ("stored", format_size(self.stored_bytes)),
                 ("uncompressed", format_size(self.raw_bytes))]
        if self.exception is not None:
            facts += self.exception.lines()
        return facts + ([("note", self.error)] if self.error else [])

    def _body(self, limit: int) -> str:
        if self.status == "value":
            return shorten(json.dumps(self.value, indent=2, ensure_ascii=False, default=str),
                           limit)
        if self.exception is not None:
            return shorten(self.exception.traceback or "(no traceback stored)", limit)
        return shorten(self.text, limit) if self.text else ""

    def _page(self, limit: int) -> Page:
        title = f"Value of result {self.result_id}"
        if self.status == "missing":
            return Page(title, notes=("no value key (not finished, never started, or expired)",))
        body = self._body(limit)
        heading = "Traceback" if self.exception is not None else "Contents"
        facts = tuple(Fact(label, text) for label, text in self._facts())
        return Page(title, facts=facts,
                    sections=(Section("body", heading, blocks=(body,)),) if body else ())

    def __repr__(self) -> str:
        return render_text(self._page(TEXT_CHARS))

    def _repr_html_(self) -> str:
        return render_html(self._page(HTML_CHARS))


def _pickled_size(raw_data: Any) -> int | None:
    if not isinstance(raw_data, str):
        return None
    try:
        return len(base64.b64decode(raw_data))  # measured only, never unpickled
    except (binascii.Error, ValueError):
        return None


def _holder(view: dict[str, Any], document: Any) -> dict[str, Any]:
    """Fill ``view`` from the parsed ``{"value_type", "raw_value"}`` holder."""
    if not isinstance(document, dict) or "value_type" not in document:
        return {**view, "status": "unreadable", "error": "contents are not a Mognet value"}
    value_type, raw = document.get("value_type"), document.get("raw_value")
    view["value_type"] = value_type if isinstance(value_type, str) else str(value_type)
    if value_type != EXCEPTION_INFO_TYPE:
        return {**view, "status": "value", "value": raw}
    info = raw if isinstance(raw, dict) else {}
    name, message, trace = (None if info.get(k) is None else str(info[k])
                            for k in ("name", "message", "traceback"))
    exception = ExceptionInfo(name=name, message=message, traceback=trace,
                              pickled_bytes=_pickled_size(info.get("raw_data")))
    status = "not_ready" if exception.name == NOT_READY_NAME else "exception"
    return {**view, "status": status, "exception": exception}


def _uncompressed(contents: bytes | Clipped, encoding: str | None, max_bytes: int
                  ) -> tuple[bytes, int | None, str | None]:
    """``(first max_bytes uncompressed, uncompressed size or None, problem)``."""
    clipped = contents if isinstance(contents, Clipped) else None
    data: bytes = clipped.head if clipped is not None else contents  # type: ignore[assignment]
    if encoding is None:
        return data[:max_bytes], clipped.size if clipped else len(data), None
    if encoding != "gzip":
        return b"", None, f"unknown encoding {encoding!r:.40}: not decoded"
    size = measure_gzip(data, cap=max_bytes, head_bytes=max_bytes,
                        stored_size=clipped.size if clipped else None,
                        trailer=clipped.tail if clipped else None)
    return size.head, size.raw_bytes, size.error


def _too_large(result_id: str, key: str, max_bytes: int, view: dict[str, Any]) -> ValueView:
    """Contents over ``max_bytes`` on a server that cannot send part of them: size only."""
    size = view["stored_bytes"]
    raw = size if view["encoding"] is None else None
    note = (f"{size:,} bytes stored, more than max_bytes={max_bytes:,}: too large to show "
            "(Redis before 7.0 cannot send part of a field, so none of it was read)")
    return ValueView(result_id, key, "truncated", max_bytes, raw_bytes=raw,
                     **{**view, "error": note})


def _partial(result_id: str, key: str, max_bytes: int, view: dict[str, Any], head: bytes,
             raw_bytes: int | None, problem: str | None) -> ValueView:
    """Only the first bytes were decoded (the value is larger than ``max_bytes``)."""
    text = head.decode("utf-8", "replace")
    found = _VALUE_TYPE.search(text)
    size = "of unknown size" if raw_bytes is None else f"{raw_bytes:,} bytes uncompressed"
    note = (f"{size}, more than max_bytes={max_bytes:,}: only the first {len(head):,} are "
            "shown, not parsed") + (f" ({problem})" if problem else "")
    return ValueView(result_id, key, "truncated", max_bytes, text=text, raw_bytes=raw_bytes,
                     value_type=found[1] if found else None, **{**view, "error": note})


def decode_stored_value(result_id: str, key: str,
                        fields: Mapping[bytes, bytes | Clipped] | None, *,
                        max_bytes: int) -> ValueView:
    """Decode a value hash's fields into a :class:`ValueView`.

    Pure: never raises on bad data, never unpickles. ``fields`` is None when
    the key does not exist; ``contents`` may be a :class:`~mognet_lab.raw.Clipped`
    (as :func:`mognet_lab.reader.value.read_value` gives for contents over
    ``max_bytes``), whose head is then all that is decoded.
    """
    if fields is None:
        return ValueView(result_id, key, "missing", max_bytes)
    problems = Problems()
    encoding = json_text_field(fields, b"encoding", problems)  # type: ignore[arg-type]
    content_type = json_text_field(fields, b"content_type", problems)  # type: ignore[arg-type]
    contents = fields.get(b"contents")
    clipped = isinstance(contents, Clipped)
    stored = None if contents is None else \
        contents.size if isinstance(contents, Clipped) else len(contents)
    view: dict[str, Any] = {"encoding": encoding, "content_type": content_type,
                            "stored_bytes": stored, "error": problems.text()}
    if contents is None:
        return ValueView(result_id, key, "unreadable", max_bytes,
                         **{**view, "error": "no 'contents' field"})
    if isinstance(contents, Clipped) and not contents.head:
        return _too_large(result_id, key, max_bytes, view)
    head, raw_bytes, error = _uncompressed(contents, encoding, max_bytes)
    if clipped and head and (error is None or "size unknown" in error):
        return _partial(result_id, key, max_bytes, view, head, raw_bytes, error)
    text = head.decode("utf-8", "replace")
    if raw_bytes is None or error:
        return ValueView(result_id, key, "unreadable", max_bytes, text=text or None,
                         raw_bytes=raw_bytes, **{**view, "error": error or view["error"]})
    if raw_bytes > len(head):
        return _partial(result_id, key, max_bytes, view, head, raw_bytes, None)
    if content_type not in (None, "application/json"):
        return ValueView(result_id, key, "unreadable", max_bytes, text=text,
                         raw_bytes=raw_bytes, **{
                             **view, "error": f"content_type {content_type!r:.60} is not JSON"})
    ok, document, why = parse_json(head)
    if not ok:
        return ValueView(result_id, key, "unreadable", max_bytes, text=text,
                         raw_bytes=raw_bytes, **{**view, "error": f"contents are {why}"})
    return ValueView(result_id, key, max_bytes=max_bytes, raw_bytes=raw_bytes,
                     **_holder(view, document))
