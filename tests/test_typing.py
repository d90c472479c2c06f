"""mognet_lab type-checks cleanly (the package ships py.typed, so users' checkers read it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_issues(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="needs the test extra: pip install -e .[test]")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "mognet_lab", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
