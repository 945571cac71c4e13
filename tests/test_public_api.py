"""The public API is small, complete, sorted and documented."""

from __future__ import annotations

import inspect

import rapport
from rapport import _errors


def test_all_is_sorted_and_names_only_real_attributes() -> None:
    assert list(rapport.__all__) == sorted(rapport.__all__)
    for name in rapport.__all__:
        assert hasattr(rapport, name), name


def own_docstring(value: object) -> str | None:
    """A class's own docstring (not one inherited from pydantic or Enum), or a function's."""
    if inspect.isclass(value):
        return vars(value).get("__doc__")
    return getattr(value, "__doc__", None)


def test_every_public_class_and_function_is_exported_and_documented() -> None:
    public = {
        name
        for name, value in vars(rapport).items()
        if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
    }
    assert public <= set(rapport.__all__)
    assert sorted(name for name in public if not own_docstring(getattr(rapport, name))) == []


def test_every_error_derives_from_rapport_error() -> None:
    errors = [
        value
        for value in vars(_errors).values()
        if inspect.isclass(value) and issubclass(value, Exception)
    ]
    assert len(errors) >= 6
    assert all(issubclass(error, rapport.RapportError) for error in errors)
    for error in errors:
        assert error.__name__ in rapport.__all__


def test_rapport_methods_are_documented_or_obvious() -> None:
    undocumented = [
        name
        for name, member in inspect.getmembers(rapport.Rapport, inspect.isfunction)
        if not name.startswith("_") and not inspect.getdoc(member)
    ]
    # Short CRUD verbs read clearly from their signatures; everything else says why.
    obvious = {
        "get_customer",
        "remove_interest",
        "add_interest",
        "add_family_member",
        "remove_family_member",
        "remove_important_date",
        "record_interaction",
        "record_interactions",
        "open_case",
        "create_promise",
        "keep_promise",
        "break_promise",
    }
    assert set(undocumented) <= obvious
