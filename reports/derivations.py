"""The derivation report: ``derivations.md`` (GitHub ``$``/``$$`` math), ``derivations.html`` (MathML,
offline) and, on request, ``derivations.tex`` + ``derivations-body.tex`` (a LaTeX appendix, pure ASCII, amsmath).

Renders the derivations recorded by ``theory`` (steps, checks, notes, tables) and the formula registry.
Display mathematics arrives as plain strings produced inside ``theory`` (LaTeX by ``sympy.latex``,
presentation MathML by ``sympy.mathml(..., printer="presentation")``); the prose (statements,
justifications, checks, notes) is Unicode text with inline pseudo-TeX (``e^{L/D}``, ``H_ae``, ``x²``),
which this module turns into inline MathML, ``$…$`` Markdown math or LaTeX (see ``reports.mathtext``). It never
imports SymPy and never recomputes. The HTML is self-contained: no scripts, no stylesheets or fonts
from the network; browsers render MathML natively. Display equations too wide for the text column are
broken into rows (``fit_display_math``), so that no equation needs a scroll bar.
"""
from __future__ import annotations

import html
from pathlib import Path

from flatminima import theory
from flatminima.errors import InputError
from flatminima.reports.mathfit import fit_display_math
from flatminima.reports.mathtext import inline_html, inline_md

TITLE = "flatminima — derivations of the escape-rate laws"

INTRO = (
    "Each law below is derived by SymPy from the stated assumptions; every step records its statement, "
    "the SymPy expression, its justification and its source. 'SymPy checks' are identities that SymPy "
    "reduced to zero while the derivation ran. References 'docs/theory.md §Section' point to the theory "
    "reference of the flatminima repository, which explains each law, convention and check in words. "
    "Conventions (docs/theory.md §Conventions): dθ = −∇L dt + √(2D) dW, SDE time "
    "t = step × η, rates per unit SDE time, D = ηλH/(2B) for SGD noise with loss unit λ; |H_be| is the "
    "absolute saddle curvature along the escape direction. Equation numbers (1)–(7) are those of Xie et al. 2021 "
    "as listed in docs/theory.md §Equation numbers; the paper's own theorem numbers could not be verified "
    "(docs/theory.md §Sources and confidence)."
)

DISCREPANCIES = (
    ("The leading factor 2 in some transcriptions of Eq. (2)",
     "Some transcriptions print dθ = −∇L dt + 2[2D(θ)]^{1/2} dW. Taken literally the diffusion coefficient is 4D "
     "and every exponent ΔL/D would be ΔL/(4D); Eq. (6), Eq. (7) and the Euler–Maruyama match D = ηC/2 require "
     "the factor to be absent. The toolkit omits it (docs/theory.md §The SDE; section 3, 'SGD as an SDE')."),
    ("The prefactor convention of Eq. (7)",
     "With position-dependent D the Kramers prefactor depends on the stochastic-calculus convention: Itô 2π/H_ae, "
     "Stratonovich 2π/√(H_ae|H_be|), Hänggi–Klimontovich 2π/|H_be|. The paper's 2π/|H_be| is the "
     "Hänggi–Klimontovich case although the paper writes the Itô Fokker–Planck equation; discrete SGD is Itô. "
     "Slopes are unaffected, absolute rates are not (docs/theory.md §Prefactor conventions; section 3)."),
    ("C ∝ |H(θ)| everywhere is ill-posed",
     "L″ vanishes at the inflection point between minimum and saddle while L′ does not, so with D ∝ |L″| the "
     "quasi-potential ∫L′/D diverges logarithmically; floored at δ, the implied s leaves [0, 1] "
     "(docs/theory.md table T5). The s-interpolation of Eq. (7) is a two-region model "
     "(docs/theory.md §Ill-posed Hessian noise; section 3)."),
    ("|det H_b| in Eq. (6)",
     "For an index-1 saddle det H_b < 0; the printed √(−det H_b/det H_a) equals √(|det H_b|/det H_a), which the "
     "toolkit uses throughout (docs/theory.md §Eyring-Kramers law; section 2)."),
)


