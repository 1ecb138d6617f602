"""The connector template: answer validation, exact escaping, its own tests."""

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import render_variable
from cookiecutter.utils import create_env_with_context

from conftest import run_hub_process
from hub.cli.registry import new_command
from hub.registry import template
from hub.registry.publish import declared_title
from hub.registry.template import (
    jinja_literal,
    python_literal,
    template_directory,
    toml_literal,
)

# The API token the generated test server accepts.
TEST_TOKEN = "test-token-0123456789"

AWKWARD = {
    "name": "acme_bi",
    "title": 'Acme "BI"',
    "description": "It's a back\\slash tool, caf\u00e9 \u65e5\u672c \U0001f680",
    "author": 'Jo "The Builder" O\'Neil',
    "base_url": "https://api.acme.test/v1",
}


def new_project(tmp_path: Path, answers: dict[str, str]) -> Path:
    """Run `hub new --no-input` with ``answers`` as options, and return the project."""
    result = CliRunner().invoke(
        new_command,
        ["--no-input", "--output-dir", str(tmp_path)]
        + [f"--{key.replace('_', '-')}={value}" for key, value in answers.items()],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return tmp_path / f"secoda-connector-{answers['name'].replace('_', '-')}"


@pytest.fixture
def rendered(tmp_path) -> Path:
    return new_project(tmp_path, AWKWARD)


def import_file(path: Path, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "text",
    ['"', "'", "\\", "a\nb", "\x7f", "caf\u00e9 \U0001f680", '\\"""'],
    ids=["double", "single", "backslash", "newline", "delete", "unicode", "mixed"],
)
def test_literals_keep_exact_value(text):
    assert eval(python_literal(text)) == text  # noqa: S307 - our own literal
    assert tomllib.loads(f"value = {toml_literal(text)}")["value"] == text


def test_pyproject_keeps_exact_text(rendered):
    project = tomllib.loads((rendered / "pyproject.toml").read_text())["project"]

    assert project["name"] == "secoda-connector-acme-bi"
    assert project["description"] == AWKWARD["description"]
    assert project["authors"] == [{"name": AWKWARD["author"]}]
    assert project["entry-points"]["secoda.connectors"] == {
        "acme_bi": "secoda_connector_acme_bi.connector:AcmeBiIntegration"
    }


def test_module_keeps_exact_text(rendered):
    path = rendered / "src" / "secoda_connector_acme_bi" / "connector.py"
    module = import_file(path, "rendered_acme_bi_connector")

    assert module.TITLE == AWKWARD["title"]
    assert module.DESCRIPTION == AWKWARD["description"]
    assert module.AcmeBiIntegration.__doc__ == AWKWARD["description"]
    assert module.AcmeBiIntegration.allowed_hosts == ("api.acme.test",)


def test_readme_and_license_rendered(rendered):
    assert AWKWARD["description"] in (rendered / "README.md").read_text()
    assert AWKWARD["author"] in (rendered / "LICENSE").read_text()


def test_generated_tests_pass(rendered):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=rendered,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(rendered / "src")},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 passed" in result.stdout


@pytest.mark.parametrize(
    "name",
    ["Acme", "acme-bi", "1acme", "acme bi", "acm\u00e9", ""],
    ids=["upper", "hyphen", "digit-first", "space", "non-ascii", "empty"],
)
def test_hook_rejects_invalid_name(name, tmp_path, capfd):
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(template_directory()),
            no_input=True,
            extra_context={"name": name},
            output_dir=str(tmp_path),
        )

    assert "use lower case letters, digits and underscores" in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_hook_rejects_bad_base_url(tmp_path, capfd):
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(template_directory()),
            no_input=True,
            extra_context={"name": "acme", "base_url": "api.acme.test"},
            output_dir=str(tmp_path),
        )

    assert "base URL 'api.acme.test' is invalid" in capfd.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--name", "Bad-Name"],
            "Error: name 'Bad-Name' is invalid: use lower case letters, digits "
            "and underscores, starting with a letter",
        ),
        (
            ["--name", "acme_bi", "--base-url", "api.acme.test"],
            "Error: base URL 'api.acme.test' is invalid: give an http(s) URL "
            "with a host",
        ),
    ],
    ids=["name", "base-url"],
)
def test_new_rejects_answer_cleanly(options, message, tmp_path):
    result = run_hub_process(
        "new", "--no-input", "--output-dir", str(tmp_path), *options
    )

    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert "Hook" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_leaves_home_alone(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    # A user's cookiecutter settings must not change what the hub generates.
    (home / ".cookiecutterrc").write_text("default_context:\n  author: Rc Author\n")

    result = run_hub_process(
        "new",
        "--no-input",
        "--output-dir",
        str(tmp_path),
        "--name",
        "acme_bi",
        env={"HOME": str(home)},
    )

    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in home.iterdir()) == [".cookiecutterrc"]
    pyproject = tmp_path / "secoda-connector-acme-bi" / "pyproject.toml"
    assert "Rc Author" not in pyproject.read_text()


