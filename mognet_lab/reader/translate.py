"""Turn redis-py exceptions into mognet_lab errors that say what to do.

This is the one place lower-level errors are translated.
"""

from __future__ import annotations

import redis.exceptions as rex

from ..errors import AccessDenied, MognetLabError, RedisUnavailable, TLSFailed
from ..urls import censor_text

__all__ = ["translate_error", "is_permission_error"]

_TLS_HINTS = ("ssl", "tls", "certificate", "handshake", "wrong version number")


def is_permission_error(exc: BaseException) -> bool:
    """Whether ``exc`` is Redis refusing a command to this user (ACL NOPERM)."""
    text = str(exc)
    return isinstance(exc, rex.ResponseError) and (
        text.startswith(("NOPERM", "NOAUTH")) or "no permissions" in text
    )


def translate_error(exc: BaseException, where: str) -> MognetLabError:
    """A :class:`MognetLabError` for ``exc``; ``where`` is the censored address."""
    message = censor_text(str(exc)) or type(exc).__name__
    if isinstance(exc, MognetLabError):
        return exc
    if isinstance(exc, rex.AuthenticationError) or "WRONGPASS" in message or "NOAUTH" in message:
        return AccessDenied(
            f"Redis at {where} refused the credentials ({message}): check the user and "
            "password in the URL (redis://user:password@host:port/db)."
        )
    if is_permission_error(exc):
        return AccessDenied(
            f"Redis at {where} denied a read command ({message}): the ACL user needs at "
            "least +@read (and +info, +ping) on the app's keys."
        )
    if isinstance(exc, (rex.ConnectionError, rex.TimeoutError, OSError)):
        tls_stalled = where.startswith("rediss://") and "timeout" in message.lower()
        if tls_stalled or any(hint in message.lower() for hint in _TLS_HINTS):
            return TLSFailed(
                f"TLS connection to {where} failed ({message}): check rediss:// is right "
                "for this port and the CA certificate (ssl_ca_certs=... in the URL)."
            )
        return RedisUnavailable(
            f"Cannot reach Redis at {where} ({message}): is the server running, and are "
            "the host, port and TLS scheme right?"
        )
    return MognetLabError(f"Redis at {where} answered with an error: {message}")
