"""The credential store, environment overrides and ``hub credentials``."""

import json
import os
import stat

import pytest

from hub.credentials import (
    CredentialStore,
    env_name,
    masked,
    resolve,
)
from hub.errors import CredentialStoreError, MissingCredentialsError
from hub.sdk import CredentialField

FIELDS = (
    CredentialField("email"),
    CredentialField("password", secret=True),
    CredentialField("base_url", required=False, default="https://example.test"),
)


@pytest.fixture
def store(tmp_path):
    return CredentialStore(tmp_path / "config" / "credentials.json")


def test_store_file_is_private(store):
    store.set("cluvio", "default", {"email": "a@example.com"})

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_store_round_trips_odd_values(store):
    values = {"quote": 'it\'s "x"', "newline": "a\nb", "equals": "a=b=c", "empty": ""}
    values["unicode"] = "pässwörd ✓"

    store.set("odd", "default", values)

    assert CredentialStore(store.path).get("odd") == values


def test_store_keeps_other_connectors(store):
    store.set("one", "default", {"token": "1111"})
    store.set("two", "default", {"token": "2222"})
    store.set("one", "eu", {"token": "3333"})

    assert store.get("one") == {"token": "1111"}
    assert store.get("two") == {"token": "2222"}
    assert store.get("one", "eu") == {"token": "3333"}


def test_readable_store_is_rejected(store):
    store.set("one", "default", {"token": "1111"})
    os.chmod(store.path, 0o644)

    with pytest.raises(CredentialStoreError, match="chmod 600"):
        store.get("one")


def test_corrupt_store_names_line(store):
    store.set("one", "default", {"token": "1111"})
    store.path.write_text('{\n  "format": 1,\n  oops\n}')

    with pytest.raises(CredentialStoreError, match="line 3"):
        store.get("one")


def test_failed_write_keeps_previous_file(store, monkeypatch):
    store.set("one", "default", {"token": "1111"})
    before = store.path.read_bytes()

    def broken_fsync(descriptor):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        store.set("one", "default", {"token": "2222"})

    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == [
        "credentials.json",
        "credentials.json.lock",
    ]


def test_remove_profile_and_connector(store):
    store.set("one", "default", {"token": "1111"})
    store.set("one", "eu", {"token": "2222"})

    assert store.remove("one", "eu") is True
    assert store.remove("one", "eu") is False
    assert store.remove("one") is True
    assert store.all() == {}


def test_environment_overrides_store():
    environ = {env_name("cluvio", "default", "password"): "from-env"}

    values = resolve(
        "cluvio", "default", FIELDS, {"email": "a", "password": "stored"}, environ
    )

    assert values["password"] == "from-env"
    assert values["base_url"] == "https://example.test"


def test_undeclared_override_warned(caplog):
    variable = env_name("cluvio", "default", "passwrod")
    environ = {variable: "typed-secret-771"}

    values = resolve(
        "cluvio", "default", FIELDS, {"email": "a", "password": "b"}, environ
    )

    assert values["password"] == "b"
    assert variable in caplog.text
    assert "its fields are base_url, email, password" in caplog.text
    assert "typed-secret-771" not in caplog.text


def test_override_of_undeclaring_connector_not_warned(caplog):
    environ = {env_name("plain", "default", "token"): "typed-secret-771"}

    values = resolve("plain", "default", [], {}, environ)

    assert values == {"token": "typed-secret-771"}
    assert caplog.text == ""


def test_environment_name_format():
    assert (
        env_name("cluvio", "eu", "base_url") == "SECODA_HUB_CRED__CLUVIO__EU__BASE_URL"
    )


def test_missing_fields_are_named():
    with pytest.raises(MissingCredentialsError) as caught:
        resolve("cluvio", "default", FIELDS, {}, {})

    assert caught.value.missing == ["email", "password"]
    assert "`hub credentials set cluvio`" in str(caught.value)


def test_masked_hides_undeclared_values():
    shown = masked(FIELDS, {"email": "a@example.com", "password": "p", "other": "o"})

    assert shown == {
        "email": "a@example.com",
        "password": "********",
        "other": "********",
    }


def test_cli_set_prompts_hidden(hub, hub_home):
    result = hub("credentials", "set", "cluvio", input="me@example.com\nhunter22\n\n")

    assert result.exit_code == 0, result.output
    assert "hunter22" not in result.output
    stored = json.loads((hub_home / "config" / "credentials.json").read_text())
    assert stored["connectors"]["cluvio"]["default"] == {
        "email": "me@example.com",
        "password": "hunter22",
        "base_url": "https://api.cluvio.com",
    }