def test_new_existing_directory_fails(tmp_path):
    created = run_hub_process(
        "new", "--no-input", "--output-dir", str(tmp_path), "--name", "acme_bi"
    )
    again = run_hub_process(
        "new", "--no-input", "--output-dir", str(tmp_path), "--name", "acme_bi"
    )

    target = tmp_path.resolve() / "secoda-connector-acme-bi"
    assert created.returncode == 0, created.stderr
    assert again.returncode == 2
    assert again.stderr == (
        f"Error: directory {target} already exists; choose another --name or "
        "--output-dir, or move the directory away\n"
    )


def test_new_prompts_again_after_invalid(tmp_path):
    answers = ["Bad-Name", *AWKWARD.values()]
    answers.insert(-1, "ftp://api.acme.test")
    result = CliRunner().invoke(
        new_command, ["--output-dir", str(tmp_path)], input="\n".join(answers) + "\n"
    )

    assert result.exit_code == 0, result.output
    assert "Error: name 'Bad-Name' is invalid" in result.output
    assert "Error: base URL 'ftp://api.acme.test' is invalid" in result.output
    assert (tmp_path / "secoda-connector-acme-bi" / "pyproject.toml").is_file()


def test_new_prompts_with_help(tmp_path):
    answers = "\n".join(AWKWARD.values()) + "\n"
    result = CliRunner().invoke(
        new_command, ["--output-dir", str(tmp_path)], input=answers
    )

    assert result.exit_code == 0, result.output
    assert "Connector name (lower case letters, digits and underscores" in result.output
    assert "API base URL (the default URL of the API" in result.output
    assert (tmp_path / "secoda-connector-acme-bi" / "pyproject.toml").is_file()


def test_pyproject_declares_title(rendered):
    pyproject = tomllib.loads((rendered / "pyproject.toml").read_text())

    assert pyproject["tool"]["secoda-hub"] == {"title": AWKWARD["title"]}
    assert declared_title(rendered) == AWKWARD["title"]


def test_new_leaves_no_bytecode(tmp_path, monkeypatch):
    # pip byte-compiles an installed wheel's modules, template files included.
    installed = tmp_path / "installed" / "connector_template"
    shutil.copytree(template_directory(), installed)
    compiled = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(installed)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    monkeypatch.setattr(template, "template_directory", lambda: installed)

    result = CliRunner().invoke(
        new_command, ["--no-input", "--output-dir", str(tmp_path), "--name", "acme"]
    )

    project = tmp_path / "secoda-connector-acme"
    assert list(installed.rglob("testserver.*.pyc")), compiled.stdout
    assert result.exit_code == 0, result.output
    assert (project / "pyproject.toml").is_file()
    assert list(project.rglob("__pycache__")) == []
    assert list(project.rglob("*.pyc")) == []


