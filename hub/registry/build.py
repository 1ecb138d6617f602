"""Reproducible builds of a connector's sdist and wheel with ``python -m build``."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hub.errors import ConfigurationError, PublishError
from hub.registry.processes import run_process

logger = logging.getLogger(__name__)

# Every build stamps its archives with this time (1980-01-02, the earliest a
# zip file can hold), so two builds of the same source give the same bytes.
SOURCE_DATE_EPOCH = "315619200"

BUILD_TIMEOUT = 600


@dataclass(frozen=True)
class BuiltDistribution:
    """The archives one build produced."""

    wheel: Path
    sdist: Path

    @property
    def sha256(self) -> str:
        return file_sha256(self.wheel)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_environment(pip_options: Sequence[str]) -> dict[str, str]:
    """Turn ``--no-index`` and ``--find-links DIR`` into pip's variables.

    ``build`` installs the build backend with pip in an isolated
    environment, and pip reads these variables there too.
    """
    env: dict[str, str] = {}
    links: list[str] = []
    options = list(pip_options)
    for position, option in enumerate(options):
        if option == "--no-index":
            env["PIP_NO_INDEX"] = "1"
        elif option == "--find-links" and position + 1 < len(options):
            links.append(options[position + 1])
        elif option.startswith("--find-links="):
            links.append(option.partition("=")[2])
    if links:
        env["PIP_FIND_LINKS"] = " ".join(links)
    return env


def build_distribution(
    source: Path, out_dir: Path, pip_options: Sequence[str] = ()
) -> BuiltDistribution:
    """Build the sdist and wheel of the project in ``source`` into ``out_dir``."""
    if not (source / "pyproject.toml").is_file():
        # A wrong directory is a usage error (exit 2), not a failed check.
        raise ConfigurationError(
            f"{source} contains no pyproject.toml; give the directory of a "
            "connector distribution, such as ./connectors/cluvio, or create "
            "one with `hub new`"
        )

    command = [sys.executable, "-m", "build", "--sdist", "--wheel"]
    command += ["--outdir", str(out_dir), str(source)]
    env = {
        **os.environ,
        **pip_environment(pip_options),
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
    }
    logger.info("building %s", source)
    result = run_process(command, env=env, timeout=BUILD_TIMEOUT)
    if result.returncode != 0:
        raise PublishError(
            f"building {source} failed (exit {result.returncode}):\n"
            f"{_tail(result.stdout + result.stderr)}"
        )
    return _collect(out_dir)


def _collect(out_dir: Path) -> BuiltDistribution:
    wheels = sorted(out_dir.glob("*.whl"))
    sdists = sorted(out_dir.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise PublishError(
            f"the build wrote {len(wheels)} wheels and {len(sdists)} sdists "
            f"into {out_dir}; expected one of each"
        )
    return BuiltDistribution(wheel=wheels[0], sdist=sdists[0])


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
