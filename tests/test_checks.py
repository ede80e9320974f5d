"""The shared checks of harness.checks on real Wine: they pass on a faithful
duplication and fail, with the reason, when the host's instance was touched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.wine
ROOT = Path(__file__).resolve().parent.parent
MATRIX = """\
version: 1
platforms:
  wine-8: {target: local, os: wine, default: true}
engines:
  wine: {kind: wine, platforms: [wine-8], options: {network: isolated}}
services: [bits]
"""
CASES = """\
from harness.checks import system_service_starts
from harness.probe import probe
SERVICE = "bits"

def test_starts(suite, placement):
    system_service_starts(suite)

def test_serves(suite, placement):
    # an engine that restarts the host's instance while duplicating
    probe(suite.host, "scm", "stop", "BITS")
    probe(suite.host, "scm", "start", "BITS")
    system_service_starts(suite)
"""


def test_a_restarted_host_instance_fails_the_starts_check(tmp_path, private_state):
    (tmp_path / "matrix.yaml").write_text(MATRIX)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "test_bits.py").write_text(CASES)
    result = subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", "run",
         "--matrix", str(tmp_path / "matrix.yaml"), "--cases", str(tmp_path / "cases"),
         "--reports", str(tmp_path / "reports"), "--no-progress", "--no-report"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    run = next(p for p in (tmp_path / "reports").iterdir() if p.is_dir())
    cells = json.loads((run / "summary.json").read_text())["cells"]
    by_check = {k.split("::")[-1].split("[")[0]: v for k, v in cells.items()}
    assert by_check["test_starts"]["outcome"] == "passed", result.stderr
    assert by_check["test_serves"]["outcome"] == "failed"
    assert "duplicating changed the host's BITS" in by_check["test_serves"]["message"]
    assert result.returncode == 1
