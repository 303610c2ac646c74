"""Docstring examples are part of the spec: run every one in edge/ and services/."""

import doctest
import importlib
import importlib.util
import pkgutil

import numpy as np
import pytest

import edge
import services

NUMPY_DEFAULT_PRINT = dict(edgeitems=3, infstr="inf", linewidth=75, nanstr="nan", precision=8, suppress=False,
                           threshold=1000, formatter=None, sign="-", floatmode="maxprec", legacy=False)
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
    # ultralytics changes numpy's global print options when imported; examples assume the defaults
    with np.printoptions(**NUMPY_DEFAULT_PRINT):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
