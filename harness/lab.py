"""The lab of one pytest process: hosts per platform, engines per placement, suites.

Hosts and engines are made on first use and kept for the session (one worker owns
one platform's machine); a suite's containers live for one service module.  A
failure to bring up a host or prepare an engine is remembered, so the remaining
cells of that placement are broken at once instead of retrying for each.

Every suite starts from the same machine: an engine is prepared on the clean
machine (the target's `clean` state), that machine is saved as
``clean-<engine>``, and each of its suites begins by restoring it.  Where the
target cannot save states (this Linux machine, an inventory host) suites share the
machine; an engine whose prepared state was lost with a revert is prepared again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from typing import Any

import allure

from harness import engines, targets
from harness.errors import HarnessError
from harness.matrix import Matrix
from harness.probe import attach, probe
from harness.run import Run
from harness.services import Service

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a cell runs: a platform and an engine."""

    platform: str
    engine: str

    def __str__(self) -> str:
        return f"{self.platform}/{self.engine}"


@dataclasses.dataclass
class Suite:
    """What a service module's checks work with."""

    placement: Placement
    service: Service
    engine: Any
    container: Any  # the service is duplicated into this one
    peer: Any  # a second container: isolation is observed from here
    duplicated: list[Any]  # the engine's duplicate() results, for the checks
    # (state, pid) of the service's SCM names on the host side before duplicating
    host_before: dict[str, tuple[Any, Any]] = dataclasses.field(default_factory=dict)

    @property
    def host(self) -> Any:
        return self.engine.host_side()

    @property
    def client(self) -> Any:
        return self.engine.client()


