"""Scenarios of real allure results for the report tests, made by running pytest.

Each scenario is a small generated test module run through ``pytester`` with
allure-pytest (and pytest-rerunfailures for retries); only the harness-meta files,
which the harness's own plugin writes, are produced here directly.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

WEIRD_PLATFORM = "win 11 [preview]"
WEIRD_ENGINE = "eng::x\ty"
WEIRD_SERVICE = "svc ünï <script>window.__pwned=1</script>"
PWN_MESSAGE = '<img src=x onerror="window.__pwned=3"> <script>window.__pwned=2</script>'


@dataclass
class Spec:
    """One generated test: its four labels, its body and its known issue."""

    name: str
    platform: str
    engine: str
    service: str
    check: str
    body: str = "pass"
    known_issue: str = ""
    expected: str = "failed"
    args: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    parametrize: str = ""  # the arguments of a pytest.mark.parametrize, if any

    @property
    def key(self) -> list[str]:
        return [self.platform, self.engine, self.service, self.check]


HEADER = """\
import pathlib

import allure
import pytest


@pytest.fixture
def host_down():
    raise OSError("host did not come up")


def count(name):
    marker = pathlib.Path(__file__).with_name(name)
    runs = int(marker.read_text()) if marker.exists() else 0
    marker.write_text(str(runs + 1))
    return runs
