"""The dashboard in real headless Chromium (Debian's ``chromium`` package).

These tests fail, never skip, when Chromium is missing: CI installs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.report import build_report

from .cdp import Browser
from .scenarios import (
    WEIRD_ENGINE,
    WEIRD_PLATFORM,
    WEIRD_SERVICE,
    AllureRunner,
    Spec,
    write_meta,
)

pytest_plugins = ["pytester"]


@pytest.fixture
def browser() -> Iterator[Browser]:
    opened = Browser()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def dashboard(standard_results: Path, tmp_path: Path, browser: Browser) -> Browser:
    run_dir = build_report([standard_results], tmp_path / "reports")
    browser.open((run_dir / "index.html").as_uri())
    return browser


def choose(browser: Browser, name: str, value: str) -> None:
    browser.js(
        f"(() => {{ const s = document.getElementById('f-{name}');"
        f" s.value = {json.dumps(value)};"
        " s.dispatchEvent(new Event('change')); })()"
    )


def visible_squares(browser: Browser) -> list[list[str]]:
    """[engine, platform, service, verdict] of every square a person can see."""
    return browser.js(
        "Array.from(document.querySelectorAll('td.square')).filter(td =>"
        " td.offsetParent !== null && td.dataset.verdict !== '' &&"
        " getComputedStyle(td).visibility !== 'hidden').map(td =>"
        " [td.closest('section').dataset.engine, td.parentElement.dataset.platform,"
        " td.dataset.service, td.dataset.verdict])"
    )


def test_the_matrix_renders(dashboard: Browser) -> None:
    squares = visible_squares(dashboard)
    assert ["wine", "win2022", "rpcss", "partial"] in squares
    assert ["wine", "win2022", "spooler", "supported"] in squares
    assert [WEIRD_ENGINE, WEIRD_PLATFORM, WEIRD_SERVICE, "partial"] in squares
    assert len(squares) == 11
    assert dashboard.js("document.getElementById('shown-count').textContent") == "11"
    assert dashboard.js("document.getElementById('run-id').textContent") == (
        "nightly-1"
    )
    assert dashboard.exceptions == []


def test_filters_hide_rows_and_squares(dashboard: Browser) -> None:
    choose(dashboard, "engine", "wine")
    assert {s[0] for s in visible_squares(dashboard)} == {"wine"}
    choose(dashboard, "verdict", "unknown")
    assert sorted(s[2] for s in visible_squares(dashboard)) == [
        "eventlog",
        "iis",
        "schedule",
    ]
    choose(dashboard, "service", "rpcss")
    assert visible_squares(dashboard) == []
    assert dashboard.js("document.querySelector('section.engine').hidden") is True
    choose(dashboard, "verdict", "")
    choose(dashboard, "engine", "")
    choose(dashboard, "platform", "p")
    assert visible_squares(dashboard) == []
    choose(dashboard, "service", "")
    assert visible_squares(dashboard) == [
        ["e", "p", "x", "unsupported"],
        ["e", "p", "x y", "supported"],
    ]
    assert dashboard.js("document.getElementById('shown-count').textContent") == "2"


def test_a_weird_service_name_filters_exactly(dashboard: Browser) -> None:
    choose(dashboard, "service", WEIRD_SERVICE)
    assert visible_squares(dashboard) == [
        [WEIRD_ENGINE, WEIRD_PLATFORM, WEIRD_SERVICE, "partial"]
    ]


def test_clicking_a_check_opens_its_evidence(dashboard: Browser) -> None:
    dashboard.click('td[data-service="rpcss"] button.check')
    panel = dashboard.js(
        "(() => { const s = Array.from(document.querySelectorAll('section.evidence'))"
        ".filter(e => !e.hidden); return s.map(e => e.innerText); })()"
    )
    assert len(panel) == 1
    text = panel[0]
    assert "win2022 / wine / rpcss / starts" in text
    assert "start the service in container c1" in text
    assert "run probe.exe start rpcss" in text
    assert "exit code: 0" in text
    assert dashboard.js("document.body.classList.contains('evidence-open')")
    nested = dashboard.js(
        "document.querySelectorAll('section.evidence:not([hidden]) ol.steps ol.steps')"
        ".length"
    )
    assert nested >= 1
    image = dashboard.js(
        "document.querySelector('section.evidence:not([hidden]) img').naturalWidth"
    )
    assert image is not None


def test_evidence_shows_the_failure_message(dashboard: Browser) -> None:
    dashboard.click('td[data-service="rpcss"] li:nth-child(2) button.check')
    text = dashboard.js(
        "document.querySelector('section.evidence:not([hidden])').innerText"
    )
    assert "AssertionError: port 135 is not served" in text
    assert "Trace" in text


def test_script_from_a_result_is_text_and_never_runs(dashboard: Browser) -> None:
    # The service name is matched in script: no CSS selector can quote a tab.
    dashboard.js(
        "[...document.querySelectorAll('td.square')].find(td => td.dataset.service"
        f" === {json.dumps(WEIRD_SERVICE)}).querySelector('button.check').id = 'x'"
    )
    dashboard.click("#x")
    text = dashboard.js(
        "document.querySelector('section.evidence:not([hidden])').innerText"
    )
    assert "<script>window.__pwned=2</script>" in text
    assert '<img src=x onerror="window.__pwned=3">' in text
    assert dashboard.js("typeof window.__pwned") == "undefined"
    assert dashboard.js("document.scripts.length") == 1
    assert dashboard.exceptions == []


def test_nothing_is_fetched_from_another_host(dashboard: Browser) -> None:
    dashboard.click('td[data-service="rpcss"] button.check')
    urls = dashboard.requested_urls
    assert urls, "the page load itself must be recorded"
    assert all(url.startswith(("file://", "data:")) for url in urls), urls


def square_text(browser: Browser, service: str) -> str:
    return browser.js(
        "document.querySelector("
        f'\'section[data-engine="wine"] td[data-service="{service}"]\').innerText'
    )


def test_notes_are_folded_until_asked_for(dashboard: Browser) -> None:
    assert "why partial" in square_text(dashboard, "rpcss")
    assert "port 135 is not served" not in square_text(dashboard, "rpcss")
    dashboard.click('td[data-service="rpcss"] details.note > summary')
    assert "port 135 is not served" in square_text(dashboard, "rpcss")


SERVICES = [
    "rpcss",
    "dcom",
    "iis",
    "spooler",
    "eventlog",
    "schedule",
    "wmi",
    "bits",
    "ordinary",
]
LONG_REASON = (
    "Wine's RPCSS serves its endpoint mapper only locally (ncalrpc, where the "
    "fresh UUID resolves and the call returns the container's identity); nothing "
    "listens on TCP 135, so the client machine's mapper lookup is refused"
)


# Per element of the grid that holds a verdict, outcome, run id or header: the
# words of its text that a line break cut in two (a word's text spans two lines).
SPLIT_WORDS = """
Array.from(document.querySelectorAll(
  '.grid .verdict, .grid .o, .grid .since, .grid thead th')).flatMap(element => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const split = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
      if (tops.size > 1) split.push(match[0]);
    }
  }
  return split;
})
"""
# Header texts that run into the next header: [text, its right, next one's left].
CROWDED_HEADERS = """
(() => { const heads = Array.from(
  document.querySelector('.grid thead tr').children, th => {
    const range = document.createRange(); range.selectNodeContents(th);
    return [th.textContent, range.getBoundingClientRect()]; });
  return heads.slice(1).map((h, i) => [heads[i][0], heads[i][1].right, h[1].left])
    .filter(([, right, left]) => right + 4 > left); })()
