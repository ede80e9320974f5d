"""A command's docstring as its --help text on a terminal.

typer (rich) joins the lines of the first paragraph but keeps the line breaks of
the others, so a docstring wrapped at 88 columns wraps twice on a narrower
terminal; it also reads square brackets as rich markup.  Docstrings stay written
for the source (RST ``literals`` included); this turns them into help text:

    >>> terminal_help("Do it.\\n\\nWrites ``a.html``\\nand prints\\nits path.")
    'Do it.\\n\\nWrites `a.html` and prints its path.'

An indented paragraph (an example command) keeps its lines.
"""

from __future__ import annotations

import inspect
import re

from rich.markup import escape

_RST_LITERAL = re.compile(r"``(.+?)``")


def terminal_help(docstring: str) -> str:
    """Paragraphs reflowed to one line each (rich wraps them to the terminal),
    RST literals as `single backticks`, brackets kept as text."""
    paragraphs = inspect.cleandoc(docstring).split("\n\n")
    return "\n\n".join(_paragraph(p) for p in paragraphs if p.strip())


def _paragraph(text: str) -> str:
    text = _RST_LITERAL.sub(r"`\1`", text)
    lines = text.splitlines()
    if all(line.startswith(" ") for line in lines):
        return escape(text)
    return escape(" ".join(line.strip() for line in lines))