"""


def module_source(specs: Iterable[Spec], labelled: bool = True) -> str:
    """The source of a test module with one test per spec."""
    parts = [HEADER]
    for spec in specs:
        marks = []
        if labelled:
            pairs = zip(
                ("platform", "engine", "service", "check"), spec.key, strict=True
            )
            marks += [f"@allure.label({n!r}, {v!r})" for n, v in pairs]
        marks += [f"@allure.label({n!r}, {v!r})" for n, v in spec.labels.items()]
        if spec.known_issue:
            marks.append(f"@allure.label('known_issue', {spec.known_issue!r})")
            marks.append(f"@allure.label('expected_outcome', {spec.expected!r})")
            marks.append(
                f"@pytest.mark.xfail(reason={spec.known_issue!r}, strict=True)"
            )
        if spec.parametrize:
            marks.append(f"@pytest.mark.parametrize({spec.parametrize})")
        body = textwrap.indent(textwrap.dedent(spec.body).strip(), "    ")
        parts.append("\n".join([*marks, f"def test_{spec.name}({spec.args}):", body]))
    return "\n\n\n".join(parts) + "\n"


def write_meta(
    folder: Path,
    run_id: str,
    specs: Iterable[Spec] = (),
    worker: str = "gw0",
    **changes: object,
) -> Path:
    """A harness-meta file as the harness plugin writes it for one worker."""
    specs = list(specs)
    meta: dict[str, object] = {
        "kind": "harness-run-meta",
        "schema": 1,
        "run_id": run_id,
        "harness_version": "0.1.0",
        "started": "2026-11-01T01:00:00+00:00",
        "finished": "2026-11-01T01:30:00+00:00",
        "interrupted": False,
        "where": {"hostname": "ci-runner-7", "ci": None},
        "engines": [
            {
                "platform": "win2022",
                "engine": "wine",
                "version": "8.0",
                "os_build": "Wine 8.0 (Debian 12)",
                "details": {"arch": "win64"},
            }
        ],
        "selected": [spec.key for spec in specs],
        "known_issues": [
            dict(zip(("platform", "engine", "service", "check"), s.key, strict=True))
            | {"outcome": s.expected, "reason": s.known_issue}
            for s in specs
            if s.known_issue
        ],
    }
    meta.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"harness-meta-{worker}.json"
    target.write_text(json.dumps(meta), encoding="utf-8")
    return target


@dataclass
class AllureRunner:
    """Runs generated test modules through pytest with allure-pytest."""

    pytester: pytest.Pytester
    counter: int = 0

    def run(
        self,
        specs: Iterable[Spec],
        results: Path,
        *args: str,
        labelled: bool = True,
        subprocess: bool = False,
    ) -> pytest.RunResult:
        """Run the specs; ``subprocess`` for a run that loads the harness plugin
        (which sets signal handlers that must not touch this process)."""
        self.counter += 1
        name = f"test_cells_{self.counter}"
        self.pytester.makepyfile(**{name: module_source(specs, labelled)})
        runner = (
            self.pytester.runpytest_subprocess
            if subprocess
            else self.pytester.runpytest
        )
        return runner(
            "-p",
            "allure_pytest",
            "-p",
            "pytest_rerunfailures",
            f"--alluredir={results}",
            f"{name}.py",
            *args,
        )


def standard_specs() -> list[Spec]:
    """Every outcome the report knows, plus names that try to break keys and HTML."""
    w = ("win2022", "wine")
    return [
        Spec("rpcss_starts", *w, "rpcss", "starts", body=STEPS_BODY),
        Spec(
            "rpcss_serves",
            *w,
            "rpcss",
            "serves",
            body="assert False, 'port 135 is not served\\nsecond line'",
        ),
        Spec("rpcss_isolated", *w, "rpcss", "isolated"),
        Spec(
            "dcom_starts",
            *w,
            "dcom",
            "starts",
            body="assert False",
            known_issue="Wine lacks DCOM launch",
        ),
        Spec(
            "dcom_serves",
            *w,
            "dcom",
            "serves",
            body="raise RuntimeError('no activator')",
            known_issue="Wine has no COM activation over RPC",
            expected="broken",
        ),
        Spec("dcom_isolated", *w, "dcom", "isolated", body="assert 1 == 2"),
        Spec("iis_starts", *w, "iis", "starts"),
        Spec(
            "iis_serves",
            *w,
            "iis",
            "serves",
            body="raise OSError('transport down')",
        ),
        Spec("iis_isolated", *w, "iis", "isolated"),
        Spec("spooler_starts", *w, "spooler", "starts"),
        Spec(
            "spooler_serves",
            *w,
            "spooler",
            "serves",
            body="assert count('spooler') >= 1, 'first try fails'",
        ),
        Spec("spooler_isolated", *w, "spooler", "isolated"),
        Spec(
            "eventlog_starts",
            *w,
            "eventlog",
            "starts",
            known_issue="Wine event log is not per prefix",
        ),
        Spec(
            "eventlog_serves",
            *w,
            "eventlog",
            "serves",
            body="pytest.skip('no client machine')",
        ),
        Spec("schedule_starts", *w, "schedule", "starts", args="host_down"),
        Spec("schedule_serves", *w, "schedule", "serves"),
        Spec(
            "weird_starts",
            WEIRD_PLATFORM,
            WEIRD_ENGINE,
            WEIRD_SERVICE,
            "starts",
            body=f"assert False, {PWN_MESSAGE!r}",
        ),
        Spec(
            "weird_serves",
            WEIRD_PLATFORM,
            WEIRD_ENGINE,
            WEIRD_SERVICE,
            "serves",
            body=WEIRD_BODY,
        ),
        Spec("split_a", "p", "e", "x y", "z"),
        Spec("split_b", "p", "e", "x", "y z", body="assert False, 'split b'"),
        Spec("empty_a", "", "e", "x", "z"),
        Spec("empty_b", "e", "", "x", "z", body="assert False, 'empty b'"),
    ]


STEPS_BODY = """
with allure.step("start the service in container c1"):
    with allure.step("run probe.exe start rpcss"):
        allure.attach(
            "argv: probe.exe start rpcss\\nexit code: 0\\nstdout: {\\"state\\": 4}",
            name="command",
            attachment_type=allure.attachment_type.TEXT,
        )
        allure.attach(b"\\x89PNG fake", name="screen",
                      attachment_type=allure.attachment_type.PNG)
    with allure.step("query the SCM"):
        pass
"""

WEIRD_BODY = f"""
with allure.step({PWN_MESSAGE!r}):
    allure.attach({PWN_MESSAGE!r}, name="stdout <script>",
                  attachment_type=allure.attachment_type.TEXT)
"""

# Selected in the metadata but with no test: the report must show it as not run.
NOT_RUN = Spec("eventlog_isolated", "win2022", "wine", "eventlog", "isolated")


BODIES = {
    "passed": "pass",
    "failed": "assert False, 'engine wrong'",
    "broken": "raise OSError('host unreachable')",
    "skipped": "pytest.skip('not here')",
    "expected_failure": "assert False, 'still missing'",
    "xpass": "pass",
}
KNOWN_ISSUE = "Wine lacks the endpoint mapper"


def spec_for(name: str, key: tuple[str, ...], outcome: str) -> Spec:
    """A test whose cell ends as ``outcome``; ``expected_failure`` and ``xpass``
    are a strict known issue that reproduces and one that no longer does."""
    known = KNOWN_ISSUE if outcome in ("expected_failure", "xpass") else ""
    return Spec(name, *key, body=BODIES[outcome], known_issue=known)