"""


@pytest.mark.parametrize("width", [800, 1400])
def test_the_grid_never_splits_a_word_or_a_run_id(
    allure_runner: AllureRunner, tmp_path: Path, browser: Browser, width: int
) -> None:
    """The default matrix's nine services, each with a long known issue, under a
    run id as the harness makes them; narrower than the grid, the window keeps
    the page and the grid scrolls sideways in its box, its platforms in view."""
    specs = [
        Spec(
            f"{engine}_{service}_{check}".replace("-", "_"),
            "wine-8",
            engine,
            service,
            check,
        )
        if check != "serves"
        else Spec(
            f"{engine}_{service}_{check}".replace("-", "_"),
            "wine-8",
            engine,
            service,
            check,
            body="assert False, 'no listener'",
            known_issue=LONG_REASON,
        )
        for engine in ("wine", "wine-shared")
        for service in SERVICES
        for check in ("starts", "serves", "isolated")
    ]
    results = tmp_path / "results"
    allure_runner.run(specs, results)
    write_meta(results, "20261204T030606Z-ff3106", specs)
    run_dir = build_report([results], tmp_path / "reports")
    browser.page(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.open((run_dir / "index.html").as_uri())
    assert browser.js("window.innerWidth") == width
    assert browser.js("document.querySelectorAll('td.square').length") == 18
    assert browser.js(SPLIT_WORDS) == []
    assert browser.js(CROWDED_HEADERS) == []
    overflow = browser.js(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, "the page itself must not scroll sideways"
    box = "document.querySelector('section.engine .scroll-box')"
    if width == 800:
        assert browser.js(f"{box}.scrollWidth > {box}.clientWidth")
    platform = "document.querySelector('.grid tbody th').getBoundingClientRect().left"
    left = browser.js(platform)
    browser.js(f"{box}.scrollLeft = 300")
    assert browser.js(platform) == left, "the platform column stays in view"


def test_a_retried_cell_shows_every_attempt(dashboard: Browser) -> None:
    dashboard.click('td[data-service="spooler"] li:nth-child(2) button.check')
    panel = "document.querySelector('section.evidence:not([hidden]) "
    earlier = dashboard.js(panel + "details.attempt.earlier')")
    assert earlier is not None
    summary = dashboard.js(panel + "details.attempt.earlier > summary').innerText")
    assert summary.startswith("Attempt 1 of 2: failed")
    assert "first try fails" in summary
    assert dashboard.js(panel + "details.attempt.earlier').open") is False
    text = dashboard.js(panel + "').innerText")
    assert "Attempt 2 of 2 (the one that counts)" in text
    assert "count('spooler') >= 1" not in text  # the trace is folded with it
    dashboard.click("section.evidence:not([hidden]) details.attempt.earlier > summary")
    opened = dashboard.js(panel + "details.attempt.earlier').innerText")
    assert "Failure message" in opened and "AssertionError: first try fails" in opened


def test_a_known_issue_that_no_longer_reproduces_reads_as_passed(
    make_results: Callable[..., Path], tmp_path: Path, browser: Browser
) -> None:
    rpcss = ("wine-8", "wine", "rpcss")
    outcomes = {(*rpcss, "starts"): "xpass", (*rpcss, "serves"): "passed"}
    run_dir = build_report([make_results("gone", outcomes)], tmp_path / "reports")
    browser.open((run_dir / "index.html").as_uri())
    check = "document.querySelector('td[data-service=\"rpcss\"] button.check')"
    assert browser.js(check + ".innerText") == (
        "starts: passed — known issue no longer reproduces"
    )
    colour = browser.js(f"getComputedStyle({check}.querySelector('.o')).color")
    failed = browser.js(
        "getComputedStyle(document.documentElement).getPropertyValue('--failed')"
    )
    assert colour == "rgb(21, 101, 192)" and failed.strip() == "#c62828"
    top = browser.js("document.getElementById('no-longer-reproduces').innerText")
    assert "wine-8 / wine / rpcss / starts: passed" in top
    assert visible_squares(browser) == [["wine", "wine-8", "rpcss", "supported"]]
    facts = browser.js("document.getElementById('run-facts').innerText")
    assert "1 failed (1 known issue no longer reproducing)" in facts
    browser.click('td[data-service="rpcss"] button.check')
    panel = browser.js(
        "document.querySelector('section.evidence:not([hidden])').innerText"
    )
    assert "Outcome: passed — known issue no longer reproduces" in panel
    assert "remove it from matrix.yaml" in panel
    data = json.loads((run_dir / "matrix.json").read_text())
    starts = next(c for c in data["cells"] if c["check"] == "starts")
    assert starts["outcome"] == "failed"  # what the exit code counts


def test_a_filtered_run_shows_what_it_left_out(
    make_results: Callable[..., Path], tmp_path: Path, browser: Browser
) -> None:
    matrix = [["wine-8", "wine", "schedule", c] for c in ("starts", "serves")]
    results = make_results(
        "serves",
        {("wine-8", "wine", "schedule", "serves"): "passed"},
        matrix_checks=matrix,
    )
    run_dir = build_report([results], tmp_path / "reports")
    browser.open((run_dir / "index.html").as_uri())
    assert visible_squares(browser) == [["wine", "wine-8", "schedule", "unknown"]]
    checks = browser.js(
        "Array.from(document.querySelectorAll('button.check')).map(b => b.innerText)"
    )
    assert checks == ["starts: not selected", "serves: passed"]
    browser.click("details.note > summary")
    note = browser.js("document.querySelector('details.note').innerText")
    assert "only serves ran (starts not selected in this run)" in note
    browser.open((run_dir.parent / "index.html").as_uri())
    row = browser.js("document.querySelector('tr[data-run=\"serves\"]').innerText")
    assert "1 passed; 1 not selected" in row
    assert browser.exceptions == []
