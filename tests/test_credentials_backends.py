"""Each credential backend: round trips, encryption, corrupt files, keyrings.

The keyring tests use ``MemoryKeyring``, an in-memory ``keyring`` backend set
with ``keyring.set_keyring()``. It stands in for the operating system's
keyring service, because no keyring daemon runs where these tests run.
"""

import json

import keyring
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail
from keyring.errors import PasswordDeleteError

from hub.cli import cli
from hub.credentials import (
    CredentialStore,
    EnvironmentStore,
    env_name,
    load_run_credentials,
    open_backend,
)
from hub.credentials.encryption import KEY_ENV, generate_key
from hub.credentials.hosts import host_of_url, normalize_host
from hub.credentials.keyring_store import KeyringStore, is_usable
from hub.errors import ConfigurationError, CredentialStoreError
from hub.redaction import Redactor
from hub.sdk import CredentialField

ODD_VALUES = {
    "quote": 'it\'s "x"',
    "newline": "a\nb\r\nc",
    "equals": "a=b=c",
    "empty": "",
    "unicode": "pässwörd ✓ Ω",
    "backslash": "C:\\path\\n",
}


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps items in a dict, for tests only."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def file_store(tmp_path):
    return CredentialStore(tmp_path / "config" / "credentials.json")


@pytest.fixture
def keyring_store(memory_keyring, tmp_path):
    return KeyringStore(memory_keyring, tmp_path / "config" / "keyring.lock")


@pytest.fixture(params=["file", "encrypted-file", "keyring"])
def writable_store(request, tmp_path, monkeypatch):
    if request.param == "encrypted-file":
        monkeypatch.setenv(KEY_ENV, generate_key())
    if request.param == "keyring":
        return request.getfixturevalue("keyring_store")
    return CredentialStore(tmp_path / "config" / "credentials.json")


def test_odd_values_round_trip(writable_store):
    writable_store.set("odd", "default", ODD_VALUES)

    assert writable_store.get("odd", "default") == ODD_VALUES


def test_profiles_stay_apart(writable_store):
    writable_store.set("one", "default", {"token": "1111"})
    writable_store.set("one", "eu", {"token": "2222"})
    writable_store.set("two", "default", {"token": "3333"})

    assert writable_store.get("one", "default") == {"token": "1111"}
    assert writable_store.get("one", "eu") == {"token": "2222"}
    assert writable_store.all() == {
        "one": {"default": {"token": "1111"}, "eu": {"token": "2222"}},
        "two": {"default": {"token": "3333"}},
    }


def test_set_merges_fields(writable_store):
    writable_store.set("one", "default", {"email": "a@example.com"})
    writable_store.set("one", "default", {"password": "p1p1"})

    assert writable_store.get("one", "default") == {
        "email": "a@example.com",
        "password": "p1p1",
    }


def test_allowed_hosts_merge_in_order(writable_store):
    writable_store.set("one", "eu", {"token": "1111"}, ["a.example.com"])
    writable_store.set("one", "eu", {}, ["127.0.0.1:8080", "a.example.com"])

    assert writable_store.allowed_hosts("one", "eu") == [
        "a.example.com",
        "127.0.0.1:8080",
    ]
    assert writable_store.allowed_hosts("one", "default") == []
    assert "a.example.com" not in json.dumps(writable_store.get("one", "eu"))


def test_remove_drops_profile_hosts(writable_store):
    writable_store.set("one", "eu", {"token": "1111"}, ["a.example.com"])
    writable_store.set("one", "us", {"token": "2222"})

    assert writable_store.remove("one", "eu") is True
    assert writable_store.remove("one", "eu") is False
    assert writable_store.allowed_hosts("one", "eu") == []
    assert writable_store.remove("one") is True
    assert writable_store.all() == {}


def test_remove_unknown_connector(writable_store):
    assert writable_store.remove("nobody") is False


def test_encrypted_file_hides_values(file_store, monkeypatch):
    monkeypatch.setenv(KEY_ENV, generate_key())

    file_store.set("one", "default", {"token": "plain-token-9911"})

    text = file_store.path.read_text()
    assert "plain-token-9911" not in text
    assert "one" not in text
    assert set(json.loads(text)) == {"format", "encrypted"}


def test_wrong_key_is_rejected(file_store, monkeypatch):
    monkeypatch.setenv(KEY_ENV, generate_key())
    file_store.set("one", "default", {"token": "1111"})
    monkeypatch.setenv(KEY_ENV, generate_key())

    with pytest.raises(CredentialStoreError, match="cannot be decrypted"):
        file_store.get("one")


