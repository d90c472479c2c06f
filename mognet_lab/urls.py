"""Redis URL checks and password censoring (pure)."""

from __future__ import annotations

import math
import re
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from .errors import InvalidURL

__all__ = ["REDIS_SCHEMES", "censor_url", "censor_text", "check_redis_url"]

REDIS_SCHEMES = ("redis", "rediss", "unix")
# The user info runs to the *last* "@" before the host: redis-py reads
# redis://:p@ss@host as the password "p@ss".
_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s]*)@(?=[^@/\s]*(?:[/\s?#]|$))")
_PASSWORD_PARAM = re.compile(r"(?i)([?&]password=)[^&\s]*")
# URL options that redis-py converts to numbers (its URL_QUERY_ARGUMENT_PARSERS,
# the same from 4.2 to 5.x): checked here so a typo is a usage error, not a traceback.
_INT_OPTIONS = ("db", "max_connections", "health_check_interval")
_SECONDS_OPTIONS = ("socket_timeout", "socket_connect_timeout")
_EXAMPLE = "redis://host:6379/0"


def censor_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (the user name is kept)."""
    return censor_text(url)


def censor_text(text: str) -> str:
    """Censor the password of every URL found in ``text`` (e.g. an error message)."""

    def hide(match: re.Match[str]) -> str:
        user, sep, _password = match["userinfo"].partition(":")
        if not sep:
            # redis://secret@host means a password with no user name.
            return f"{match['scheme']}***@" if user else match[0]
        return f"{match['scheme']}{user}:***@"

    return _PASSWORD_PARAM.sub(r"\1***", _CREDENTIALS.sub(hide, text))


def check_redis_url(url: object) -> str:
    """Return ``url`` if it is a well-formed Redis URL, else raise :class:`InvalidURL`.

    Checks the scheme, the port, the database number (path or ``?db=``) and the
    numeric options redis-py reads from the query string; messages censor the
    password and fit on one line.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL(
            f"{url!r} is not a Redis URL: give one like redis://[user:password@]host:6379/0 "
            "(rediss:// for TLS), or a redis.Redis client."
        )
    shown = censor_url(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise _invalid(shown, f"it cannot be parsed ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in REDIS_SCHEMES:
        raise InvalidURL(
            f"{shown!r} is not a Redis URL (scheme {scheme or 'missing'!r}): "
            "use redis://host:6379/0, rediss://host:6380/0 or unix:///path/redis.sock."
        )
    if scheme != "unix":
        _check_port(parts, shown)
        _check_db_path(parts.path, shown)
    _check_options(parts.query, shown)
    return url


def _invalid(shown: str, why: str) -> InvalidURL:
    return InvalidURL(f"{shown!r} is not a valid Redis URL: {why}; expected {_EXAMPLE}.")


def _check_port(parts: SplitResult, shown: str) -> None:
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        # Only what follows the last "@": the user info may hold the password.
        text = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise _invalid(shown, f"the port {text!r} is not a number from 1 to 65535")


def _check_db_path(path: str, shown: str) -> None:
    # redis-py silently falls back to db 0 when the path is not a number.
    db = unquote(path).strip("/")
    if db and not (db.isascii() and db.isdigit()):
        raise _invalid(shown, f"the database {db[:20]!r} is not a number")


def _check_options(query: str, shown: str) -> None:
    options = parse_qs(query)
    for name in (*_INT_OPTIONS, *_SECONDS_OPTIONS):
        text = options.get(name, [""])[0]
        if not text:
            continue
        if name in _INT_OPTIONS:
            ok = text.isascii() and text.isdigit()
            expected = "a whole number >= 0"
        else:
            try:
                ok = math.isfinite(float(text)) and float(text) > 0
            except ValueError:
                ok = False
            expected = "a number of seconds > 0"
        if not ok:
            raise _invalid(shown, f"option {name}={text[:20]!r} is not {expected}")
