"""Lessons 04–06: source listings and tables that read well on a projector.

``show_source(obj)`` renders a function or class of the kit as syntax-highlighted HTML whose
lines never wrap in the middle of a word (``white-space: pre``; a wide line scrolls
sideways instead). ``html_table(header, rows)`` renders a table as HTML, whose columns stay
aligned under Chinese headers (padded text does not: CJK characters are two columns wide).
Both return IPython display objects; they print nothing.
"""
from __future__ import annotations

import html
import inspect
import textwrap
import unicodedata
from typing import Any, Iterable, Optional

BOX = ("overflow-x:auto;white-space:pre;font-size:13px;line-height:1.45;"
       "font-family:var(--jp-code-font-family,monospace);"
       "padding:8px 12px;border-radius:6px;background:#f7f7f7;border:1px solid #e0e0e0")


def source_text(obj: Any, start: Optional[str] = None, lines: Optional[int] = None) -> str:
    """The source of ``obj``; from the first line containing ``start``, at most ``lines``."""
    text = textwrap.dedent(inspect.getsource(obj))  # a method loses its class indent
    rows = text.splitlines()
    if start is not None:
        first = next((i for i, row in enumerate(rows) if start in row), 0)
        rows = rows[first:]
    if lines is not None and len(rows) > lines:
        rows = rows[:lines] + ["    ..."]
    return "\n".join(rows) + "\n"


def code_html(code: str) -> str:
    """Highlighted HTML of Python code, in a box that scrolls sideways instead of wrapping."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    body = highlight(code, PythonLexer(), HtmlFormatter(nowrap=True, noclasses=True))
    return f'<pre style="{BOX}">{body}</pre>'


def show_source(obj: Any, start: Optional[str] = None, lines: Optional[int] = None):
    """Display the (excerpted) source of a kit function or class, highlighted."""
    from IPython.display import HTML

    module = getattr(inspect.getmodule(obj), "__name__", "")
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
    label = html.escape(f"{module}.{name}")
    title = f'<div style="color:#5f6368;font-size:12px">{label}</div>'
    return HTML(title + code_html(source_text(obj, start, lines)))


def display_width(text: str) -> int:
    """Display columns: a Chinese (East Asian wide or fullwidth) character takes two, a Latin one one."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def html_table(header: Iterable[Any], rows: Iterable[Iterable[Any]]):
    """Display a table as HTML: aligned columns whatever the script of the text."""
    from IPython.display import HTML

    def cells(values: Iterable[Any], tag: str) -> str:
        out = []
        for value in map(str, values):  # short cells never break; long ones wrap, not squeeze
            wrap = "white-space:nowrap" if display_width(value) <= 20 else "min-width:12em"
            out.append(f'<{tag} style="text-align:left;{wrap}">{html.escape(value)}</{tag}>')
        return "".join(out)

    head = f"<thead><tr>{cells(header, 'th')}</tr></thead>"
    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    return HTML(f'<table style="font-size:14px">{head}<tbody>{body}</tbody></table>')
