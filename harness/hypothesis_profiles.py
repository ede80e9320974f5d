"""Hypothesis settings for the harness: profiles `ci` (default), `nightly` and `dev`.

    HARNESS_HYPOTHESIS_PROFILE=nightly  pytest cases/test_isolation_state.py

Two families of tests use them.  *Live* tests drive real engines (a container costs
seconds), so their budgets are counted in containers, they have no deadline, and
the health checks that measure speed are off: a slow container is not a bug and
must never turn into "Flaky".  *Pure* tests check the harness's own functions and
run in milliseconds.

The profiles are registered under `harness-<name>` so that loading them never
replaces Hypothesis's own `ci` profile for other test suites; nothing here calls
`settings.load_profile`, each test applies the settings it asks for.

Reproducibility: `ci` is deterministic.  Pure tests are derandomized; live tests
run with a fixed seed instead, because derandomize turns the example database off
and CI keeps the database (HARNESS_HYPOTHESIS_DB, default reports/hypothesis-db)
as an artifact.  Every profile prints the reproduction blob of a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from harness.errors import ConfigError

PROFILE_VARIABLE = "HARNESS_HYPOTHESIS_PROFILE"
DATABASE_VARIABLE = "HARNESS_HYPOTHESIS_DB"
SEED_VARIABLE = "HARNESS_HYPOTHESIS_SEED"
REPRODUCE_VARIABLE = "HARNESS_HYPOTHESIS_REPRODUCE"
PROFILES = ("ci", "nightly", "dev")
DEFAULT_DATABASE = Path(__file__).resolve().parent.parent / "reports/hypothesis-db"
CI_SEED = 20261203

# Speed is not what these tests are about; the data checks stay on.
SLOW_IS_FINE = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    HealthCheck.filter_too_much,
]
NO_EXPLAIN = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)

# Live budgets: the examples bound the containers made (a state machine makes at
# most 3 per example; a Wine container costs about 3.5 s to make and remove), the
# steps between them are cheap.  `ci` keeps one Wine engine near 40-60 s on 2
# cores, so both finish within 3 minutes; `nightly` costs about 5 times as much.
_LIVE: dict[str, dict[str, Any]] = {
    "ci": {"max_examples": 8, "stateful_step_count": 30},
    "nightly": {"max_examples": 40, "stateful_step_count": 40},
    "dev": {"max_examples": 3, "stateful_step_count": 6},
}
_PURE = {"ci": 150, "nightly": 2000, "dev": 50}


def selected(name: str | None = None) -> str:
    """The profile named by `name`, else HARNESS_HYPOTHESIS_PROFILE, else `ci`."""
    name = name or os.environ.get(PROFILE_VARIABLE) or "ci"
    if name not in PROFILES:
        raise ConfigError(
            f"{PROFILE_VARIABLE}={name!r}; allowed values: {', '.join(PROFILES)}"
        )
    return name


def database_path() -> Path:
    """Where live tests keep their example database (CI uploads this folder)."""
    return Path(os.environ.get(DATABASE_VARIABLE) or DEFAULT_DATABASE)


def live_settings(name: str | None = None) -> settings:
    """Settings for a test that drives a live engine."""
    profile = selected(name)
    return settings(
        settings.get_profile(f"harness-{profile}-live"),
        database=DirectoryBasedExampleDatabase(str(database_path())),
    )


def pure_settings(name: str | None = None) -> settings:
    """Settings for a fast property of the harness itself."""
    return settings.get_profile(f"harness-{selected(name)}-pure")


def replayable(factory: Any, name: str | None = None) -> Any:
    """Apply the seed of the profile, or the one asked for, to a state machine class.

    HARNESS_HYPOTHESIS_SEED=N runs with seed N; HARNESS_HYPOTHESIS_REPRODUCE=
    "VERSION BLOB" replays the failure printed as @reproduce_failure(VERSION, BLOB).
    """
    from hypothesis import reproduce_failure

    given = os.environ.get(SEED_VARIABLE)
    if given or selected(name) == "ci":
        factory = seed(int(given) if given else CI_SEED)(factory)
    blob = os.environ.get(REPRODUCE_VARIABLE)
    if blob:
        version, _, data = blob.strip().partition(" ")
        literal = data.strip()
        if literal.startswith(("b'", 'b"')):
            literal = literal[2:-1]
        factory = reproduce_failure(version, literal.encode())(factory)
    return factory


def _register() -> None:
    for profile, budget in _LIVE.items():
        settings.register_profile(
            f"harness-{profile}-live",
            deadline=None,
            print_blob=True,
            suppress_health_check=SLOW_IS_FINE,
            phases=NO_EXPLAIN,
            verbosity=Verbosity.verbose if profile == "dev" else Verbosity.normal,
            **budget,
        )
    for profile, examples in _PURE.items():
        settings.register_profile(
            f"harness-{profile}-pure",
            max_examples=examples,
            deadline=None,
            print_blob=True,
            derandomize=profile == "ci",
            database=None if profile == "ci" else _pure_database(),
            suppress_health_check=[HealthCheck.too_slow],
        )


def _pure_database() -> DirectoryBasedExampleDatabase:
    return DirectoryBasedExampleDatabase(str(database_path() / "pure"))


_register()
