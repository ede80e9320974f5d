"""The vagrant target: a Windows machine of vms/Vagrantfile, driven by python-vagrant.

    target = VagrantTarget("win2022", matrix.platforms["win2022"], run,
                           destroy="passing")
    host = target.up()      # reuse a running machine, restore `clean`, or create it
    target.save("clean-windows-containers")    # after the engine's prepare()
    target.revert("clean-windows-containers")  # before each service suite
    target.down(passed=True)

The first `up` of a machine provisions it and saves the snapshot `clean`; later runs
restore that snapshot instead of provisioning again.  A machine that is already
running (brought up by `harness up`) is reused as it is and left running.  The lab
saves ``clean-<engine>`` once the engine is prepared on a clean machine and restores
it before each service suite, so that a suite starts from a clean machine that
still has the engine and the guest tools (restoring a snapshot takes seconds;
preparing again would install the engine and pull its images for every suite).

python-vagrant has no WinRM support: the WinRM address, port and credentials come
from `vagrant winrm-config`, and all machine-readable output is parsed by
vagrant_output.py (python-vagrant's own parser breaks on escaped commas).  That
WinRM address is often not where other machines reach this one (VirtualBox gives
127.0.0.1 and a forwarded port), so the host's address on the lab network is the
platform's `address` in matrix.yaml, the same one the Vagrantfile gives the
machine's private network.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import vagrant

from harness import matrix
from harness.errors import ConfigError, TargetError
from harness.run import Run
from harness.secrets import Secret
from harness.targets import CLEAN, Host
from harness.targets import vagrant_output as output
from harness.transports.winrm import WinRMTransport

log = logging.getLogger(__name__)
POLICIES = ("never", "passing", "always")
SNAPSHOT = CLEAN
REPO_VMS = Path(__file__).resolve().parents[2] / "vms"


class _Vagrant(vagrant.Vagrant):  # type: ignore[misc]
    """python-vagrant, plus the per-machine commands it lacks (snapshots by machine
    name, winrm-config) and machine-readable output returned raw for our parser."""

    def machine_readable(self, *args: str) -> str:
        return str(self._run_vagrant_command([*args, "--machine-readable"]))

    def snapshot_save_on(self, machine: str, snapshot: str) -> None:
        self._call_vagrant_command(["snapshot", "save", "--force", machine, snapshot])

    def snapshot_restore_on(self, machine: str, snapshot: str) -> None:
        self._call_vagrant_command(["snapshot", "restore", machine, snapshot])


class VagrantTarget:
    """The Target contract for one machine of the Vagrantfile."""

    def __init__(
        self,
        platform_name: str,
        platform: matrix.Platform,
        run: Run,
        *,
        destroy: str = "never",
        vagrant_dir: Path = Path("vms"),
    ) -> None:
        if destroy not in POLICIES:
            raise ConfigError(
                f"--destroy {destroy!r}: allowed values: {', '.join(POLICIES)}"
            )
        if not platform.address:
            raise ConfigError(
                f"matrix.yaml: platforms.{platform_name}.address: required for a "
                "vagrant platform: the machine's address on the lab network (its "
                "private network in vms/Vagrantfile), e.g. 192.168.56.22"
            )
        self.name = platform_name
        self.platform = platform
        self.run = run
        self.destroy_policy = destroy
        self.folder = _vagrant_folder(vagrant_dir)
        self.vagrant = _Vagrant(
            root=str(self.folder),
            env=_vagrant_env(),
            out_cm=vagrant.make_file_cm(str(self._log_path())),
            err_cm=vagrant.make_file_cm(str(self._log_path())),
        )
        self.host: Host | None = None
        self._booted_here = False
        self._state: str | None = None  # the snapshot the machine is still in

    # --- the Target contract ---------------------------------------------------------

    def up(self) -> Host:
        """Reuse a running machine, restore `clean`, or create and provision it."""
        state = self.status()
        if state == "running":
            log.info("%s: reusing the running machine", self.name)
        elif SNAPSHOT in self.snapshots():
            log.info("%s: restoring snapshot %r", self.name, SNAPSHOT)
            self._vagrant_call(
                "snapshot restore",
                self.vagrant.snapshot_restore_on,
                self.name,
                SNAPSHOT,
            )
            self._booted_here = True
            self._state = SNAPSHOT
        else:
            self._create()
        self.host = self._connect()
        return self.host

    def revert(self, state: str = SNAPSHOT) -> bool:
        """Restore the snapshot `state` (nothing to do while the machine is still in
        it); False, with a warning, when the machine has no such snapshot."""
        if self._state == state:
            self._state = None  # what runs next changes the machine
            return True
        if state not in self.snapshots():
            log.warning(
                "%s: no %r snapshot; the machine stays as it is", self.name, state
            )
            return False
        log.info("%s: restoring snapshot %r", self.name, state)
        self._vagrant_call(
            "snapshot restore", self.vagrant.snapshot_restore_on, self.name, state
        )
        self._state = None
        if self.host is not None:
            transport = self.host.transport
            assert isinstance(transport, WinRMTransport)
            transport.forget()
            transport.wait_ready(self.platform.boot_timeout)
        return True

    def save(self, state: str) -> bool:
        """Save the running machine as snapshot `state` (replacing an older one);
        False, with a warning, when the provider cannot."""
        try:
            self._vagrant_call(
                "snapshot save", self.vagrant.snapshot_save_on, self.name, state
            )
        except TargetError as error:
            log.warning("%s: snapshot %r not saved: %s", self.name, state, error)
            return False
        self._state = state
        return True

    def down(self, *, passed: bool) -> None:
        """Close the transport; destroy, halt or keep the machine per --destroy."""
        if self.host is not None:
            self.host.transport.close()
            self.host = None
        policy = self.destroy_policy
        if policy == "always" or (policy == "passing" and passed):
            self.destroy()
        elif self._booted_here:
            self.halt()
        else:
            log.info("%s: left running (it was running before this run)", self.name)

    def status(self) -> str:
        """running, stopped, absent or unknown."""
        text = self._vagrant_call(
            "status", self.vagrant.machine_readable, "status", self.name
        )
        lines = output.parse(text)
        state = output.machine_states(lines).get(self.name)
        if state is None:
            log.warning(
                "%s: vagrant status named no state: %s",
                self.name,
                "; ".join(output.errors(lines)) or text[-300:],
            )
        return output.normalize_state(state)

    # --- more than the contract (used by `harness up|down|status`) -------------------

    def snapshots(self) -> list[str]:
        """Names of the machine's snapshots ([] when it has none or is absent).

        `snapshot list` prints names and its help text ("Snapshot saving is done
        with ...") as the same kind of line; names with white space are therefore
        not recognised, which the harness's own name `clean` never has.
        """
        text = self._vagrant_call(
            "snapshot list",
            self.vagrant.machine_readable,
            "snapshot",
            "list",
            self.name,
        )
        details = output.ui_details(output.parse(text), self.name)
        return [name for name in details if name and not any(c.isspace() for c in name)]

    def halt(self) -> None:
        self._vagrant_call("halt", self.vagrant.halt, vm_name=self.name)

    def destroy(self) -> None:
        self._vagrant_call("destroy", self.vagrant.destroy, vm_name=self.name)

    def winrm_config(self) -> dict[str, str]:
        """HostName, Port, User and Password of the machine's WinRM endpoint."""
        text = self._vagrant_call(
            "winrm-config", self.vagrant.machine_readable, "winrm-config", self.name
        )
        blocks = output.values(output.parse(text), "winrm-config")
        config = parse_host_block(blocks[0] if blocks else text)
        missing = [
            k for k in ("HostName", "Port", "User", "Password") if k not in config
        ]
        if missing:
            raise TargetError(
                f"{self.name}: vagrant winrm-config did not give {', '.join(missing)}"
            )
        return config

    # --- steps -----------------------------------------------------------------------

    def _create(self) -> None:
        log.info(
            "%s: creating and provisioning the machine (box %s %s)",
            self.name,
            self.platform.box,
            self.platform.box_version or "",
        )
        self._vagrant_call("up", self.vagrant.up, vm_name=self.name)
        self._booted_here = True
        # Some providers cannot snapshot; suites then share the machine's state.
        self.save(SNAPSHOT)

    def _connect(self) -> Host:
        config = self.winrm_config()
        transport = WinRMTransport(
            self.name,
            config["HostName"],
            port=int(config["Port"]),
            user=config["User"],
            password=Secret(config.pop("Password")),
            options=self.platform.winrm,
            where=f"matrix.yaml: platforms.{self.name}.winrm",
        )
        try:
            transport.wait_ready(self.platform.boot_timeout)
        except BaseException:
            transport.close()
            raise
        facts: dict[str, Any] = dict(transport.facts)
        facts.setdefault("os_build", facts.get("build"))
        return Host(
            platform=self.name,
            name=str(facts.get("computer_name", self.name)),
            transport=transport,
            address=self.platform.address,
            facts=facts,
        )

    def _vagrant_call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except subprocess.CalledProcessError as error:
            raise TargetError(
                f"{self.name}: vagrant {what} failed with exit code "
                f"{error.returncode}; its last output:\n{self._log_tail()}"
            ) from error
        except (OSError, RuntimeError) as error:
            raise TargetError(
                f"{self.name}: vagrant {what} could not run: {error}; "
                "is vagrant installed and on PATH?"
            ) from error

    def _log_path(self) -> Path:
        return self.run.state / f"vagrant-{self.name}.log"

    def _log_tail(self, lines: int = 15) -> str:
        """The end of vagrant's output, quoted in the error: the run's state folder,
        where the whole log is, goes away when the run ends."""
        try:
            text = self._log_path().read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no output was recorded)"
        return "\n".join(text.strip().splitlines()[-lines:]) or "(no output)"


def parse_host_block(text: str) -> dict[str, str]:
    """``Key value`` lines of an ssh-config-like block (winrm-config's output)."""
    config: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key and value and key != "Host":
            config[key] = value.strip().strip('"')
    return config


def _vagrant_folder(vagrant_dir: Path) -> Path:
    """The folder of the Vagrantfile: as given, else the repository's vms/."""
    if (vagrant_dir / "Vagrantfile").is_file():
        return vagrant_dir.resolve()
    if not vagrant_dir.is_absolute() and (REPO_VMS / "Vagrantfile").is_file():
        return REPO_VMS
    raise ConfigError(
        f"{vagrant_dir}: no Vagrantfile there (vms/Vagrantfile of the "
        "repository defines the Windows machines)"
    )


def _vagrant_env() -> dict[str, str]:
    """vagrant's environment: ours, with the matrix file the Vagrantfile must read."""
    env = dict(os.environ)
    env.setdefault("HARNESS_MATRIX", str(REPO_VMS.parent / "matrix.yaml"))
    env.setdefault("VAGRANT_NO_COLOR", "1")
    return env
