"""The harness's environment variables, read and checked in one place.

Each reader raises ConfigError naming the variable and its allowed values, so a
mistyped value is a usage error at the start of a run (exit 2), not a broken cell.

    pool_size()        # HARNESS_POOL, default 2
    check_environment()  # all of them at once, as `harness run` does first
"""

from __future__ import annotations

import logging
import os

from harness.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _whole(name: str, default: int, minimum: int = 0) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(
            f"{name}={text!r}; allowed values: a whole number from {minimum}"
        )
    return value


def pool_size() -> int:
    """HARNESS_POOL: warm containers made ahead per engine (0: none; default 2)."""
    return _whole("HARNESS_POOL", 2)


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
