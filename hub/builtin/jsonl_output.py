"""The ``hub run --output DIR`` files, in Secoda's upload format."""

from pathlib import Path

from hub.hookspecs import hookimpl


@hookimpl
def hub_open_outputs(output_dir: Path | None):
    if output_dir is None:
        return None
    from hub.jsonl import JSONLOutput

    return [JSONLOutput(output_dir)]
