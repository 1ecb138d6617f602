"""Printing tables, JSON and sizes for the command line."""

import json
from collections.abc import Sequence
from typing import Any, TextIO

import click


def echo_json(data: Any, file: TextIO | None = None) -> None:
    """Print ``data`` as indented JSON to ``file``, else to standard output."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str), file=file)


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under upper-case headers, each column as wide as its widest cell."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [
            max(width, len(cell)) for width, cell in zip(widths, row, strict=True)
        ]
    lines = [[header.upper() for header in headers], *cells]
    for line in lines:
        padded = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        click.echo("  ".join(padded).rstrip())


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"
