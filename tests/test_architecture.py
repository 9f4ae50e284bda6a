"""The dependency diamond of README.md §Layout, checked on the source text (imports are parsed, not run).

The repository's folders install as ``flatminima.theory``, ``flatminima.numerics``, ... ; the shared
``flatminima.errors`` (the input-error base class, no imports) may be used by every package.
"""
import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "numerics", "validation", "reports")
SHARED = "errors"          # flatminima.errors: imports nothing, usable everywhere
# package -> the project packages it may import
ALLOWED = {
    "theory": {SHARED},
    "numerics": {SHARED},
    "validation": {SHARED, "theory", "numerics"},
    "reports": {SHARED, "theory", "numerics", "validation"},
}
# third-party package -> the only project package allowed to import it
EXCLUSIVE = {"sympy": "theory", "autograd": "numerics", "matplotlib": "reports"}


def _imports(path: Path) -> set[str]:
    """Top-level names a file imports; ``flatminima.numerics.x`` counts as ``numerics``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()

    def add(dotted: str, imported=()):
        parts = dotted.split(".")
        if parts[0] != "flatminima":
            names.add(parts[0])
        elif len(parts) > 1:
            names.add(parts[1])
        else:                                   # from flatminima import numerics, errors
            names.update(imported)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                add(a.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            add(node.module, [a.name for a in node.names])
    return names


def _sources(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_project_imports_follow_the_diamond(package):
    for path in _sources(package):
        used = _imports(path) & {*PACKAGES, SHARED} - {package}
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


def test_the_shared_errors_module_imports_nothing_of_the_project():
    assert not _imports(ROOT / "flatminima" / "errors.py")


@pytest.mark.parametrize("folder", [*PACKAGES, "tests", "benchmarks", "flatminima"])
def test_project_code_imports_through_the_flatminima_namespace(folder):
    """``import numerics`` would load a second copy of a module (two classes, two caches) beside
    ``flatminima.numerics``, and fails outside the checkout: every import names the namespace."""
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                heads = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                heads = [node.module.split(".")[0]]
            else:
                continue
            bare = set(heads) & set(PACKAGES)
            assert not bare, f"{path.relative_to(ROOT)}:{node.lineno} imports {sorted(bare)} outside flatminima."


def test_the_distribution_installs_only_the_flatminima_namespace():
    """pyproject maps each top-level folder to flatminima.<folder>; no generic top-level package."""
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert all(p == "flatminima" or p.startswith("flatminima.") for p in setup["packages"])
    assert {f"flatminima.{p}": p for p in PACKAGES}.items() <= setup["package-dir"].items()
    on_disk = {str(p.parent.relative_to(ROOT)).replace("/", ".") for pkg in PACKAGES
               for p in (ROOT / pkg).rglob("__init__.py")}
    assert {f"flatminima.{p}" for p in on_disk} <= set(setup["packages"]), "a sub-package is not installed"


def test_the_checker_sees_a_violation(tmp_path):
    """The parser must catch every import form, or the tests above could never fail."""
    bad = tmp_path / "bad.py"
    bad.write_text("import numerics.landscape\nfrom theory.formula import Formula\nimport sympy as sp\n"
                   "from flatminima.validation import fits\nfrom flatminima import reports\n")
    assert _imports(bad) == {"numerics", "theory", "sympy", "validation", "reports"}


MAX_MODULE_LINES = 800


@pytest.mark.parametrize("package", [*PACKAGES, "flatminima"])
def test_no_module_is_longer_than_800_lines(package):
    """Small modules named for what they hold: a longer one is split (numerics/kernels, numerics/simulate)."""
    long = {str(p.relative_to(ROOT)): n for p in _sources(package)
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
