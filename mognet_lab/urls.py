"""Redis URL checks and password censoring (pure)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import InvalidURL

__all__ = ["REDIS_SCHEMES", "censor_url", "censor_text", "check_redis_url"]

REDIS_SCHEMES = ("redis", "rediss", "unix")
# The user info runs to the *last* "@" before the host: redis-py reads
# redis://:p@ss@host as the password "p@ss".
_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s]*)@(?=[^@/\s]*(?:[/\s?#]|$))")
_PASSWORD_PARAM = re.compile(r"(?i)([?&]password=)[^&\s]*")


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
    """Return ``url`` if it is a Redis URL, else raise :class:`InvalidURL`."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL(
            f"{url!r} is not a Redis URL: give one like redis://[user:password@]host:6379/0 "
            "(rediss:// for TLS), or a redis.Redis client."
        )
    scheme = urlsplit(url).scheme.lower()
    if scheme not in REDIS_SCHEMES:
        raise InvalidURL(
            f"{censor_url(url)!r} is not a Redis URL (scheme {scheme or 'missing'!r}): "
            "use redis://host:6379/0, rediss://host:6380/0 or unix:///path/redis.sock."
        )
    return url
