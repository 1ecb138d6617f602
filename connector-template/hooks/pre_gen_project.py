"""Reject invalid answers before the template renders anything."""

import re
import sys
from urllib.parse import urlsplit

NAME = {{ cookiecutter.name | py_str }}
BASE_URL = {{ cookiecutter.base_url | py_str }}
CLASS_NAME = {{ cookiecutter.class_name | py_str }}

NAME_RULE = re.compile(r"[a-z][a-z0-9_]*")


def problems() -> list[str]:
    found = []
    if not NAME_RULE.fullmatch(NAME):
        found.append(
            f"name {NAME!r} is invalid: use lower case letters, digits and "
            "underscores, starting with a letter (a valid Python identifier, "
            "e.g. acme_bi)"
        )
    parts = urlsplit(BASE_URL)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        found.append(
            f"base URL {BASE_URL!r} is invalid: give an http(s) URL with a "
            "host, e.g. https://api.example.com"
        )
    if not CLASS_NAME.isidentifier():
        found.append(f"class name {CLASS_NAME!r} is not a Python identifier")
    return found


if __name__ == "__main__":
    for problem in problems():
        print(f"error: {problem}", file=sys.stderr)
    if problems():
        sys.exit(1)
