"""Entry points of the installed distributions, read once per process."""

import functools

import importlib_metadata


@functools.cache
def _all_entry_points() -> importlib_metadata.EntryPoints:
    # One scan of every installed distribution serves all groups.
    return importlib_metadata.entry_points()


def entry_points_in(group: str) -> importlib_metadata.EntryPoints:
    """Return the entry points registered under ``group``."""
    return _all_entry_points().select(group=group)


def clear_cache() -> None:
    """Forget the scan, for a process that installs distributions and rescans."""
    _all_entry_points.cache_clear()
