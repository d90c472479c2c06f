"""Key grammar, SCAN patterns (checked on the real server) and URL censoring."""

from __future__ import annotations

from typing import Iterator

import pytest
import redis

from mognet_lab.errors import InvalidURL
from mognet_lab.keys import (
    KIND_UNKNOWN,
    ParsedKey,
    app_prefix,
    app_scan_pattern,
    glob_escape,
    parse_key,
    split_app,
)
from mognet_lab.urls import censor_text, censor_url, check_redis_url

U = "0f0e0d0c-0b0a-4908-8706-050403020100"


# -- parse_key ---------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "want"), [
    (f"app.mognet.result.{U}", ("result", U)),
    (f"app.mognet.result.{U}/value", ("value", U)),
    (f"app.mognet.result.{U}/children", ("children", U)),
    (f"app.mognet.result.{U}/metadata", ("metadata", U)),
    ("app.mognet.state.req-1", ("state", "req-1")),
    ("app.mognet.state.a/b.c", ("state", "a/b.c")),
    ("app.mognet.state.x\ny", ("state", "x\ny")),
    (f"app.mognet.result.{U.upper()}", (KIND_UNKNOWN, None)),
    (f"app.mognet.result.{U.replace('-', '')}", (KIND_UNKNOWN, None)),
    (f"app.mognet.result.{U}/other", (KIND_UNKNOWN, None)),
    (f"app.mognet.result.{U}/value/x", (KIND_UNKNOWN, None)),
    (f"app.mognet.result.{U}/", (KIND_UNKNOWN, None)),
    (f"app.mognet.result.{U}x", (KIND_UNKNOWN, None)),
    (f"app.mognet.result.{U[:-1]}", (KIND_UNKNOWN, None)),
    ("app.mognet.state.", (KIND_UNKNOWN, None)),
    ("app.mognet.weird", (KIND_UNKNOWN, None)),
    ("app.mognet.", (KIND_UNKNOWN, None)),
    (f"app2.mognet.result.{U}", (KIND_UNKNOWN, None)),
    (f"ap.mognet.result.{U}", (KIND_UNKNOWN, None)),
    (f"APP.mognet.result.{U}", (KIND_UNKNOWN, None)),
    (f"app.mognet.result.{U}".encode(), ("result", U)),
    (b"app.mognet.\xff", (KIND_UNKNOWN, None)),
])
def test_parse_key(key: str | bytes, want: tuple[str, str | None]) -> None:
    assert parse_key("app", key) == ParsedKey(*want)


@pytest.mark.parametrize("suffix", ["", "/value", "/children"])
def test_parse_key_trailing_newline_is_unknown(suffix: str) -> None:
    assert parse_key("app", f"app.mognet.result.{U}{suffix}\n").kind == KIND_UNKNOWN
    assert split_app(f"app.mognet.result.{U}{suffix}\n") == ("app", KIND_UNKNOWN)


def test_parse_key_app_names_with_special_characters() -> None:
    for app in ("a.mognet.b", "*", "a[1]", "a\\b", "x.mognet.result.y", "é"):
        assert parse_key(app, f"{app}.mognet.result.{U}/value") == ParsedKey("value", U)
        assert parse_key(app, f"{app}.mognet.state.s").kind == "state"
    assert parse_key("a", f"a.mognet.b.mognet.result.{U}").kind == KIND_UNKNOWN


# -- split_app -----------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "want"), [
    (f"demo.mognet.result.{U}", ("demo", "result")),
    (f"demo.mognet.result.{U}/children", ("demo", "children")),
    ("demo.mognet.state.abc", ("demo", "state")),
    (f"a.mognet.b.mognet.result.{U}", ("a.mognet.b", "result")),
    (f"a.mognet.b.mognet.result.{U}/metadata", ("a.mognet.b", "metadata")),
    ("a.mognet.b.mognet.state.s", ("a.mognet.b", "state")),
    (f"x.mognet.state.y.mognet.result.{U}", ("x.mognet.state.y", "result")),
    ("a.mognet.weird", ("a", KIND_UNKNOWN)),
    ("a.mognet.b.mognet.weird", ("a", KIND_UNKNOWN)),
    (f"a.mognet.result.{U.upper()}", ("a", KIND_UNKNOWN)),
    ("a.mognet.", ("a", KIND_UNKNOWN)),
    (f"*.mognet.result.{U}".encode(), ("*", "result")),
    ("no-mognet-here", None),
    ("amognet.result.x", None),
    (".mognet.weird", None),
])
def test_split_app(key: str | bytes, want: tuple[str, str] | None) -> None:
    assert split_app(key) == want


