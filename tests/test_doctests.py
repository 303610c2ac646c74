"""Docstring examples are part of the spec: run every one in edge/ and services/."""

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import edge
import services

SKIP = ("migrations",)  # Alembic env scripts run only under alembic


def modules_with_examples():
    for package in (edge, services):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if any(part in SKIP for part in info.name.split(".")):
                continue
            origin = importlib.util.find_spec(info.name).origin
            if origin and origin.endswith(".py") and ">>>" in open(origin, encoding="utf-8").read():
                yield info.name


@pytest.mark.parametrize("name", sorted(modules_with_examples()))
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
