"""Turn redis-py exceptions into mognet_lab errors that say what to do.

This is the one place lower-level errors are translated.
"""

from __future__ import annotations

import re

import redis.exceptions as rex

from ..errors import AccessDenied, MognetLabError, NotRedis, RedisUnavailable, TLSFailed
from ..urls import censor_text

__all__ = ["translate_error", "is_permission_error"]

_TLS_HINTS = ("ssl", "tls", "certificate", "handshake", "wrong version number")
# redis-py's and hiredis' words for a reply that is not RESP, naming its first byte.
_NOT_RESP = re.compile(r'Protocol error, got "(.)" as reply type byte', re.S)
# What answers with that first byte (AMQP: RabbitMQ, often given the broker's
# address where Mognet's result backend belongs).
_ANSWERED_LIKE = {
    "A": "AMQP, as RabbitMQ does: is this the broker's address instead of the Redis "
         "result backend's?",
    "H": "HTTP, as a web server does",
    "S": "SSH",
    "\x15": "TLS: use rediss:// for this port",
    "\x16": "TLS: use rediss:// for this port",
}


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
    not_resp = _NOT_RESP.search(str(exc))
    if not_resp:
        like = _ANSWERED_LIKE.get(not_resp[1], f"something else (first byte {not_resp[1]!r})")
        return NotRedis(f"{where} is not a Redis server (it answered like {like}): check the "
                        "host and port in the URL.")
    if isinstance(exc, (rex.ConnectionError, rex.TimeoutError, OSError)):
        tls_stalled = where.startswith("rediss://") and "timeout" in message.lower()
        if tls_stalled and "connecting" in message.lower():
            return TLSFailed(
                f"TLS connection to {where} failed: no TLS handshake reply, which is what a "
                "plain (non-TLS) Redis port does: use redis:// for this port, or check the "
                "host and port."
            )
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
