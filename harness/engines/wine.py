"""The `wine` engine: Wine prefixes as containers, the local default.

Each Wine prefix has its own wineserver, service control manager, registry and
object namespace, so every service in it is duplicated.  A container is an overlay
mount of a cached golden prefix, kept alive by a resident agent.exe (Debian's
wineserver exits with its last ordinary process), and started inside its own
network namespace (option `network: isolated`) or in one namespace shared by all
containers of the engine (`network: shared`, the control case for port collisions).

The base prefix plays the host: it is made the same way, under the role "host".
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import cleanup, guest, settings
from harness.engines import EngineInfo, options
from harness.engines.wine_net import (
    CLIENT_ADDRESS,
    LabNetwork,
    check_available,
    check_name,
    netns_argv,
)
from harness.engines.wine_prefix import golden, make_prefix, wine_env, wine_version
from harness.errors import ConfigError, EngineError, GuestError, HarnessError
from harness.matrix import Engine as EngineConfig
from harness.run import Run
from harness.services import Service
from harness.targets import Host
from harness.transports import CommandResult, Stopwatch, log_command
from harness.transports.local import kill_group, run_local

log = logging.getLogger(__name__)
NETWORKS = options.WINE_NETWORKS
AGENT_START_TIMEOUT = 60.0


class WineContainer:
    """One Wine prefix with its agent; also used for the host side and the client."""

    def __init__(
        self,
        engine: WineEngine,
        name: str,
        role: str,
        folder: Path,
        prefix: Path,
        namespace: str | None,
        address: str | None,
    ) -> None:
        self.engine, self.name, self.role = engine, name, role
        self.folder, self.prefix = folder, prefix
        self.namespace, self.address = namespace, address
        self.identity = f"{engine.name}:{name}:{secrets.token_hex(4)}"
        self.env = wine_env(prefix, engine.run.id)
        self.agent: guest.AgentClient | None = None
        self.keepalive: subprocess.Popen | None = None
        self.how = "overlay"  # or "copy" when overlay mounts are unavailable

    def __repr__(self) -> str:
        return f"<{self.role} {self.name} of {self.engine.name} at {self.address}>"

    def alive(self) -> bool:
        """False once the agent (the prefix's keep-alive) has exited."""
        return self.keepalive is not None and self.keepalive.poll() is None

    def start(self) -> None:
        """Write the identity, then start the agent that keeps the prefix alive.

        With HARNESS_AGENT=0 (the baseline of the benchmarks) a silent keep-alive
        runs instead and every probe call is a new Wine process.
        """
        self.write_file("C:/harness/identity.txt", self.identity.encode())
        use_agent = settings.use_agent()
        args = [] if use_agent else ["--forever"]
        argv = netns_argv(self.namespace, ["wine", "C:\\harness\\agent.exe", *args])
        # The agent is the prefix's first process, so it starts the wineserver; a
        # later command never does, and so never leaves the server holding its pipes.
        errors = self.folder / "agent.stderr"
        with open(errors, "wb") as stderr:
            self.keepalive = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        agent = guest.AgentClient(self.keepalive, self.name)
        try:
            agent.wait_ready(AGENT_START_TIMEOUT)
        except GuestError as error:
            tail = errors.read_text(errors="replace").strip()[-1500:]
            raise GuestError(f"{error}; its error output: {tail or '(none)'}") from None
        self.agent = agent if use_agent else None

    def guest(
        self,
        tool: str,
        *args: str,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run a guest tool; probe subcommands go through the resident agent."""
        if tool == "probe" and self.agent is not None and not env:
            return self._through_agent(list(args), timeout)
        return self.run([f"C:\\harness\\{tool}.exe", *args], timeout=timeout, env=env)

    def _through_agent(self, argv: list[str], timeout: float) -> CommandResult:
        assert self.agent is not None
        watch = Stopwatch()
        status, answer, _ = self.agent.call(argv, timeout)
        stdout = json.dumps(answer, ensure_ascii=False)
        result = CommandResult(
            self.name, ("probe", *argv), status, stdout, "", watch.elapsed()
        )
        log_command(result)
        return result

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run a Windows program in this prefix (inside its namespace)."""
        full = netns_argv(self.namespace, ["wine", *argv])
        return run_local(
            self.name, full, timeout=timeout, env={**self.env, **(env or {})}
        )

    def native(self, argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        """Run a Linux program on this machine's network (for the client machine)."""
        env = {cleanup.RUN_VARIABLE: self.engine.run.id}
        return run_local(
            self.name, netns_argv(self.namespace, list(argv)), timeout=timeout, env=env
        )

    def write_file(self, path: str, data: bytes) -> None:
        """Write a file at a Windows path of drive C: inside the prefix."""
        drive, _, rest = path.replace("\\", "/").partition(":/")
        root = (self.prefix / "drive_c").resolve()
        target = (root / rest.lstrip("/")).resolve()
        if (
            drive.upper() != "C"
            or ".." in rest.split("/")
            or root not in target.parents
        ):
            raise EngineError(
                f"{self.name}: only paths under C:/ can be written: {path!r}"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def stop(self) -> None:
        """End every process of this prefix and wait until its server is gone."""
        if self.agent is not None:
            self.agent.stop()
        elif self.keepalive is not None:
            kill_group(self.keepalive)  # --forever ignores the end of its input
        for flag in ("-k", "-w"):
            try:
                subprocess.run(
                    ["wineserver", flag],
                    env={**os.environ, **self.env},
                    capture_output=True,
                    timeout=20,
                )
            except subprocess.TimeoutExpired:
                log.warning("%s: wineserver %s timed out", self.name, flag)


class WineEngine:
    """Containers are Wine prefixes on this machine."""

    def __init__(self, host: Host, name: str, config: EngineConfig, run: Run) -> None:
        self.host, self.name, self.config, self.run = host, name, config, run
        self.network = str(config.options.get("network", "isolated"))
        if self.network not in NETWORKS:
            raise ConfigError(
                f"engines.{name}.options.network: {self.network!r}; "
                f"allowed values: {', '.join(NETWORKS)}"
            )
        self.containers: dict[str, WineContainer] = {}
        self._reserved: set[str] = set()
        self._pool: list[Future[WineContainer]] = []
        self._background = ThreadPoolExecutor(max_workers=2)
        self._count = 0
        self._lock = threading.Lock()
        self._copy_warned = False  # "overlay mount unavailable" said for this engine
        self.lab: LabNetwork | None = None
        self.shared: tuple[str | None, str | None] = (None, None)
        self.golden: Path | None = None
        self.state = run.state / name

    def _record(self, kind: str, value: str) -> None:
        cleanup.record(self.run.state, kind, value)

    def prepare(self) -> EngineInfo:
        if self.network == "isolated":
            check_available()  # before anything slow: no root means broken, at once
        version = wine_version()
        tools = guest.tools()
        self.golden = golden(tools)
        self.state.mkdir(parents=True, exist_ok=True)
        self._record("dir", str(self.state))
        if self.network == "isolated" or os.geteuid() == 0:
            check_available()
            self.lab = LabNetwork(self.run, self.name, self._record)
            self.lab.create()
            if self.network == "shared":
                self.shared = self.lab.attach("shared")
        else:
            log.warning(
                "%s: not root, so the shared network is this machine's own", self.name
            )
            self.shared = (None, "127.0.0.1")
        # The host side and the client machine serve every suite: start them now,
        # side by side, instead of in the first check that needs each.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(self.host_side), pool.submit(self.client)]:
                future.result()
        return EngineInfo(
            self.name,
            version,
            self.host.platform,
            details={
                "network": self.network,
                "guest_tools": tools.version,
                "golden_prefix": str(self.golden),
            },
        )

    def create_container(self, name: str, role: str = "container") -> WineContainer:
        if self.golden is None:
            raise EngineError(f"{self.name}: prepare() was not called")
        check_name(name)  # before it becomes a folder, a mount or a namespace
        with self._lock:
            if name in self.containers or name in self._reserved:
                raise EngineError(f"{self.name}: container {name!r} exists already")
            self._reserved.add(name)
        try:
            container = self._make(name, role)
        finally:
            self._reserved.discard(name)
        try:
            container.start()
        except BaseException:
            self.destroy(container)
            raise
        log.info("%s: %r ready (%s)", self.name, container, container.how)
        return container

    def create_containers(
        self, names: Sequence[str], role: str = "container"
    ) -> list[WineContainer]:
        """Several containers at once (their Wine boots overlap); all or none."""
        with ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
            futures = [pool.submit(self.create_container, n, role) for n in names]
        errors = [f.exception() for f in futures if f.exception()]
        if errors:
            for future in futures:
                if not future.exception():
                    self.destroy(future.result())
            raise errors[0]  # type: ignore[misc]
        return [f.result() for f in futures]

    def acquire(self, count: int) -> list[WineContainer]:
        """`count` ready containers: warm ones from the pool first, then new ones.

        The pool is refilled in the background, so the next suite's containers boot
        while this suite's checks run.  HARNESS_POOL sets its size (0: no pool).
        """
        taken: list[WineContainer] = []
        while self._pool and len(taken) < count:
            try:
                taken.append(self._pool.pop(0).result())
            except HarnessError as error:
                log.warning("%s: a pooled container failed: %s", self.name, error)
        if len(taken) < count:
            names = [self._next_name() for _ in range(count - len(taken))]
            taken += self.create_containers(names)
        size = settings.pool_size()
        while len(self._pool) < size:
            name = self._next_name()
            self._pool.append(self._background.submit(self.create_container, name))
        return taken

    def release(self, containers: Sequence[WineContainer]) -> None:
        """Destroy containers in the background; close() waits for it."""
        for container in containers:
            try:
                self._background.submit(self.destroy, container)
            except RuntimeError:  # closing already (an interrupted run): do it now
                self.destroy(container)

    def _next_name(self) -> str:
        with self._lock:
            self._count += 1
            return f"c{self._count}"

    def destroy_many(self, containers: Sequence[WineContainer]) -> None:
        with ThreadPoolExecutor(max_workers=len(containers) or 1) as pool:
            list(pool.map(self.destroy, containers))

    def _make(self, name: str, role: str) -> WineContainer:
        if self.golden is None:
            raise EngineError(f"{self.name}: prepare() makes the golden prefix first")
        folder = self.state / name
        with self._lock:  # the overlay's absence is said once per engine
            warn, self._copy_warned = not self._copy_warned, True
        prefix, how = make_prefix(self.golden, folder, self._record, warn=warn)
        if how == "overlay" and warn:
            self._copy_warned = False  # not said yet
        namespace, address = self._place(name, role)
        container = WineContainer(self, name, role, folder, prefix, namespace, address)
        container.how = how
        with self._lock:
            self.containers[name] = container
        return container
        try:
            container.start()
        except BaseException:
            self.destroy(container)
            raise
        log.info("%s: %r ready (%s)", self.name, container, how)
        return container

    def _place(self, name: str, role: str) -> tuple[str | None, str | None]:
        if role == "client":
            return (
                (self.lab.client_ns, CLIENT_ADDRESS)
                if self.lab
                else (None, "127.0.0.1")
            )
        if self.network == "shared":
            return self.shared
        assert self.lab is not None
        return self.lab.attach(name)

    def host_side(self) -> WineContainer:
        """The host's own instance of every service: the base prefix."""
        return self.containers.get("host") or self.create_container("host", "host")

    def client(self) -> WineContainer:
        """The client machine: a prefix in the lab's client namespace."""
        return self.containers.get("client") or self.create_container(
            "client", "client"
        )

    def duplicate(self, container: Any, service: Service) -> list[CommandResult]:
        """Install and start `service` in the container; results are the checks' data.

        Only transport trouble raises: a service that does not start is what the
        `starts` check reports.
        """
        if service.name != "ordinary":
            return [
                container.guest("probe", "scm", "start", name)
                for name in service.scm_names
            ]
        scm_name = service.scm_names[0]
        binpath = f"C:\\harness\\dupsvc.exe --port {service.port}"
        return [
            container.guest("probe", "scm", "create", scm_name, binpath),
            container.guest("probe", "scm", "start", scm_name),
        ]

    def destroy(self, container: WineContainer) -> None:
        container.stop()
        cleanup.unmount(str(container.prefix))
        if self.lab and container.namespace not in (
            None,
            self.lab.client_ns,
            self.shared[0],
        ):
            self.lab.remove(container.namespace)
        shutil.rmtree(container.folder, ignore_errors=True)
        with self._lock:
            self.containers.pop(container.name, None)

    def close(self) -> None:
        """Remove every container, namespace and folder this engine made."""
        problems = []
        self._background.shutdown(wait=True, cancel_futures=True)
        self._pool.clear()

        def destroy(container: WineContainer) -> None:
            try:
                self.destroy(container)
            except (HarnessError, OSError) as error:
                problems.append(f"{container.name}: {error}")

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(destroy, list(self.containers.values())))
        if self.lab:
            self.lab.remove()
        shutil.rmtree(self.state, ignore_errors=True)
        if problems:
            raise EngineError(f"{self.name}: cleanup incomplete: {'; '.join(problems)}")
