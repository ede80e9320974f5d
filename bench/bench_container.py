"""Container ready: created, and its services answering (`probe scm query eventlog`
says RUNNING), measured side by side with the naive ways of making a container.

Run:  .venv/bin/python bench/bench_container.py [--rounds 20]

Variants, alternated within every round (each container removed before the next):
  overlay  engine.create_container(): overlay mount of the golden prefix, own
           network namespace, agent started (the harness's way)
  pool     engine.acquire(1) with a warm pool (HARNESS_POOL, default 2): the
           container was booted in the background beforehand, so this is the
           time a suite waits, not the time to make a container
  copy     `cp -a` of the golden prefix, then started the same way
  fresh    a new prefix made by `wineboot --init`, guest tools copied in, then
           started the same way (every other round: it is slow)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from typing import Any

import benchlib

from harness.engines.wine import WineContainer
from harness.engines.wine_net import netns_argv
from harness.engines.wine_prefix import make_prefix

NAME = "bench_container"


# Containers whose eventlog Wine never started within wait_running's 30 s: they
# are counted and reported, not timed.  Seen about once in a hundred containers
# under load: Wine's services.exe leaves the auto-start service STOPPED with 1077
# (ERROR_SERVICE_NEVER_STARTED).  The harness itself starts every service it
# checks, so its cells do not depend on the auto-start.
NOT_READY: list[str] = []


def ready(engine: Any, make: Any) -> float | None:
    """Seconds from nothing to eventlog RUNNING for a container made by `make`."""
    began = time.perf_counter()
    container = make(engine)
    seconds = time.perf_counter() - began if came_up(container) else None
    engine.destroy(container)
    return seconds


def came_up(container: Any) -> bool:
    """Whether eventlog became RUNNING; a container where it did not is counted."""
    try:
        benchlib.wait_running(container)
    except TimeoutError as error:
        NOT_READY.append(str(error))
        print(f"not ready: {error}")
        return False
    return True


def by_overlay(engine: Any) -> Any:
    return engine.create_container(engine._next_name())


def by_hand(engine: Any, fill: Any) -> WineContainer:
    """A container whose prefix `fill(container)` makes, started like the engine's."""
    name = engine._next_name()
    folder = engine.state / name
    folder.mkdir(parents=True)
    namespace, address = engine.lab.attach(name)
    container = WineContainer(
        engine, name, "container", folder, folder / "prefix", namespace, address
    )
    engine.containers[name] = container  # so destroy() and close() remove it
    fill(container)
    container.start()
    return container


def by_copy(engine: Any) -> WineContainer:
    def fill(container: WineContainer) -> None:
        argv = ["cp", "-a", str(engine.golden), str(container.prefix)]
        subprocess.run(argv, check=True)

    container = by_hand(engine, fill)
    container.how = "copy"
    return container


def by_wineboot(engine: Any) -> WineContainer:
    def fill(container: WineContainer) -> None:
        argv = netns_argv(container.namespace, ["wineboot", "--init"])
        env = {**os.environ, **container.env}
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=300)
        tools = container.prefix / "drive_c" / "harness"
        tools.mkdir(parents=True, exist_ok=True)
        for tool in (engine.golden / "drive_c" / "harness").glob("*.exe"):
            shutil.copy2(tool, tools / tool.name)

    container = by_hand(engine, fill)
    container.how = "fresh"
    return container


def phases(engine: Any) -> dict[str, float]:
    """The overlay way done step by step, to show where its time goes."""
    name = engine._next_name()
    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return clock[-1] - clock[-2]

    folder = engine.state / name
    prefix, _ = make_prefix(engine.golden, folder, engine._record)
    mount = lap()
    namespace, address = engine.lab.attach(name)
    netns = lap()
    container = WineContainer(
        engine, name, "container", folder, prefix, namespace, address
    )
    engine.containers[name] = container
    container.start()
    agent = lap()
    if not came_up(container):
        engine.destroy(container)
        return {}
    eventlog = lap()
    engine.destroy(container)
    return {"mount": mount, "netns": netns, "agent": agent, "eventlog": eventlog}


