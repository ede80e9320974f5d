"""The machine-readable parser: the tricky lines of real vagrant output, and any
text at all without an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.targets import vagrant_output as output

MULTI = """\
Vagrant gems may fail to load: a plugin warning that is not machine-readable.
1733250000,,ui,info,Current machine states:\\n\\nwin2022   running (virtualbox)
1733250000,win2022,metadata,provider,virtualbox
1733250000,win2022,state,running
1733250000,win2022,state-human-long,The VM is running. \
To stop this VM%!(VAGRANT_COMMA) you can run `vagrant halt`.\\nSecond line.
1733250000,win2019,state,shutoff
1733250000,win11,state,not_created
1733250000,win11,box-frobnicated,unknown%!(VAGRANT_COMMA)type
1733250000,,state,line-without-target
not-a-timestamp,win2016,state,running
1733250000,win2016
"""


def test_states_per_machine_skip_lines_without_a_target():
    states = output.machine_states(output.parse(MULTI))
    assert states == {
        "win2022": "running",
        "win2019": "shutoff",
        "win11": "not_created",
    }


def test_commas_and_newlines_are_unescaped():
    lines = output.parse(MULTI)
    long = output.values(lines, "state-human-long", "win2022")[0]
    assert long == (
        "The VM is running. To stop this VM, you can run `vagrant halt`.\nSecond line."
    )
    assert output.values(lines, "box-frobnicated") == ["unknown,type"]


@pytest.mark.parametrize(
    ("state", "word"),
    [
        ("running", "running"),
        ("poweroff", "stopped"),
        ("shutoff", "stopped"),
        ("saved", "stopped"),
        ("aborted", "stopped"),
        ("off", "stopped"),
        ("not_created", "absent"),
        ("preparing", "unknown"),
        (None, "unknown"),
    ],
)
def test_provider_states_become_one_word(state, word):
    assert output.normalize_state(state) == word


def test_error_exit_lines_give_their_message():
    text = (
        "1733250000,,error-exit,Vagrant::Errors::VMBootTimeout,Timed out"
        "%!(VAGRANT_COMMA) sorry.\\nNext line\n"
    )
    assert output.errors(output.parse(text)) == [
        "Vagrant::Errors::VMBootTimeout: Timed out, sorry.\nNext line"
    ]


def test_snapshot_names_are_the_detail_lines():
    text = (
        "1733250000,win2022,ui,output,==> win2022: \n"
        "1733250000,win2022,ui,detail,clean\n"
        "1733250000,win2022,ui,detail,before-update\n"
    )
    assert output.ui_details(output.parse(text), "win2022") == [
        "clean",
        "before-update",
    ]


@given(st.text(max_size=3000))
def test_any_text_parses_without_an_exception(text):
    lines = output.parse(text)
    output.machine_states(lines)
    output.errors(lines)
    output.ui_details(lines)
    output.values(lines, "state")


# Vagrant cannot tell a literal backslash-n from an escaped newline, nor a literal
# %!(VAGRANT_COMMA) from an escaped comma: values without those round-trip.
_VALUES = st.text(max_size=30).filter(lambda t: "\\" not in t and "%!(" not in t)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 2**40),
            _VALUES,
            st.from_regex(r"[a-z][a-z_-]{0,15}", fullmatch=True),
            st.lists(_VALUES, max_size=4),
        ),
        max_size=20,
    )
)
def test_lines_in_vagrants_escaping_round_trip(rows):
    def escape(field):
        return (
            field.replace(",", output.COMMA).replace("\n", "\\n").replace("\r", "\\r")
        )

    text = "\n".join(
        f"{ts},{escape(target)},{kind},{','.join(map(escape, data))}"
        for ts, target, kind, data in rows
    )
    parsed = [
        (line.timestamp, line.target, line.kind, line.data)
        for line in output.parse(text)
    ]
    # A line without data fields writes "ts,target,kind," : one empty field.
    assert parsed == [(ts, t, k, tuple(d) or ("",)) for ts, t, k, d in rows]


def test_other_line_separators_stay_inside_a_value():
    text = "1700000000,win2022,ui,info,caf\u00e9\u2028line\x0cform\x85next,x\n"
    (line,) = output.parse(text)
    assert line.data == ("info", "caf\u00e9\u2028line\x0cform\x85next", "x")
