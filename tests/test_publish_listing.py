"""The marketplace title a project declares in its pyproject.toml."""

from pathlib import Path

import pytest

from hub.errors import ConfigurationError
from hub.registry.publish import declared_title

PROJECT = """\
[project]
name = "secoda-connector-acme-bi"
version = "0.1.0"
"""


def write_pyproject(directory: Path, extra: str) -> Path:
    (directory / "pyproject.toml").write_text(PROJECT + extra, encoding="utf-8")
    return directory


def test_title_read_from_tool_table(tmp_path):
    project = write_pyproject(tmp_path, '\n[tool.secoda-hub]\ntitle = "Acme BI"\n')

    assert declared_title(project) == "Acme BI"


@pytest.mark.parametrize(
    "extra",
    ["", '\n[tool.other]\ntitle = "Other"\n', "\n[tool.secoda-hub]\n"],
    ids=["no-tool", "other-tool", "empty-table"],
)
def test_title_absent_is_none(tmp_path, extra):
    assert declared_title(write_pyproject(tmp_path, extra)) is None


def test_title_without_pyproject_is_none(tmp_path):
    assert declared_title(tmp_path) is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("title = 3\n", "sets title = 3; set it to the name users see"),
        ('title = "  "\n', "sets title = '  '; set it to the name users see"),
        ('titel = "Acme BI"\n', "has unknown key(s) titel; the keys it may hold"),
    ],
    ids=["number", "blank", "typo"],
)
def test_invalid_title_names_fix(tmp_path, extra, message):
    project = write_pyproject(tmp_path, "\n[tool.secoda-hub]\n" + extra)

    with pytest.raises(ConfigurationError) as raised:
        declared_title(project)

    assert str(raised.value).startswith(
        f"[tool.secoda-hub] in {project / 'pyproject.toml'} "
    )
    assert message in str(raised.value)


def test_invalid_toml_names_file(tmp_path):
    project = write_pyproject(tmp_path, "\n[tool.secoda-hub\n")

    with pytest.raises(ConfigurationError, match="pyproject.toml is not valid TOML"):
        declared_title(project)
