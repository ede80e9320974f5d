"""Turn the bytes a Windows host printed into text, without ever raising.

The WinRM shell is opened with code page 65001, so well-behaved programs print UTF-8.
Some do not: a program that writes with the OEM code page (``type`` of an OEM file,
old console tools) gives bytes such as 0x81 0x82, which are "üé" in cp437 and
cp850 but invalid UTF-8.  PowerShell writes its error stream to a redirected stderr
as CLIXML (``#< CLIXML`` followed by XML with ``_x000D__x000A_`` escapes).

Every function here is pure and total: any bytes give some text.  Decisions are
never made on this text (it may be localized); they are made on exit codes and on
numeric codes in the guest tools' JSON.

    >>> decode_output(b"gr\\x81\\x82", oem_codepage=437)
    'grüé'
    >>> clixml_to_text('#< CLIXML\\r\\n<Objs><S S="Error">no_x000D__x000A_</S></Objs>')
    'no\\r\\n'
"""

from __future__ import annotations

import codecs
import html
import re

CLIXML_MARK = "#< CLIXML"
_CLIXML_BLOCK = re.compile(r"#< CLIXML\r?\n?(<Objs\b.*?(?:</Objs>|\Z))", re.S)
_CLIXML_STRING = re.compile(r'<S\s+S="(\w+)"\s*>(.*?)</S>', re.S)
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_STREAM_PREFIX = {"warning": "WARNING: ", "verbose": "VERBOSE: ", "debug": "DEBUG: "}


def codec_for(codepage: int | None) -> str | None:
    """The Python codec of a Windows code page number, or None when unknown."""
    if codepage is None:
        return None
    name = "utf-8" if codepage == 65001 else f"cp{codepage}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_output(data: bytes, oem_codepage: int | None = 437) -> str:
    """Decode command output: UTF-8 per line, the OEM code page where that fails.

    Deciding per line keeps a mix readable (a UTF-8 header from the harness followed
    by OEM output of an old tool).  Bytes valid in neither become U+FFFD.
    """
    fallback = codec_for(oem_codepage) or "cp437"
    return "".join(_decode_line(line, fallback) for line in data.splitlines(True))


def _decode_line(line: bytes, fallback: str) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode(fallback, errors="replace")


def unescape_clixml(text: str) -> str:
    """Undo PowerShell's ``_xHHHH_`` escapes, joining UTF-16 surrogate pairs."""
    units = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), html.unescape(text))
    raw = units.encode("utf-16-le", errors="surrogatepass")
    return raw.decode("utf-16-le", errors="replace")


def clixml_to_text(text: str) -> str:
    """Readable text for stderr that may hold CLIXML blocks; other text is kept.

    Error records become their message; warning, verbose and debug records get the
    prefix PowerShell prints on a console; progress records are dropped.  Malformed
    CLIXML is returned as it came rather than lost.
    """
    if CLIXML_MARK not in text:
        return text
    return _CLIXML_BLOCK.sub(lambda m: _clixml_block(m.group(1)), text)


def _clixml_block(block: str) -> str:
    parts = []
    for stream, value in _CLIXML_STRING.findall(block):
        kind = stream.lower()
        if kind in ("error", "warning", "verbose", "debug", "information"):
            parts.append(_STREAM_PREFIX.get(kind, "") + unescape_clixml(value))
    if not parts and "<Obj" not in block:
        return block
    return "".join(parts)


def decode_stderr(data: bytes, oem_codepage: int | None = 437) -> str:
    """Decode stderr bytes and turn any CLIXML in them into readable text."""
    return clixml_to_text(decode_output(data, oem_codepage))
