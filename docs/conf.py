"""Sphinx configuration of the flatminima documentation site (build: ``make docs``).

Why Sphinx: the docstrings are numpydoc-style already, so autodoc + numpydoc render them as they are;
Sphinx is the documentation tool that NumPy, SciPy and SymPy users know; myst-parser includes
docs/theory.md unchanged, with its $...$ math and heading anchors (README.md links
docs/theory.md#checks etc.); and the same sources build to LaTeX/PDF (``-b latex``) if ever needed.

No intersphinx: CI reaches no network except package registries, and ``make docs`` runs with -W.
Math is rendered by MathJax, loaded by the reader's browser from its default CDN (the build itself
needs no network).

Generated at build time (never stale, never committed; written under docs/_build/generated/):
the ``--help`` text of every subcommand, from ``flatminima.reports.cli.build_parser()`` (docs/cli.md);
the list of suites and sizes, from ``flatminima.validation.suites.describe()`` (docs/suites.md); and
the table of check labels C1-C22, from the headings of docs/theory.md §Checks (docs/suites.md).
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATED = HERE / "_build" / "generated"

# -- project -------------------------------------------------------------------------------------
project = "flatminima"
author = "the flatminima developers"
copyright = "the flatminima developers (MIT licence)"
try:
    from flatminima import __version__ as release
except ImportError:                      # pragma: no cover - the docs need the package installed
    release = "0.1.0"
version = release

# -- extensions ----------------------------------------------------------------------------------
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# myst: $...$ and $$...$$ math as in docs/theory.md; GitHub-style anchors for headings down to ###
# (theory.md links #checks, #c21, #the-path-parameter-s ...).
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# autodoc / autosummary / numpydoc
autodoc_member_order = "bysource"
add_module_names = False               # "run_check", not "flatminima.validation.check.run_check"
autodoc_typehints = "none"              # the numpydoc sections and signatures say it; avoids unresolved hints
autodoc_mock_imports: list[str] = []
autosummary_generate = False            # the API pages list their modules by hand (no generated stubs)
numpydoc_show_class_members = False     # autodoc :members: documents them; avoids duplicate entries
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

# -- HTML ----------------------------------------------------------------------------------------
try:
    import furo  # noqa: F401
    html_theme = "furo"
except ImportError:                      # pragma: no cover
    html_theme = "alabaster"
html_title = f"flatminima {release}"
html_static_path: list[str] = []
html_show_sourcelink = False

# -- LaTeX (``sphinx-build -b latex docs docs/_build/latex``) ------------------------------------
latex_documents = [(root_doc, "flatminima.tex", "flatminima documentation", author, "manual")]


# -- plain-text math in docstrings ---------------------------------------------------------------
# The docstrings write absolute values and determinants as in the papers, |H_be|, |det H_b|. In
# reStructuredText |name| is a substitution reference, so every "|" outside ``literals``, literal
# blocks, doctests and tables is escaped before numpydoc and docutils see the docstring.
_LITERAL_SPLIT = re.compile(r"(``.+?``)")


def _escape_pipes(lines: list[str]) -> list[str]:
    out, literal_indent = [], None
    for line in lines:
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                out.append(line)
                continue
            literal_indent = None
        if line.rstrip().endswith("::"):
            literal_indent = indent
        if "|" not in line or stripped.startswith((">>>", "...", "+-", "+=")):
            out.append(line)
            continue
        parts = _LITERAL_SPLIT.split(line)
        out.append("".join(p if i % 2 else p.replace("|", r"\|") for i, p in enumerate(parts)))
    return out


def _process_docstring(app, what, name, obj, options, lines):
    lines[:] = _escape_pipes(lines)


def setup(app):
    # before numpydoc's handler (priority 500), so numpydoc parses the escaped text
    app.connect("autodoc-process-docstring", _process_docstring, priority=100)


# -- generated pages -----------------------------------------------------------------------------
def _write(path: Path, text: str) -> None:
    """Write ``text`` only when it changed, so Sphinx does not re-read unchanged pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _cli_help() -> str:
    """The ``--help`` text of ``flatminima`` and of each subcommand, as Markdown code blocks."""
    from flatminima.reports.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"        # argparse wraps to the terminal width: fix it for the docs
    try:
        parser = build_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parts = ["## `flatminima`\n", "```text\n" + parser.format_help().rstrip() + "\n```\n"]
        for name, subparser in sub.choices.items():
            parts.append(f"## `flatminima {name}`\n")
            parts.append("```text\n" + subparser.format_help().rstrip() + "\n```\n")
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(parts)


def _suites_table() -> str:
    """``flatminima suites`` as a Markdown table: name, what it checks, sizes and run times."""
    from flatminima.validation.suites import describe

    rows = ["| suite | what it checks | sizes (`--size`) |", "|---|---|---|"]
    for name, description, sizes in describe():
        size_text = "<br>".join(f"`{size}`: {when}" for size, when in sizes.items()) or "-"
        rows.append(f"| `{name}` | {description} | {size_text} |".replace("\n", " "))
    return "\n".join(rows) + "\n"


def _checks_table() -> str:
    """C1-C22 with the bold title of each section of docs/theory.md §Checks, linked to it."""
    text = (HERE / "theory.md").read_text(encoding="utf-8")
    checks = text.split("\n## Checks", 1)[1].split("\n## ", 1)[0]
    rows = ["| check | what it states |", "|---|---|"]
    for label, body in re.findall(r"^### (C\d+)\n+(.*?)(?=^### |\Z)", checks, flags=re.S | re.M):
        title = re.match(r"\*\*(.+?)\*\*", body.strip())
        rows.append(f"| [{label}](theory.md#{label.lower()}) | {title.group(1) if title else ''} |")
    return "\n".join(rows) + "\n"


_write(GENERATED / "cli_help.md", _cli_help())
_write(GENERATED / "suites_table.md", _suites_table())
_write(GENERATED / "checks_table.md", _checks_table())