def test_non_utf8_key_names_parse_to_printable_text() -> None:
    # Visible escapes, never lone surrogates (which no UTF-8 column can store).
    assert parse_key("app", b"app.mognet.state.r\xff") == ParsedKey("state", "r\\xff")
    assert parse_key("app", b"app.mognet.result.\xff").kind == KIND_UNKNOWN
    assert split_app(b"caf\xe9.mognet.state.s") == ("caf\\xe9", "state")
    assert split_app(b"caf\xe9.mognet.odd") == ("caf\\xe9", KIND_UNKNOWN)


def test_split_app_agrees_with_parse_key() -> None:
    for key in (f"a.mognet.b.mognet.result.{U}/value", "z.mognet.state.q",
                f"a.mognet.result.{U}/nope"):
        found = split_app(key)
        assert found is not None
        app, kind = found
        assert key.startswith(app_prefix(app)) and parse_key(app, key).kind == kind


# -- glob_escape / app_scan_pattern ----------------------------------------------------------
def test_glob_escape() -> None:
    assert glob_escape("plain.name_1") == "plain.name_1"
    assert glob_escape("a*b?c[d]e\\f") == "a\\*b\\?c\\[d\\]e\\\\f"
    assert app_scan_pattern("demo") == "demo.mognet.*"
    assert app_scan_pattern("a[1]") == "a\\[1\\].mognet.*"
    assert app_scan_pattern("*") == "\\*.mognet.*"


GLOB_APPS = ["*", "?", "a*", "a?", "a[1]", "a[!1]", "[a-z]", "a\\b", "a\\", "\\", "a]b",
             "a[", "demo", "demo2", "de*mo", "x.mognet.y", "^$", "a b", "é*", "a1", "ab",
             "a\\\\b", "*.mognet.*"]


@pytest.fixture
def glob_server(redis_url: str) -> Iterator[redis.Redis]:
    """A database of this file's own, holding three keys of each tricky app name."""
    conn = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/12")
    pipe = conn.pipeline(transaction=False)
    for app in GLOB_APPS:
        pipe.hset(f"{app}.mognet.result.{U}", "id", f'"{U}"')
        pipe.hset(f"{app}.mognet.result.{U}/value", "contents", "x")
        pipe.hset(f"{app}.mognet.state.s", "k", "1")
    pipe.execute()
    try:
        yield conn
    finally:
        conn.delete(*(f"{app}.mognet.{rest}" for app in GLOB_APPS
                      for rest in (f"result.{U}", f"result.{U}/value", "state.s")))
        conn.close()


def test_app_scan_pattern_matches_exactly_the_app_on_a_real_server(
        glob_server: redis.Redis) -> None:
    everything = set(glob_server.scan_iter(count=1000))
    loose = set()
    for app in GLOB_APPS:
        # SCAN MATCH with the pattern must equal a literal prefix test.
        prefix = app_prefix(app).encode()
        want = {key for key in everything if key.startswith(prefix)}
        got = set(glob_server.scan_iter(match=app_scan_pattern(app), count=1000))
        assert got == want, app
        own = {f"{app}.mognet.{rest}".encode()
               for rest in (f"result.{U}", f"result.{U}/value", "state.s")}
        # Only an app named "<app>.mognet.<more>" nests under another's prefix.
        assert {split_app(key)[0] for key in want - own} <= {"*.mognet.*"}, app
        unescaped = set(glob_server.scan_iter(match=f"{app}.mognet.*", count=1000))
        if unescaped != want:
            loose.add(app)
    # The escaping matters: without it these apps would see other apps' keys.
    assert {"*", "?", "a*", "a?", "a[1]", "[a-z]", "de*mo"} <= loose


