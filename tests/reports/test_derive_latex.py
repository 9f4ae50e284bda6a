"""``flatminima derive --format latex``: a standalone, pure-ASCII LaTeX appendix and its reusable body.

No TeX compiler is installed, so the checks are structural: balanced braces and environments, every
registry equation present, no non-ASCII character, no unescaped special character in the text.
"""
import re

import pytest

from flatminima import theory
from flatminima.reports.cli import main
from flatminima.reports.derivations import write_derivation_report


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("derive-latex")
    paths = write_derivation_report(out, formats=("latex",))
    return out, paths


def _text(path):
    return path.read_text(encoding="ascii")      # raises on any non-ASCII byte


def _strip_math(tex: str) -> str:
    """The text parts: display environments, $…$ spans, labels, comments and macros removed."""
    tex = re.sub(r"\\begin\{(equation\*?|aligned)\}.*?\\end\{\1\}", " ", tex, flags=re.S)
    tex = re.sub(r"(?<!\\)\$.*?(?<!\\)\$", " ", tex, flags=re.S)
    tex = re.sub(r"\\label\{[^}]*\}", " ", tex)
    return re.sub(r"(?m)^%.*$", " ", tex)


def test_writes_standalone_and_body(written):
    out, paths = written
    assert [p.name for p in paths] == ["derivations.tex", "derivations-body.tex"]
    full, body = _text(paths[0]), _text(paths[1])
    assert full.startswith("\\documentclass{article}") and full.rstrip().endswith("\\end{document}")
    code = re.sub(r"(?m)^%.*$", "", full)
    assert re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", code) == ["amsmath"]
    assert body.rstrip() in full and "\\documentclass" not in body and "\\begin{document}" not in body
    assert body.count("\\section{") >= 7 and body.count("\\subsection{") >= 15


def test_pure_ascii_and_no_unknown_characters(written):
    for path in written[1]:
        tex = _text(path)
        assert not re.search(r"[^\x00-\x7f]", tex)
        assert "[U+" not in tex, re.findall(r".{40}\[U\+.{40}", tex)[:3]


def test_braces_and_environments_balance(written):
    tex = _text(written[1][0])
    depth = 0
    for m in re.finditer(r"\\\\|\\[{}]|[{}]", tex):
        if m.group(0) == "{":
            depth += 1
        elif m.group(0) == "}":
            depth -= 1
        assert depth >= 0, tex[max(0, m.start() - 80):m.start()]
    assert depth == 0
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{([^}]*)\}", tex):
        if kind == "begin":
            stack.append(env)
        else:
            assert stack and stack.pop() == env, env
    assert not stack
    for span in re.findall(r"(?<!\\)\$(.*?)(?<!\\)\$", tex, flags=re.S):   # inline math stays on one item
        assert "\\item" not in span and "\\section" not in span and span.strip()


def test_every_registry_equation_and_derivation_is_there(written):
    tex = _text(written[1][1])
    for f in theory.formulas().values():
        assert f.equation_latex in tex, f.name
        assert f"\\label{{flatminima:registry:{f.name}}}" in tex
    for section in theory.derivation_sections():
        for d in section.derivations:
            assert f"\\label{{flatminima:{d.key}}}" in tex
    labels = re.findall(r"\\label\{([^}]*)\}", tex)
    assert len(labels) == len(set(labels))
    assert tex.count("\\textit{Justification:}") > 100


def test_text_has_no_unescaped_specials(written):
    text = _strip_math(_text(written[1][1]))
    for ch in "_%&#":
        bad = [m.start() for m in re.finditer(rf"(?<!\\){re.escape(ch)}", text)]
        bad = [i for i in bad if not (ch == "&" and "tabular" in text[max(0, i - 3000):i])]  # column separators
        assert not bad, (ch, [text[max(0, i - 60):i + 20] for i in bad[:3]])
    assert not re.search(r"(?<!\\)[\^~]", re.sub(r"\\(?:textasciicircum|textasciitilde)\{\}", "", text))
    assert "e^{L/D}" not in text


def test_justification_math_is_inline_latex(written):
    tex = _text(written[1][1])
    # "multiply by e^{L/D}/D" and "∫_a^c (e^{L/D}P)′ dθ" of the 1-D Kramers derivation
    assert "$e^{L/D}/D$" in tex
    assert "$\\int_{a}^{c}(e^{L/D}P)'d\\theta" in tex
    assert "H\\\"{a}nggi--Klimontovich" in tex


def test_long_step_equations_are_broken(written):
    tex = _text(written[1][1])
    assert "\\begin{aligned}" in tex
    for block in re.findall(r"\\begin\{aligned\}(.*?)\\end\{aligned\}", tex, flags=re.S):
        assert block.count("&") >= 2 and "\\\\" in block


def test_cli_writes_latex_and_exits_0(tmp_path, capsys):
    assert main(["derive", "--format", "latex", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.split()
    assert [p.rsplit("/", 1)[-1] for p in out] == ["derivations.tex", "derivations-body.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["derivations-body.tex", "derivations.tex"]


def test_cli_comma_separated_formats(tmp_path, capsys):
    assert main(["derive", "--format", "md,latex", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["derivations-body.tex", "derivations.md",
                                                          "derivations.tex"]


@pytest.mark.parametrize("value", ["pdf", "md,docx", ",", "latex,"])
def test_cli_bad_format_is_one_line_exit_2(tmp_path, capsys, value):
    code = main(["derive", "--format", value, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    if value == "latex,":                  # a trailing comma is harmless
        assert code == 0
        return
    assert code == 2
    assert err.startswith("flatminima: error: ") and err.count("\n") == 1 and "--format" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_help_documents_the_body_file(capsys):
    assert main(["derive", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--format" in out and "derivations-body.tex" in out and "\\input" in out
