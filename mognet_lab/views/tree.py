"""A result's descendants as a text tree, from the ``children`` frame.

The tree is cut at ``max_depth`` levels and ``max_width`` children per
result (each cut says how many were left out), and a child met twice — a
cycle, or one child listed under two parents — is shown once.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ..errors import bad_option

__all__ = ["children_tree", "gather_children"]

Label = Callable[[str], str]


def gather_children(children: pd.DataFrame, root: str, max_depth: int
                    ) -> dict[str, list[str]]:
    """Parent id -> child ids, for ``root`` and its descendants down to ``max_depth``.

    One vectorised filter per level; the children of the deepest level are
    gathered too, so a cut can say how many were left out.
    """
    frame = children[children["child_id"].notna() & children["parent_id"].notna()]
    adjacency: dict[str, list[str]] = {}
    level, asked = {root}, {root}
    for _ in range(max_depth + 1):
        rows = frame[frame["parent_id"].isin(list(level))]
        for parent, child in zip(rows["parent_id"].tolist(), rows["child_id"].tolist()):
            adjacency.setdefault(parent, []).append(child)
        level = set(rows["child_id"].tolist()) - asked
        asked |= level
        if not level:
            break
    return {parent: list(dict.fromkeys(kids)) for parent, kids in adjacency.items()}


def _entries(kids: list[str], depth: int, max_depth: int, max_width: int) -> list[tuple[str, str]]:
    """What is printed under one node: ``("node", id)`` or ``("note", text)`` items."""
    if not kids:
        return []
    if depth >= max_depth:
        return [("note", f"... {len(kids):,} more (below max_depth={max_depth})")]
    items = [("node", kid) for kid in kids[:max_width]]
    if len(kids) > max_width:
        items.append(("note", f"... {len(kids) - max_width:,} more (max_width={max_width})"))
    return items


def children_tree(root: str, adjacency: dict[str, list[str]], label: Label, *,
                  max_depth: int = 3, max_width: int = 20) -> str:
    """Draw the tree under ``root`` with box-drawing characters.

    Parameters
    ----------
    root
        The result at the top.
    adjacency
        Parent id -> ordered child ids (:func:`gather_children`).
    label
        Text shown for a result id.
    max_depth
        Levels of descendants shown (0: only the root).
    max_width
        Children shown per result.
    """
    if not isinstance(max_depth, int) or isinstance(max_depth, bool) or max_depth < 0:
        raise bad_option("max_depth", max_depth, "an integer >= 0")
    if not isinstance(max_width, int) or isinstance(max_width, bool) or max_width < 1:
        raise bad_option("max_width", max_width, "an integer >= 1")
    lines, shown = [label(root)], {root}
    # An explicit stack instead of recursion: max_depth may exceed Python's limit.
    stack = [_Level(_entries(adjacency.get(root, []), 0, max_depth, max_width), "", 0, (root,))]
    while stack:
        level = stack[-1]
        if level.position == len(level.items):
            stack.pop()
            continue
        kind, value = level.items[level.position]
        level.position += 1
        last = level.position == len(level.items)
        branch = level.prefix + ("└── " if last else "├── ")
        if kind == "note":
            lines.append(branch + value)
        elif value in level.ancestors:
            lines.append(branch + label(value) + "  (cycle: listed as its own descendant)")
        elif value in shown:
            lines.append(branch + label(value) + "  (already shown above)")
        else:
            shown.add(value)
            lines.append(branch + label(value))
            depth = level.depth + 1
            stack.append(_Level(_entries(adjacency.get(value, []), depth, max_depth, max_width),
                                level.prefix + ("    " if last else "│   "), depth,
                                (*level.ancestors, value)))
    return "\n".join(lines)


class _Level:
    """The children of one node being drawn, and how far the drawing got."""

    __slots__ = ("items", "prefix", "depth", "ancestors", "position")

    def __init__(self, items: list[tuple[str, str]], prefix: str, depth: int,
                 ancestors: tuple[str, ...]) -> None:
        self.items, self.prefix, self.depth, self.ancestors = items, prefix, depth, ancestors
        self.position = 0
