"""Every public class and function documents its parameters in numpydoc form
and has a "See Also" and a runnable "Examples" section (the doctests run with
the suite); these are what the API reference pages are built from."""

import importlib
import inspect

import pytest

MODULES = [
    "sk_rectifier",
    "sk_rectifier.inspection",
    "sk_rectifier.datasets",
    "sk_rectifier.persistence",
    "sk_rectifier.preprocessing",
    "sk_rectifier.nn",
]


def _public(module_name):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module_name
    ]
    return [
        (f"{module_name}.{name}", getattr(module, name))
        for name in names
        if not name.isupper() and not name.startswith("__")
    ]


PUBLIC = [item for module in MODULES for item in _public(module)]


def _sections(doc):
    lines = doc.splitlines()
    return {
        lines[i].strip()
        for i in range(len(lines) - 1)
        if lines[i + 1].strip() and set(lines[i + 1].strip()) == {"-"}
    }


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_docstring_sections(name, obj):
    doc = inspect.getdoc(obj)
    assert doc, name
    sections = _sections(doc)
    assert {"See Also", "Examples"} <= sections, (name, sections)
    assert ">>> " in doc.split("Examples", 1)[1], name
    if inspect.isclass(obj) and issubclass(obj, Exception):
        return  # takes a message, as every exception does
    takes = [
        p
        for p in inspect.signature(obj).parameters
        if p not in ("self", "args", "kwargs")
    ]
    if takes:
        assert "Parameters" in sections, name


def test_every_public_module_is_listed_in_the_api_reference():
    from pathlib import Path

    api = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()
    for name, _ in PUBLIC:
        module, _, short = name.rpartition(".")
        assert f".. currentmodule:: {module}" in api, module
        assert f"\n   {short}\n" in api, name
