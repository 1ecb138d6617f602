"""Error text made safe to store and print: hub.messages and describe_failure."""

import pytest

from hub.errors import AuthenticationError
from hub.messages import (
    MAX_MESSAGE_CHARS,
    cap,
    describe_exception,
    escape_controls,
    one_line,
    safe_message,
)
from hub.runner import describe_failure


class NoStr(Exception):
    def __str__(self):
        raise RuntimeError("no message")


class NoStrNoRepr(NoStr):
    def __repr__(self):
        raise RuntimeError("no repr")


class NotAString(Exception):
    def __str__(self):
        return 42


class BadCode:
    def __repr__(self):
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ValueError("bad value"), "ValueError: bad value"),
        (ValueError(), "ValueError"),
        (NoStr("x"), "NoStr: NoStr('x') (str() of the exception failed)"),
        (
            NoStrNoRepr("x"),
            "NoStrNoRepr: <repr() failed too> (str() of the exception failed)",
        ),
        (NotAString(), "NotAString: NotAString() (str() of the exception failed)"),
    ],
    ids=["message", "empty", "no-str", "no-repr", "str-not-string"],
)
def test_describe_exception(error, expected):
    assert describe_exception(error) == expected


class NoStrAuthentication(AuthenticationError):
    def __str__(self):
        raise RuntimeError("no message")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NoStr(), "NoStr: NoStr() (str() of the exception failed)"),
        (
            NoStrAuthentication(),
            "NoStrAuthentication: NoStrAuthentication() "
            "(str() of the exception failed)",
        ),
        (SystemExit(BadCode()), "the connector called sys.exit(<a BadCode whose"),
        (AuthenticationError("rejected"), "rejected; check the stored values"),
    ],
    ids=["no-str", "integration-no-str", "exit-code-no-repr", "sign-in"],
)
def test_describe_failure_never_raises(error, expected):
    assert describe_failure(error, "hub credentials set x").startswith(expected)


def test_escape_controls_keeps_lines():
    assert escape_controls("a\rb\x1b[2Jc\x00\x7f\x85\nd\te") == (
        "a\\rb\\x1b[2Jc\\x00\\x7f\\x85\nd\te"
    )


def test_one_line_joins_lines():
    assert one_line("first\n\n\tsecond\rthird") == "first second\\rthird"


def test_cap_keeps_short_text():
    text = "x" * MAX_MESSAGE_CHARS

    assert cap(text) is text


def test_cap_says_how_much_was_cut():
    capped = cap("x" * 10_000, limit=100)

    assert capped == "x" * 44 + "... [9,956 more characters cut]"
    assert len(capped) <= 100


def test_cap_twice_changes_nothing():
    capped = cap("x" * 1_000_000)

    assert len(capped) <= MAX_MESSAGE_CHARS
    assert cap(capped) == capped


def test_safe_message_escapes_then_caps():
    message = safe_message("\r" * 5000)

    assert message.startswith("\\r\\r")
    assert message.endswith("more characters cut]")
    assert len(message) <= MAX_MESSAGE_CHARS