def test_cli_set_rejects_unknown_field(hub):
    result = hub("credentials", "set", "cluvio", "passwrd=x")

    assert result.exit_code == 2
    assert "'passwrd'" in result.stderr
    assert "email, password, base_url" in result.stderr


def test_cli_set_rejects_bad_assignment(hub):
    result = hub("credentials", "set", "cluvio", "email")

    assert result.exit_code == 2
    assert "'email' is not FIELD=VALUE" in result.stderr


def test_cli_list_masks_secrets(hub):
    hub("credentials", "set", "cluvio", "email=me@example.com", "password=hunter22")

    result = hub("credentials", "list")

    assert result.exit_code == 0
    assert "me@example.com" in result.stdout
    assert "hunter22" not in result.stdout
    assert "********" in result.stdout


def test_cli_remove_unknown_fails(hub):
    result = hub("credentials", "remove", "cluvio")

    assert result.exit_code == 2
    assert "no credentials stored" in result.stderr


def test_run_receives_own_values_only(hub, tmp_path):
    connector = tmp_path / "echo_values.py"
    connector.write_text(
        "from hub.sdk import Resource, SecodaIntegration\n"
        "class Echo(SecodaIntegration):\n"
        "    def extract(self):\n"
        "        for name in sorted(self.credentials):\n"
        "            self.declare_resource(\n"
        "                Resource(entity_type='table', databuilder_id=name)\n"
        "            )\n"
    )
    hub("credentials", "set", str(connector), "mine=1111")
    hub("credentials", "set", "cluvio", "email=a@example.com", "password=2222")

    result = hub("run", str(connector), "--json", "--output", str(tmp_path / "out"))

    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out" / "resources.jsonl").read_text().splitlines()
    assert [json.loads(line)["databuilder_id"] for line in lines] == ["mine"]


PROFILE_CONNECTOR = """\
from hub.sdk import CredentialField, Resource, SecodaIntegration


class Accounts(SecodaIntegration):
    credential_fields = (
        CredentialField("account"),
        CredentialField("token", secret=True),
    )

    def extract(self):
        account = self.credentials["account"]
        self.declare_resource(
            Resource(entity_type="table", databuilder_id=f"account.{account}")
        )
"""


def test_run_uses_chosen_profile(hub, tmp_path):
    connector = tmp_path / "accounts.py"
    connector.write_text(PROFILE_CONNECTOR)
    hub("credentials", "set", str(connector), "account=alpha", "token=tok-default")
    hub("credentials", "set", str(connector), "--profile=eu", "account=beta", "token=x")

    result = hub(
        "run", str(connector), "--profile", "eu", "--output", str(tmp_path / "out")
    )

    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out" / "resources.jsonl").read_text().splitlines()
    assert [json.loads(line)["databuilder_id"] for line in lines] == ["account.beta"]


# Walks every object reachable from the connector instance, skipping modules,
# classes and functions (whose globals reach everything importable), and
# declares one resource per finding.
SCOPE_PROBE = """\
import gc
import types

from hub.credentials import CredentialBackend
from hub.sdk import CredentialField, Resource, SecodaIntegration

NOT_HANDED_OVER = (
    types.ModuleType,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
)


class Probe(SecodaIntegration):
    credential_fields = (CredentialField("token", secret=True),)

    def extract(self):
        found = set()
        seen = set()
        queue = [self]
        while queue and len(seen) < 500_000:
            item = queue.pop()
            if id(item) in seen or isinstance(item, NOT_HANDED_OVER):
                continue
            seen.add(id(item))
            if isinstance(item, CredentialBackend):
                found.add("backend")
            if isinstance(item, str):
                if item == "tok-other-profile":
                    found.add("other_profile")
                if item == "tok-other-connector":
                    found.add("other_connector")
                if item == self.credentials["token"]:
                    found.add("own_token")
                continue
            queue.extend(gc.get_referents(item))
        for name in sorted(found):
            self.declare_resource(
                Resource(entity_type="table", databuilder_id=f"probe.{name}")
            )
"""


def test_run_reaches_only_own_values(hub, tmp_path):
    connector = tmp_path / "probe.py"
    connector.write_text(SCOPE_PROBE)
    hub("credentials", "set", str(connector), "token=tok-own-profile")
    hub("credentials", "set", str(connector), "--profile=eu", "token=tok-other-profile")
    hub(
        "credentials",
        "set",
        "cluvio",
        "email=a@example.com",
        "password=tok-other-connector",
    )

    result = hub("run", str(connector), "--output", str(tmp_path / "out"))

    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out" / "resources.jsonl").read_text().splitlines()
    found = [json.loads(line)["databuilder_id"] for line in lines]
    # Finding its own token shows that the walk reaches the credentials.
    assert found == ["probe.own_token"]
