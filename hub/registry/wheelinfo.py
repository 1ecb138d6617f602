"""What a built wheel declares: its metadata, entry points and connector class.

The class is loaded in a fresh virtual environment holding the wheel, so a
module missing from the wheel fails here rather than on a user's machine.
"""

from __future__ import annotations

import configparser
import json
import site
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from dataclasses import dataclass, field
from email.message import Message
from email.parser import Parser
from pathlib import Path

from hub import CONNECTOR_GROUP
from hub.errors import PublishError
from hub.registry.processes import run_process

LOAD_TIMEOUT = 300


@dataclass(frozen=True)
class WheelInfo:
    """The parts of a wheel the publication checks read."""

    name: str
    version: str
    metadata: Message
    entry_points: dict[str, str]
    license_files: list[str]
    readme: str

    @property
    def summary(self) -> str:
        return self.metadata.get("Summary", "") or ""

    @property
    def requires_python(self) -> str | None:
        return self.metadata.get("Requires-Python")

    @property
    def license(self) -> str | None:
        return self.metadata.get("License-Expression") or self.metadata.get("License")

    def project_urls(self) -> dict[str, str]:
        urls = {}
        for value in self.metadata.get_all("Project-URL") or []:
            label, _, url = value.partition(",")
            urls[label.strip().lower()] = url.strip()
        if self.metadata.get("Home-page"):
            urls.setdefault("homepage", self.metadata["Home-page"])
        return urls

    def authors(self) -> list[str]:
        values = [self.metadata.get("Author"), self.metadata.get("Author-email")]
        return [value for value in values if value]


@dataclass(frozen=True)
class LoadedClass:
    """What the connector class declares, as read in a fresh environment."""

    qualified_name: str
    is_integration: bool
    credential_fields: list[dict] = field(default_factory=list)
    allowed_hosts: list[str] = field(default_factory=list)
    docstring: str = ""
    error: str | None = None


def read_wheel(wheel: Path) -> WheelInfo:
    """Read the metadata and entry points of ``wheel``."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = _dist_info_dir(wheel, names)
        metadata = Parser().parsestr(
            archive.read(f"{dist_info}/METADATA").decode("utf-8")
        )
        entry_points = _connector_entry_points(archive, dist_info, names)

    licenses = [name for name in names if name.startswith(f"{dist_info}/licenses/")]
    return WheelInfo(
        name=metadata["Name"],
        version=metadata["Version"],
        metadata=metadata,
        entry_points=entry_points,
        license_files=licenses,
        readme=metadata.get_payload() or "",
    )


def _dist_info_dir(wheel: Path, names: list[str]) -> str:
    found = {name.split("/")[0] for name in names if ".dist-info/" in name}
    if len(found) != 1:
        raise PublishError(
            f"{wheel.name} contains {len(found)} .dist-info folders, expected one"
        )
    return found.pop()


def _connector_entry_points(archive, dist_info: str, names: list[str]) -> dict:
    path = f"{dist_info}/entry_points.txt"
    if path not in names:
        return {}
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str
    parser.read_string(archive.read(path).decode("utf-8"))
    if not parser.has_section(CONNECTOR_GROUP):
        return {}
    return dict(parser.items(CONNECTOR_GROUP))


def load_in_fresh_environment(wheel: Path, target: str) -> LoadedClass:
    """Install ``wheel`` in a new virtual environment and inspect ``target``.

    The new environment sees the hub's own site-packages after its own, so
    the hub and its dependencies import without a download, while the
    connector's modules come from the wheel alone.
    """
    with tempfile.TemporaryDirectory(prefix="hub-publish-venv-") as scratch:
        try:
            python = _create_environment(Path(scratch) / "venv", wheel)
            result = run_process(
                [str(python), "-I", "-c", _LOAD_SCRIPT, target], timeout=LOAD_TIMEOUT
            )
        except subprocess.CalledProcessError as error:
            cause = _last_line(error.stderr or "").rstrip(".")
            raise PublishError(
                f"preparing a fresh environment to load {wheel.name} failed: "
                f"{_command_name(error.cmd)} exited with status "
                f"{error.returncode}: {cause}; check that the wheel installs "
                "with pip and that `python -m venv` works"
            ) from None
        except subprocess.TimeoutExpired as error:
            raise PublishError(
                f"loading {wheel.name} in a fresh environment stopped after "
                f"{LOAD_TIMEOUT} s in {_command_name(error.cmd)}; make the "
                "connector's module import without waiting on the network"
            ) from None
    if result.returncode != 0:
        return LoadedClass(target, False, error=_last_line(result.stderr))
    return LoadedClass(**json.loads(result.stdout))


def _create_environment(directory: Path, wheel: Path) -> Path:
    run_process(
        [sys.executable, "-m", "venv", "--without-pip", str(directory)],
        check=True,
        timeout=LOAD_TIMEOUT,
    )
    python = directory / "bin" / "python"
    packages = _site_packages(python)
    parent_sites = [path for path in site.getsitepackages() if Path(path).is_dir()]
    # addsitedir also runs the .pth files there, which editable installs use.
    # NOTE: every package of the hub's environment is importable too, so a
    # dependency the wheel uses but does not declare is only caught when the
    # hub's environment lacks it.
    lines = [f"import site; site.addsitedir({path!r})" for path in parent_sites]
    (packages / "_hub_parent_environment.pth").write_text("\n".join(lines) + "\n")

    run_process(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        + ["--disable-pip-version-check", "--target", str(packages), str(wheel)],
        check=True,
        timeout=LOAD_TIMEOUT,
    )
    return python


def _site_packages(python: Path) -> Path:
    output = run_process(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        timeout=LOAD_TIMEOUT,
    )
    return Path(output.stdout.strip())


def _command_name(command) -> str:
    """Name a child process by its program, and the module it runs, if any."""
    words = [str(word) for word in command]
    program = Path(words[0]).name
    if words[1:2] == ["-m"] and len(words) > 2:
        return f"`{program} -m {words[2]}`"
    return f"`{program}`"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "the interpreter exited without output"


_LOAD_SCRIPT = textwrap.dedent(
    """
    import importlib, inspect, json, sys
    from hub.sdk import SecodaIntegration

    target = sys.argv[1]
    module_name, _, attribute = target.partition(":")
    value = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    is_integration = inspect.isclass(value) and issubclass(value, SecodaIntegration)
    fields = getattr(value, "credential_fields", ()) if is_integration else ()
    print(json.dumps({
        "qualified_name": target,
        "is_integration": is_integration,
        "credential_fields": [
            {"name": f.name, "required": f.required, "secret": f.secret}
            for f in fields
        ],
        "allowed_hosts": list(getattr(value, "allowed_hosts", ()) or ()),
        "docstring": inspect.getdoc(value) or "",
    }))
    """
)
