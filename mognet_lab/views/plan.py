"""A cleanup plan written as a file of ``redis-cli`` commands, for a person to review and run.

mognet_lab only reads: it writes this file and never sends a line of it. Each
group of :func:`mognet_lab.analysis.cleanup_plan` becomes comment lines (what
it frees and why) followed by one command per key. Key names are quoted by
redis-cli's own rules (``"..."`` with ``\\xHH`` escapes), so a name holding
spaces, quotes, newlines or any byte reaches Redis exactly; no text from the
keyspace can end a comment line and become a command.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd

from ..snapshot import Snapshot

__all__ = ["plan_text", "redis_quote", "run_command"]

_PLAIN = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\")}
# EXPIRE ... NX (only keys still without a TTL) needs Redis 7.0.
_NX_SINCE = (7, 0)


def redis_quote(key: str | bytes) -> str:
    """``key`` as one redis-cli argument: ``"..."``, anything but printable ASCII as ``\\xHH``.

    A ``str`` is encoded as the scanner matched it (UTF-8, lone surrogates
    back to the bytes they stand for).
    """
    raw = key if isinstance(key, bytes) else key.encode("utf-8", "surrogateescape")
    return '"' + "".join(chr(b) if b in _PLAIN else f"\\x{b:02x}" for b in raw) + '"'


def _comment(text: str) -> str:
    """One ``#`` line: line breaks and other control characters shown escaped."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"# {shown}".rstrip()


def run_command(snapshot: Snapshot) -> str:
    """The shell line that runs a plan file against the scanned server."""
    parts = urlsplit(snapshot.provenance.url)
    if parts.scheme == "unix" and parts.path:
        where = f"-s {parts.path}"
    else:
        db = (parts.path or "/0").lstrip("/") or "0"
        tls = " --tls" if parts.scheme == "rediss" else ""
        where = f"-h {parts.hostname or 'HOST'} -p {parts.port or 6379} -n {db}{tls}"
    return f"grep -v '^#' plan.redis | redis-cli {where}"


def _use_nx(snapshot: Snapshot) -> bool:
    versions = snapshot.server["redis_version"].dropna().astype(str)
    if not len(versions):
        return False
    return all(_version(v) >= _NX_SINCE for v in versions)


def _version(text: str) -> tuple[int, ...]:
    head = text.split(".")[:2]
    return tuple(int(p) for p in head if p.isdigit())


def _keys(count: int) -> str:
    return f"{count:,} key" + ("" if count == 1 else "s")


def _header(plan: pd.DataFrame, snapshot: Snapshot) -> list[str]:
    p = snapshot.provenance
    keys, size = int(plan["key_count"].sum()), int(plan["bytes"].sum())
    return [
        _comment(f"mognet_lab cleanup plan for app {p.app!r} on {p.url}"),
        _comment(f"from the scan of {p.scanned_at:%Y-%m-%d %H:%M:%S}Z: {len(plan)} groups, "
                 f"{_keys(keys)}, {size:,} bytes (freed at once by UNLINK, when the TTL "
                 "runs out by EXPIRE)"),
        "#",
        "# mognet_lab never runs this file. Review it, then run it soon after the scan:",
        _comment(f"  {run_command(snapshot)}"),
        "# (add --user/--askpass for a server with a password). redis-cli reads comment",
        "# lines as commands: `redis-cli ... < plan.redis` works as well but answers each",
        "# one with \"ERR unknown command '#'\", which is harmless.",
        "# A key that is gone already is skipped by Redis (UNLINK/EXPIRE answer 0).",
        *_caveats(snapshot),
    ]


def _caveats(snapshot: Snapshot) -> list[str]:
    lines = []
    if not snapshot.complete:
        lines.append("# The scan stopped at its key limit: this plan covers only the keys it "
                     "read, and keys outliving their result hash were not judged.")
    nodes = snapshot.server["node"].dropna().nunique()
    if nodes > 1:
        lines.append(f"# The app's keys were read from {nodes} servers: run the plan against "
                     "each primary (keys not on a server are skipped there).")
    return lines


def _group(row: pd.Series, nx: bool) -> list[str]:
    action = str(row["action"])
    seconds = "" if pd.isna(row["seconds"]) else f" {int(row['seconds'])}"
    suffix = f"{seconds} NX" if action == "EXPIRE" and nx else seconds
    lines = ["", _comment(f"== {row['group']} ({row['finding']}): {action}{seconds}"),
             _comment(f"{_keys(int(row['key_count']))}, {int(row['bytes']):,} bytes"),
             _comment(str(row["why"]))]
    return lines + [f"{action} {redis_quote(key)}{suffix}" for key in row["keys"]]


def plan_text(plan: pd.DataFrame, snapshot: Snapshot) -> str:
    """The plan as a ``redis-cli`` script: a header saying how to run it, then each group.

    Parameters
    ----------
    plan
        :func:`mognet_lab.analysis.cleanup_plan` of ``snapshot``.
    snapshot
        The scan the plan comes from (its app, server and time go in the header).

    Returns
    -------
    str
        The file's text, ending with a newline. An empty plan gives the header
        and a line saying there is nothing to clean up.
    """
    lines = _header(plan, snapshot)
    if not len(plan):
        lines += ["", "# Nothing to clean up: no finding names keys that should go."]
    nx = _use_nx(snapshot)
    for _, row in plan.iterrows():
        lines += _group(row, nx)
    return "\n".join(lines) + "\n"