class Lab:
    def __init__(
        self, matrix: Matrix, run_id: str, *, owner: int, destroy: str = "never"
    ) -> None:
        self.matrix = matrix
        self.destroy = destroy
        self.run = Run.create(run_id, owner)
        self.targets: dict[str, Any] = {}
        self.engines: dict[Placement, Any] = {}
        self.infos: list[dict[str, Any]] = []
        self.failures: dict[Any, HarnessError] = {}
        self.on_machine: dict[str, set[str]] = {}  # engines prepared on each machine

    def target(self, platform: str) -> Any:
        if platform not in self.targets:
            config = self.matrix.platforms[platform]
            self.targets[platform] = targets.driver(config.target)(
                platform, config, self.run, destroy=self.destroy
            )
        return self.targets[platform]

    def _up(self, platform: str) -> Any:
        """The platform's host, with its client machine's host when it names one."""
        host = self.target(platform).up()
        client = self.matrix.platforms[platform].client
        if client and "client_host" not in host.facts:
            with allure.step(f"bring up the client machine {client}"):
                host.facts["client_host"] = self.target(client).up()
        return host

    def engine(self, placement: Placement) -> Any:
        """The prepared engine of a placement (prepared once, failures remembered)."""
        if placement in self.failures:
            raise self.failures[placement]
        if placement not in self.engines:
            try:
                self.engines[placement] = self._prepare(placement)
            except HarnessError as error:
                self.failures[placement] = error
                raise
        return self.engines[placement]

    def _prepare(self, placement: Placement) -> Any:
        with allure.step(f"prepare engine {placement.engine} on {placement.platform}"):
            host = self._up(placement.platform)
            self._revert(placement.platform, targets.CLEAN)
            config = self.matrix.engines[placement.engine]
            engine = engines.driver(config.kind)(
                host, placement.engine, config, self.run
            )
            self.engines[placement] = engine  # closed at the end even if prepare fails
            info = engine.prepare()
            self.on_machine[placement.platform].add(placement.engine)
            self.target(placement.platform).save(targets.prepared(placement.engine))
            self.infos.append(self._info(placement, host, info))
            return engine

    def _info(self, placement: Placement, host: Any, info: Any) -> dict[str, Any]:
        """What the run metadata says about one placement: where it ran (the
        platform's target kind and host name) and what ran there.  An OS build
        the target did not report stays empty rather than borrowing the engine's
        version."""
        return {
            "platform": placement.platform,
            "engine": placement.engine,
            "version": info.version,
            "os_build": str(host.facts.get("os_build") or ""),
            "target": self.matrix.platforms[placement.platform].target,
            "host": host.name,
            "details": info.details,
        }

    @contextlib.contextmanager
    def suite(self, placement: Placement, service: Service) -> Iterator[Suite]:
        """Two fresh containers with `service` duplicated into the first."""
        engine = self.engine(placement)
        self._restore_prepared(placement, engine)
        names = [f"{service.name}-1", f"{service.name}-2"]
        with allure.step("create two containers"):
            made = _create(engine, names)
        try:
            with allure.step(f"the host's {service.name} before duplicating"):
                before = _instances(engine.host_side(), service)
            with allure.step(f"duplicate {service.name} into {made[0].name}"):
                results = engine.duplicate(made[0], service)
                for result in results or []:
                    attach(result)
            yield Suite(
                placement, service, engine, made[0], made[1], results or [], before
            )
        finally:
            _destroy(engine, made)

    def _revert(self, platform: str, state: str, engine: str | None = None) -> bool:
        """Restore a saved state of the platform's machine (`engine` prepared on it,
        or none for `clean`) and note what the machine now holds."""
        held = self.on_machine.setdefault(platform, set())
        if not self.target(platform).revert(state):
            return False
        held.clear()
        held.update([engine] if engine else [])
        return True

    def _restore_prepared(self, placement: Placement, engine: Any) -> None:
        """The clean machine with this engine prepared, before one of its suites."""
        platform, name = placement.platform, placement.engine
        if self._revert(platform, targets.prepared(name), name):
            return
        if name not in self.on_machine.get(platform, set()):
            with allure.step(f"prepare engine {name} again: a revert removed it"):
                engine.prepare()
                self.on_machine[platform].add(name)

    def repair(self, suite: Suite) -> None:
        """Replace what died during an earlier check (a killed keep-alive, a crashed
        agent), so that one broken cell does not break the rest of its suite."""
        engine = suite.engine
        for role in ("host", "client"):
            side = getattr(engine, "containers", {}).get(role)
            if side is not None and not _alive(side):
                with allure.step(f"replace the {role} side, which died"):
                    engine.destroy(side)
                    getattr(engine, "host_side" if role == "host" else "client")()
        if _alive(suite.container) and _alive(suite.peer):
            return
        with allure.step("replace the suite's containers, which died"):
            names = [suite.container.name, suite.peer.name]
            _destroy(engine, [suite.container, suite.peer])
            suite.container, suite.peer = _create(engine, names)
            suite.duplicated = engine.duplicate(suite.container, suite.service) or []

    def close(self, failed: AbstractSet[str] = frozenset()) -> list[dict[str, Any]]:
        """Close every engine and bring every host down; returns engine infos.

        `failed` names the platforms with a failed or broken cell: with
        `--destroy passing` their machines are kept for a look.
        """
        for placement, engine in self.engines.items():
            try:
                engine.close()
            except HarnessError as error:
                log.error("%s: %s", placement, error)
        for platform, target in self.targets.items():
            try:
                target.down(passed=platform not in failed)
            except HarnessError as error:
                log.error("%s: %s", platform, error)
        self.engines.clear()
        self.targets.clear()
        return self.infos


def _instances(side: Any, service: Service) -> dict[str, tuple[Any, Any]]:
    """(state, pid) of each SCM name the service may have (Wine's and Windows')."""
    found = {}
    for name in dict.fromkeys([*service.scm_names, *service.windows_scm_names]):
        answer = probe(side, "scm", "query", name)
        found[name] = (answer.get("state"), answer.get("pid"))
    return found


def _create(engine: Any, names: list[str]) -> list[Any]:
    """Containers from the engine's warm pool, side by side, or one by one."""
    if hasattr(engine, "acquire"):
        return engine.acquire(len(names))
    if hasattr(engine, "create_containers"):
        return engine.create_containers(names)
    made: list[Any] = []
    try:
        for name in names:
            made.append(engine.create_container(name))
    except BaseException:
        _destroy(engine, made)
        raise
    return made


def _destroy(engine: Any, containers: list[Any]) -> None:
    if hasattr(engine, "release"):
        engine.release(containers)
    elif hasattr(engine, "destroy_many"):
        engine.destroy_many(containers)
    else:
        for container in containers:
            engine.destroy(container)


def _alive(container: Any) -> bool:
    check = getattr(container, "alive", None)
    return check() if check else True
