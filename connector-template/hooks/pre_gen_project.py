"""Reject invalid answers before the template renders anything.

The rule is the hub's own (``hub.registry.template.answer_problems``), so
``hub new`` and a direct cookiecutter run accept the same answers.
"""

import sys

from hub.registry.template import answer_problems

ANSWERS = {
    "name": {{ cookiecutter.name | py_str }},
    "base_url": {{ cookiecutter.base_url | py_str }},
    "class_name": {{ cookiecutter.class_name | py_str }},
}


if __name__ == "__main__":
    problems = answer_problems(ANSWERS)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
