"""Progress bars: tqdm.auto (a widget in Jupyter, text in a terminal), or nothing."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(enabled: bool, *, desc: str, total: int | None = None) -> Any:
    """A bar counting keys, or a no-op object with the same methods."""
    if not enabled:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=" keys", unit_scale=True, leave=False)
