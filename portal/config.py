"""Settings helpers that fail loudly, naming the variable.

Every value an operator can set goes through these helpers so that a typo
stops start-up with one line ("DATABASE_URL: ...") instead of a traceback
deep inside a driver.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured


class ConfigError(ImproperlyConfigured):
    """A bad operator-supplied setting. The message starts with the variable name."""


env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ConfigError(f"{name}: is required but not set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


_Number = TypeVar("_Number", int, float)


def _env_number(
    name: str, default: _Number, convert: Callable[[str], _Number], expected: str, minimum: _Number | None
) -> _Number:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = convert(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected {expected}, got {raw!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    return _env_number(name, default, int, "a whole number", minimum)


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    return _env_number(name, default, float, "a number", minimum)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_DB_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql", "psql", "mysql", "mariadb"}


def env_database(name: str, default: str) -> dict[str, Any]:
    raw = os.environ.get(name, default)
    scheme = urlparse(raw).scheme
    if scheme not in _DB_SCHEMES:
        raise ConfigError(
            f"{name}: {_redact(raw)!r} is not a database URL; expected e.g. "
            "postgres://user:pass@host:5432/dbname or sqlite:////absolute/path.sqlite3"
        )
    try:
        config: dict[str, Any] = env.db_url_config(raw)
    except Exception as exc:  # environ raises several types for malformed URLs
        raise ConfigError(f"{name}: cannot parse {_redact(raw)!r}: {exc}")
    if scheme != "sqlite" and not config.get("NAME"):
        raise ConfigError(f"{name}: the URL names no database (add /dbname at the end)")
    return config


_BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "filesystem", "memory"}


def env_broker(name: str, default: str) -> str:
    raw = os.environ.get(name, default)
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in _BROKER_SCHEMES:
        raise ConfigError(
            f"{name}: {_redact(raw)!r} is not a broker URL; expected redis://host:6379/0, "
            "amqp://user:pass@host:5672// or filesystem://"
        )
    return raw


def env_email(name: str, default_dir: str) -> dict[str, Any]:
    raw = os.environ.get(name)
    if not raw:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": default_dir,
        }
    scheme = urlparse(raw).scheme
    if scheme not in {"smtp", "smtps", "smtp+tls", "smtp+ssl", "consolemail", "filemail", "memorymail", "dummymail"}:
        raise ConfigError(f"{name}: {_redact(raw)!r} is not an e-mail URL; expected smtp://user:pass@host:587")
    try:
        config: dict[str, Any] = env.email_url_config(raw)
        return config
    except Exception as exc:
        raise ConfigError(f"{name}: cannot parse {_redact(raw)!r}: {exc}")


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(parsed.password, "***")
    return url


_DRF_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_rate(name: str, default: str, *, drf: bool = False) -> str:
    """A rate like "20/hour" ("5/10m" too, except for DRF throttles, which read only the unit)."""
    raw = os.environ.get(name, default).strip()
    if drf:
        if not _DRF_RATE.match(raw):
            raise ConfigError(f"{name}: {raw!r} is not a rate; expected e.g. 20/hour, 600/minute or 5/second")
        return raw
    from portal.ratelimit import parse_rate  # settings import this module; ratelimit loads Django's HTTP layer

    try:
        parse_rate(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a rate; expected e.g. 20/hour, 5/10m or 100/day")
    return raw


def env_url(name: str, default: str) -> str:
    """An http(s) base URL without a trailing slash (empty allowed: "not configured")."""
    raw = os.environ.get(name, default).strip()
    if raw and (urlparse(raw).scheme not in {"http", "https"} or not urlparse(raw).netloc):
        raise ConfigError(f"{name}: {_redact(raw)!r} is not an http(s) URL; expected e.g. https://host.example")
    return raw.rstrip("/")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name, default).strip().lower()
    if raw not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {raw!r}")
    return raw
