"""Redaction of log records, tracebacks and warnings on every root handler."""

import io
import logging
import random
import warnings

import pydantic
import pytest

from hub.redaction import Redactor, active_redactor, redacting_logs, secret_forms
from hub.sdk import Resource

SECRET = 'pa"ss\nwörd-Ω-7731'


@pytest.fixture
def root_stream():
    """Attach a plain handler, of the kind the hub did not create, to the root."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous_level)
    handler.close()


def test_message_arguments_redacted(root_stream):
    with redacting_logs(Redactor([SECRET])):
        logging.getLogger("hub.test").warning("value %r and %s", SECRET, SECRET)

    text = root_stream.getvalue()
    assert "7731" not in text
    assert text.count("[redacted]") == 2


def test_traceback_redacted(root_stream):
    with redacting_logs(Redactor([SECRET])):
        try:
            raise ValueError(f"bad password {SECRET}")
        except ValueError:
            logging.getLogger("hub.test").exception("failed")

    text = root_stream.getvalue()
    assert "ValueError: bad password [redacted]" in text
    assert "7731" not in text


def test_warnings_redacted(root_stream):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        with redacting_logs(Redactor([SECRET])):
            warnings.warn(f"token {SECRET} expires soon", UserWarning, stacklevel=1)

    text = root_stream.getvalue()
    assert "token [redacted] expires soon" in text
    assert "7731" not in text


def test_filter_removed_afterwards(root_stream):
    with redacting_logs(Redactor(["plain-secret-1"])):
        pass

    logging.getLogger("hub.test").warning("plain-secret-1")

    assert "plain-secret-1" in root_stream.getvalue()


def test_active_redactor_restored():
    before = active_redactor()
    redactor = Redactor([SECRET])

    with redacting_logs(redactor):
        inside = active_redactor()

    assert inside is redactor
    assert active_redactor() is before


def test_empty_redactor_leaves_args(root_stream):
    with redacting_logs(Redactor()):
        logging.getLogger("hub.test").warning("count %d", 3)

    assert root_stream.getvalue() == "count 3\n"


def test_validation_error_hides_input():
    with pytest.raises(pydantic.ValidationError) as caught:
        Resource(databuilder_id=SECRET)

    assert "entity_type" in str(caught.value)
    assert "wörd-Ω-7731" not in str(caught.value)
    assert "input_value" not in str(caught.value)


def test_model_repr_masks_loaded_secrets():
    resource = Resource(entity_type="table", databuilder_id=f"id-{SECRET}")

    with redacting_logs(Redactor([SECRET])):
        texts = [repr(resource), str(resource)]

    for text in texts:
        assert "wörd-Ω-7731" not in text
        assert "id-[redacted]" in text
    assert "wörd-Ω-7731" in repr(resource)


@pytest.mark.parametrize(
    ("secret", "text"),
    [
        ("Slash/Space Secret", "GET http://h/a/Slash/Space%20Secret/b"),
        ("Slash/Space Secret", "GET http://h/a/Slash%2FSpace%20Secret/b"),
        ("Slash/Space Secret", "GET http://h/a/Slash%2fSpace%20Secret/b"),
        ("Slash/Space Secret", "GET http://h/q?v=Slash%2FSpace+Secret"),
        ("B64Secret Mu/Nu==", "GET http://h/q?raw=B64Secret%20Mu%2FNu%3D%3D"),
        ("B64Secret Mu/Nu==", "GET http://h/q?raw=B64Secret+Mu%2FNu%3D%3D"),
        ("B64Secret Mu/Nu==", "GET http://h/q?raw=B64Secret%20Mu/Nu%3D%3D"),
        ("B64Secret Mu/Nu==", 'body {"raw": "B64Secret Mu\\/Nu=="}'),
        (SECRET, 'body {"raw": "pa\\"ss\\nw\\u00f6rd-\\u03a9-7731"}'),
        (SECRET, "GET http://h/q?raw=pa%22ss%0Aw%C3%B6rd-%CE%A9-7731"),
    ],
    ids=[
        "path-default-safe",
        "path-safe-empty",
        "path-lower-hex",
        "query-plus",
        "query-safe-empty",
        "query-plus-slash",
        "query-default-safe",
        "json-escaped-slash",
        "json-ascii",
        "utf8-percent",
    ],
)
def test_encoded_secret_redacted(secret, text):
    redacted = Redactor([secret])(text)

    assert "[redacted]" in redacted
    assert "Secret" not in redacted
    assert "7731" not in redacted


def _longest_secret_start(needles, text):
    """The plain definition: the longest proper prefix of a needle that ends text."""
    return max(
        (
            size
            for needle in needles
            for size in range(1, len(needle))
            if text.endswith(needle[:size])
        ),
        default=0,
    )


def test_unfinished_secret_matches_definition():
    secrets = ["abab-abac-9911", "aaaaaaaa", "x/y?z=1&w"]
    redactor = Redactor(secrets)
    needles = [form for secret in secrets for form in secret_forms(secret)]
    rng = random.Random(7)
    alphabet = "abcxyz9-/?=&%2F"

    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        if rng.random() < 0.5:
            needle = rng.choice(needles)
            text += needle[: rng.randint(1, len(needle) - 1)]
        assert redactor.unfinished_secret(text) == _longest_secret_start(needles, text)
