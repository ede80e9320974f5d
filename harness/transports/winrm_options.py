"""WinRM settings of a host, validated once with the place they came from.

    >>> options = WinRMOptions.from_mapping(
    ...     {"operation_timeout": 20, "read_timeout": 30},
    ...     scheme="http", where="platforms.win2022.winrm")
    >>> options.auth, options.validate, options.codepage
    ('ntlm', True, 65001)

Over plain HTTP every message is encrypted by the authentication (NTLM, Kerberos,
CredSSP); Basic cannot encrypt, so Basic over HTTP would send the password and every
command readable on the wire and is refused.  Over HTTPS, TLS encrypts, and any of
the four authentications works.  Certificate validation is on by default; turning it
off is a decision written in the configuration and logged at WARNING every time a
session opens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from harness.errors import ConfigError

AUTHS = ("ntlm", "kerberos", "credssp", "basic")
ENCRYPTING_AUTHS = ("ntlm", "kerberos", "credssp")


@dataclasses.dataclass(frozen=True)
class WinRMOptions:
    auth: str = "ntlm"
    validate: bool = True  # TLS certificate validation (HTTPS)
    ca_trust_path: str | None = None  # a CA bundle that signs the hosts' certificates
    operation_timeout: int = 20  # seconds the service may hold one poll
    read_timeout: int = 30  # HTTP read timeout; must exceed operation_timeout
    codepage: int = 65001  # the shell's output code page: UTF-8
    max_envelope: int = 153600  # bytes of one SOAP envelope (MaxEnvelopeSizekb)
    warmup_delay: float = 10.0  # pause before the warm-up retry of a first command
    # How long a host never reached may refuse or ignore connections at first
    # contact; a host that answered once gets boot_timeout, or reboot_grace after
    # losing its connection (a reboot).
    connect_timeout: float = 60.0
    reboot_grace: float = 600.0  # how long a host that answered before may refuse us
    retry_interval: float = 5.0  # pause between tries while waiting for a host
    script_dir: str = "C:\\Windows\\Temp"  # where scripts too long to inline go

    @classmethod
    def from_mapping(
        cls, options: Mapping[str, Any] | None, *, scheme: str, where: str
    ) -> WinRMOptions:
        """Validated options; ConfigError names `where`, the key and what is allowed."""
        options = dict(options or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - set(fields), key=str)
        if any(_looks_secret(key) for key in unknown):
            raise ConfigError(
                f"{where}: credentials never go in the configuration; "
                "they come from the environment (HARNESS_WINRM_USER, "
                "HARNESS_WINRM_PASSWORD)"
            )
        if unknown:
            raise ConfigError(
                f"{where}: unknown WinRM option {unknown[0]!r}; "
                f"allowed: {', '.join(sorted(fields))}"
            )
        values = {k: _coerce(where, k, v, fields[k].type) for k, v in options.items()}
        made = cls(**values)
        made.check(scheme, where)
        return made

    def check(self, scheme: str, where: str) -> None:
        """Refuse combinations that are unsafe or cannot work."""
        if self.auth not in AUTHS:
            raise ConfigError(
                f"{where}.auth: {self.auth!r} is not one of {', '.join(AUTHS)}"
            )
        if scheme not in ("http", "https"):
            raise ConfigError(f"{where}: scheme {scheme!r} is not http or https")
        if scheme == "http" and self.auth not in ENCRYPTING_AUTHS:
            raise ConfigError(
                f"{where}.auth: {self.auth!r} cannot encrypt messages, which plain "
                f"HTTP needs; allowed values over http: {', '.join(ENCRYPTING_AUTHS)} "
                f"(use https for {self.auth!r})"
            )
        if not 0 < self.operation_timeout < self.read_timeout:
            raise ConfigError(
                f"{where}: read_timeout ({self.read_timeout}s) must be "
                f"greater than operation_timeout "
                f"({self.operation_timeout}s), both above zero, or "
                "every quiet poll ends in a read timeout"
            )
        if self.connect_timeout <= 0:
            raise ConfigError(
                f"{where}.connect_timeout: {self.connect_timeout:g} must be above "
                "zero (seconds to wait for the first connection)"
            )
        if self.max_envelope < 16384:
            raise ConfigError(
                f"{where}.max_envelope: {self.max_envelope} is below "
                "the 16384 bytes a Send envelope needs"
            )


def _looks_secret(key: str) -> bool:
    return any(
        word in str(key).lower() for word in ("pass", "secret", "credential", "token")
    )


def _coerce(where: str, key: str, value: Any, kind: Any) -> Any:
    text = str(kind)
    try:
        if text.startswith("bool"):
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if text.startswith("int"):
            return int(value)
        if text.startswith("float"):
            return float(value)
        return None if value is None else str(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise ConfigError(f"{where}.{key}: {value!r}: {error}") from error


def message_encryption(endpoint: str) -> str:
    """pywinrm's message_encryption for an endpoint: always over HTTP, where the
    authentication must encrypt every message, auto over HTTPS, where TLS does
    (pywinrm refuses "always" for Basic, which cannot encrypt)."""
    return "auto" if endpoint.lower().startswith("https:") else "always"
