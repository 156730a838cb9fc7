"""Options and helpers shared by commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

from tracehound.defang import strip_control

F = Callable[..., Any]

# Wide enough for tables when output is piped or logged (rich defaults to 80 columns then).
err_console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)
out_console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def intel_option(f: F) -> F:
    return click.option(
        "--intel", "-i", "intel", multiple=True, metavar="PACK",
        help="Indicator pack: a built-in name (3cx) or a file (tracehound JSON, STIX 2.1, MISP, CSV, Loki IOC file "
             "or folder). Repeat to merge packs. Default: the built-in 3cx pack.",
    )(f)


def safe(text: object) -> str:
    """Text from evidence, made safe for the terminal (no escape sequences, no rich markup)."""
    from rich.markup import escape

    return escape(strip_control(str(text)))


def one_line(text: object) -> str:
    """A message that may quote input, for the terminal: control characters (ESC of CSI/OSC
    sequences, bidi overrides) filtered as in findings, and line breaks shown as '\\n' so that
    quoted input cannot fake a line of its own."""
    return strip_control(str(text).replace("\r\n", "\n")).replace("\n", "\\n")


def error_line(message: object, collapse: bool = False) -> None:
    """Every usage or input error, whichever layer raised it: 'tracehound: error: ...' on stderr."""
    text = " ".join(str(message).split()) if collapse else message  # click's own messages wrap lists over lines
    click.echo(f"tracehound: error: {one_line(text)}", err=True)
