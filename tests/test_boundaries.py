"""Package boundaries: central never imports edge; edge shares only the contract with central.

Checked statically over the source (every ``import``/``from`` statement, including ones inside
functions), so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: Path) -> list[tuple[Path, str]]:
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path, module in imported_modules(ROOT / package)
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("services/central", ("edge", "anshin")),
        ("services/contract", ("edge", "anshin", "services.central")),
        ("edge", ("services.central", "anshin")),
    ],
)
def test_no_forbidden_imports(package: str, forbidden: tuple[str, ...]) -> None:
    assert _offenders(package, forbidden) == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    from edge.outbox import Outbox\n")
    assert [m for _, m in imported_modules(tmp_path)] == ["edge.outbox"]


SHARED = ROOT / "services" / "shared"


def _python_files() -> list[Path]:
    return [p for package in ("edge", "services", "anshin") for p in sorted((ROOT / package).rglob("*.py"))]


#: Names of the shared helpers, as words of a function name ("behaviour" holds "iou" but is no IoU).
HELPER_NAME = re.compile(r"(^|_)(iou|ios|nms|blur\w*|anonymi\w*)(_|$)|head_region")


def test_one_strict_base_one_iou_one_nms_one_blur():
    """The helpers in services/shared have no copies elsewhere (a copy drifts: NMS once differed by backend)."""
    copies = []
    for path in _python_files():
        if path.is_relative_to(SHARED):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and HELPER_NAME.search(node.name.lower()):
                copies.append(f"{path.relative_to(ROOT)}: def {node.name}")
            if isinstance(node, ast.keyword) and node.arg == "extra" and isinstance(node.value, ast.Constant) and node.value.value == "forbid":
                copies.append(f"{path.relative_to(ROOT)}: extra='forbid' (derive from services.shared.strict.Strict)")
    assert copies == []
