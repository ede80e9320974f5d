"""`harness up|status|down PLATFORM`: keep a Windows machine up between runs.

    harness up win2022          # create or start it; it stays up
    harness run --platform win2022 --service spooler   # reuses the running machine
    harness status win2022      # running, stopped, absent or unknown
    harness down win2022 [--destroy]

These are plain functions; the CLI registers them.  A platform whose target is local
has nothing to bring up, and an inventory host exists already: both say so.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from harness import cleanup, targets
from harness import matrix as matrixlib
from harness.errors import ConfigError, HarnessError, exit_code_for
from harness.run import Run

PlatformArg = Annotated[str, typer.Argument(help="platform name from matrix.yaml")]
MatrixOpt = Annotated[
    Path | None,
    typer.Option(
        "--matrix", help="matrix file (default: HARNESS_MATRIX or ./matrix.yaml)"
    ),
]
REPO_MATRIX = Path(__file__).resolve().parents[2] / "matrix.yaml"


def up(platform: PlatformArg, matrix: MatrixOpt = None) -> None:
    """Bring a platform's machine up and leave it running for later runs."""
    config = _platform(platform, matrix)
    if config.target == "local":
        typer.echo(
            f"{platform}: target local: this machine is the host, there is "
            "nothing to bring up"
        )
        return
    with _target(platform, config) as target:
        host = target.up()
        build = host.facts.get("build", "?")
        typer.echo(
            f"{platform}: running at {host.address} ({host.name}, build {build})"
        )
        host.transport.close()


def status(platform: PlatformArg, matrix: MatrixOpt = None) -> None:
    """Print the machine's state: running, stopped, absent or unknown."""
    config = _platform(platform, matrix)
    if config.target == "local":
        typer.echo(f"{platform}: running (target local: this machine)")
        return
    try:
        with _target(platform, config) as target:
            state = target.status()
    except HarnessError as error:
        typer.echo(f"{platform}: unknown ({error})")
        raise typer.Exit(int(exit_code_for(error))) from None
    typer.echo(f"{platform}: {state}")


def down(
    platform: PlatformArg,
    destroy: Annotated[
        bool, typer.Option("--destroy", help="delete the machine instead of halting it")
    ] = False,
    matrix: MatrixOpt = None,
) -> None:
    """Halt (or destroy) a machine brought up with `harness up`."""
    config = _platform(platform, matrix)
    if config.target != "vagrant":
        typer.echo(
            f"{platform}: target {config.target}: this harness does not "
            "manage the machine, there is nothing to bring down"
        )
        return
    with _target(platform, config) as target:
        if destroy:
            target.destroy()
        else:
            target.halt()
        typer.echo(f"{platform}: {target.status()}")


def _platform(name: str, path: Path | None) -> matrixlib.Platform:
    path = path or Path(os.environ.get("HARNESS_MATRIX") or "matrix.yaml")
    if not path.exists() and path == Path("matrix.yaml"):
        path = REPO_MATRIX
    loaded = matrixlib.load(path)
    if name not in loaded.platforms:
        raise ConfigError(
            f"platform {name!r} is not in {path}; allowed values: "
            f"{', '.join(sorted(loaded.platforms))}"
        )
    return loaded.platforms[name]


@contextlib.contextmanager
def _target(name: str, config: matrixlib.Platform) -> Iterator[Any]:
    """The platform's target for one command; its run state goes with the command
    (the machine itself stays as the command left it)."""
    run = Run.create(f"cli-{name}-{secrets.token_hex(3)}")
    try:
        yield targets.driver(config.target)(name, config, run)
    finally:
        cleanup.release(run.state)
