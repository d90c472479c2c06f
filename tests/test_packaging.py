"""Packaging: environment.yml and pyproject.toml agree; scripts and entry points exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names.
CONDA_TO_PYPI = {"redis-py": "redis"}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$")


def _parse(requirement: str) -> tuple[str, str]:
    match = _REQUIREMENT.match(requirement)
    assert match, requirement
    return match[1].lower().replace("_", "-"), match[3].replace(" ", "")


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def _environment_requirements() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    section = ""
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            section = line.split(":")[0]
        item = line.strip()
        if section != "dependencies" or not item.startswith("- "):
            continue
        item = item[2:].strip()
        if item in ("pip", "pip:", "-e .") or item.startswith("python"):
            continue
        name, spec = _parse(item)
        found.add((CONDA_TO_PYPI.get(name, name), spec))
    return found


def test_environment_yml_lists_the_same_dependencies_as_pyproject() -> None:
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    expected = {_parse(r) for r in [*project["dependencies"], *extras["parquet"],
                                    *extras["embedded"]]}
    assert _environment_requirements() == expected


def test_runtime_dependencies_do_not_include_mognet() -> None:
    names = {_parse(r)[0] for r in _pyproject()["project"]["dependencies"]}
    assert "mognet" not in names
    assert {"redis", "pandas", "ipywidgets", "matplotlib", "tqdm"} <= names


def test_console_script_points_at_cli_main() -> None:
    assert _pyproject()["project"]["scripts"]["mognet-lab"] == "mognet_lab.cli:main"


def test_package_ships_py_typed_and_lua() -> None:
    data = _pyproject()["tool"]["setuptools"]["package-data"]["mognet_lab"]
    assert "py.typed" in data and "reader/*.lua" in data
    assert (ROOT / "mognet_lab" / "py.typed").exists()
    assert list((ROOT / "mognet_lab" / "reader").glob("*.lua"))


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "scripts/test.sh" in ci
    assert "bash scripts/test.sh" in readme
    # pytest's exit code 5 (no tests collected) must fail the run.
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert '"$status" -eq 5' in script and "run_pytest .venv-test/bin/python -m pytest" in script


@pytest.mark.parametrize("module", ["mognet_lab", "mognet_lab.cli"])
def test_python_dash_m_help(module: str) -> None:
    completed = subprocess.run([sys.executable, "-m", module, "--help"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
    assert "mognet-lab" in completed.stdout and "demo" in completed.stdout
