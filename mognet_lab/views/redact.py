"""Hide what a task's users put into Redis before a report is built from it.

Redaction happens once, here, on the snapshot's frames: every rendering
(HTML, Markdown, JSON) and every analysis text (findings quote examples)
is then built from the redacted frames, so no output format can leak what
another one hides. What is hidden:

- ``results.request_kwargs_repr`` (the task's arguments) and
  ``results.extra_fields`` (unknown fields of the result hash);
- ``values.exception_message`` (messages and tracebacks of stored failures);
- every metadata field value (the columns beyond the metadata schema);
- ``states.fields`` (what tasks keep in their state hash).

Task names, exception type names, key names, ids, sizes and TTLs stay: the
report is about memory, and those are what it measures.
"""

from __future__ import annotations

import pandas as pd

from ..schemas import METADATA
from ..snapshot import Snapshot

__all__ = ["REDACTED", "REDACTED_COLUMNS", "redact"]

REDACTED = "[redacted]"
# frame -> columns whose every non-empty cell is replaced by REDACTED.
REDACTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "results": ("request_kwargs_repr", "extra_fields"),
    "values": ("exception_message",),
    "states": ("fields",),
}


def redact(snapshot: Snapshot) -> Snapshot:
    """A copy of ``snapshot`` with arguments, metadata values and messages hidden.

    Parameters
    ----------
    snapshot
        The scan to redact; it is not modified.

    Returns
    -------
    Snapshot
        The same frames and provenance, with the cells listed in
        :data:`REDACTED_COLUMNS` and every metadata field value replaced by
        ``"[redacted]"`` (missing and empty cells stay as they are, so the
        report can still say a task had no arguments).
    """
    frames = dict(snapshot.frames)
    for name, columns in REDACTED_COLUMNS.items():
        frames[name] = _hide(frames[name], columns)
    metadata = frames["metadata"]
    frames["metadata"] = _hide(metadata, [c for c in metadata.columns if c not in METADATA])
    return Snapshot(frames, snapshot.provenance)


def _hide(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    out = frame.copy()
    for column in present:
        values = out[column].astype(object)
        filled = values.notna() & (values.astype(str) != "")
        hidden = values.where(~filled, REDACTED)
        # String columns stay strings; anything else (metadata mixes types) becomes text.
        out[column] = hidden.astype(out[column].dtype if isinstance(out[column].dtype,
                                                                   pd.StringDtype) else object)
    return out
