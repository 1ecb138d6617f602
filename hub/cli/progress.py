"""A one-line progress display on standard error while a connector runs."""

import sys

import click


class ProgressLine:
    """Rewrites one status line in place; silent when stderr is not a terminal."""

    def __init__(self, connector: str, enabled: bool | None = None):
        self.connector = connector
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._width = 0

    def __call__(self, progress) -> None:
        if not self.enabled:
            return
        text = (
            f"{self.connector}: {progress.resources:,} resources, "
            f"{progress.lineage:,} lineage edges, {progress.requests:,} requests, "
            f"{progress.elapsed:.1f} s"
        )
        self._width = max(self._width, len(text))
        click.echo("\r" + text.ljust(self._width), nl=False, err=True)

    def clear(self) -> None:
        if self.enabled and self._width:
            click.echo("\r" + " " * self._width + "\r", nl=False, err=True)
            self._width = 0
