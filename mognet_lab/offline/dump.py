"""Stream the keys of an RDB dump file, with what its header says (no Redis involved).

The file is parsed by ``rdb-py`` (the ``[rdb]`` extra: a maintained Rust
parser of RDB versions 1-13, i.e. Redis up to 8.x, for Python 3.10+), one
entry at a time, so a dump of any size is read in bounded memory: only the
entry at hand is alive. Parser failures are translated here, once, into
:class:`~mognet_lab.errors.BadDump`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Tuple

from ..errors import BadDump, MissingExtra

__all__ = ["DumpInfo", "Entry", "RdbFile", "looks_like_dump"]

_MAGIC = b"REDIS"
_TYPES = {"hash": "hash", "set": "set", "string": "string", "list": "list",
          "sorted_set": "zset"}
_HEADER_ITEMS = ("aux_field", "select_db", "resize_db", "checksum")


@dataclass
class DumpInfo:
    """What the dump's header (aux fields) says: Redis version, save time, memory."""

    path: str
    rdb_version: int
    aux: dict[str, str] = field(default_factory=dict)
    db_size: int | None = None  # keys of the database read, as its RESIZEDB says
    skipped: int = 0  # of them, keys the parser does not report (streams, modules)

    @property
    def redis_version(self) -> str | None:
        return self.aux.get("redis-ver")

    @property
    def ctime_ms(self) -> int | None:
        """When the dump was written (ms since the epoch), from the ``ctime`` aux field."""
        found = self.aux.get("ctime")
        return int(found) * 1000 if found is not None and found.isdigit() else None

    @property
    def used_memory(self) -> int | None:
        found = self.aux.get("used-mem")
        return int(found) if found is not None and found.isdigit() else None


# One key of the dump: its name, Redis type (as TYPE names it), data (a hash's dict, a
# set's or list's members, a string's bytes, a sorted set's (score, member) pairs) and
# absolute expiry in ms since the epoch (None: no TTL). A tuple: one per key, millions.
Entry = Tuple[bytes, str, Any, Optional[int]]


def looks_like_dump(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an existing file (a dump to read, not a Redis URL)."""
    return Path(path).is_file()


def _decoder(path: str) -> Any:
    try:  # by name: another package called rdb has no RdbDecoder
        from rdb import RdbDecoder
    except ImportError:
        raise MissingExtra("Reading an RDB dump needs rdb-py: pip install 'mognet-lab[rdb]' "
                           "(it needs Python 3.10+).") from None
    try:
        return RdbDecoder(path)
    except OSError as exc:
        raise BadDump(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    except ValueError as exc:
        raise BadDump(f"{path}: not a readable RDB dump ({_reason(exc)}).") from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


class RdbFile:
    """The dump at ``path``: :attr:`info` once opened, then its keys of database ``db``.

    :meth:`entries` yields the :data:`Entry` of every key whose name starts with
    ``prefix`` (all keys when it is empty); :attr:`info` fills with the aux
    fields as they are met (they come before the keys).
    """

    def __init__(self, path: str | os.PathLike[str], *, db: int = 0) -> None:
        self.path = str(path)
        self.db = db
        self._check_magic()
        self._items = _decoder(self.path)
        self.info = DumpInfo(self.path, int(self._items.version))

    def _check_magic(self) -> None:
        # The parser would say "Unsupported format"; a plain sentence is kinder.
        try:
            with open(self.path, "rb") as handle:
                head = handle.read(9)
        except OSError as exc:
            raise BadDump(f"{self.path}: cannot be read ({exc.strerror or exc}).") from None
        if not head.startswith(_MAGIC) or not head[5:9].isdigit():
            raise BadDump(f"{self.path}: not an RDB dump (it does not start with "
                          f"'REDIS' and a version number).")

    def entries(self, prefix: bytes = b"") -> Iterator[Entry]:
        """The keys of :attr:`db` starting with ``prefix``, in file order.

        Once done, :attr:`DumpInfo.skipped` counts the keys of :attr:`db` the
        parser left out (streams, module values), whatever their names.
        """
        current_db, checked, parsed = 0, False, 0
        for item in self._iterate():
            kind = item["type"]
            if kind in _HEADER_ITEMS:
                if kind == "aux_field":
                    self.info.aux[_text(item["key"])] = _text(item["value"])
                elif kind == "select_db":
                    current_db = item["db"]
                elif kind == "resize_db" and current_db == self.db:
                    self.info.db_size = item["db_size"]
                elif kind == "checksum":
                    checked = True
                continue
            if current_db != self.db:
                continue
            parsed += 1
            if not item["key"].startswith(prefix):
                continue
            data = item["members"] if kind == "set" else item["value"] if kind == "string" \
                else item.get("values")
            yield item["key"], _TYPES.get(kind, kind), data, item.get("expiry")
        if not checked:
            raise BadDump(f"{self.path}: the dump ends before its checksum (truncated).")
        if self.info.db_size is not None:
            self.info.skipped = max(0, self.info.db_size - parsed)

    def _iterate(self) -> Iterator[dict[str, Any]]:
        items = self._items
        while True:
            try:
                item = next(items)
            except StopIteration:
                return
            except ValueError as exc:
                raise BadDump(f"{self.path}: not a readable RDB dump ({_reason(exc)}).") \
                    from None
            except OSError as exc:
                raise BadDump(f"{self.path}: read failed ({exc.strerror or exc}).") from None
            yield item


def _text(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
