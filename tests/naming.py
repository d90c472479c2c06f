"""Unique app names, so that tests sharing one redis-server never see each other's keys."""

from __future__ import annotations

import itertools
import re

_COUNTER = itertools.count(1)


def unique_app_name(label: str) -> str:
    """An app name no other test uses: ``t{n}_{label}`` with a tame, short label."""
    clean = re.sub(r"[^A-Za-z0-9_]+", "_", label).strip("_")[:40]
    return f"t{next(_COUNTER)}_{clean}"
