"""A live scan as a source of batches for a dataset, resumable from saved SCAN cursors."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

from ..errors import MognetLabError
from ..keys import app_scan_pattern
from ..raw import KindBatch
from ..reader import Node, ServerIdentity, Walk, server_identity
from ..reader.seen import SeenKeys
from ..scanner import _for_server
from ..settings import ScanSettings

__all__ = ["CannotResume", "LiveSource"]


class CannotResume(MognetLabError):
    """A dataset's unfinished scan cannot go on against the server as it is now."""


class LiveSource:
    """Batches of every node's keys, one walk after another, from saved cursors on.

    Parameters
    ----------
    position
        What :meth:`position` returned when the last part was written (``None``:
        from the start). Each node must still be the same server process.

    Keys are not remembered across parts (memory stays bounded whatever the
    keyspace): a key SCAN returns twice in two parts is dropped when the
    dataset is finished, as is a key read again after a resume.
    """

    def __init__(self, nodes: Sequence[Node], app: str, settings: ScanSettings,
                 servers: Sequence[Mapping[str, Any]],
                 position: Mapping[str, Any] | None = None) -> None:
        self.nodes, self.app, self.settings, self.servers = nodes, app, settings, servers
        self.identities = [server_identity(node) for node in nodes]
        self.cursors: list[int | None] = [0] * len(nodes)
        if position is not None:
            self.cursors = _saved_cursors(nodes, self.identities, position)
        self.complete = True
        self.warnings: list[str] = []
        self._walk: Walk | None = None
        self._seen = SeenKeys()

    def new_part(self) -> None:
        """Forget the keys seen so far (they are in a part written to disk)."""
        self._seen = SeenKeys()
        if self._walk is not None:
            self._walk.seen = self._seen

    def position(self) -> dict[str, Any]:
        """Where to resume from: per node, its server process and a safe SCAN cursor."""
        if self._walk is not None:
            self.cursors[self._index] = self._walk.resume_cursor
        return {"nodes": [{"label": node.label, "run_id": identity.run_id,
                           "uptime_s": identity.uptime_s, "cursor": cursor}
                          for node, identity, cursor in
                          zip(self.nodes, self.identities, self.cursors)]}

    def __iter__(self) -> Iterator[list[KindBatch]]:
        pattern, budget = app_scan_pattern(self.app), self.settings.limit
        for index, (node, server) in enumerate(zip(self.nodes, self.servers)):
            start = self.cursors[index]
            if start is None:
                continue  # walked to the end before the resume
            self._index = index
            walk = self._walk = Walk(node, self.app, pattern, _for_server(server, self.settings),
                                     self._seen, budget, start=start)
            yield from walk
            self.cursors[index], self._walk = None, None
            self._check_same_server(node, self.identities[index])
            budget = walk.budget
            if not walk.complete:
                self.complete = False
                return

    def _check_same_server(self, node: Node, before: ServerIdentity) -> None:
        after = server_identity(node)
        if not before.same_process(after):
            self.complete = False
            self.warnings.append(
                f"Redis at {node.label} restarted during the scan ({before.describe()} before, "
                f"{after.describe()} after): keys it held before the restart may be missing, "
                "so this dataset is incomplete. Scan again.")


def _saved_cursors(nodes: Sequence[Node], identities: Sequence[ServerIdentity],
                   position: Mapping[str, Any]) -> list[int | None]:
    saved = position.get("nodes") or []
    labels = [node.label for node in nodes]
    if [entry.get("label") for entry in saved] != labels:
        raise CannotResume("This dataset's unfinished scan read other nodes "
                           f"({', '.join(str(e.get('label')) for e in saved)}): it cannot "
                           "resume here. Scan into a new directory.")
    for node, identity, entry in zip(nodes, identities, saved):
        before = ServerIdentity(entry.get("run_id"), entry.get("uptime_s"))
        if before.run_id is None or not before.same_process(identity):
            raise CannotResume(
                f"Redis at {node.label} is another server process than the one this "
                f"dataset's unfinished scan read ({before.describe()} then, "
                f"{identity.describe()} now): it cannot resume, as keys may have changed "
                "since. Scan into a new directory.")
    return [entry.get("cursor") for entry in saved]
