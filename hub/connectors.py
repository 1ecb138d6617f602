"""Finding connectors and loading their classes.

Listing reads package metadata only. A connector's module is imported when it
is checked, run or asked for its credential fields, and an import that fails
is reported for that connector alone.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hub.errors import (
    AmbiguousConnectorError,
    ConfigurationError,
    ConnectorBlockedError,
    ConnectorLoadError,
    ConnectorNotFoundError,
    HubError,
)
from hub.plugins import BLOCK_ENV, blocked_names, blocking_item, get_plugin_manager

if TYPE_CHECKING:
    from hub.sdk import SecodaIntegration


@dataclass(frozen=True)
class ConnectorEntry:
    """An installed connector, known from metadata before any import."""

    name: str
    target: str
    distribution: str | None
    version: str | None
    origin: str
    load: Callable[[], object] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Discovery:
    """The result of one discovery: usable entries, name conflicts, blocked ones.

    ``entries`` contains the first entry of each name and ``conflicts`` every
    later entry of a name already provided. A name with a conflict is
    ambiguous, and :func:`find` rejects it.
    """

    entries: list[ConnectorEntry]
    conflicts: list[ConnectorEntry]
    # Entries hidden by SECODA_HUB_BLOCK, each with the item that blocks it.
    blocked: list[tuple[ConnectorEntry, str]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    def providers(self, name: str) -> list[ConnectorEntry]:
        """Return every unblocked entry called ``name``, in discovery order."""
        everything = [*self.entries, *self.conflicts]
        return [entry for entry in everything if entry.name == name]


def discover() -> Discovery:
    """Collect the connectors every plugin provides, and the name conflicts."""
    blocked_items = blocked_names()
    entries: dict[str, ConnectorEntry] = {}
    conflicts = []
    blocked = []
    for provided in get_plugin_manager().hook.hub_discover_connectors():
        for entry in provided or ():
            item = blocking_item(blocked_items, entry.name, entry.distribution)
            if item is not None:
                blocked.append((entry, item))
            elif entry.name in entries:
                conflicts.append(entry)
            else:
                entries[entry.name] = entry
    ordered = sorted(entries.values(), key=lambda entry: entry.name)
    return Discovery(ordered, conflicts, blocked)


def find(name: str) -> ConnectorEntry:
    """Return the installed connector called ``name``.

    Raises :class:`AmbiguousConnectorError` when several distributions
    provide the name, so that no credentials reach either of them, and
    :class:`ConnectorBlockedError` when ``SECODA_HUB_BLOCK`` hides it.
    """
    discovery = discover()
    providers = discovery.providers(name)
    if len(providers) > 1:
        raise AmbiguousConnectorError(ambiguity_message(name, providers))
    if providers:
        return providers[0]

    blocked = [(entry, item) for entry, item in discovery.blocked if entry.name == name]
    if blocked:
        described = " and ".join(_provider(entry) for entry, _ in blocked)
        items = sorted({repr(item) for _, item in blocked})
        which = "that item" if len(items) == 1 else "those items"
        raise ConnectorBlockedError(
            f"connector {name!r} is installed ({described}) but blocked by "
            f"{BLOCK_ENV}, which lists {' and '.join(items)}; remove {which} "
            f"from {BLOCK_ENV} to use it"
        )
    installed = ", ".join(discovery.names()) or "none"
    raise ConnectorNotFoundError(
        f"no connector named {name!r} is installed (installed: {installed}). "
        "Install one with pip, or run a file with `hub run ./path/to/file.py`."
    )


def ambiguity_message(name: str, providers: list[ConnectorEntry]) -> str:
    """Describe a name that several distributions provide, and how to resolve it."""
    described = " and ".join(_provider(entry) for entry in providers)
    message = (
        f"connector name {name!r} is provided by {len(providers)} installed "
        f"distributions, {described}, so the hub runs neither; uninstall one "
        "with `pip uninstall DISTRIBUTION`"
    )
    distributions = [entry.distribution for entry in providers if entry.distribution]
    if distributions:
        message += (
            f", or hide one by adding its distribution name, "
            f"{' or '.join(distributions)}, to {BLOCK_ENV} (a comma-separated list)"
        )
    return message


def _provider(entry: ConnectorEntry) -> str:
    if entry.distribution:
        return f"{entry.distribution} {entry.version}"
    return f"the plugin connector {entry.target}"


def load_class(entry: ConnectorEntry) -> type[SecodaIntegration]:
    """Import the connector's module and return its class."""
    try:
        loaded = entry.load()
    except HubError:
        raise
    except Exception as error:
        raise ConnectorLoadError(
            f"connector {entry.name!r} ({_origin(entry)}) failed to import: "
            f"{_describe_import_error(error)}"
        ) from error
    return _check_class(entry, loaded)


def entry_from_file(spec: str) -> ConnectorEntry:
    """Build an entry for ``./file.py`` or ``./file.py:ClassName``.

    The connector's name is the file's stem, followed by ``_`` and the class
    name when one is given, in lower case with every character other than a
    letter, digit or underscore replaced by ``_``. The name selects the
    credentials and the catalog rows of the run, so two classes of one file
    never share them.
    """
    path_text, separator, class_name = spec.partition(".py:")
    if separator:
        path_text += ".py"
        _check_class_name(spec, path_text, class_name)
    path = Path(path_text)
    stem = f"{path.stem}_{class_name}" if class_name else path.stem
    name = re.sub(r"\W", "_", stem.lower())

    return ConnectorEntry(
        name=name,
        target=str(path),
        distribution=None,
        version=None,
        origin="file",
        load=lambda: _load_file_class(path, class_name or None, path_text),
    )


