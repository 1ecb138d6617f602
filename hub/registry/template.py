"""The connector template: where it is, its Jinja filters, and rendering it.

Free-text answers (title, description, author) go into Python and TOML
files through the ``py_str`` and ``toml_str`` filters, which write string
literals that keep the exact value: quotes, backslashes and non-ASCII text
included.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

import hub
from hub.errors import ConfigurationError

# Prompts of `hub new`, in order: (variable, prompt, help text).
PROMPTS = (
    (
        "name",
        "Connector name",
        "lower case letters, digits and underscores, e.g. acme_bi",
    ),
    ("title", "Title", "the name users see in the marketplace, e.g. Acme BI"),
    ("description", "Description", "one sentence on what the connector extracts"),
    ("author", "Author", "the maintainer's name, as it goes into pyproject.toml"),
    (
        "base_url",
        "API base URL",
        "the default URL of the API, e.g. https://api.acme.com",
    ),
)


def python_literal(value: object) -> str:
    """Return a double-quoted Python string literal whose value is ``str(value)``."""
    return _double_quoted(str(value))


def toml_literal(value: object) -> str:
    """Return a TOML basic string whose value is ``str(value)``."""
    return _double_quoted(str(value))


def _double_quoted(text: str) -> str:
    # Python and TOML basic strings share these escapes, and both accept
    # other Unicode characters literally.
    escaped = []
    for character in text:
        if character in ('"', "\\"):
            escaped.append("\\" + character)
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            escaped.append(f"\\u{ord(character):04x}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


class LiteralExtension(Extension):
    """Adds the ``py_str`` and ``toml_str`` filters to the template's Jinja."""

    def __init__(self, environment: Environment):
        super().__init__(environment)
        environment.filters["py_str"] = python_literal
        environment.filters["toml_str"] = toml_literal


def template_directory() -> Path:
    """Return the template shipped in the wheel, else the checkout's copy."""
    shipped = Path(hub.__file__).parent / "connector_template"
    if shipped.is_dir():
        return shipped
    checkout = Path(hub.__file__).resolve().parent.parent / "connector-template"
    if checkout.is_dir():
        return checkout
    raise ConfigurationError(
        f"the connector template is missing from {shipped} and {checkout}; "
        "reinstall the hub"
    )


def render(answers: dict[str, str], output_dir: Path) -> Path:
    """Render the template with ``answers`` into ``output_dir``."""
    from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
    from cookiecutter.main import cookiecutter

    try:
        created = cookiecutter(
            str(template_directory()),
            no_input=True,
            extra_context=answers,
            output_dir=str(output_dir),
        )
    except FailedHookException as error:
        raise ConfigurationError(
            f"the template rejected the answers: {error}; see the message above"
        ) from error
    except OutputDirExistsException as error:
        raise ConfigurationError(
            f"{error}; choose another name or --output-dir"
        ) from error
    return Path(created)