# -- censor_url / censor_text ------------------------------------------------------------------
@pytest.mark.parametrize(("url", "want"), [
    ("redis://user:pass@host:6379/0", "redis://user:***@host:6379/0"),
    ("redis://:pass@host:6379/0", "redis://:***@host:6379/0"),
    ("redis://pass@host:6379/0", "redis://***@host:6379/0"),
    ("rediss://default:s3cret@h:6380/0?ssl_cert_reqs=none",
     "rediss://default:***@h:6380/0?ssl_cert_reqs=none"),
    ("redis://host:6379/0?password=pw&db=1", "redis://host:6379/0?password=***&db=1"),
    ("redis://host/0?db=1&Password=pw", "redis://host/0?db=1&Password=***"),
    ("redis://u:p%40ss@host/0", "redis://u:***@host/0"),
    ("unix://:pw@/tmp/redis.sock?db=0", "unix://:***@/tmp/redis.sock?db=0"),
    ("REDIS://u:pw@h", "REDIS://u:***@h"),
    ("redis://user:@host/0", "redis://user:***@host/0"),
    ("redis://host:6379/0", "redis://host:6379/0"),
    ("redis://host", "redis://host"),
    ("unix:///tmp/redis.sock", "unix:///tmp/redis.sock"),
])
def test_censor_url(url: str, want: str) -> None:
    assert censor_url(url) == want


def test_censor_text_several_urls() -> None:
    text = ("Error connecting to redis://u:pw1@h/0; retried rediss://:pw2@h2:6380/1, "
            "then redis://pw3@h3 and redis://h4/0?password=pw4 (plain redis://h5/0).")
    censored = censor_text(text)
    for secret in ("pw1", "pw2", "pw3", "pw4"):
        assert secret not in censored
    assert censored == ("Error connecting to redis://u:***@h/0; retried rediss://:***@h2:6380/1, "
                        "then redis://***@h3 and redis://h4/0?password=*** (plain redis://h5/0).")
    assert censor_text("no url here: user:pass@host") == "no url here: user:pass@host"
    assert censor_text("") == ""


def test_censor_url_password_with_at_sign() -> None:
    # redis-py reads redis://:p@ss@host as the password "p@ss".
    assert censor_url("redis://:p@ss@host:6379/0") == "redis://:***@host:6379/0"
    assert censor_url("redis://u:p@ss@host/0") == "redis://u:***@host/0"
    assert censor_url("redis://u:a@b@c@host/0") == "redis://u:***@host/0"
    assert censor_text("at redis://:p@ss@h/0, then user@example.com wrote") == \
        "at redis://:***@h/0, then user@example.com wrote"


# -- check_redis_url --------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "rediss://h:6380/0",
                                 "unix:///tmp/redis.sock", "REDIS://h", "redis://u:p@h/1",
                                 "redis://h/", "redis://h:6379/0?socket_timeout=2.5&db=3",
                                 "unix:///tmp/r.sock?db=2", "redis://[::1]:6379/0"])
def test_check_redis_url_accepts(url: str) -> None:
    assert check_redis_url(url) == url


@pytest.mark.parametrize(("url", "words"), [
    ("http://x", ["'http'", "redis://"]),
    ("localhost:6379", ["'localhost'"]),
    ("host", ["missing"]),
    ("", ["not a Redis URL", "redis://"]),
    ("   ", ["not a Redis URL"]),
    (None, ["None", "redis.Redis client"]),
    (6379, ["6379"]),
    (b"redis://h", ["not a Redis URL"]),
    ("https://u:s3cret@x/0", ["'https'", "u:***@"]),
    ("redis://u:s3cret@x:port/0", ["port 'port'", "u:***@"]),
    ("redis://:s3cret@x:70000/0", ["port '70000'"]),
    ("redis://x/zero", ["database 'zero'"]),
    ("redis://x/0?db=-1", ["db='-1'"]),
    ("redis://x/0?socket_timeout=inf", ["socket_timeout='inf'"]),
    ("redis://u:s3cret@[x/0", ["cannot be parsed"]),
])
def test_check_redis_url_rejects(url: object, words: list[str]) -> None:
    with pytest.raises(InvalidURL) as caught:
        check_redis_url(url)
    message = str(caught.value)
    assert "s3cret" not in message and "\n" not in message
    for word in words:
        assert word in message, (word, message)
    assert isinstance(caught.value, ValueError)