def test_encrypted_file_needs_key(file_store, monkeypatch):
    monkeypatch.setenv(KEY_ENV, generate_key())
    file_store.set("one", "default", {"token": "1111"})
    monkeypatch.delenv(KEY_ENV)

    with pytest.raises(CredentialStoreError, match=f"is encrypted; set {KEY_ENV}"):
        file_store.get("one")


def test_malformed_key_is_rejected(file_store, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "not-a-key")

    with pytest.raises(CredentialStoreError, match="is not a Fernet key") as caught:
        file_store.set("one", "default", {"token": "1111"})

    assert "not-a-key" not in str(caught.value)


def test_plain_file_encrypted_on_write(file_store, monkeypatch):
    file_store.set("one", "default", {"token": "plain-token-9911"})
    monkeypatch.setenv(KEY_ENV, generate_key())

    file_store.set("two", "default", {"token": "2222"})

    assert "plain-token-9911" not in file_store.path.read_text()
    assert file_store.get("one") == {"token": "plain-token-9911"}


def test_corrupt_file_is_not_replaced(file_store):
    file_store.set("one", "default", {"token": "1111"})
    file_store.path.write_text('{\n  "format": 1,\n  oops\n}')
    before = file_store.path.read_bytes()

    with pytest.raises(CredentialStoreError, match="line 3") as caught:
        file_store.set("two", "default", {"token": "2222"})

    assert str(file_store.path) in str(caught.value)
    assert "will not overwrite" in str(caught.value)
    assert file_store.path.read_bytes() == before


def test_corrupt_file_is_not_removed(file_store):
    file_store.set("one", "default", {"token": "1111"})
    file_store.path.write_text("[]")
    before = file_store.path.read_bytes()

    with pytest.raises(CredentialStoreError, match="invalid layout: \\$ is a list"):
        file_store.remove("one")

    assert file_store.path.read_bytes() == before


# Documents that parse as JSON but have the wrong shape, each with the JSON
# path and the problem the error must name.
MISSHAPEN_STORES = {
    "profiles-not-object": (
        {"format": 1, "connectors": {"cluvio": "x"}},
        "$.connectors.cluvio is a string, expected an object",
    ),
    "hosts-not-list": (
        {"format": 1, "allowed_hosts": {"cluvio": {"default": "127.0.0.1"}}},
        "$.allowed_hosts.cluvio.default is a string, expected a list",
    ),
    "value-not-string": (
        {"format": 1, "connectors": {"cluvio": {"default": {"password": 12345}}}},
        "$.connectors.cluvio.default.password is a number, expected a string",
    ),
    "invalid-host": (
        {"format": 1, "allowed_hosts": {"cluvio": {"eu": ["bad host!"]}}},
        "$.allowed_hosts.cluvio.eu[0]: allowed host 'bad host!' is invalid",
    ),
    "odd-key": (
        {"format": 1, "connectors": {"my conn": {"default": {"token": None}}}},
        '$.connectors["my conn"].default.token is null, expected a string',
    ),
    "no-format": ({"connectors": {}}, "$.format is missing"),
    "newer-format": ({"format": 2}, "$.format must be 1"),
    "misspelt-key": ({"format": 1, "alowed_hosts": {}}, "$.alowed_hosts is not"),
    "not-object": ([1], "$ is a list, expected an object"),
}


@pytest.mark.parametrize(
    ("document", "problem"), MISSHAPEN_STORES.values(), ids=MISSHAPEN_STORES.keys()
)
def test_misshapen_file_is_rejected(file_store, document, problem):
    file_store.path.parent.mkdir(mode=0o700)
    file_store.path.write_text(json.dumps(document))
    file_store.path.chmod(0o600)
    before = file_store.path.read_bytes()

    with pytest.raises(CredentialStoreError) as read_error:
        file_store.all()
    with pytest.raises(CredentialStoreError) as write_error:
        file_store.set("cluvio", "default", {"token": "1111"})

    message = str(read_error.value)
    assert f"credential store {file_store.path} has an invalid layout" in message
    assert problem in message
    assert "move it away and store the values again" in message
    assert "12345" not in message
    assert str(write_error.value) == message
    assert file_store.path.read_bytes() == before


