"""A whole run with a known fake password: it authenticates for real (NTLM against
the loopback WS-Management endpoint) and appears in no output file and no log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.windows.conftest import PASSWORD, USER
from tests.windows.test_engine_command import TEMPLATES
from tests.windows.wsman_server import WSManServer

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.bad_input


def matrix_for(port: int) -> dict:
    return {
        "version": 1,
        "platforms": {
            "standin": {
                "target": "inventory",
                "os": "windows",
                "hosts": [
                    {
                        "address": "127.0.0.1",
                        "port": port,
                        "options": {
                            "operation_timeout": 1,
                            "read_timeout": 3,
                            "warmup_delay": 0.05,
                            "retry_interval": 0.1,
                        },
                    }
                ],
            },
        },
        "engines": {
            "templated": {
                "kind": "command",
                "platforms": ["standin"],
                "options": TEMPLATES,
            }
        },
        "services": ["ordinary"],
    }


def encodings(secret: str) -> list[bytes]:
    return [secret.encode(), secret.encode("utf-16-le"), json.dumps(secret).encode()]


def test_a_fake_password_never_reaches_an_output(tmp_path, private_state):
    (tmp_path / "server").mkdir()
    server = WSManServer(tmp_path / "server", USER, PASSWORD).start()
    try:
        (tmp_path / "matrix.yaml").write_text(yaml.safe_dump(matrix_for(server.port)))
        env = {
            **os.environ,
            "HARNESS_WINRM_USER": USER,
            "HARNESS_WINRM_PASSWORD": PASSWORD,
            "HARNESS_LOG": "DEBUG",
        }
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "from harness.cli import main; main()",
                "run",
                "--matrix",
                str(tmp_path / "matrix.yaml"),
                "--platform",
                "standin",
                "--reports",
                str(tmp_path / "reports"),
                "--no-progress",
            ],
            capture_output=True,
            env=env,
            cwd=ROOT,
            timeout=600,
        )
    finally:
        server.stop()
    assert server.requests, "the run never reached the endpoint: this proves nothing"
    run_dir = next((tmp_path / "reports").glob("2*"))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert len(summary["cells"]) == 3, result.stderr.decode(errors="replace")
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            outputs[str(path)] = path.read_bytes()
    leaks = [
        name
        for name, data in outputs.items()
        for form in encodings(PASSWORD)
        if form in data
    ]
    assert leaks == [], f"the password leaked into {leaks}"
    assert len(outputs) > 10  # results, attachments, logs and the dashboard
    engines = json.loads((run_dir / "matrix.json").read_text())["engines"]
    where = [(e["platform"], e["target"], e["host"], e["os_build"]) for e in engines]
    assert where == [("standin", "inventory", "127.0.0.1", "20348")], where
