"""How cells are named where people read them: the harness's own ``placement``
parameter repeats the platform and engine labels, so no page or text shows it,
while the cell's key (matrix.json, the history) keeps it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.report import build_report
from harness.report.commands import write_diff_page
from harness.report.compare import diff_runs, diff_text
from harness.report.history import open_store

from .scenarios import KNOWN_ISSUE, AllureRunner, Spec, write_meta

pytest_plugins = ["pytester"]

# The real Placement, as the harness plugin parametrizes every case with it.
PLACEMENT = '__import__("harness.lab").lab.Placement("wine-8", "wine")'
PLACED_135 = f"({PLACEMENT}, 135)"
SHOWN_NEVER = "Placement("


def placed(name: str, service: str, check: str, body: str, **more: str) -> Spec:
    """A cell parametrized with the placement, as every harness cell is."""
    return Spec(
        name,
        "wine-8",
        "wine",
        service,
        check,
        body=body,
        args="placement",
        parametrize=f'"placement", [{PLACEMENT}]',
        **more,
    )


def run_specs(spooler: str) -> list[Spec]:
    """rpcss serves: a known issue that no longer reproduces; spooler starts as
    asked; ordinary serves twice, told apart by a port parameter."""
    return [
        placed("rpcss_starts", "rpcss", "starts", "pass"),
        placed("rpcss_serves", "rpcss", "serves", "pass", known_issue=KNOWN_ISSUE),
        placed("spooler_starts", "spooler", "starts", spooler),
        Spec(
            "ordinary_serves",
            "wine-8",
            "wine",
            "ordinary",
            "serves",
            args="placement, port",
            parametrize=f'("placement", "port"), [({PLACEMENT}, 80), {PLACED_135}]',
        ),
    ]


def report(allure_runner: AllureRunner, tmp_path: Path, run_id: str, body: str) -> Path:
    results = tmp_path / f"results-{run_id}"
    specs = run_specs(body)
    allure_runner.run(specs, results)
    write_meta(results, run_id, specs, engines=[])
    return build_report([results], tmp_path / "reports")


def test_no_page_or_text_shows_the_placement(
    allure_runner: AllureRunner, tmp_path: Path
) -> None:
    report(allure_runner, tmp_path, "p1", "pass")
    run_dir = report(allure_runner, tmp_path, "p2", "assert False, 'no spooler'")
    page = (run_dir / "index.html").read_text(encoding="utf-8")
    # pytest's trace of a failure prints the test's arguments: that is evidence.
    names = re.sub(r'<pre class="trace">.*?</pre>', "", page, flags=re.S)
    assert SHOWN_NEVER not in names and "placement=" not in names
    gone = page[page.index('id="no-longer-reproduces"') :]
    assert "wine-8 / wine / rpcss / serves</a>: passed" in gone
    failing = page[page.index('id="newly-failing"') :]
    assert 'spooler / starts</a>: passed in <span class="run-id">p1</span>' in failing
    assert '<h3 class="cell-name">wine-8 / wine / spooler / starts</h3>' in page
    # The other parameter tells the two ordinary cells apart, in every place.
    assert "serves [port=135]: " in page
    assert '<h3 class="cell-name">wine-8 / wine / ordinary / serves [port=80]' in page

    data = json.loads((run_dir / "matrix.json").read_text(encoding="utf-8"))
    spooler = next(c for c in data["cells"] if c["service"] == "spooler")
    assert spooler["parameters"] == [
        ["placement", "Placement(platform='wine-8', engine='wine')"]
    ]
    assert SHOWN_NEVER not in (run_dir / "matrix.md").read_text(encoding="utf-8")

    root = tmp_path / "reports"
    with open_store(root) as connection:
        diff = diff_runs(connection, "p1", "p2")
    text = diff_text(diff)
    assert "  wine-8 | wine | spooler | starts: passed -> failed" in text
    assert SHOWN_NEVER not in text
    html = write_diff_page(root, diff).read_text(encoding="utf-8")
    assert "<td>starts</td>" in html and SHOWN_NEVER not in html