def test_misshapen_encrypted_file_is_rejected(file_store, monkeypatch):
    key = generate_key()
    monkeypatch.setenv(KEY_ENV, key)
    file_store.set("cluvio", "default", {"password": "1111"})
    document = {"format": 1, "connectors": {"cluvio": {"default": {"password": 7}}}}
    token = Fernet(key.encode()).encrypt(json.dumps(document).encode()).decode()
    file_store.path.write_text(json.dumps({"format": 1, "encrypted": token}))
    before = file_store.path.read_bytes()

    with pytest.raises(CredentialStoreError) as caught:
        file_store.set("cluvio", "default", {"password": "2222"})

    message = str(caught.value)
    assert f"credential store {file_store.path} (after decryption)" in message
    assert "$.connectors.cluvio.default.password is a number" in message
    assert file_store.path.read_bytes() == before


def test_misshapen_encrypted_wrapper_is_rejected(file_store, monkeypatch):
    monkeypatch.setenv(KEY_ENV, generate_key())
    file_store.set("cluvio", "default", {"password": "1111"})
    file_store.path.write_text(json.dumps({"format": 1, "encrypted": 5}))

    with pytest.raises(CredentialStoreError, match=r"\$.encrypted is a number"):
        file_store.get("cluvio")


@pytest.mark.parametrize(
    ("user", "document", "problem"),
    [
        (
            "index",
            {"one": {"eu": {"allowed_hosts": "a.example.com"}}},
            "$.one.eu.allowed_hosts is a string, expected a list",
        ),
        ("index", {"one": ["eu"]}, "$.one is a list, expected an object"),
        ("one/eu", {"token": 1111}, "$.token is a number, expected a string"),
    ],
    ids=["index-hosts", "index-profiles", "item-value"],
)
def test_misshapen_keyring_item_is_rejected(
    keyring_store, memory_keyring, user, document, problem
):
    keyring_store.set("one", "eu", {"token": "1111"})
    memory_keyring.items[("secoda-hub", user)] = json.dumps(document)
    before = dict(memory_keyring.items)

    with pytest.raises(CredentialStoreError) as caught:
        keyring_store.set("one", "eu", {"token": "2222"})

    message = str(caught.value)
    assert f"keyring item secoda-hub/{user} has an invalid layout" in message
    assert problem in message
    assert "delete it with your keyring tool" in message.lower()
    assert memory_keyring.items == before


def test_environment_backend_lists_variables(monkeypatch):
    monkeypatch.setenv(env_name("cluvio", "eu", "password"), "from-env-1")
    monkeypatch.setenv(env_name("cluvio", "eu", "email"), "a@example.com")

    store = EnvironmentStore()

    assert store.get("cluvio", "eu") == {
        "password": "from-env-1",
        "email": "a@example.com",
    }
    assert store.all() == {
        "cluvio": {"eu": {"password": "from-env-1", "email": "a@example.com"}}
    }


def test_environment_backend_round_trip(monkeypatch):
    for field, value in ODD_VALUES.items():
        monkeypatch.setenv(env_name("odd", "default", field), value)

    assert EnvironmentStore().get("odd", "default") == ODD_VALUES


def test_environment_backend_is_read_only():
    with pytest.raises(CredentialStoreError, match="read-only"):
        EnvironmentStore().set("one", "default", {"token": "1111"})


def test_keyring_items_are_json(keyring_store, memory_keyring):
    keyring_store.set("one", "eu", {"token": "1111"}, ["a.example.com"])

    item = json.loads(memory_keyring.items[("secoda-hub", "one/eu")])
    index = json.loads(memory_keyring.items[("secoda-hub", "index")])
    assert item == {"token": "1111"}
    assert index == {"one": {"eu": {"allowed_hosts": ["a.example.com"]}}}


def test_keyring_item_deleted_elsewhere(keyring_store, memory_keyring):
    keyring_store.set("one", "eu", {"token": "1111"})
    del memory_keyring.items[("secoda-hub", "one/eu")]

    assert keyring_store.remove("one", "eu") is True
    assert keyring_store.all() == {}


def test_corrupt_keyring_item_is_named(keyring_store, memory_keyring):
    keyring_store.set("one", "eu", {"token": "1111"})
    memory_keyring.items[("secoda-hub", "one/eu")] = "{oops"

    with pytest.raises(CredentialStoreError, match="secoda-hub/one/eu"):
        keyring_store.get("one", "eu")


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), chainer.ChainerBackend()],
    ids=["fail", "empty-chainer"],
)
def test_unusable_keyrings_detected(backend, monkeypatch):
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])

    assert is_usable(backend) is False


def test_memory_keyring_is_usable(memory_keyring):
    assert is_usable(memory_keyring) is True


