"""The dependency diamond of README.md §Layout, checked on the source text (imports are parsed, not run)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "numerics", "validation", "reports")
# package -> the project packages it may import
ALLOWED = {
    "theory": set(),
    "numerics": set(),
    "validation": {"theory", "numerics"},
    "reports": {"theory", "numerics", "validation"},
}
# third-party package -> the only project package allowed to import it
EXCLUSIVE = {"sympy": "theory", "autograd": "numerics", "matplotlib": "reports"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _sources(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_project_imports_follow_the_diamond(package):
    for path in _sources(package):
        used = _imports(path) & set(PACKAGES) - {package}
        assert used <= ALLOWED[package], f"{path.relative_to(ROOT)} imports {sorted(used - ALLOWED[package])}"


@pytest.mark.parametrize("library,owner", sorted(EXCLUSIVE.items()))
def test_heavy_libraries_live_in_one_package(library, owner):
    for package in PACKAGES:
        if package == owner:
            continue
        for path in _sources(package):
            assert library not in _imports(path), f"{path.relative_to(ROOT)} imports {library} (only {owner} may)"


def test_nothing_imports_reports():
    for package in ("theory", "numerics", "validation"):
        for path in _sources(package):
            assert "reports" not in _imports(path), f"{path.relative_to(ROOT)} imports reports"


def test_the_checker_sees_a_violation(tmp_path):
    """The parser must catch both import forms, or the tests above could never fail."""
    bad = tmp_path / "bad.py"
    bad.write_text("import numerics.landscape\nfrom theory.formula import Formula\nimport sympy as sp\n")
    assert _imports(bad) == {"numerics", "theory", "sympy"}
