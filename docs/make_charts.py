"""Render every chart of mognet_lab.charts to PNG from the embedded demo.

Runs :func:`mognet_lab.demo.demo_snapshot` (a private redis-server filled
with the demo workload, scanned, then stopped) and saves each chart as
``docs/images/<chart>.png``::

    python docs/make_charts.py [--results 2000] [--seed 1] [--out docs/images]

Each PNG is saved from the chart's own Figure (``ax.figure.savefig``); pyplot
is never used.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mognet_lab import Snapshot, charts
from mognet_lab.demo import demo_snapshot

DEFAULT_OUT = Path(__file__).resolve().parent / "images"


def render_all(snapshot: Snapshot, out: Path, *, dpi: int = 110) -> list[Path]:
    """Save every chart of ``snapshot`` as ``out/<chart>.png``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in charts.__all__:
        ax = getattr(charts, name)(snapshot)
        path = out / f"{name}.png"
        ax.figure.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=2000, help="demo results to write")
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo workload")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs")
    args = parser.parse_args(argv)
    snapshot = demo_snapshot(results=args.results, seed=args.seed, progress=False)
    print(snapshot)
    for path in render_all(snapshot, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