def _check_class_name(spec: str, path_text: str, class_name: str) -> None:
    if not class_name:
        raise ConfigurationError(
            f"{spec!r} names no class after ':'; give one, as in "
            f"{path_text}:ClassName, or leave out the ':' when the file "
            "defines one connector class"
        )
    if not class_name.isidentifier():
        raise ConfigurationError(
            f"{class_name!r} after ':' in {spec!r} is not a Python class name; "
            f"give one, as in {path_text}:ClassName"
        )


def is_file_spec(spec: str) -> bool:
    """Tell a file path such as ``./x.py`` from a connector name."""
    return spec.endswith(".py") or ".py:" in spec or "/" in spec


def _load_file_class(path: Path, class_name: str | None, typed: str) -> type:
    """Import a connector file and pick its class.

    ``typed`` is the path as the user gave it, for the hint that names a class.
    """
    if path.is_dir():
        raise ConnectorNotFoundError(
            f"{str(path)!r} is a directory; give the path of a connector file, "
            "a Python file defining one SecodaIntegration subclass, such as "
            f"{str(path / 'my_integration.py')!r}"
        )
    if not path.is_file():
        raise ConnectorNotFoundError(
            f"connector file {str(path)!r} does not exist; give the path of a "
            "Python file, or an installed connector's name (see `hub list`)"
        )

    module = _import_file(path)
    classes, abstract = _concrete_and_abstract(module)
    if class_name:
        if class_name in abstract:
            raise ConnectorLoadError(_abstract_message(path, abstract[class_name]))
        if class_name not in classes:
            raise ConnectorLoadError(
                f"{path} defines no SecodaIntegration subclass named "
                f"{class_name!r} (found: {', '.join(classes) or 'none'})"
            )
        return classes[class_name]
    if len(classes) == 1:
        return next(iter(classes.values()))
    if not classes and abstract:
        raise ConnectorLoadError(_abstract_message(path, *abstract.values()))
    if not classes:
        raise ConnectorLoadError(
            f"{path} defines no subclass of hub.sdk.SecodaIntegration; "
            "define one, importing it with `from hub.sdk import SecodaIntegration`"
        )
    raise ConnectorLoadError(
        f"{path} defines several connector classes ({', '.join(classes)}); "
        f"choose one with `{_invoking_command()} {typed}:ClassName`"
    )


def _abstract_message(path: Path, *abstract: type) -> str:
    described = []
    for cls in abstract:
        missing = ", ".join(f"{name}()" for name in sorted(cls.__abstractmethods__))
        described.append(
            f"class {cls.__name__} in {path} is abstract because it does not "
            f"implement {missing}"
        )
    return "; ".join(described) + "; define the missing methods in the class"


def _invoking_command() -> str:
    """Return the hub command running now, such as ``hub show``, for hints.

    Outside a click command (a library call) this is ``hub run``.
    """
    import click

    context = click.get_current_context(silent=True)
    return context.command_path if context is not None else "hub run"


def _import_file(path: Path):
    module_name = "hub_file_connector_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConnectorLoadError(f"{path} is not a Python file")

    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise ConnectorLoadError(
            f"{path} failed to import: {_describe_import_error(error)}"
        ) from error
    return module


def _concrete_and_abstract(module) -> tuple[dict[str, type], dict[str, type]]:
    """Return the SecodaIntegration subclasses that ``module`` itself defines.

    The first dict maps the names of the concrete classes, the second those
    of the abstract ones.
    """
    from hub.sdk import SecodaIntegration

    concrete, abstract = {}, {}
    for name, value in vars(module).items():
        if (
            inspect.isclass(value)
            and issubclass(value, SecodaIntegration)
            and value.__module__ == module.__name__
        ):
            kind = abstract if inspect.isabstract(value) else concrete
            kind[name] = value
    return concrete, abstract


def _check_class(entry: ConnectorEntry, loaded: object) -> type:
    from hub.sdk import SecodaIntegration

    if inspect.isclass(loaded) and issubclass(loaded, SecodaIntegration):
        _check_allowed_hosts(entry, loaded.allowed_hosts)
        return loaded
    raise ConnectorLoadError(
        f"connector {entry.name!r} ({_origin(entry)}) points to {loaded!r}, "
        "which is not a subclass of hub.sdk.SecodaIntegration; "
        "import the base class with `from hub.sdk import SecodaIntegration`"
    )


def _check_allowed_hosts(entry: ConnectorEntry, hosts) -> None:
    """Reject a class whose ``allowed_hosts`` no egress check could apply.

    Checked on load, so the error comes before a run starts.
    """
    from hub.sdk.egress import parse_entry

    for host in hosts:
        try:
            parse_entry(host)
        except ValueError as error:
            raise ConnectorLoadError(
                f"connector {entry.name!r} ({_origin(entry)}) declares an "
                f"invalid allowed_hosts entry: {error}"
            ) from None


def _origin(entry: ConnectorEntry) -> str:
    if entry.distribution:
        return f"{entry.distribution} {entry.version}, {entry.target}"
    return entry.target


def _describe_import_error(error: Exception) -> str:
    """Describe an import failure safely, with a hint where one helps."""
    # Imported here, because only a failed import needs it and `hub list`
    # imports this module on every start.
    from hub.messages import describe_exception, safe_message

    return safe_message(describe_exception(error)) + _import_hint(error)


def _import_hint(error: Exception) -> str:
    if isinstance(error, ModuleNotFoundError) and error.name == "secodadk":
        return (
            ". Connectors run on the hub's SDK: change the import line to "
            "`from hub.sdk import ...`"
        )
    return ""
