"""The sandboxie engine: Sandboxie-Plus sandboxes as containers.

    engines:
      sandboxie:
        kind: sandboxie
        platforms: [win10, win11]
        artifact: engines/Sandboxie-Plus-x64-v1.15.4.exe
        install: "{artifact} /S"
        options:
          install_dir: C:\\Program Files\\Sandboxie-Plus
          box_root: C:\\Sandbox\\harness

A sandbox is defined with SbieIni.exe (its files kept under box_root), programs run
in it through ``Start.exe /box:NAME /wait``, and services are started in the box by
the guest tools, whose SCM calls Sandboxie serves inside the sandbox.  A sandboxed
program's console output does not reach Start.exe, so each command writes its output
to a file in the box, which is read from the host side of the box's folder.

Known limits: sandboxes share the host's network stack, so their address is the
host's and fixed ports collide (what the `isolated` check measures); a removed box
stays in Sandboxie.ini as a disabled section named with the run label.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping, Sequence

from harness import matrix
from harness.engines import EngineInfo
from harness.engines import windows_common as common
from harness.engines.windows_client import WindowsClient
from harness.errors import EngineError
from harness.run import Run
from harness.services import Service
from harness.targets import Host
from harness.transports import CommandResult, Stopwatch, log_command
from harness.transports.winrm_scripts import cmd_escape, command_line

log = logging.getLogger(__name__)
INSTALL_DIR = "C:\\Program Files\\Sandboxie-Plus"
BOX_ROOT = "C:\\Sandbox\\harness"
SERVICE = "SbieSvc"  # Sandboxie's service: Start.exe and SbieIni.exe need it
FILE_VERSION = """# hx:file-version
param($Path)
(Get-Item -LiteralPath $Path -ErrorAction Stop).VersionInfo.ProductVersion"""


class Sandbox(common.GuestTools):
    """One sandbox; commands run in it through Start.exe, output through its files."""

    role = "container"

    def __init__(self, engine: SandboxieEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.box = re.sub(r"[^A-Za-z0-9_]", "_", f"{engine.run.label}_{name}")[:32]
        self.identity = common.new_identity(engine.name, name)
        self.address = engine.host.address
        self.root = f"{engine.box_root}\\{self.box}"

    def inside(self, path: str) -> str:
        """Where a path of drive C: inside the box lives on the host."""
        drive, _, rest = path.replace("/", "\\").partition(":\\")
        return f"{self.root}\\drive\\{drive.upper() or 'C'}\\{rest}"

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run argv in the box; its output comes back through files in the box.

        The line crosses three readers: the host's cmd.exe, Start.exe, which passes
        the rest of its command line to the boxed program as written, and the
        boxed ``cmd.exe /s /c "..."``, which drops the outer quotes and reads the
        inner line.  So the inner line is quoted for the boxed cmd.exe
        (`command_line`), and only escaped for the host's (`cmd_escape`), never
        quoted as one argument, which Start.exe would not unquote.  Known limit:
        an environment value with a space or a quote is not quoted for Start.exe.
        """
        watch = Stopwatch()
        token = secrets.token_hex(6)
        out = f"{common.GUEST_HOME}\\out\\{token}.out"
        err = f"{common.GUEST_HOME}\\out\\{token}.err"
        inner = f"{command_line(argv)} > {out} 2> {err}"
        variables = [f"/env:{key}={value}" for key, value in (env or {}).items()]
        options = [f"/box:{self.box}", "/wait", "/silent", "/hide_window"]
        started = self.engine.start(
            [*options, *variables],
            timeout=timeout,
            program=f'cmd.exe /d /s /c "{inner}"',
        )
        stdout = self.engine.read_text(self.inside(out))
        stderr = self.engine.read_text(self.inside(err))
        result = CommandResult(
            self.box,
            tuple(argv),
            started.exit_code,
            stdout,
            stderr or started.stderr,
            watch.elapsed(),
        )
        log_command(result)
        return result

    def write_file(self, path: str, data: bytes) -> None:
        """Write into the box's copy of `path` (the host's file stays untouched)."""
        self.engine.transport.upload_bytes(data, self.inside(path))


class SandboxieEngine(common.WindowsEngine):
    """The Engine contract for Sandboxie-Plus on one host."""

    def __init__(self, host: Host, name: str, config: matrix.Engine, run: Run) -> None:
        super().__init__(host, name, config, run)
        install_dir = str(config.options.get("install_dir", INSTALL_DIR))
        self.start_exe = f"{install_dir}\\Start.exe"
        self.sbieini = f"{install_dir}\\SbieIni.exe"
        self.service_exe = f"{install_dir}\\{SERVICE}.exe"
        self.box_root = str(config.options.get("box_root", BOX_ROOT))
        self.boxes: dict[str, Sandbox] = {}

    def start(
        self,
        args: Sequence[str],
        *,
        timeout: float = 300.0,
        program: str | None = None,
    ) -> CommandResult:
        """Start.exe with `args` (and a command line to run in the box), waited
        for: it is a GUI program, so through ``start /wait``, which hands its exit
        code back."""
        argv = ["start", "", "/wait", self.start_exe, *args]
        line = command_line(argv) + (f" {cmd_escape(program)}" if program else "")
        result: CommandResult = self.transport.run_line(
            line, timeout=timeout, argv=(*argv, *([program] if program else []))
        )
        return result

    def ini(self, *args: str) -> CommandResult:
        result: CommandResult = self.transport.run([self.sbieini, *args], timeout=60)
        return common.checked(result, f"SbieIni {' '.join(args[:2])}")

    def read_text(self, path: str) -> str:
        """A text file of the host ('' when it does not exist)."""
        result = self.transport.run(["type", path], timeout=60)
        return result.stdout if result.exit_code == 0 else ""

    def prepare(self) -> EngineInfo:
        artifact = common.deploy_artifact(
            self.transport, self.name, self.config, self.where
        )
        common.require_service(self.transport, self.name, SERVICE, self.where)
        tools = common.upload_guest_tools(self.transport)
        version = common.checked(
            self.transport.powershell(
                FILE_VERSION, {"Path": self.service_exe}, timeout=60
            ),
            "Sandboxie version",
        )
        common.write_host_identity(self)
        return EngineInfo(
            self.name,
            version.stdout.strip() or "unknown",
            self.host.platform,
            {"artifact": artifact, "guest_tools": tools, "box_root": self.box_root},
        )

    def host_side(self) -> common.HostSide:
        return common.host_side_of(self)

    def client(self) -> WindowsClient:
        return WindowsClient(self.host, self.name)

    def create_container(self, name: str) -> Sandbox:
        box = Sandbox(self, name)
        self.ini("set", box.box, "Enabled", "y")
        self.ini("set", box.box, "FileRootPath", box.root)
        common.checked(self.start(["/reload"]), "Start.exe /reload")
        self.boxes[name] = box
        return box

    def duplicate(self, container: Sandbox, service: Service) -> list[CommandResult]:
        return common.duplicate(container, service)

    def destroy(self, container: Sandbox) -> None:
        self.start([f"/box:{container.box}", "/terminate"])
        result = self.start([f"/box:{container.box}", "delete_sandbox_silent"])
        self.ini("set", container.box, "Enabled", "n")
        self.boxes.pop(container.name, None)
        if result.exit_code != 0:
            raise EngineError(
                f"{self.name}: sandbox {container.box} not deleted "
                f"(exit {result.exit_code})"
            )

    def close(self) -> None:
        for box in list(self.boxes.values()):
            try:
                self.destroy(box)
            except EngineError as error:
                log.error("%s: %s", self.name, error)
