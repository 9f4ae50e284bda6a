"""The README as a front page and CITATION.cff: links resolve, the tour's commands parse, the citation is valid."""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from flatminima.reports.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


DOC_PAGES = sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs" / "tutorials").glob("*.md"))


def _commands(text: str) -> list[str]:
    """The `flatminima ...` lines of a Markdown text's code blocks, comments stripped."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("flatminima ")]


def _tour_commands() -> list[str]:
    return _commands(README)


def _doc_commands() -> list[tuple[str, str]]:
    return [(p.relative_to(ROOT).as_posix(), c) for p in DOC_PAGES for c in _commands(p.read_text(encoding="utf-8"))]


def test_readme_links_point_to_files_that_exist():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    assert targets, "the README links to its documentation"
    missing = [t for t in targets if not t.startswith("http") and not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_readme_names_only_files_that_exist():
    # Backticked paths such as `examples/tilted_wells.py` or `benchmarks/RESULTS.md`.
    named = re.findall(r"`((?:docs|examples|benchmarks|results)/[\w./-]+)`", README)
    missing = [p for p in named if not p.startswith(("results/", "docs/_build")) and not (ROOT / p).exists()]
    assert not missing, f"README names missing files: {missing}"


@pytest.mark.parametrize("command", _tour_commands())
def test_readme_tour_command_parses(command):
    """Each command of the tour is accepted by the current command line (argument parsing only)."""
    argv = shlex.split(command)[1:]
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]


@pytest.mark.parametrize("page,command", _doc_commands())
def test_documented_command_parses(page, command):
    """Each `flatminima ...` command shown in the documentation's code blocks is accepted by the command line."""
    argv = shlex.split(command)[1:]
    assert build_parser().parse_args(argv).command == argv[0], page


def test_readme_tour_is_there():
    assert len(_tour_commands()) >= 8


def test_citation_file_is_valid_cff_with_the_package_version():
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "license"):
        assert cff[key], key
    assert str(cff["version"]) == version
    paper = cff["preferred-citation"]
    assert paper["year"] == 2021
    assert [a["family-names"] for a in paper["authors"]] == ["Xie", "Sato", "Sugiyama"]