def settle_pool(engine: Any) -> None:
    """Wait until the warm pool is full and released containers are gone.

    Reads the engine's private pool: the benchmark must not time a pool that is
    still booting, and the engine offers no public way to wait for it.
    """
    for future in list(engine._pool):
        future.result()
    deadline = time.monotonic() + 30
    while len(engine.containers) > 2 + len(engine._pool):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)


def from_pool(engine: Any) -> float | None:
    settle_pool(engine)
    began = time.perf_counter()
    (container,) = engine.acquire(1)
    seconds = time.perf_counter() - began if came_up(container) else None
    engine.release([container])
    settle_pool(engine)
    return seconds


def keep(samples: list[float], seconds: float | None) -> None:
    if seconds is not None:
        samples.append(seconds)


def measure(rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {
        "overlay": [],
        "pool": [],
        "copy": [],
        "fresh": [],
    }
    with benchlib.wine_engine("bench") as engine:
        engine.release(engine.acquire(1))  # fills the warm pool
        # One unrecorded round first: the target is for warm caches, and the very
        # first container of a process also pays for cold page caches.
        ready(engine, by_overlay)
        ready(engine, by_copy)
        for number in range(rounds):
            got = {
                "overlay": ready(engine, by_overlay),
                "pool": from_pool(engine),
                "copy": ready(engine, by_copy),
            }
            if number % 4 == 0:  # about 6 s each: a few samples are enough
                got["fresh"] = ready(engine, by_wineboot)
            for key, seconds in got.items():
                keep(samples[key], seconds)
            for step, seconds in phases(engine).items():
                samples.setdefault(f"phase {step}", []).append(seconds)
            print(f"round {number + 1}: " + ", ".join(
                f"{k} {v:.2f} s" if v is not None else f"{k} not ready"
                for k, v in got.items()))  # fmt: skip
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    before = benchlib.machine()
    samples = measure(args.rounds)
    s = {k: benchlib.stats(v) for k, v in samples.items()}
    for key, label in (
        ("overlay", "container ready, overlay (the harness)"),
        ("copy", "baseline: full copy (cp -a) of the golden prefix"),
        ("fresh", "baseline: fresh wineboot --init prefix"),
        ("pool", "acquire(1) from a warm pool (already booted)"),
    ):
        print(benchlib.show(label, samples[key]))
    overlay = s["overlay"]
    print("where the overlay way's time goes (done step by step): " + ", ".join(
        f"{k[6:]} {v['median']:.3f} s" for k, v in s.items() if k.startswith("phase")
    ))  # fmt: skip
    ratio = f"copy {s['copy']['median'] / overlay['median']:.1f}x, " + (
        f"fresh {s['fresh']['median'] / overlay['median']:.1f}x slower"
    )
    print(f"ratio (baseline median / overlay median): {ratio}")
    command = ".venv/bin/python bench/bench_container.py"
    rows = [
        benchlib.row(
            "container ready (overlay, eventlog RUNNING)",
            "median ≤ 0.3 s, p95 ≤ 0.6 s",
            f"median {overlay['median']:.2f} s, p95 {overlay['p95']:.2f} s",
            f"copy {s['copy']['median']:.2f} s; wineboot {s['fresh']['median']:.1f} s",
            ratio, overlay["median"] <= 0.3 and overlay["p95"] <= 0.6, command,
        ),
        benchlib.row(
            "acquire() from the warm pool", "(suite wait)",
            f"median {s['pool']['median'] * 1000:.0f} ms, "
            f"p95 {s['pool']['p95'] * 1000:.0f} ms",
            command=command,
        ),
    ]  # fmt: skip
    print(f"containers not ready within 30 s (not timed): {len(NOT_READY)}")
    benchlib.write(
        NAME,
        before,
        {"samples": samples, "stats": s, "rows": rows, "not_ready": NOT_READY},
    )


if __name__ == "__main__":
    main()
