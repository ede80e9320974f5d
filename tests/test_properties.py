"""Properties of the harness itself, checked by Hypothesis (pure and fast).

- matrix expansion does not depend on the order of keys and lists in matrix.yaml,
  nor on the hash seed (pytest-xdist workers must collect the same cells);
- filters commute with each other and with sharding; shards are disjoint and
  together give every cell;
- names: cell ids and report keys are distinct and stable; container names and
  guest paths are refused or stay inside their place; commands are argv lists.

Settings come from harness/hypothesis_profiles.py (HARNESS_HYPOTHESIS_PROFILE).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness import hypothesis_profiles, matrix, probe
from harness.engines import wine, wine_net
from harness.errors import ConfigError, EngineError
from harness.report.model import CellKey
from harness.run import Run
from harness.services import CATALOGUE, CHECKS
from harness.transports import CommandResult

ROOT = Path(__file__).resolve().parent.parent
PURE = hypothesis_profiles.pure_settings()

# --- generated matrices --------------------------------------------------------------

NAMES = st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,11}\Z")


@st.composite
def matrices(draw: Any) -> dict[str, Any]:
    """A valid matrix.yaml mapping (no known issues: they need matching cells)."""
    platforms = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    engines = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    services = draw(
        st.lists(
            st.sampled_from(sorted(CATALOGUE)), min_size=1, max_size=4, unique=True
        )
    )
    engine_platforms = {
        e: draw(st.lists(st.sampled_from(platforms), min_size=1, unique=True))
        for e in engines
    }
    checks = draw(st.lists(st.sampled_from(CHECKS), min_size=1, unique=True))
    cells = [
        {"platform": p, "engine": e, "service": s, "check": c}
        for e, ps in engine_platforms.items()
        for p in ps
        for s in services
        for c in checks
    ]
    return {
        "version": 1,
        "platforms": {
            p: {"target": "local", "os": "wine", "default": draw(st.booleans())}
            for p in platforms
        },
        "engines": {
            e: {"kind": "wine", "platforms": ps} for e, ps in engine_platforms.items()
        },
        "services": services,
        "checks": checks,
        "exclude": draw(st.lists(patterns(cells), max_size=3)),
    }


def patterns(cells: list[dict[str, str]]) -> st.SearchStrategy[dict[str, str]]:
    """Exclusions that match at least one cell: some keys of one of them."""
    return st.builds(
        lambda cell, keys: {k: cell[k] for k in sorted(keys)},
        st.sampled_from(cells),
        st.sets(st.sampled_from(["platform", "engine", "service", "check"])),
    )


def shuffled(data: Any, rnd: Any) -> Any:
    """The same matrix with every mapping and list in another order."""
    if isinstance(data, dict):
        items = list(data.items())
        rnd.shuffle(items)
        return {k: shuffled(v, rnd) for k, v in items}
    if isinstance(data, list):
        items = [shuffled(v, rnd) for v in data]
        rnd.shuffle(items)
        return items
    return data


def load(data: dict[str, Any]) -> matrix.Matrix:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "matrix.yaml")
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        return matrix.load(path)


@PURE
@given(matrices(), st.randoms(use_true_random=False))
def test_expansion_ignores_the_order_of_keys_and_lists(data, rnd):
    assert matrix.expand(load(shuffled(data, rnd))) == matrix.expand(load(data))


EXPAND = """
import json, sys
from pathlib import Path
from harness import matrix
out = []
for path in sys.argv[1:]:
    m = matrix.load(Path(path))
    everything = matrix.Filters(platforms=sorted(m.platforms))
    cells = [c.id for c in matrix.select(m, everything)]
    shards = [[c.id for c in matrix.shard(matrix.expand(m), i, 3)] for i in (1, 2, 3)]
    out.append([[c.id for c in matrix.expand(m)], cells, shards])
