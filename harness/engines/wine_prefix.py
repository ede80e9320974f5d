"""Wine prefixes: the environment of Wine processes and the cached golden prefix.

A golden prefix is booted once per Wine version and guest-tool version and kept in
the cache; containers are overlay mounts on it (or copies when overlay is not
available), never freshly booted prefixes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.cleanup import RUN_VARIABLE
from harness.errors import EngineError
from harness.guest import GuestTools
from harness.run import cache_root

log = logging.getLogger(__name__)
QUIET = {"WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree,mshtml="}


def wine_env(prefix: Path, run_id: str) -> dict[str, str]:
    """Environment for a Wine process of one prefix, labelled with its run."""
    return {**QUIET, "WINEPREFIX": str(prefix), RUN_VARIABLE: run_id, "DISPLAY": ""}


def wine_version() -> str:
    """`wine --version`, e.g. 'wine-8.0 (Debian 8.0~repack-4)'; EngineError if none."""
    if not shutil.which("wine"):
        raise EngineError("Wine is not installed: install the Debian package wine64")
    out = subprocess.run(
        ["wine", "--version"], capture_output=True, text=True, timeout=30
    )
    return out.stdout.strip() or out.stderr.strip()


def golden(guest: GuestTools) -> Path:
    """The booted golden prefix for this Wine and these guest tools (built if missing).

    Keyed by both, so a new Wine or new guest tools boot a new one once.
    """
    version = re.sub(r"[^A-Za-z0-9.]+", "_", wine_version())[:40]
    root = cache_root() / "wine"
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"golden-{version}-{guest.version[:12]}"
    if (path / "ready").exists():
        return path / "prefix"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time, others wait
        if not (path / "ready").exists():
            _build(path, guest)
    return path / "prefix"


def _build(path: Path, guest: GuestTools) -> None:
    log.info(
        "booting a golden Wine prefix in %s (once per Wine and guest version)", path
    )
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=path.parent))
    prefix = staging / "prefix"
    env = {**os.environ, **QUIET, "WINEPREFIX": str(prefix)}
    try:
        for argv in (["wineboot", "--init"], ["wineserver", "-w"]):
            result = subprocess.run(argv, env=env, capture_output=True, timeout=300)
            if result.returncode != 0:
                raise EngineError(
                    f"{' '.join(argv)} failed in {prefix}: "
                    f"{result.stderr.decode(errors='replace')[-2000:]}"
                )
        harness_dir = prefix / "drive_c" / "harness"
        harness_dir.mkdir(parents=True, exist_ok=True)
        for tool in guest.files():
            shutil.copy2(tool, harness_dir / tool.name)
        (staging / "ready").write_text(guest.version + "\n")
        shutil.rmtree(path, ignore_errors=True)
        staging.rename(path)
    except BaseException:
        subprocess.run(["wineserver", "-k"], env=env, capture_output=True, timeout=30)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_outdated(path)


def _remove_outdated(current: Path, keep: int = 3) -> None:
    """Keep the `keep` newest golden prefixes; older ones go unless a mount uses them.

    Several are kept because runs of different guest-tool versions may be under way
    at once (a developer's tree and a CI checkout on one machine).
    """
    mounts = Path("/proc/mounts").read_text(errors="replace")
    goldens = sorted(
        current.parent.glob("golden-*"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in goldens[keep:]:
        if old != current and f"lowerdir={old}/prefix" not in mounts:
            log.info("removing an outdated golden prefix %s", old)
            shutil.rmtree(old, ignore_errors=True)


def make_prefix(
    golden_prefix: Path, folder: Path, record, warn: bool = True
) -> tuple[Path, str]:
    """A container's prefix from the golden one: overlay mount, copy as fallback.

    Returns the prefix path and how it was made ("overlay" or "copy").  The
    fallback is a warning when `warn` (an engine's first copy), else DEBUG.
    """
    upper, work, merged = folder / "upper", folder / "work", folder / "prefix"
    for directory in (upper, work, merged):
        directory.mkdir(parents=True, exist_ok=True)
    record("mount", str(merged))
    options = f"lowerdir={golden_prefix},upperdir={upper},workdir={work}"
    result = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", options, str(merged)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode == 0:
        return merged, "overlay"
    log.log(
        logging.WARNING if warn else logging.DEBUG,
        "overlay mount unavailable (%s); copying the golden prefix instead, "
        "which is slower",
        result.stderr.strip() or f"exit {result.returncode}",
    )
    shutil.rmtree(merged)
    shutil.copytree(golden_prefix, merged, symlinks=True)
    return merged, "copy"
