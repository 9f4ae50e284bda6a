"""The derivation report as LaTeX: a standalone document and its body for a paper's appendix (pure ASCII, amsmath)."""
from __future__ import annotations

import re

from flatminima.reports.derivations import DISCREPANCIES, INTRO, TITLE
from flatminima.reports.mathtext import inline_tex, math_nodes_tex, parse_math, tex_text

# ------------------------------------------------------------------------------------------------ LaTeX
_TEX_PASS = r"$\surd$"
_TEX_MAX_VISIBLE = 95      # a display equation longer than this (visible characters) is broken into rows


def _tex_visible(latex: str) -> int:
    """Rough printed length of LaTeX math: a macro counts as one character, braces as none."""
    s = re.sub(r"\\(?:left|right|operatorname|mathrm|frac|sqrt)\b", "", latex)
    s = re.sub(r"\\[A-Za-z]+", "x", s)
    return len(re.sub(r"[{}\s^_]", "", s))


def _tex_top_level(latex: str) -> list[int]:
    """Positions of the top-level ' + ' and ' - ' of ``latex`` (outside braces and \\left…\\right)."""
    out, depth, i = [], 0, 0
    while i < len(latex):
        if latex.startswith("\\left", i) and not latex[i + 5:i + 6].isalpha():
            depth += 1
            i += 5
            continue
        if latex.startswith("\\right", i) and not latex[i + 6:i + 7].isalpha():
            depth -= 1
            i += 6
            continue
        c = latex[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0 and latex.startswith((" + ", " - "), i) and i > 0:
            out.append(i)
        i += 1
    return out


def _tex_equation(latex: str, label: str = "") -> list[str]:
    """A numbered display equation; long ones become an ``aligned`` block broken at top-level + and −."""
    lab = f"\\label{{{label}}}" if label else ""
    body = _tex_ascii_math(latex)
    if _tex_visible(body) > _TEX_MAX_VISIBLE:
        rel = re.search(r"(?<![<>\\])(=|\\leq|\\geq|<|>|\\approx)", body)
        head, rest = (body[:rel.end()], body[rel.end():]) if rel and _tex_visible(body[:rel.start()]) < 40 \
            else ("", body)
        cuts = _tex_top_level(rest)
        if cuts and not _tex_top_level(head) and "\\begin" not in body:
            pieces, start = [], 0
            for c in cuts + [len(rest)]:
                pieces.append(rest[start:c])
                start = c
            lines, cur = [], ""
            for p in pieces:
                if cur and _tex_visible(head if not lines else "") + _tex_visible(cur + p) > _TEX_MAX_VISIBLE:
                    lines.append(cur)
                    cur = ""
                cur += p
            lines.append(cur)
            if len(lines) > 1:
                first = (head[:-len(rel.group(1))] + "&" + rel.group(1)) if head else "&"
                rows = [f"{first} {lines[0].strip()}"] + [f"&\\quad {ln.strip()}" for ln in lines[1:]]
                return ["\\begin{equation}" + lab, "\\begin{aligned}", " \\\\\n".join(rows), "\\end{aligned}",
                        "\\end{equation}"]
    return ["\\begin{equation}" + lab, body, "\\end{equation}"]


def _tex_ascii_math(latex: str) -> str:
    """SymPy's LaTeX with any non-ASCII character spelled as a macro (pdflatex reads ASCII)."""
    if latex.isascii():
        return latex
    return "".join(c if c.isascii() else " " + math_nodes_tex(parse_math(c)) + " " for c in latex)


def _tex_label(*parts: str) -> str:
    return "flatminima:" + ":".join(re.sub(r"[^A-Za-z0-9_.-]", "-", p) for p in parts)


def _tex_derivation(d) -> list[str]:
    t = inline_tex
    out = [f"\\subsection{{{t(d.title)}}}\\label{{{_tex_label(d.key)}}}", "",
           f"\\noindent\\textit{{Matches:}} {t(d.matches)}\\\\", f"\\textit{{Source:}} {t(d.source)}", ""]
    if d.assumptions:
        out += ["\\paragraph{Assumptions}", "\\begin{itemize}"]
        for a in d.assumptions:
            extra = (f" --- {t(a.justification)}" if a.justification else "") + (f" ({t(a.source)})" if a.source else "")
            out.append(f"\\item {t(a.statement)}{extra}")
            if a.latex:
                out += ["\\begin{equation*}", _tex_ascii_math(a.latex), "\\end{equation*}"]
        out += ["\\end{itemize}", ""]
    out += ["\\paragraph{Steps}", "\\begin{enumerate}"]
    for i, s in enumerate(d.steps, 1):
        out.append(f"\\item {t(s.statement)}")
        if s.latex:
            out += _tex_equation(s.latex, _tex_label(d.key, str(i)))
        src = f" \\textit{{Source:}} {t(s.source)}" if s.source else ""
        out += [f"\\textit{{Justification:}} {t(s.justification)}.{src}" if s.justification else src.strip(), ""]
    out += ["\\end{enumerate}", "", "\\paragraph{Final formula}"]
    out += _tex_equation(d.final_latex, _tex_label(d.key, "final")) + [""]
    if d.checks:
        out += ["\\paragraph{SymPy checks} (identities reduced to 0 by SymPy)", "\\begin{itemize}"]
        out += [f"\\item[{_TEX_PASS if c.passed else 'FAILED'}] {t(c.description)}" for c in d.checks]
        out += ["\\end{itemize}", ""]
    for tab in d.tables:
        out += ["\\begin{center}", f"\\textbf{{{t(tab.caption)}}}\\\\[2pt]",
                "\\begin{tabular}{" + "l" * len(tab.header) + "}", "\\hline",
                " & ".join(t(h) for h in tab.header) + " \\\\", "\\hline"]
        out += [" & ".join(t(v) for v in r) + " \\\\" for r in tab.rows]
        out += ["\\hline", "\\end{tabular}", "\\end{center}", ""]
    if d.notes:
        out += ["\\paragraph{Conventions and discrepancies}", "\\begin{itemize}"]
        out += [f"\\item {t(n)}" for n in d.notes] + ["\\end{itemize}", ""]
    return out


def render_latex_body(sections, registry) -> str:
    """The LaTeX appendix body (no preamble): ``\\input`` it into a document that loads ``amsmath``."""
    t = inline_tex
    out = ["% flatminima derivations: generated by `flatminima derive --format latex`; do not edit.",
           "% Needs only \\usepackage{amsmath}. Pure ASCII; labels are flatminima:<derivation>[:<step>].",
           f"\\section{{{t(TITLE.split(' — ')[-1].capitalize())}}}\\label{{flatminima:derivations}}", "",
           t(INTRO), "", "\\subsection{Conventions and discrepancies with the printed equations}",
           "\\begin{itemize}"]
    out += [f"\\item \\textbf{{{t(h)}.}} {t(b)}" for h, b in DISCREPANCIES] + ["\\end{itemize}", ""]
    for s in sections:
        out += [f"\\section{{{t(re.sub(r'^[0-9]+[.] ', '', s.title))}}}", "", t(s.intro), ""]
        for d in s.derivations:
            out += _tex_derivation(d)
    out += ["\\section{Formula registry}\\label{flatminima:registry}", "",
            "Every law is callable with glossary keyword arguments; rates are per unit SDE time.", ""]
    for f in registry.values():
        rec = f.to_dict()
        out += [f"\\subsection*{{\\texttt{{{tex_text(f.name)}}}}}", "",
                f"{t(f.description)} (kind: {tex_text(f.kind)}; parameters: "
                + ", ".join(f"\\texttt{{{tex_text(p)}}}" for p in f.params) + ").",
                "\\begin{equation}\\label{" + _tex_label("registry", f.name) + "}", f.equation_latex,
                "\\end{equation}"]
        conditions = [("Regime", c) for c in rec["regime"]] + [("Domain", c) for c in rec["domain"]]
        if conditions:
            out.append("\\begin{itemize}")
            out += [f"\\item {kind}: ${_tex_ascii_math(c['condition'])}$ --- {t(c['why'])}" for kind, c in conditions]
            out.append("\\end{itemize}")
        if f.convention:
            out.append(f"\\noindent Convention: {tex_text(f.convention)}.\\\\")
        out += [f"\\noindent Source: {t(f.source)}", ""]
    return "\n".join(out) + "\n"


def render_latex(sections, registry, body: str | None = None) -> str:
    """A standalone LaTeX document (``article`` + ``amsmath``) around :func:`render_latex_body`."""
    body = render_latex_body(sections, registry) if body is None else body
    return "\n".join([
        "\\documentclass{article}", "\\usepackage{amsmath}", "",
        f"\\title{{{inline_tex(TITLE)}}}", "\\date{}", "", "\\begin{document}", "\\maketitle", "",
        "\\appendix", body.rstrip("\n"), "\\end{document}"]) + "\n"
