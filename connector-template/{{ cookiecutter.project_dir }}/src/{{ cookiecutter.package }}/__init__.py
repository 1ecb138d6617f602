"""A Secoda hub connector: {{ cookiecutter.class_name }}."""

from {{ cookiecutter.package }}.connector import {{ cookiecutter.class_name }}

__all__ = ["{{ cookiecutter.class_name }}"]
