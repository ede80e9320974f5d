"""Decoding of Windows output: tables of known inputs, and never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.transports.decode import (
    clixml_to_text,
    codec_for,
    decode_output,
    decode_stderr,
    unescape_clixml,
)

CLIXML = (
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/'
    'powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.'
    'Management.Automation.PSCustomObject</T></TN><MS><I64 N="SourceId">1</I64>'
    '</MS></Obj><S S="Error">Accès refusé &lt;x&gt;_x000D__x000A_</S>'
    '<S S="warning">careful_x000A_</S></Objs>'
)


@pytest.mark.parametrize(
    ("data", "oem", "text"),
    [
        (b"gr\x81\x82", 437, "grüé"),
        (b"gr\x81\x82", 850, "grüé"),
        (b"s\x9bren", 437, "s¢ren"),
        (b"s\x9bren", 850, "søren"),
        ("日本語\r\n".encode(), 437, "日本語\r\n"),
        (b"utf8 \xc3\xa9\r\nold \x82\r\n", 437, "utf8 é\r\nold é\r\n"),
        (b"\xff\xfe", None, "\xa0■"),
    ],
)
def test_output_decodes_utf8_then_the_oem_code_page(data, oem, text):
    assert decode_output(data, oem) == text


def test_clixml_becomes_the_messages_without_progress_records():
    assert clixml_to_text(CLIXML) == "Accès refusé <x>\r\nWARNING: careful\n"


def test_text_without_clixml_is_kept():
    assert clixml_to_text("plain error\r\n") == "plain error\r\n"


def test_surrogate_pairs_are_joined_and_lone_ones_replaced():
    assert unescape_clixml("_xD83D__xDE00_") == "😀"
    assert unescape_clixml("_xD83D_") == "\ufffd"


def test_unknown_code_pages_fall_back():
    assert codec_for(99999) is None
    assert decode_output(b"a\x81", 99999) == "aü"


@given(st.binary(max_size=2000), st.one_of(st.none(), st.integers(-5, 70000)))
def test_decoding_never_raises(data, codepage):
    assert isinstance(decode_output(data, codepage), str)
    assert isinstance(decode_stderr(data, codepage), str)


@given(st.text(max_size=500))
def test_clixml_parsing_never_raises(text):
    assert isinstance(clixml_to_text("#< CLIXML\r\n" + text), str)
    assert isinstance(clixml_to_text("#< CLIXML\r\n<Objs>" + text), str)
