"""What ``hub credentials set`` echoes of the field names it is given.

A secret pasted without its field name, with ``=`` in it, or in place of a
variable's name, arrives where a field or variable name is expected, and
must not be quoted back in the error.
"""

import json

import pytest

from conftest import run_hub_process
from hub.credentials import env_name

PASSWORD = 'Mx7/Qk "zebra" ünï+=&pw'
EVERYDAY = "Tr0ub@dor 3xyz"
FRAGMENTS = ("zebra", "Mx7", "Tr0ub", "3xyz")
FIELDS_LISTED = "the connector's fields are: base_url, password"


def assert_not_echoed(result) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in result.stdout
        assert fragment not in result.stderr


def test_pasted_secret_not_echoed(password_connector):
    result = run_hub_process("credentials", "set", str(password_connector), PASSWORD)

    assert result.returncode == 2
    assert "argument 1 after CONNECTOR is not a known FIELD=VALUE" in result.stderr
    assert FIELDS_LISTED in result.stderr
    assert_not_echoed(result)


def test_plain_unknown_field_quoted(password_connector):
    result = run_hub_process(
        "credentials", "set", str(password_connector), f"passwrd={EVERYDAY}"
    )

    assert result.returncode == 2
    assert "leak has no credential field 'passwrd'" in result.stderr
    assert_not_echoed(result)


@pytest.mark.parametrize(
    ("stdin", "where"),
    [
        (f"base_url=http://x\n{PASSWORD}\n", "line 2 of standard input"),
        (json.dumps({PASSWORD: "x"}), "a key of the JSON object on standard input"),
    ],
    ids=["lines", "json"],
)
def test_stdin_secret_not_echoed(password_connector, stdin, where):
    result = run_hub_process(
        "credentials", "set", str(password_connector), "--stdin", input=stdin
    )

    assert result.returncode == 2
    assert f"{where} is not a known FIELD=VALUE" in result.stderr
    assert FIELDS_LISTED in result.stderr
    assert_not_echoed(result)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (PASSWORD, "--env-var number 1 is not a known FIELD=VARIABLE"),
        (f"password={PASSWORD}", "--env-var number 1 names an environment variable"),
        (f"password={EVERYDAY}", "--env-var number 1 names an environment variable"),
        (f"{EVERYDAY}=HOME", "--env-var number 1 is not a known FIELD=VARIABLE"),
        ("password", "--env-var 'password' is not FIELD=VARIABLE"),
    ],
    ids=[
        "no-field",
        "value-as-variable",
        "everyday-as-variable",
        "value-as-field",
        "plain-name",
    ],
)
def test_env_var_secret_not_echoed(password_connector, mapping, message):
    result = run_hub_process(
        "credentials", "set", str(password_connector), "--env-var", mapping
    )

    assert result.returncode == 2
    assert message in result.stderr
    assert_not_echoed(result)


def test_from_env_secret_not_echoed(password_connector):
    # A variable's name cannot contain "=", so the first password loses it.
    names = (PASSWORD.replace("=", ""), EVERYDAY)
    prefix = env_name("leak", "default", "")
    variables = {prefix + name: "x" for name in names}

    result = run_hub_process(
        "credentials", "set", str(password_connector), "--from-env", env=variables
    )

    assert result.returncode == 2
    assert f"2 variable(s) starting with {prefix}" in result.stderr
    assert "not shown in case a name contains a secret" in result.stderr
    assert_not_echoed(result)


def test_undeclared_from_env_not_echoed(tmp_path):
    connector = tmp_path / "bare.py"
    connector.write_text(
        "from hub.sdk import SecodaIntegration\n\n\n"
        "class Bare(SecodaIntegration):\n"
        "    def extract(self):\n"
        "        pass\n"
    )
    variable = env_name("bare", "default", "") + EVERYDAY

    result = run_hub_process(
        "credentials", "set", str(connector), "--from-env", env={variable: "x"}
    )

    assert result.returncode == 2
    assert "1 given field name(s) are not plain names" in result.stderr
    # The variable's field part is read in lower case.
    assert "tr0ub" not in result.stderr.lower()
    assert "3xyz" not in result.stderr
