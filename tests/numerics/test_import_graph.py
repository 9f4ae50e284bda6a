"""The modules of flatminima.numerics import each other without a cycle, checked on the source text.

Every import counts, also one deferred into a function: a cycle there still ties the modules together
(each needs the other to work) and breaks when the deferred import is moved to the top. Edges are the
modules an import names; the package ``__init__`` that Python runs before a submodule is not an edge
(a package re-exporting its submodules is no cycle).
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "flatminima.numerics"


def module_names(folder: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``folder`` installed as ``package``."""
    names = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join((package, *parts))] = path
    return names


def imported_modules(path: Path, name: str, modules) -> set[str]:
    """The modules of ``modules`` that the file imports, anywhere in it (functions included)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:                             # relative: from . import x, from ..a import b
                anchor = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            for a in node.names:                       # `from pkg import sub` names the submodule
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return {m for m in found if m in modules and m != name}


def import_graph(folder: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports."""
    modules = module_names(folder, package)
    return {name: imported_modules(path, name, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as [m0, m1, ..., m0], or [] when there is none (depth-first search)."""
    state = {}                                         # absent: unseen; 1: on the current path; 2: done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_numerics_has_no_import_cycle():
    graph = import_graph(ROOT / "numerics", PACKAGE)
    assert f"{PACKAGE}.kernels.driver" in graph and graph[f"{PACKAGE}.builtins"], "the parser found no modules"
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_the_core_landscape_imports_no_compiled_code():
    graph = import_graph(ROOT / "numerics", PACKAGE)
    assert not {m for m in graph[f"{PACKAGE}.landscape"] if m.startswith(f"{PACKAGE}.kernels")}


def test_the_checker_finds_a_cycle(tmp_path):
    """A cycle through a deferred, a relative and a package import is found: the test above can fail."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import os\n\n\ndef f():\n    from pkg.sub import b\n    return b\n")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub.b import g\n")
    (pkg / "sub" / "b.py").write_text("from .. import c\n\n\ndef g():\n    return c\n")
    (pkg / "c.py").write_text("from pkg import a\n")
    graph = import_graph(pkg, "pkg")
    assert graph == {"pkg": set(), "pkg.a": {"pkg.sub.b"}, "pkg.c": {"pkg.a"}, "pkg.sub": {"pkg.sub.b"},
                     "pkg.sub.b": {"pkg.c"}}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    assert find_cycle({"x": {"y"}, "y": {"z"}, "z": set()}) == []
    assert find_cycle({"x": {"x"}}) == ["x", "x"]
