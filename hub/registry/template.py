"""The connector template: where it is, its Jinja filters, and rendering it.

Free-text answers (title, description, author) go into Python and TOML
files through the ``py_str`` and ``toml_str`` filters, which write string
literals that keep the exact value: quotes, backslashes and non-ASCII text
included.

cookiecutter renders every answer as a Jinja template before any file
sees it, so :func:`render` wraps each answer in a Jinja string literal
(:func:`jinja_literal`). Rendering that literal yields the text as typed,
so ``{{ 7*7 }}`` and an unclosed ``{%`` stay plain text.

:func:`answer_problems` is the one rule for the answers: ``hub new`` checks
it before rendering, and the template's pre-generation hook checks it for
users who run cookiecutter directly. The hook can import the hub because the
template's Jinja extension, :class:`LiteralExtension`, already needs it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment
from jinja2.ext import Extension

import hub
from hub.errors import ConfigurationError
from hub.registry.models import NAME_PATTERN, distribution_for

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


def name_problem(name: str) -> str | None:
    """Describe what is wrong with a connector name, or return None."""
    if re.fullmatch(NAME_PATTERN, name):
        return None
    return (
        f"name {name!r} is invalid: use lower case letters, digits and "
        "underscores, starting with a letter (a valid Python identifier, "
        "e.g. acme_bi)"
    )


def base_url_problem(url: str) -> str | None:
    """Describe what is wrong with an API base URL, or return None."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        return None
    return (
        f"base URL {url!r} is invalid: give an http(s) URL with a host, "
        "e.g. https://api.example.com"
    )


def class_name_problem(class_name: str) -> str | None:
    """Describe what is wrong with the connector class's name, or return None."""
    if class_name.isidentifier():
        return None
    return f"class name {class_name!r} is not a Python identifier"


# The answers with a rule, by template variable.
ANSWER_CHECKS = {
    "name": name_problem,
    "base_url": base_url_problem,
    "class_name": class_name_problem,
}


def answer_problems(answers: Mapping[str, str]) -> list[str]:
    """Return one sentence per invalid answer; an empty list means all are valid."""
    problems = []
    for key, check in ANSWER_CHECKS.items():
        if key in answers:
            problem = check(str(answers[key]))
            if problem is not None:
                problems.append(problem)
    return problems


def python_literal(value: object) -> str:
    """Return a double-quoted Python string literal whose value is ``str(value)``."""
    return _double_quoted(str(value))


def toml_literal(value: object) -> str:
    """Return a TOML basic string whose value is ``str(value)``."""
    return _double_quoted(str(value))


def jinja_literal(value: object) -> str:
    """Return a Jinja template that renders to exactly ``str(value)``.

    The template is one expression holding a single-quoted Jinja string.
    Jinja 3.1 (jinja2/lexer.py) decodes such a string with Python's
    ``unicode-escape`` codec after turning non-ASCII characters into
    backslash escapes, so the escapes of :func:`_backslash_escaped` keep the
    text. Control characters must be escaped, because Jinja would change a
    raw CR or CRLF to LF.
    """
    return "{{ '" + _backslash_escaped(str(value), "'") + "' }}"


def _double_quoted(text: str) -> str:
    # Python and TOML basic strings share these escapes.
    return '"' + _backslash_escaped(text, '"') + '"'


def _backslash_escaped(text: str, quote: str) -> str:
    """Escape ``text`` for a string literal delimited by ``quote``.

    A backslash goes before ``quote`` and ``\\``, and control characters (C0
    and DEL) become ``\\uXXXX``. Other Unicode characters stay as they are,
    which Python, TOML and Jinja strings all accept.
    """
    escaped = []
    for character in text:
        if character in (quote, "\\"):
            escaped.append("\\" + character)
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            escaped.append(f"\\u{ord(character):04x}")
        else:
            escaped.append(character)
    return "".join(escaped)


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
    """Render the template with ``answers`` into ``output_dir``.

    Raises :class:`ConfigurationError` for invalid answers and for a project
    directory that already exists, before cookiecutter runs.
    """
    from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
    from cookiecutter.main import cookiecutter

    problems = answer_problems(answers)
    if problems:
        raise ConfigurationError("; ".join(problems))
    target = output_dir.resolve() / distribution_for(answers["name"])
    if target.exists():
        raise _exists_error(target)

    try:
        with (
            _quiet_cookiecutter_logs(),
            _clean_template_copy() as template,
            tempfile.TemporaryDirectory(prefix="hub-new-replay-") as replay_dir,
        ):
            created = cookiecutter(
                str(template),
                no_input=True,
                extra_context=_literal_answers(answers),
                output_dir=str(output_dir),
                # cookiecutter saves the answers of every generation as a
                # replay file, by default under ~/.cookiecutter_replay. The
                # hub never replays, so the file goes to a directory that is
                # deleted afterwards. Settings in ~/.cookiecutterrc are not
                # read either, so every user gets the same template.
                default_config={"replay_dir": replay_dir},
            )
    except FailedHookException as error:
        raise ConfigurationError(
            "the template's pre-generation hook rejected the answers; its "
            "message is printed above"
        ) from error
    except OutputDirExistsException as error:
        # Created by another process after the check above.
        raise _exists_error(target) from error
    return Path(created)


def _literal_answers(answers: dict[str, str]) -> dict[str, str]:
    # cookiecutter renders each value of extra_context as a Jinja template,
    # and the user's answers are text, not templates.
    return {key: jinja_literal(value) for key, value in answers.items()}


def _exists_error(target: Path) -> ConfigurationError:
    return ConfigurationError(
        f"directory {target} already exists; choose another --name or "
        "--output-dir, or move the directory away"
    )


@contextlib.contextmanager
def _clean_template_copy() -> Iterator[Path]:
    """Yield a copy of the template without Python bytecode.

    pip byte-compiles every module of an installed wheel, and the template's
    testserver.py is valid Python, so an installed template contains
    ``__pycache__`` folders that cookiecutter would copy into the project.
    """
    source = template_directory()
    with tempfile.TemporaryDirectory(prefix="hub-template-") as scratch:
        # The copy keeps the folder's name, after which cookiecutter names
        # its replay file.
        copy = Path(scratch) / source.name
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(source, copy, ignore=ignore)
        yield copy


@contextlib.contextmanager
def _quiet_cookiecutter_logs() -> Iterator[None]:
    # cookiecutter logs a failed hook's traceback at ERROR before it raises,
    # and the hub reports that failure itself, in one line.
    cookiecutter_logger = logging.getLogger("cookiecutter")
    previous = cookiecutter_logger.level
    cookiecutter_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        cookiecutter_logger.setLevel(previous)
