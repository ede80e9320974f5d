"""Bad matrix files only ever produce the configuration error, never a traceback.

Hypothesis generates whole documents and mutations of the real matrix.yaml; each
must load or fail with ConfigError whose message names the file and a line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import hypothesis_profiles, matrix
from harness.errors import ConfigError

pytestmark = pytest.mark.bad_input
ROOT = Path(__file__).resolve().parent.parent
REAL = (ROOT / "matrix.yaml").read_text()
WHERE = re.compile(r"matrix\.yaml:\d+: ")
# At least 300 documents per test (the README's count of bad inputs), more under
# the nightly profile.
SETTINGS = settings(
    hypothesis_profiles.pure_settings(),
    max_examples=max(300, hypothesis_profiles.pure_settings().max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "platforms",
                    "engines",
                    "services",
                    "checks",
                    "exclude",
                    "known_issues",
                    "wine-8",
                    "target",
                    "os",
                    "kind",
                    "platforms",
                    "check",
                    "reason",
                    "outcome",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=25,
)


def load_text(tmp_path: Path, text: str, reliability) -> None:
    reliability.tried()
    path = tmp_path / "matrix.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        matrix.load(path)
    except ConfigError as error:
        check_message(path, str(error))


def check_message(path: Path, message: str) -> None:
    """Every line: the file, a line number, the key (or YAML syntax) and what is
    wrong in our words, not pydantic's."""
    for line in message.splitlines():
        assert line.startswith(f"{path}:"), message
        assert WHERE.match(line[len(str(path)) - len("matrix.yaml") :]), message
        assert re.search(r":\d+: [^:]+: \S", line), message
        assert "Input should" not in line and "Traceback" not in line, message


@SETTINGS
@given(document=documents)
def test_generated_documents(tmp_path, reliability, document):
    load_text(tmp_path, yaml.safe_dump(document, allow_unicode=True), reliability)


@SETTINGS
@given(data=st.data())
def test_mutations_of_the_real_file(tmp_path, reliability, data):
    lines = REAL.splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    action = data.draw(
        st.sampled_from(["delete", "duplicate", "replace", "indent", "truncate"])
    )
    if action == "delete":
        del lines[index]
    elif action == "duplicate":
        lines.insert(index, lines[index])
    elif action == "indent":
        lines[index] = " " * data.draw(st.integers(1, 3)) + lines[index]
    elif action == "truncate":
        lines = lines[:index]
    else:
        lines[index] = data.draw(st.text(max_size=30).filter(lambda t: "\n" not in t))
    load_text(tmp_path, "\n".join(lines) + "\n", reliability)


@SETTINGS
@given(garbage=st.binary(max_size=200))
def test_arbitrary_bytes(tmp_path, reliability, garbage):
    reliability.tried()
    path = tmp_path / "matrix.yaml"
    path.write_bytes(garbage)
    try:
        matrix.load(path)
    except ConfigError as error:
        check_message(path, str(error))
