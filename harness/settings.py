"""The harness's environment variables, read and checked in one place.

Each reader raises ConfigError naming the variable and its allowed values, so a
mistyped value is a usage error at the start of a run (exit 2), not a broken cell.

    pool_size()        # HARNESS_POOL, default 2
    check_environment()  # all of them at once, as `harness run` does first
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from harness.errors import ConfigError
from harness.run import cache_root, state_root

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
POOL_MAX = 16  # warm containers per engine: each costs about 70 MiB and CPU to boot


def _whole(name: str, default: int, minimum: int, maximum: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        raise ConfigError(
            f"{name}={text!r}; allowed values: a whole number from {minimum} "
            f"to {maximum}"
        )
    return value


def pool_size() -> int:
    """HARNESS_POOL: warm containers made ahead per engine (0: none; default 2)."""
    return _whole("HARNESS_POOL", 2, 0, POOL_MAX)


def use_agent() -> bool:
    """HARNESS_AGENT: 1 (default) runs a resident agent per container, 0 starts a
    new Wine process per probe call (the benchmarks' baseline)."""
    text = os.environ.get("HARNESS_AGENT", "1").strip() or "1"
    if text not in ("0", "1"):
        raise ConfigError(f"HARNESS_AGENT={text!r}; allowed values: 0, 1")
    return text == "1"


def log_level() -> int:
    """HARNESS_LOG: the console's log level (default WARNING), any letter case."""
    text = os.environ.get("HARNESS_LOG", "").strip().upper() or "WARNING"
    if text not in LOG_LEVELS:
        raise ConfigError(
            f"HARNESS_LOG={os.environ['HARNESS_LOG']!r}; allowed values: "
            f"{', '.join(LOG_LEVELS)}"
        )
    return logging.getLevelName(text)


def check_environment() -> None:
    """Read every variable once, so that a bad value stops a run before it starts."""
    pool_size()
    use_agent()
    log_level()
    _writable_folder(cache_root(), _cache_variable())
    if os.environ.get("HARNESS_STATE"):
        _writable_folder(state_root(), "HARNESS_STATE")
    if os.environ.get("HARNESS_REGISTRY"):
        # The default, /run/harness, is root's: without it a run only lacks the
        # machine-wide index (cleanup.register).  A folder named on purpose must work.
        _writable_folder(Path(os.environ["HARNESS_REGISTRY"]), "HARNESS_REGISTRY")
    _guest_sources()


def _cache_variable() -> str:
    """The variable the cache folder comes from (harness.run.cache_root)."""
    for name in ("HARNESS_CACHE", "XDG_CACHE_HOME"):
        if os.environ.get(name):
            return name
    return "HOME"


def _writable_folder(folder: Path, variable: str) -> None:
    """ConfigError naming `variable` unless `folder` can be made and written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".harness-check-"):
            pass
    except OSError as error:
        why = error.strerror or type(error).__name__
        message = (
            f"{variable}={os.environ.get(variable, '')!r}: cannot make or write the "
            f"folder {folder} ({why}); allowed values: a folder this user can "
            "create and write"
        )
        if variable in ("HOME", "XDG_CACHE_HOME"):  # the cache's default place
            message += ", or set HARNESS_CACHE to one"
        raise ConfigError(message) from None


def _guest_sources() -> None:
    """HARNESS_GUEST_DIR, when set, must hold the guest tools' Makefile."""
    text = os.environ.get("HARNESS_GUEST_DIR")
    if text and not (Path(text) / "Makefile").is_file():
        raise ConfigError(
            f"HARNESS_GUEST_DIR={text!r}: no Makefile there; allowed values: a "
            "folder with the guest tools' sources and Makefile (like guest/)"
        )
