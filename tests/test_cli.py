"""`harness` end to end: exit codes, listing, and a real run on local Wine."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import doctor

ROOT = Path(__file__).resolve().parent.parent
HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]

MATRIX = """\
version: 1
platforms:
  wine-8: {target: local, os: wine, default: true}
  win2022: {target: vagrant, os: windows}
engines:
  wine: {kind: wine, platforms: [wine-8]}
  windows:
    kind: command
    platforms: [win2022]
    options:
      create: "c {container}"
      exec: "e {container} {argv}"
      destroy: "d {container}"
services: [ordinary]
"""


def environment(changes: dict[str, str | None] | None) -> dict[str, str]:
    """This process's environment with `changes` (None: the variable unset)."""
    env = {**os.environ, **(changes or {})}
    return {k: v for k, v in env.items() if v is not None}


def harness(
    *args: str, cwd: Path = ROOT, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*HARNESS, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment(env),
        timeout=900,
    )


@pytest.fixture
def project(tmp_path: Path, private_state) -> Path:
    (tmp_path / "matrix.yaml").write_text(MATRIX)
    (tmp_path / "cases").mkdir()
    return tmp_path


def write_cases(project: Path, body: str) -> None:
    (project / "cases" / "test_ordinary.py").write_text("SERVICE = 'ordinary'\n" + body)


def run_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    return harness(
        "run",
        "--matrix",
        str(project / "matrix.yaml"),
        "--cases",
        str(project / "cases"),
        "--reports",
        str(project / "reports"),
        "--no-progress",
        "--no-report",
        *args,
    )


PASSING = "def test_starts(placement):\n    pass\n"
FAILING = "def test_starts(placement):\n    assert False, 'engine wrong'\n"


@pytest.mark.parametrize(
    ("body", "code", "pytest_code"),
    [
        (PASSING, 0, 0),
        ("def test_starts(placement):\n    assert False, 'engine wrong'\n", 1, 1),
        ("def test_starts(placement):\n    raise RuntimeError('host gone')\n", 3, 1),
        ("import no_such_module\n", 3, 2),
    ],
)
def test_exit_codes_say_what_kind_of_trouble(project, body, code, pytest_code):
    write_cases(project, body)
    result = run_in(project, "--check", "starts")
    assert result.returncode == code, result.stderr
    (path,) = (project / "reports").glob("2*/summary.json")
    summary = json.loads(path.read_text())
    assert summary["exit_code"] == code  # the harness's, beside pytest's own
    assert summary["pytest_exitstatus"] == pytest_code


@pytest.mark.parametrize(
    ("body", "code"), [(PASSING, 0), (FAILING, 1)], ids=["passing", "failing"]
)
def test_a_damaged_history_keeps_the_run_and_its_exit_code(project, body, code):
    write_cases(project, body)
    store = project / "reports" / "history.sqlite"
    store.parent.mkdir()
    store.write_text("garbage\n")
    result = run_in(project, "--check", "starts", "--report")
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert f"the history store {store} is damaged" in message
    assert f"mv {store} {store}.damaged" in message
    results = next((project / "reports").glob("2*/allure-results"))
    assert list(results.glob("*-result.json")), "the run's results were lost"
    assert f"the run's results are kept in {results}" in message
    assert f"harness report {results} --run-id {results.parent.name}" in message


def test_no_cell_selected_exits_5_and_lists_valid_values(project):
    write_cases(project, PASSING)
    result = run_in(project, "--platform", "win2022", "--engine", "wine")
    assert result.returncode == 5
    assert "--engine   windows, wine" in result.stderr
    assert "--platform win2022, wine-8" in result.stderr


@pytest.mark.parametrize("json_output", [[], ["--json"]])
def test_list_with_no_cell_exits_5_and_lists_valid_values(project, json_output):
    matrix = str(project / "matrix.yaml")
    args = ["--platform", "win2022", "--engine", "wine", *json_output]
    result = harness("list", "--matrix", matrix, *args)
    assert result.returncode == 5
    assert "--engine   windows, wine" in result.stderr
    if json_output:
        assert json.loads(result.stdout) == []
    shard = harness("list", "--matrix", matrix, "--shard", "3/3")
    assert shard.returncode == 5
    assert "--shard 3/3 holds no cell" in shard.stderr


