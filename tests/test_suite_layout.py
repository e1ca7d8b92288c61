"""The test suite's own layout: shared builders live in conftest.py, defined once.

A test module imports helpers from ``conftest`` only, never from another test module, and
never defines again (with another meaning) a name that conftest defines.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def modules() -> dict[str, ast.Module]:
    return {path.name: ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(TESTS.glob("test_*.py"))}


def test_no_test_module_imports_another():
    imports = [
        (name, node.module)
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("test_")
    ] + [
        (name, alias.name)
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("test_")
    ]
    assert imports == []


def test_no_test_module_redefines_a_shared_helper():
    shared = top_level_names(ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8")))
    assert {"snapshot", "read_failures", "make_masks", "write_nifti"} <= shared
    redefined = [(name, helper) for name, tree in modules().items()
                 for helper in sorted(top_level_names(tree) & shared)]
    assert redefined == []
