"""Quoting round-trips through the readers it is written for: cmd.exe's operator
and caret rules, then CommandLineToArgvW; PowerShell's single-quoted literals."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.transports.winrm_scripts import (
    argv_quote,
    cmd_quote,
    command_line,
    ps_params,
    ps_quote,
)
from tests.windows.standin_cmd import argv_split, split_cmd
from tests.windows.standin_ps import single_quoted, tokenize

# Characters a command line can carry (no NUL; newlines end a cmd.exe line).
ARG = st.text(
    st.characters(blacklist_characters="\x00\r\n", blacklist_categories=("Cs",)),
    max_size=40,
)


@given(st.lists(ARG, min_size=1, max_size=6))
@example(["\x1f"])  # a blank to Python's str.strip, not to cmd.exe
def test_argv_survives_cmd_then_the_c_runtime(argv):
    parts = split_cmd(command_line(argv))
    assert len(parts) == 1, "cmd.exe saw an operator"
    assert argv_split(parts[0][1]) == argv


@given(ARG)
def test_argv_quote_alone_round_trips(arg):
    assert argv_split(argv_quote(arg)) == [arg]


@given(ARG)
def test_a_powershell_literal_is_one_token_with_the_value(value):
    tokens = [t for t in tokenize(ps_quote(value)) if t.kind != "sep"]
    assert [t.kind for t in tokens] == ["sq"]
    assert single_quoted(tokens[0].text) == value


@pytest.mark.parametrize(
    "value",
    [
        "a&b",
        "a|b",
        'a"b',
        "a'b",
        "a;b",
        "$(calc)",
        "a b",
        "%PATH%",
        "^",
        "\u2018x\u2019",
    ],
)
def test_shell_syntax_stays_data(value):
    assert split_cmd(cmd_quote(value)) == [("", split_cmd(cmd_quote(value))[0][1])]
    assert argv_split(split_cmd(cmd_quote(value))[0][1]) == [value]
    assert single_quoted(ps_quote(value)) == value


def test_parameter_names_are_checked():
    assert ps_params({"Name": "x", "Count": 3}) == "@{ 'Name' = 'x'; 'Count' = 3 }"
    with pytest.raises(ValueError, match="not a PowerShell parameter name"):
        ps_params({"a b": "x"})