def test_bad_filter_and_bad_matrix_exit_2_with_the_reason(project):
    write_cases(project, PASSING)
    result = run_in(project, "--service", "fax")
    assert result.returncode == 2
    assert "--service 'fax' is not in the matrix; allowed values: ordinary" in (
        " ".join(result.stderr.split())
    )
    (project / "matrix.yaml").write_text(MATRIX.replace("os: wine", "os: linux"))
    result = run_in(project)
    assert result.returncode == 2
    assert "matrix.yaml:3: platforms.wine-8.os" in " ".join(result.stderr.split())


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({"HARNESS_POOL": "abc"}, (), "HARNESS_POOL='abc'; allowed values: a whole"),
        ({"HARNESS_AGENT": "no"}, (), "HARNESS_AGENT='no'; allowed values: 0, 1"),
        ({"HARNESS_LOG": "LOUD"}, (), "HARNESS_LOG='LOUD'; allowed values: DEBUG,"),
        ({"HARNESS_POOL": "17"}, (), "HARNESS_POOL='17'; allowed values: a whole "
         "number from 0 to 16"),
        ({"HARNESS_CACHE": "/proc/x"}, (), "HARNESS_CACHE='/proc/x': cannot make or "
         "write the folder /proc/x (No such file or directory); allowed values: a "
         "folder this user can create and write"),
        ({"HARNESS_STATE": "/proc/x"}, (), "HARNESS_STATE='/proc/x': cannot make"),
        ({"HARNESS_REGISTRY": "/proc/x"}, (), "HARNESS_REGISTRY='/proc/x': cannot"),
        ({"HOME": "/proc/x", "HARNESS_CACHE": None, "XDG_CACHE_HOME": None}, (),
         "HOME='/proc/x': cannot make or write the folder /proc/x/.cache/harness "
         "(No such file or directory); allowed values: a folder this user can "
         "create and write, or set HARNESS_CACHE to one"),
        ({"HARNESS_GUEST_DIR": "/nonexistent"}, (), "HARNESS_GUEST_DIR='/nonexistent'"
         ": no Makefile there; allowed values: a folder with the guest tools'"),
        ({}, ("--service", ""), "--service '' is not in the matrix; allowed"),
        ({}, ("--engine", "wine,"), "--engine '' is not in the matrix; allowed"),
        ({}, ("--shard", ""), "--shard '': expected I/N such as 1/4"),
    ],
)  # fmt: skip
def test_bad_environment_and_empty_filters_are_usage_errors(
    project, env, args, expected
):
    write_cases(project, PASSING)
    result = subprocess.run(
        [*HARNESS, "run", "--matrix", str(project / "matrix.yaml"), "--cases",
         str(project / "cases"), "--reports", str(project / "reports"), *args],
        capture_output=True, text=True, cwd=ROOT, env=environment(env),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "reports").exists() or not any(
        (project / "reports").iterdir()
    ), "a refused run left a reports folder"


def test_an_empty_shard_says_how_many_shards_the_selection_allows(project):
    write_cases(project, PASSING)
    result = run_in(project, "--shard", "3/3")
    assert result.returncode == 5
    assert "--shard 3/3 holds no cell: the selection has 1 " in result.stderr
    assert "use at most 1 shards" in result.stderr


def test_list_prints_cells_as_json_in_stable_order(project):
    result = harness(
        "list",
        "--matrix",
        str(project / "matrix.yaml"),
        "--json",
        "--platform",
        "wine-8,win2022",
    )
    cells = json.loads(result.stdout)
    assert [(c["platform"], c["engine"], c["check"]) for c in cells][:4] == [
        ("win2022", "windows", "starts"),
        ("win2022", "windows", "serves"),
        ("win2022", "windows", "isolated"),
        ("wine-8", "wine", "starts"),
    ]


def test_pytest_arguments_after_the_double_dash_reach_pytest(project):
    write_cases(project, PASSING + "def test_serves(placement):\n    pass\n")
    result = run_in(project, "--", "-k", "serves")
    assert result.returncode == 0
    run_dir = next((project / "reports").iterdir())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [k.split("::")[-1] for k in summary["cells"]] == ["test_serves[wine-8/wine]"]


def test_the_progress_bar_counts_the_cells_pytest_collected(project):
    write_cases(project, PASSING + "def test_serves(placement):\n    pass\n")
    result = harness("run", "--matrix", str(project / "matrix.yaml"), "--cases",
                     str(project / "cases"), "--reports", str(project / "reports"),
                     "--no-report", "--", "-k", "serves")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.search(r"cells .* 1/1 1 passed", result.stderr), result.stderr
    (progress,) = (project / "reports").glob("2*/progress.jsonl")
    assert json.loads(progress.read_text().splitlines()[0]) == {"collected": 1}


LOGGING = """\
import logging
SERVICE = "ordinary"
log = logging.getLogger("harness.case")

def test_starts(placement):
    log.info("probe scm query HarnessDup -> exit 0")
    log.warning("the container took long")
"""