def _anchor(text: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(p for p in keep.split("-") if p)


# ---------------------------------------------------------------------------------------------- Markdown
def _md_math(latex: str) -> list[str]:
    return ["", "$$", latex, "$$", ""] if latex else []


def _md_derivation(d) -> list[str]:
    t = inline_md
    out = [f"### {d.title}", "", f"*Matches:* {t(d.matches)}  ", f"*Source:* {t(d.source)}", "",
           "**Assumptions**", ""]
    for a in d.assumptions:
        out.append(f"- {t(a.statement)}" + (f" — {t(a.justification)}" if a.justification else "")
                   + (f" ({t(a.source)})" if a.source else ""))
        if a.latex:
            out += ["", f"  $${a.latex}$$", ""]
    out += ["", "**Steps**", ""]
    for i, s in enumerate(d.steps, 1):
        out.append(f"{i}. {t(s.statement)}")
        out += _md_math(s.latex)
        tail = f"*Justification:* {t(s.justification)}" + (f" — *source:* {t(s.source)}" if s.source else "")
        out += [f"   {tail}", ""]
    out += ["**Final formula**"] + _md_math(d.final_latex)
    if d.checks:
        out += ["**SymPy checks** (identities reduced to 0 by SymPy)", ""]
        out += [f"- {'✓' if c.passed else '✗ FAILED'} {t(c.description)}" for c in d.checks]
        out.append("")
    for tab in d.tables:
        out += [f"**{t(tab.caption)}**", "", "| " + " | ".join(t(h) for h in tab.header) + " |",
                "|" + "---|" * len(tab.header)]
        out += ["| " + " | ".join(t(v) for v in r) + " |" for r in tab.rows]
        out.append("")
    if d.notes:
        out += ["**Conventions and discrepancies**", ""] + [f"- {t(n)}" for n in d.notes] + [""]
    return out


def render_markdown(sections, registry) -> str:
    """The Markdown report as a string (GitHub renders ``$$ … $$`` blocks)."""
    out = [f"# {TITLE}", "", inline_md(INTRO), "", "## Contents", ""]
    out += [f"- [{s.title}](#{_anchor(s.title)})" for s in sections]
    out += ["- [Conventions and discrepancies with the printed equations]"
            "(#conventions-and-discrepancies-with-the-printed-equations)",
            "- [Formula registry](#formula-registry)", ""]
    out += ["## Conventions and discrepancies with the printed equations", ""]
    out += [f"- **{inline_md(h)}.** {inline_md(body)}" for h, body in DISCREPANCIES] + [""]
    for s in sections:
        out += [f"## {s.title}", "", inline_md(s.intro), ""]
        for d in s.derivations:
            out += _md_derivation(d)
    out += ["## Formula registry", "",
            "Every law is callable with glossary keyword arguments (`theory.formulas()[name](**values)`); rates are "
            "per unit SDE time.", "", "| name | kind | parameters | source |", "|---|---|---|---|"]
    for f in registry.values():
        out.append(f"| `{f.name}` | {f.kind} | {', '.join(f'`{p}`' for p in f.params)} | {inline_md(f.source)} |")
    out.append("")
    for f in registry.values():
        out += [f"**`{f.name}`** — {inline_md(f.description)}"] + _md_math(f.equation_latex)
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
h1,h2,h3{font-family:Helvetica,Arial,sans-serif}
h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
math[display=block]{margin:.6rem 0;max-width:100%}
mtable.lines>mtr>mtd,mtable.lines1>mtr>mtd{padding:.12em 0;text-align:left}
mtable.lines>mtr>mtd:first-child{text-align:right}
.just{color:#555;font-size:.92rem}
.ok{color:#1a7f37}.bad{color:#b00020;font-weight:bold}.unsure{color:#8a6500;font-weight:bold}
table{border-collapse:collapse;margin:.6rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;font-size:.92rem}
code{font-family:Menlo,Consolas,monospace;font-size:.88rem}
.meta{color:#444;font-size:.95rem}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _m(text: str) -> str:
    """Escaped prose with its inline mathematics as MathML."""
    return inline_html(text)


def _math(mathml: str) -> str:
    """A display equation that fits the column: wide ones broken into rows (or scaled), never scrolled."""
    if not mathml:
        return ""
    fitted, style = fit_display_math(mathml)
    attr = f' style="{style}"' if style else ""
    return f'<math display="block"{attr}>{fitted}</math>'


def _html_derivation(d) -> list[str]:
    out = [f'<h3 id="{_anchor(d.key)}">{_e(d.title)}</h3>',
           f'<p class="meta"><em>Matches:</em> {_m(d.matches)}<br><em>Source:</em> {_m(d.source)}</p>',
           "<h4>Assumptions</h4>", "<ul>"]
    for a in d.assumptions:
        extra = (f" — {_m(a.justification)}" if a.justification else "") + (f" ({_m(a.source)})" if a.source else "")
        out.append(f"<li>{_m(a.statement)}{extra}{_math(a.mathml)}</li>")
    out += ["</ul>", "<h4>Steps</h4>", "<ol>"]
    for s in d.steps:
        src = f" — <em>source:</em> {_m(s.source)}" if s.source else ""
        out.append(f'<li>{_m(s.statement)}{_math(s.mathml)}'
                   f'<div class="just"><em>Justification:</em> {_m(s.justification)}{src}</div></li>')
    out += ["</ol>", "<h4>Final formula</h4>", _math(d.final_mathml)]
    if d.checks:
        out += ["<h4>SymPy checks</h4>", "<ul>"]
        for c in d.checks:
            mark = '<span class="ok">✓</span>' if c.passed else '<span class="bad">✗ FAILED</span>'
            out.append(f"<li>{mark} {_m(c.description)}</li>")
        out.append("</ul>")
    for t in d.tables:
        out += [f"<p><strong>{_m(t.caption)}</strong></p>", "<table>",
                "<tr>" + "".join(f"<th>{_m(h)}</th>" for h in t.header) + "</tr>"]
        out += ["<tr>" + "".join(f"<td>{_m(v)}</td>" for v in r) + "</tr>" for r in t.rows]
        out.append("</table>")
    if d.notes:
        out += ["<h4>Conventions and discrepancies</h4>", "<ul>"] + [f"<li>{_m(n)}</li>" for n in d.notes] + ["</ul>"]
    return out


def render_html(sections, registry) -> str:
    """The self-contained HTML report (presentation MathML, inline CSS, no scripts, no network)."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{_e(TITLE)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{_e(TITLE)}</h1>", f"<p>{_m(INTRO)}</p>", "<h2>Contents</h2>", "<ul>"]
    out += [f'<li><a href="#{_anchor(s.title)}">{_e(s.title)}</a></li>' for s in sections]
    out += ['<li><a href="#discrepancies">Conventions and discrepancies with the printed equations</a></li>',
            '<li><a href="#registry">Formula registry</a></li>', "</ul>",
            '<h2 id="discrepancies">Conventions and discrepancies with the printed equations</h2>', "<ul>"]
    out += [f"<li><strong>{_m(h)}.</strong> {_m(b)}</li>" for h, b in DISCREPANCIES] + ["</ul>"]
    for s in sections:
        out += [f'<h2 id="{_anchor(s.title)}">{_e(s.title)}</h2>', f"<p>{_m(s.intro)}</p>"]
        for d in s.derivations:
            out += _html_derivation(d)
    out += ['<h2 id="registry">Formula registry</h2>',
            "<p>Every law is callable with glossary keyword arguments; rates are per unit SDE time.</p>",
            "<table>", "<tr><th>name</th><th>kind</th><th>parameters</th><th>source</th></tr>"]
    for f in registry.values():
        out.append(f"<tr><td><code>{_e(f.name)}</code></td><td>{_e(f.kind)}</td>"
                   f"<td>{', '.join(f'<code>{_e(p)}</code>' for p in f.params)}</td><td>{_m(f.source)}</td></tr>")
    out.append("</table>")
    for f in registry.values():
        out.append(f"<p><code>{_e(f.name)}</code> — {_m(f.description)}</p>{_math(f.mathml)}")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


FORMATS = ("md", "html", "latex")
"""Output formats of :func:`write_derivation_report` (``latex`` writes two files, see there)."""


def write_derivation_report(out_dir: Path, formats=("md", "html")) -> list[Path]:
    """Write the derivation report into ``out_dir`` in ``formats`` (of ``FORMATS``); return the paths.

    ``md`` writes ``derivations.md``, ``html`` ``derivations.html``; ``latex`` writes the standalone
    document ``derivations.tex`` (``article`` + ``amsmath``; compiles with pdflatex) and its body
    ``derivations-body.tex`` (the document without preamble, title and ``\\appendix``) for ``\\input``
    into the appendix of a paper that loads ``amsmath``.
    """
    formats = tuple(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InputError(f"format must be one or more of {', '.join(FORMATS)}; got {', '.join(bad) or 'none'}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = theory.derivation_sections()
    registry = theory.formulas()
    paths = []
    if "md" in formats:
        paths.append(out_dir / "derivations.md")
        paths[-1].write_text(render_markdown(sections, registry), encoding="utf-8")
    if "html" in formats:
        paths.append(out_dir / "derivations.html")
        paths[-1].write_text(render_html(sections, registry), encoding="utf-8")
    if "latex" in formats:
        from flatminima.reports.derivations_latex import render_latex, render_latex_body
        body = render_latex_body(sections, registry)
        tex, body_path = out_dir / "derivations.tex", out_dir / "derivations-body.tex"
        tex.write_text(render_latex(sections, registry, body), encoding="ascii")
        body_path.write_text(body, encoding="ascii")
        paths += [tex, body_path]
    return paths
