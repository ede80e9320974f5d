"""Shared fixtures of the harness's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]


@pytest.fixture
def private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    """A private run-state folder, so a test sees only the runs it made.

    The cache of golden prefixes stays shared: it is keyed by its inputs.
    """
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("HARNESS_STATE", str(state))
    return state
