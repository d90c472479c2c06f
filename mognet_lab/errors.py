"""Exceptions raised by mognet_lab.

Every error a user can meet is a :class:`MognetLabError` whose message says
what to do next. Errors from redis-py are translated once, in the reader.

::

    MognetLabError
    ├── InvalidURL            the URL is not a redis:// / rediss:// / unix:// URL
    ├── BadOption             an argument has a value mognet_lab does not accept
    ├── RedisUnavailable      nothing answers at the address (or it timed out)
    │   ├── TLSFailed         the TLS handshake or certificate check failed
    │   └── NotRedis          something else answers there (AMQP, HTTP, ...)
    ├── AccessDenied          wrong password, or an ACL denies a needed command
    ├── AppNotFound           no key of this app exists (names the apps that do)
    ├── NotReadOnly           something asked the reader to send a write command
    ├── ScanTooLarge          a full scan the pre-flight expects to be too long or big
    ├── EmbeddedRedisError    the private demo/test redis-server could not start
    ├── BadDump               a file given as an RDB dump cannot be read as one
    └── MissingExtra          an optional dependency (an extra) is not installed

    ScanWarning (a UserWarning)   a scan finished but its figures need a caveat
"""

from __future__ import annotations

__all__ = [
    "MognetLabError",
    "InvalidURL",
    "BadOption",
    "RedisUnavailable",
    "TLSFailed",
    "NotRedis",
    "AccessDenied",
    "AppNotFound",
    "NotReadOnly",
    "ScanTooLarge",
    "EmbeddedRedisError",
    "BadDump",
    "MissingExtra",
    "ScanWarning",
]


class MognetLabError(Exception):
    """Base class of every error mognet_lab raises on purpose."""


class InvalidURL(MognetLabError, ValueError):
    """The connection string is not a Redis URL."""


class BadOption(MognetLabError, ValueError):
    """An option has a value that mognet_lab does not accept."""


class RedisUnavailable(MognetLabError, ConnectionError):
    """Redis could not be reached."""


class TLSFailed(RedisUnavailable):
    """The TLS connection to Redis could not be set up."""


class NotRedis(RedisUnavailable):
    """The server at the address answered, but not in the Redis protocol."""


class AccessDenied(MognetLabError, PermissionError):
    """Redis refused the credentials or a command (ACL)."""


class AppNotFound(MognetLabError, LookupError):
    """No key of the requested Mognet app exists in this Redis."""

    def __init__(self, message: str, *, app: str, known_apps: list[str]) -> None:
        super().__init__(message)
        self.app = app
        self.known_apps = known_apps


class NotReadOnly(MognetLabError, RuntimeError):
    """A command outside the reader's read-only allow-list was requested."""


class ScanTooLarge(MognetLabError, RuntimeError):
    """The pre-flight expects a full scan to exceed the guard: sample it, or pass full=True."""


class EmbeddedRedisError(MognetLabError, RuntimeError):
    """The private redis-server for the demo or the tests could not start."""


class BadDump(MognetLabError, ValueError):
    """The file is not an RDB dump, is truncated or corrupt, or of an unknown RDB version."""


class MissingExtra(MognetLabError, ImportError):
    """A feature needs an optional dependency: the message names the extra to install."""


class ScanWarning(UserWarning):
    """A scan finished, but something about it needs saying (``Provenance.warnings``)."""


def bad_option(name: str, value: object, expected: str) -> BadOption:
    """Build the one message format used for every rejected option."""
    return BadOption(f"{name}={value!r} is not valid: expected {expected}.")