def test_failing_keyring_names_alternatives(monkeypatch):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(CredentialStoreError) as caught:
            open_backend("keyring")
    finally:
        keyring.set_keyring(previous)

    message = str(caught.value)
    assert "no usable system keyring" in message
    assert "--backend file" in message
    assert "SECODA_HUB_CRED__" in message


def test_backend_selected_by_environment(monkeypatch, memory_keyring):
    monkeypatch.setenv("SECODA_HUB_CREDENTIAL_BACKEND", "keyring")

    assert open_backend().name == "keyring"
    assert open_backend("file").name == "file"


def test_unknown_backend_lists_choices():
    with pytest.raises(CredentialStoreError) as caught:
        open_backend("vault")

    assert "'vault'" in str(caught.value)
    assert "env, file, keyring" in str(caught.value)


def test_run_credentials_mask_repr(file_store):
    fields = (CredentialField("email"), CredentialField("password", secret=True))
    file_store.set("one", "default", {"email": "a@x.io", "password": "hunter-77"})
    redactor = Redactor()

    values = load_run_credentials("one", "default", fields, redactor, file_store)

    assert type(values).__mro__[1] is dict
    assert values == {"email": "a@x.io", "password": "hunter-77"}
    assert "hunter-77" not in repr(values)
    assert "hunter-77" not in str(values)
    assert "hunter-77" not in f"{values}"
    assert "a@x.io" in repr(values)
    assert redactor("x hunter-77 y") == "x [redacted] y"


def test_run_credentials_exclude_hosts(file_store):
    file_store.set("one", "default", {"token": "1111"}, ["a.example.com"])

    values = load_run_credentials("one", "default", (), Redactor(), file_store)

    assert values == {"token": "1111"}


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("API.Example.com", "api.example.com"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("[::1]:9000", "[::1]:9000"),
        ("*.example.com", "*.example.com"),
        ("localhost:080", "localhost:80"),
    ],
)
def test_host_specs_normalized(spec, expected):
    assert normalize_host(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", "http://x.io", "a b", "host:0", "host:70000", "host:x", "-a.io"]
)
def test_bad_host_specs_rejected(spec):
    with pytest.raises(ConfigurationError, match="is invalid"):
        normalize_host(spec)


@pytest.mark.parametrize("spec", ["*.com", "*.io:443", "*.localhost"])
def test_top_level_wildcard_spec_rejected(spec):
    with pytest.raises(ConfigurationError, match="is too broad"):
        normalize_host(spec)


@pytest.mark.parametrize(
    "url,expected",
    [
        ("https://api.cluvio.com", "api.cluvio.com"),
        ("http://127.0.0.1:5123/api", "127.0.0.1:5123"),
        ("http://[::1]:8080", "[::1]:8080"),
    ],
)
def test_host_of_base_url(url, expected):
    assert host_of_url(url) == expected


def test_host_of_non_http_url():
    with pytest.raises(ConfigurationError, match="not an http"):
        host_of_url("ftp://files.example.com")


VALUES_CONNECTOR = f"""\
import json

from hub.sdk import CredentialField, Resource, SecodaIntegration


class Values(SecodaIntegration):
    credential_fields = tuple(
        CredentialField(name, required=False) for name in {sorted(ODD_VALUES)!r}
    )

    def extract(self):
        self.declare_resource(
            Resource(
                entity_type="table",
                databuilder_id="values.t",
                description=json.dumps(dict(self.credentials)),
            )
        )
"""


def test_keyring_commands_round_trip(memory_keyring, tmp_path, monkeypatch):
    connector = tmp_path / "values.py"
    connector.write_text(VALUES_CONNECTOR)
    output = tmp_path / "out"
    runner = CliRunner()

    stored = runner.invoke(
        cli,
        ["credentials", "set", str(connector), "--stdin", "--backend", "keyring"],
        input=json.dumps(ODD_VALUES),
    )
    show_result = runner.invoke(
        cli, ["credentials", "show", str(connector), "--backend", "keyring", "--json"]
    )
    monkeypatch.setenv("SECODA_HUB_CREDENTIAL_BACKEND", "keyring")
    run = runner.invoke(cli, ["run", str(connector), "--output", str(output)])

    assert stored.exit_code == 0, stored.output
    assert ("secoda-hub", "values/default") in memory_keyring.items
    assert show_result.exit_code == 0, show_result.output
    rows = json.loads(show_result.stdout)[0]["fields"]
    assert {row["field"]: row["value"] for row in rows} == ODD_VALUES
    assert run.exit_code == 0, run.output
    resource = json.loads((output / "resources.jsonl").read_text())
    assert json.loads(resource["description"]) == ODD_VALUES