class ApiServerProcess:
    """The rendered test server, started as `python -m PACKAGE.testserver`."""

    def __init__(self, project: Path, *options: str, stdin=subprocess.DEVNULL):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "secoda_connector_acme_bi.testserver", *options],
            stdin=stdin,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(project / "src")},
        )
        self.url = self.process.stdout.readline().strip()

    def dashboards(self, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{self.url}/dashboards", headers=headers, timeout=10)

    def wait(self) -> int | None:
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()


@pytest.mark.parametrize(
    "signal_number", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"]
)
def test_testserver_runs_until_signal(rendered, signal_number):
    server = ApiServerProcess(rendered)
    try:
        # Standard input is closed, as for a server started with `&`.
        time.sleep(0.5)
        running = server.process.poll() is None
        response = server.dashboards(TEST_TOKEN)
    finally:
        server.process.send_signal(signal_number)
        status = server.wait()

    assert server.url.startswith("http://127.0.0.1:")
    assert running
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == ["d1", "d2"]
    assert status == 0


def test_testserver_stops_on_stdin_close(rendered):
    server = ApiServerProcess(rendered, "--stop-on-stdin-close", stdin=subprocess.PIPE)
    response = server.dashboards("wrong-token")
    server.process.stdin.close()
    status = server.wait()

    assert response.status_code == 401
    assert status == 0


def test_readme_gives_test_token(rendered):
    readme = (rendered / "README.md").read_text()
    testserver = rendered / "src" / "secoda_connector_acme_bi" / "testserver.py"

    assert import_file(testserver, "rendered_acme_bi_testserver").TOKEN == TEST_TOKEN
    assert f"api_token={TEST_TOKEN}" in readme
    assert "python -m secoda_connector_acme_bi.testserver --port 8765 &" in readme


def test_new_help_names_defaults():
    defaults = json.loads((template_directory() / "cookiecutter.json").read_text())

    result = run_hub_process("new", "--help")

    help_text = " ".join(result.stdout.split())
    assert result.returncode == 0
    assert "Prompts for each answer that no option gives, unless --no-input" in (
        help_text
    )
    assert f'the author "{defaults["author"]}"' in help_text
    assert f"the base URL {defaults['base_url']}" in help_text
    assert "Extracts dashboards and charts from TITLE." in help_text
    assert defaults["description"] == (
        "Extracts dashboards and charts from {{ cookiecutter.title }}."
    )


# Answers that look like Jinja: cookiecutter renders every answer as a
# template, and `hub new` must hand over the text as typed.
BRACED = {
    "name": "acme_bi",
    "title": "He said {{ 7*7 }}",
    "description": "Uses {{ and }} braces, {% raw %}, {# a comment and 'quotes'",
    "author": "{{ cookiecutter.name }}",
    "base_url": "https://api.acme.test/{{version}}",
}


def rendered_by_cookiecutter(template: str) -> str:
    """Render ``template`` the way cookiecutter renders an answer."""
    context = {"cookiecutter": {"_extensions": []}}
    return render_variable(create_env_with_context(context), template, {})


@pytest.mark.parametrize(
    "text",
    [
        "{{ 7*7 }}",
        "Acme {% BI",
        "{# unclosed comment",
        "}} and {{",
        "{% raw %}x{% endraw %}",
        "back\\slash \\n \\x41 \\'",
        "quotes ' and \"",
        "line\r\nbreaks\rand\nnewlines\n",
        "tab\t nul\x00 delete\x7f",
        "caf\u00e9 \u65e5\u672c \U0001f680",
        "",
    ],
)
def test_jinja_literal_renders_exact_text(text):
    assert rendered_by_cookiecutter(jinja_literal(text)) == text


def import_connector(project: Path):
    path = project / "src" / "secoda_connector_acme_bi" / "connector.py"
    return import_file(path, "braced_acme_bi_connector")


def test_new_keeps_braces_in_pyproject(tmp_path):
    project = new_project(tmp_path, BRACED)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    assert pyproject["project"]["description"] == BRACED["description"]
    assert pyproject["project"]["authors"] == [{"name": BRACED["author"]}]
    assert pyproject["tool"]["secoda-hub"] == {"title": BRACED["title"]}


def test_new_keeps_braces_in_module(tmp_path):
    module = import_connector(new_project(tmp_path, BRACED))

    assert module.TITLE == BRACED["title"]
    assert module.DESCRIPTION == BRACED["description"]
    assert module.DEFAULT_BASE_URL == BRACED["base_url"]


def test_new_keeps_braces_in_readme(tmp_path):
    project = new_project(tmp_path, BRACED)
    readme = (project / "README.md").read_text()

    assert BRACED["description"] in readme
    assert f"extracting from {BRACED['title']}." in readme
    assert BRACED["author"] in (project / "LICENSE").read_text()


def test_default_description_keeps_braced_title(tmp_path):
    module = import_connector(
        new_project(tmp_path, {"name": "acme_bi", "title": "Acme {{ BI }}"})
    )

    assert module.DESCRIPTION == "Extracts dashboards and charts from Acme {{ BI }}."


@pytest.mark.parametrize(
    ("option", "value", "constant"),
    [
        ("--title", "Acme {% BI", "TITLE"),
        ("--description", "Uses {{ and }} braces", "DESCRIPTION"),
    ],
    ids=["unclosed-tag", "empty-expression"],
)
def test_new_accepts_invalid_jinja(option, value, constant, tmp_path):
    options = [f"--output-dir={tmp_path}", "--name=acme_bi", option, value]
    result = run_hub_process("new", "--no-input", *options)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    module = import_connector(tmp_path / "secoda-connector-acme-bi")
    assert getattr(module, constant) == value


def test_prompted_answers_keep_braces(tmp_path):
    answers = "\n".join(BRACED.values()) + "\n"
    result = CliRunner().invoke(
        new_command, ["--output-dir", str(tmp_path)], input=answers
    )

    assert result.exit_code == 0, result.output
    module = import_connector(tmp_path / "secoda-connector-acme-bi")
    assert module.TITLE == BRACED["title"]
    assert module.DESCRIPTION == BRACED["description"]