print(json.dumps(out))
"""


@settings(PURE, max_examples=min(PURE.max_examples, 2))
@given(st.lists(matrices(), min_size=12, max_size=12))
def test_expansion_does_not_depend_on_the_hash_seed(batch):
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, data in enumerate(batch):
            paths.append(Path(folder, f"m{i}.yaml"))
            paths[-1].write_text(yaml.safe_dump(data, sort_keys=False))
        outputs = {_expand_with_seed(seed, paths) for seed in ("0", "1", "4242")}
    assert len(outputs) == 1, "expansion differs between hash seeds"


def _expand_with_seed(seed: str, paths: list[Path]) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run(
        [sys.executable, "-c", EXPAND, *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return result.stdout


# --- filters and shards ---------------------------------------------------------


@st.composite
def matrix_and_filters(draw: Any) -> tuple[matrix.Matrix, dict[str, list[str]]]:
    m = matrix.Matrix.model_validate(draw(matrices()))  # valid by construction
    choices = {
        "platforms": sorted(m.platforms),
        "engines": sorted(m.engines),
        "services": list(m.services),
        "checks": list(m.checks),
    }
    chosen = {
        key: draw(st.lists(st.sampled_from(values), unique=True))
        for key, values in choices.items()
    }
    chosen["platforms"] = chosen["platforms"] or choices["platforms"]
    return m, chosen


ATTRIBUTE = {
    "platforms": "platform",
    "engines": "engine",
    "services": "service",
    "checks": "check",
}


def keep(cells: list[matrix.Cell], key: str, values: list[str]) -> list[matrix.Cell]:
    """One filter applied to a list of cells (no values: everything passes)."""
    return [c for c in cells if not values or getattr(c, ATTRIBUTE[key]) in values]


@PURE
@given(matrix_and_filters(), st.permutations(list(ATTRIBUTE)))
def test_filters_commute(made, order):
    m, chosen = made
    at_once = matrix.select(m, matrix.Filters(**chosen))
    one_by_one = matrix.expand(m)
    for key in order:
        one_by_one = keep(one_by_one, key, chosen[key])
    assert one_by_one == at_once
    platform_first = matrix.select(m, matrix.Filters(platforms=chosen["platforms"]))
    engine_first = matrix.select(
        m, matrix.Filters(platforms=sorted(m.platforms), engines=chosen["engines"])
    )
    assert keep(platform_first, "engines", chosen["engines"]) == keep(
        engine_first, "platforms", chosen["platforms"]
    )


@PURE
@given(matrix_and_filters(), st.integers(1, 8), st.data())
def test_shards_are_disjoint_cover_everything_and_commute_with_filters(
    made, count, data
):
    m, chosen = made
    cells = matrix.expand(m)
    shards = [matrix.shard(cells, i, count) for i in range(1, count + 1)]
    assert sorted(c for s in shards for c in s) == sorted(cells), "lost or repeated"
    index = data.draw(st.integers(1, count), label="index")
    filtered = matrix.select(m, matrix.Filters(**chosen, shard=(index, count)))
    assert filtered == matrix.shard(
        matrix.select(m, matrix.Filters(**chosen)), index, count
    )


@PURE
@given(st.integers(-3, 12), st.integers(-3, 12))
def test_a_shard_outside_its_count_is_refused(index, count):
    if count >= 1 and 1 <= index <= count:
        return
    with pytest.raises(ConfigError):
        matrix.shard([matrix.Cell("p", "e", "s", "starts")], index, count)


# --- names ----------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
CELL_PARTS = st.tuples(ANY_TEXT, ANY_TEXT, ANY_TEXT, ANY_TEXT)


@PURE
@given(st.lists(CELL_PARTS, min_size=2, max_size=6, unique=True))
def test_report_cell_keys_are_distinct_stable_and_safe(parts):
    keys = [CellKey(*p) for p in parts]
    ids = [k.dom_id for k in keys]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"cell-[0-9a-f]{20}", i) for i in ids)
    assert ids == [CellKey(*p).dom_id for p in parts], "not stable"


@PURE
@given(st.dictionaries(st.sampled_from(["platform", "engine"]), ANY_TEXT, min_size=1))
def test_cell_ids_name_their_parts_or_the_name_is_refused(names):
    data = {
        "version": 1,
        "platforms": {names.get("platform", "p"): {"target": "local", "os": "wine"}},
        "engines": {
            names.get("engine", "e"): {
                "kind": "wine",
                "platforms": [names.get("platform", "p")],
            }
        },
        "services": ["ordinary"],
    }
    try:
        m = load(data)
    except ConfigError:
        return
    for cell in matrix.expand(m):
        assert cell.id.split("/") == [
            cell.platform,
            cell.engine,
            cell.service,
            cell.check,
        ], f"ambiguous id {cell.id!r}"


# Arbitrary text, and text around a valid name (anchors that let a newline through).
CONTAINER_NAMES = st.one_of(
    ANY_TEXT,
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,19}"),
    st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,19}\n\Z"),
)
SAFE_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9-]*")


def _fake_run(tmp: str = "/nonexistent-harness-state") -> Run:
    return Run("20261203T000000Z-abcdef", Path(tmp))


class Commands:
    """Records the argv of every subprocess.run instead of running it."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, argv: Any, **kwargs: Any) -> Any:
        self.calls.append((argv, kwargs))
        return SimpleNamespace(returncode=0, stdout="", stderr="")


@PURE
@given(name=CONTAINER_NAMES)
def test_container_names_are_refused_or_become_safe_namespaces(name):
    namespace, calls = _attach(name)
    if namespace is None:
        assert not calls, "a refused name still ran commands"
        return
    assert SAFE_NAMESPACE.fullmatch(namespace) and namespace.endswith(f"-{name}")


@PURE
@given(name=st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,19}\Z"))
def test_attaching_a_container_runs_argv_lists(name):
    namespace, calls = _attach(name)
    assert namespace is not None and calls
    _assert_argv_lists(calls)
    assert any(namespace in argv for argv, _ in calls), "the name was split"