@pytest.mark.parametrize(
    ("level", "shown", "hidden"),
    [
        (None, ["WARNING harness.case: the container took long"], ["INFO"]),
        ("INFO", ["INFO harness.case: probe scm query", "WARNING harness.case"], []),
        ("ERROR", [], ["WARNING", "INFO"]),
    ],
)
def test_the_runs_log_records_reach_the_console_at_harness_log(
    project, level, shown, hidden
):
    write_cases(project, LOGGING)
    result = subprocess.run(
        [*HARNESS, "run", "--matrix", str(project / "matrix.yaml"), "--cases",
         str(project / "cases"), "--reports", str(project / "reports"),
         "--no-progress", "--no-report"],
        capture_output=True, text=True, cwd=ROOT,
        env=environment({"HARNESS_LOG": level}),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for text in shown:
        assert text in result.stderr
    for text in hidden:
        assert text not in result.stderr


WORKERS_LOGGING = """\
import logging
SERVICE = "ordinary"
log = logging.getLogger("harness.case")

def test_starts(placement):
    for number in range(400):
        log.info("record %d of %s", number, placement.engine)
"""


def test_with_workers_harness_log_keeps_every_workers_records(project):
    """Two workers each log 400 records: harness.log ends with all 800, whole
    lines in time order, and no worker file is left beside it."""
    text = MATRIX.replace(
        "engines:\n",
        "engines:\n  wine-b: {kind: wine, platforms: [wine-8], "
        "options: {network: shared}}\n",
    )
    (project / "matrix.yaml").write_text(text)
    write_cases(project, WORKERS_LOGGING)
    result = run_in(project, "--check", "starts", "-n", "9")
    assert result.returncode == 0, result.stderr
    assert "-n 9: the selection has 2 platform/engine placements, so 2 workers" in (
        result.stderr
    )
    (run_dir,) = (project / "reports").glob("2*/")
    assert [p.name for p in run_dir.glob("harness*.log")] == ["harness.log"]
    lines = (run_dir / "harness.log").read_text().splitlines()
    records = [line for line in lines if "harness.case: record" in line]
    for engine in ("wine", "wine-b"):
        numbers = [
            int(line.split()[-3]) for line in records if line.endswith(f"of {engine}")
        ]
        assert numbers == list(range(400)), engine
    assert all(re.match(r"\d\d:\d\d:\d\d [A-Z]+ \S+: ", line) for line in lines)
    assert [line[:8] for line in lines] == sorted(line[:8] for line in lines)


FILTER_HELP = [
    "--platform NAME only these platforms (repeat or comma-separate), e.g. wine-8",
    "--engine NAME only these engines (repeat or comma-separate), e.g. wine-shared",
    "--service NAME only these services (repeat or comma-separate), e.g. ordinary",
    "--check NAME only these checks (repeat or comma-separate), e.g. starts,serves",
    "--shard I/N only share I of N of the cells, e.g. 2/4",
]


def help_of(*command: str) -> str:
    """A command's --help on a wide terminal, with the box drawing taken out."""
    shown = harness(*command, "--help", env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert shown.returncode == 0, shown.stderr
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", shown.stdout).split())


@pytest.mark.parametrize("command", ["run", "list"])
def test_the_help_of_run_and_list_explains_every_filter(command):
    shown = help_of(command)
    for text in FILTER_HELP:
        assert text in shown, shown


def test_every_commands_help_reads_as_prose():
    overview = help_of()
    assert "run Run the selected cells and render the dashboard. doctor" in overview
    for command in ("list", "run", "doctor", "report", "diff", "up", "status", "down"):
        shown = help_of(command)
        assert "``" not in shown and "Usage: harness" in shown, shown
    assert "Exit codes: 0 every cell as expected" in help_of("run")
    assert "html writes `<out>/diff/<run a>..<run b>.html`" in help_of("diff")


def test_status_without_vagrant_says_so_once(tmp_path):
    path = "/usr/sbin:/usr/bin:/sbin:/bin"
    if shutil.which("vagrant", path=path):
        pytest.skip("vagrant is installed: nothing is missing")
    result = harness("status", "win2022", env={"PATH": path})
    assert result.returncode == 3
    assert result.stdout.count("The Vagrant executable cannot be found") == 1
    assert "Vagrant" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("missing", "engines"),
    [
        (set(), ["wine", "wine-shared"]),
        ({"root"}, ["wine-shared"]),
        ({"root", "chromium"}, ["wine-shared"]),
        ({"ruby"}, ["wine", "wine-shared"]),
        ({"wine"}, []),
    ],
)
def test_doctor_names_the_engines_that_can_run(missing, engines):
    found = [need._replace(found=need.name not in missing) for need in doctor.needs()]
    assert doctor.runnable(found) == engines


def nobody(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`harness` as the user nobody, as under `runuser -u nobody`: through the
    system's Python with this checkout and the venv's packages on its path (the
    venv's own Python lives where nobody may not enter)."""
    python = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if os.geteuid() != 0 or not shutil.which("setpriv") or not python.exists():
        pytest.skip("needs root, setpriv and the system's Python of this version")
    path = f"{ROOT}:{sysconfig.get_paths()['purelib']}"
    return subprocess.run(
        ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
         str(python), *HARNESS[1:], *args],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
        env=environment({"PYTHONPATH": path, **(env or {})}),
    )  # fmt: skip


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder nobody can write (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="harness-nobody-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_doctor_without_root_is_a_warning_and_names_wine_shared():
    result = nobody("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    shown = " ".join(result.stdout.split())
    assert "warning: engine wine needs root; wine-shared runs without it" in shown
    assert "engines that can run here: wine-shared" in shown


def test_a_home_nobody_can_write_is_a_usage_error_that_names_it(shared_folder):
    result = nobody(
        "run", "--reports", str(shared_folder / "reports"),
        env={"HOME": "/nonexistent", "HARNESS_CACHE": None, "XDG_CACHE_HOME": None},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert (
        "HOME='/nonexistent': cannot make or write the folder "
        "/nonexistent/.cache/harness (Permission denied); allowed values: a folder "
        "this user can create and write, or set HARNESS_CACHE to one"
    ) in " ".join(result.stderr.split())


@pytest.mark.wine
def test_without_root_wine_shared_runs_on_copies_and_says_so_once(shared_folder):
    """Not root: no overlay mounts, so each container is a copy of the golden
    prefix; the console and harness.log say it once for the engine."""
    result = nobody(
        "run", "--engine", "wine-shared", "--service", "ordinary", "--check",
        "starts,serves", "--reports", str(shared_folder / "reports"), "--no-progress",
        "--no-report",
        env={"HOME": "/nonexistent", "HARNESS_CACHE": str(shared_folder / "cache"),
             "HARNESS_STATE": None, "HARNESS_REGISTRY": str(shared_folder / "index")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("overlay mount unavailable") == 1, result.stderr
    (log,) = (shared_folder / "reports").glob("2*/harness.log")
    assert log.read_text().count("overlay mount unavailable") == 1


@pytest.mark.wine
def test_the_ordinary_service_on_local_wine_end_to_end(tmp_path, private_state):
    """The real default matrix, the real Wine engine, the real dashboard."""
    result = harness(
        "run", "--service", "ordinary", "--reports", str(tmp_path), "--no-progress"
    )
    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = next(p for p in tmp_path.iterdir() if p.is_dir() and p.name[0] == "2")
    summary = json.loads((run_dir / "summary.json").read_text())
    outcomes = {k.split("::")[-1]: v["outcome"] for k, v in summary["cells"].items()}
    assert outcomes == {
        "test_starts[wine-8/wine]": "passed",
        "test_serves[wine-8/wine]": "passed",
        "test_isolated[wine-8/wine]": "passed",
        "test_starts[wine-8/wine-shared]": "passed",
        "test_serves[wine-8/wine-shared]": "passed",
        "test_isolated[wine-8/wine-shared]": "expected failure",
    }
    assert (run_dir / "index.html").exists()
    assert f"dashboard: {run_dir / 'index.html'}" in result.stdout
    engines = json.loads((run_dir / "matrix.json").read_text())["engines"]
    where = {(e["engine"], e["target"], e["host"], e["os_build"]) for e in engines}
    host = socket.gethostname()
    assert where == {("wine", "local", host, ""), ("wine-shared", "local", host, "")}
    assert list(private_state.iterdir()) == [], "the run left state behind"
    # every command of the run is in its log, with host, argv, exit code, duration
    logged = (run_dir / "harness.log").read_text()
    assert re.search(r"INFO harness\.transports: c1: probe scm query HarnessDup "
                     r"-> exit 0 in \d+\.\d{3}s", logged), logged[-2000:]  # fmt: skip


@pytest.mark.bad_input
def test_missing_credentials_stop_a_run_before_it_starts(project):
    lab = (
        "  lab:\n    target: inventory\n    os: windows\n"
        "    hosts: [{address: 127.0.0.1}]\n"
    )
    text = MATRIX.replace("engines:\n", lab + "engines:\n").replace(
        "platforms: [win2022]", "platforms: [win2022, lab]"
    )
    (project / "matrix.yaml").write_text(text)
    write_cases(project, PASSING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_WINRM")}
    result = subprocess.run(
        [*HARNESS, "run", "--matrix", str(project / "matrix.yaml"), "--cases",
         str(project / "cases"), "--reports", str(project / "reports"),
         "--platform", "lab", "--no-progress"],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "no WinRM credentials for lab: set HARNESS_WINRM_USER" in result.stderr
