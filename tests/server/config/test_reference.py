"""docs/operations.md documents every setting, with the environment variable the server really reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from server.config.reference import BEGIN_MARKER, END_MARKER, env_name, field_docstrings, table, with_table
from server.config.settings import Settings, settings_from_env

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
SAMPLE_VALUES = {"database_url": "postgresql://sample@127.0.0.1/sample", "log_format": "text", "log_level": "debug"}
"""Values for settings whose parser accepts only a particular form."""


def sample_value(field: dataclasses.Field) -> str:
    """An environment value different from the field's default."""
    if field.name in SAMPLE_VALUES:
        return SAMPLE_VALUES[field.name]
    default = getattr(Settings(), field.name)
    if isinstance(default, bool):
        return "0" if default else "1"
    if isinstance(default, (int, float)):
        return str(default + 1)
    if isinstance(default, tuple):
        return "https://one.example,https://two.example"
    if isinstance(default, Path):
        return "/srv/sample"
    return "sample-value"


@pytest.mark.parametrize("field", dataclasses.fields(Settings), ids=lambda f: f.name)
def test_each_settings_environment_variable_changes_its_setting(field: dataclasses.Field):
    changed = settings_from_env({env_name(field.name): sample_value(field)})
    assert getattr(changed, field.name) != getattr(Settings(), field.name)


def test_every_setting_has_a_description():
    docs = field_docstrings()
    assert [f.name for f in dataclasses.fields(Settings) if not docs.get(f.name)] == []


def test_the_operations_document_holds_the_current_settings_table():
    document = DOCUMENT.read_text()
    assert with_table(document) == document, "run: python -m server.config.reference --write docs/operations.md"
    for field in dataclasses.fields(Settings):
        assert f"| `{env_name(field.name)}` |" in document


def test_the_table_is_replaced_between_the_markers_only():
    document = f"before\n{BEGIN_MARKER}\nstale\n{END_MARKER}\nafter\n"
    assert with_table(document) == f"before\n{BEGIN_MARKER}\n{table()}\n{END_MARKER}\nafter\n"


def test_the_table_does_not_depend_on_where_the_repository_is_cloned():
    from server.config.settings import REPO_ROOT

    assert str(REPO_ROOT) not in table()