def _attach(name: str) -> tuple[str | None, list[tuple[Any, dict[str, Any]]]]:
    """attach(name) with every command recorded, not run; (None, calls) if refused."""
    commands = Commands()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wine_net.subprocess, "run", commands)
        lab = wine_net.LabNetwork(_fake_run(), "wine", lambda kind, value: None)
        try:
            return lab.attach(name)[0], commands.calls
        except EngineError:
            return None, commands.calls


def _assert_argv_lists(calls: list[tuple[Any, dict[str, Any]]]) -> None:
    for argv, kwargs in calls:
        assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
        assert not kwargs.get("shell"), f"a shell command line: {argv}"


@PURE
@given(st.one_of(st.none(), ANY_TEXT), st.lists(ANY_TEXT, max_size=4))
def test_netns_argv_keeps_every_argument_whole(namespace, argv):
    full = wine_net.netns_argv(namespace, list(argv))
    assert isinstance(full, list) and full[len(full) - len(argv) :] == argv
    if namespace:
        assert full[:4] == ["ip", "netns", "exec", namespace]


def _container(prefix: Path, namespace: str | None = "ns") -> wine.WineContainer:
    engine = SimpleNamespace(name="wine", run=_fake_run())
    return wine.WineContainer(
        engine, "c1", "container", prefix.parent, prefix, namespace, "198.18.0.2"
    )


@PURE
@given(st.lists(ANY_TEXT, min_size=1, max_size=4), st.one_of(st.none(), ANY_TEXT))
def test_wine_commands_are_argv_lists_with_arguments_whole(argv, namespace):
    seen: list[list[str]] = []

    def fake_run_local(host, full, **kwargs):
        seen.append(full)
        return None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wine, "run_local", fake_run_local)
        container = _container(Path("/nonexistent/prefix"), namespace or None)
        container.run(argv)
        container.native(argv)
    assert seen[0] == wine_net.netns_argv(namespace or None, ["wine", *argv])
    assert seen[1] == wine_net.netns_argv(namespace or None, list(argv))


PATHS = st.builds(
    lambda drive, parts: drive + "".join(parts),
    st.sampled_from(["C:", "c:", "D:", ""]),
    st.lists(st.sampled_from(["/", "\\", "..", ".", "a", "é", " ", ":"]), max_size=6),
)


@PURE
@given(path=st.one_of(PATHS, ANY_TEXT))
@example(path="C://tmp/x")
def test_write_file_refuses_paths_outside_drive_c(path):
    written: list[Path] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "mkdir", lambda self, **kw: None)
        patch.setattr(Path, "write_bytes", lambda self, data: written.append(self))
        prefix = Path("/nonexistent/prefix")
        try:
            _container(prefix).write_file(path, b"x")
        except EngineError:
            return
    drive_c = os.path.normpath(prefix / "drive_c")
    target = os.path.normpath(written[0])
    assert target.startswith(drive_c + os.sep), f"{path!r} was written to {target}"


@PURE
@given(name=CONTAINER_NAMES, network=st.sampled_from(wine.NETWORKS))
def test_container_names_never_leave_the_state_folder(name, network):
    folders: list[Path] = []

    def fake_make_prefix(golden, folder, record, warn=True):
        folders.append(folder)
        raise _Stop

    state = Path("/nonexistent-harness-state")
    config = matrix.Engine(kind="wine", platforms=["p"], options={"network": network})
    engine = wine.WineEngine(
        SimpleNamespace(platform="p"), "wine", config, _fake_run(str(state))
    )
    engine.golden = Path("/nonexistent/golden")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wine, "make_prefix", fake_make_prefix)
        with contextlib.suppress(EngineError, _Stop):
            engine.create_container(name)
    for folder in folders:
        assert folder.parent == engine.state and folder.name == name, (
            f"container {name!r} gets the folder {folder}"
        )


@PURE
@given(st.dictionaries(st.sampled_from(["name", "data", "path"]), ANY_TEXT))
def test_a_guest_answer_is_read_whatever_text_it_echoes(fields):
    answer = {"ok": True, "command": "obj open", **fields}
    stdout = json.dumps(answer, ensure_ascii=False)  # as the agent's answers are
    result = CommandResult("c1", ("probe", "obj"), 0, stdout, "", 0.001)
    container = SimpleNamespace(name="c1", guest=lambda *a, **k: result)
    assert probe.probe(container, "obj", "open") == {**answer, "exit": 0}


class _Stop(Exception):
    """Ends create_container once the folder it would use is known."""


def test_profiles_are_selected_by_name_and_checked():
    assert hypothesis_profiles.selected("nightly") == "nightly"
    with pytest.raises(ConfigError, match="allowed values: ci, nightly, dev"):
        hypothesis_profiles.selected("weekly")
    live = hypothesis_profiles.live_settings("ci")
    assert live.deadline is None and live.print_blob
    assert json.dumps(str(hypothesis_profiles.database_path()))
