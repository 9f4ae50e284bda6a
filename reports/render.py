"""The validation report: ``report.md`` (GitHub Markdown, ``$`` math) and ``report.html`` (self-contained, MathML).

Both are rendered from a :class:`validation.suite.SuiteResult` alone, so ``flatminima report OUT`` rebuilds
them from ``OUT/result.json`` without recomputing anything. Order of both files:

1. summary table of the verdicts (check, claim, measured, predicted, tolerance, PASS/FAIL) and the line
   "k of n verdicts pass";
2. the verdict criteria (``result.criteria``);
3. the sections (``{"title", "text"}``, Markdown with ``$…$`` and ``$$…$$`` math);
4. the tables, with captions saying how the numbers were made;
5. the figures, with captions (``figures/<name>.png`` in Markdown, base64 PNG inside the HTML);
6. method and provenance (whatever ``result.provenance`` holds);
7. the laws used (``result.laws``), with a link to the derivation report that ``flatminima derive`` writes.

The HTML needs no network and no JavaScript: CSS is inline (the style of ``reports.derivations``), figures
are ``data:`` URIs and mathematics is presentation MathML, which browsers render natively. The LaTeX in
the Markdown of sections and criteria is translated by :func:`latex_to_mathml`, a small converter for the
notation the suites use (fractions, roots, scripts, Greek letters, accents, common operators); a section
may override the translation of a formula with ``section["mathml"] = {latex: mathml}``.
Output is deterministic: no timestamps, figures without version metadata.
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

from flatminima.reports.derivations import _CSS as _DERIVATION_CSS
from flatminima.reports.figures import render_figure
from flatminima.validation.suite import SuiteResult

__all__ = [
    "DERIVATIONS_HTML",
    "DERIVATIONS_MD",
    "figure_files",
    "latex_to_mathml",
    "markdown_to_html",
    "render_html",
    "render_markdown",
    "write_report",
]

REPORT_MD, REPORT_HTML, FIGURE_DIR = "report.md", "report.html", "figures"
# `flatminima derive` writes derivations/ next to the results folder by default (reports/cli.py).
DERIVATIONS_MD = "../derivations/derivations.md"
DERIVATIONS_HTML = "../derivations/derivations.html"

_CSS = _DERIVATION_CSS + """
table.verdicts td,table.verdicts th{vertical-align:top}
th{background:#f3f3f3;text-align:left;font-family:Helvetica,Arial,sans-serif}
tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.pass,td.fail,td.inconclusive{font-family:Helvetica,Arial,sans-serif;font-weight:bold;text-align:center}
td.pass{color:#1a7f37;background:#e6f4ea}td.fail{color:#fff;background:#b00020}
td.inconclusive{color:#5c4400;background:#fff4cc}
tr:nth-child(even) td.pass{background:#e6f4ea}tr:nth-child(even) td.fail{background:#b00020}
tr:nth-child(even) td.inconclusive{background:#fff4cc}
.overall{font-size:1.1rem;font-family:Helvetica,Arial,sans-serif}
caption{caption-side:top;text-align:left;color:#444;font-size:.92rem;padding:.3rem 0}
figure{margin:1.5rem 0;text-align:center}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{text-align:left;color:#444;font-size:.92rem;margin-top:.3rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:.4rem 0}
dt{font-family:Helvetica,Arial,sans-serif;font-weight:bold;color:#333}dd{margin:0;overflow-wrap:anywhere}
dd dl{margin:0}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;font-size:.85rem}
math{font-size:1.05em;font-family:"STIX Two Math","Latin Modern Math","Cambria Math",math}
"""


# =============================================================================== LaTeX -> MathML
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "ell": "ℓ",
}
_GREEK_UPPER = {"Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
                "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω"}
_IDENTIFIERS = {"infty": "∞", "partial": "∂", "nabla": "∇", "hbar": "ℏ", "emptyset": "∅"}
_OPERATORS = {
    "cdot": "·", "times": "×", "pm": "±", "mp": "∓", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "ne": "≠", "neq": "≠", "approx": "≈", "sim": "∼", "simeq": "≃", "propto": "∝", "equiv": "≡",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "Leftrightarrow": "⇔", "mapsto": "↦",
    "sum": "∑", "prod": "∏", "int": "∫", "in": "∈", "notin": "∉", "subset": "⊂", "ll": "≪", "gg": "≫",
    "mid": "∣", "vert": "|", "lvert": "|", "rvert": "|", "|": "‖", "Vert": "‖", "langle": "⟨",
    "rangle": "⟩", "ldots": "…", "cdots": "⋯", "dots": "…", "star": "⋆", "ast": "∗", "circ": "∘",
    "prime": "′", "lbrace": "{", "rbrace": "}", "{": "{", "}": "}", "%": "%", "&": "&", "#": "#",
    "setminus": "∖", "cap": "∩", "cup": "∪", "forall": "∀", "exists": "∃", "neg": "¬", "land": "∧",
    "lor": "∨", "div": "÷", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
}
_FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tan", "det", "min", "max", "lim", "sup", "inf", "arg", "tr",
              "Pr", "var", "Var", "Cov", "argmin", "argmax", "sgn", "diag"}
_SPACES = {",": "0.1667em", ":": "0.2222em", ">": "0.2222em", ";": "0.2778em", " ": "0.25em",
           "quad": "1em", "qquad": "2em", "!": None}
_ACCENTS = {"hat": "^", "widehat": "^", "bar": "¯", "overline": "¯", "tilde": "~", "widetilde": "~",
            "vec": "→", "dot": "˙", "ddot": "¨"}
_SIZERS = {"big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr",
           "displaystyle", "textstyle", "limits", "nolimits"}
_CHAR_OPERATORS = {"-": "−", "*": "∗", "'": "′"}
_TIGHT = {"/", "|", "‖"}
_TOKEN = re.compile(r"\\([A-Za-z]+)\s*|\\(.)|(\d+(?:\.\d+)?)|(\s+)|(.)", re.S)


def _x(text: str) -> str:
    return html.escape(text, quote=False)


def _mo(text: str) -> str:
    """An operator; '/' and bars get no side spacing (TeX treats them as ordinary symbols)."""
    if text in _TIGHT:
        return f'<mo lspace="0em" rspace="0em">{_x(text)}</mo>'
    return f"<mo>{_x(text)}</mo>"


class _LatexParser:
    """Recursive-descent reader of a LaTeX math string into presentation MathML (MathML Core elements)."""

    def __init__(self, latex: str):
        self.tokens = []
        for m in _TOKEN.finditer(latex):
            cmd, sym, num, space, char = m.groups()
            if space is not None:
                continue
            self.tokens.append(("cmd", cmd) if cmd else ("sym", sym) if sym is not None
                               else ("num", num) if num else ("char", char))
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def row(self, nodes: list[str]) -> str:
        return nodes[0] if len(nodes) == 1 else "<mrow>" + "".join(nodes) + "</mrow>"

    def expression(self, stop=("}",), stop_cmds=()) -> list[str]:
        nodes = []
        while True:
            kind, value = self.peek()
            if kind is None or (kind == "char" and value in stop) or (kind == "cmd" and value in stop_cmds):
                return nodes
            if kind == "char" and value in "^_":
                base = nodes.pop() if nodes else "<mrow></mrow>"
                nodes.append(self.scripts(base))
                continue
            atom = self.atom()
            if atom:
                nodes.append(atom)

    def scripts(self, base: str) -> str:
        sub = sup = None
        while self.peek()[0] == "char" and self.peek()[1] in "^_":
            which = self.take()[1]
            arg = self.argument()
            if which == "_":
                sub = arg
            else:
                sup = arg
        if sub is not None and sup is not None:
            return f"<msubsup>{base}{sub}{sup}</msubsup>"
        return f"<msub>{base}{sub}</msub>" if sub is not None else f"<msup>{base}{sup}</msup>"

    def argument(self) -> str:
        """One argument: a braced group or a single token."""
        kind, value = self.peek()
        if kind == "char" and value == "{":
            self.take()
            nodes = self.expression()
            self.take()                                 # the closing brace (or the end)
            return self.row(nodes) if nodes else "<mrow></mrow>"
        if kind == "num":                               # \frac12: one digit per argument, as in TeX
            self.take()
            if len(value) > 1:
                self.tokens.insert(self.i, ("num", value[1:]))
            return f"<mn>{value[0]}</mn>"
        return self.atom() or "<mrow></mrow>"

    def raw_group(self) -> str:
        """The literal text of a braced group (for \\text and \\mathrm)."""
        if self.peek() != ("char", "{"):
            kind, value = self.take()
            return value or ""
        self.take()
        depth, parts = 1, []
        while self.i < len(self.tokens):
            kind, value = self.take()
            if kind == "char" and value == "{":
                depth += 1
            elif kind == "char" and value == "}":
                depth -= 1
                if depth == 0:
                    break
            parts.append(("\\" + value + " ") if kind == "cmd" else value)
        return "".join(parts).strip()

    def delimiter(self) -> str:
        kind, value = self.take()
        if kind == "char" and value == ".":
            return ""
        text = _OPERATORS.get(value, value) if kind in ("cmd", "sym") else (value or "")
        return f'<mo fence="true" stretchy="true">{_x(text)}</mo>'

    def atom(self) -> str:
        kind, value = self.take()
        if kind == "num":
            return f"<mn>{value}</mn>"
        if kind == "char":
            if value == "{":
                nodes = self.expression()
                self.take()
                return self.row(nodes) if nodes else ""
            if value == "}":
                return ""
            if value.isascii() and value.isalpha():
                return f"<mi>{value}</mi>"
            if value == "~":
                return '<mspace width="0.25em"></mspace>'
            cat = unicodedata.category(value)
            if cat.startswith("L"):
                return f"<mi>{_x(value)}</mi>"
            if cat.startswith("N"):
                return f"<mn>{_x(value)}</mn>"
            return _mo(_CHAR_OPERATORS.get(value, value))
        if kind == "sym":
            if value in _SPACES:
                width = _SPACES[value]
                return f'<mspace width="{width}"></mspace>' if width else ""
            if value == "\\":
                return ""
            return _mo(_OPERATORS.get(value, value))
        # a command
        if value in ("frac", "dfrac", "tfrac"):
            num, den = self.argument(), self.argument()
            return f"<mfrac>{num}{den}</mfrac>"
        if value == "sqrt":
            if self.peek() == ("char", "["):
                self.take()
                index = self.row(self.expression(stop=("]",)) or ["<mrow></mrow>"])
                self.take()
                return f"<mroot>{self.argument()}{index}</mroot>"
            return f"<msqrt>{self.argument()}</msqrt>"
        if value == "left":
            opening = self.delimiter()
            inner = self.expression(stop=(), stop_cmds=("right",))
            closing = ""
            if self.peek() == ("cmd", "right"):
                self.take()
                closing = self.delimiter()
            return "<mrow>" + opening + "".join(inner) + closing + "</mrow>"
        if value == "right":                           # unmatched \right
            return self.delimiter()
        if value in ("text", "textrm", "mbox", "textit", "textbf"):
            return f"<mtext>{_x(self.raw_group())}</mtext>"
        if value in ("mathrm", "operatorname", "rm", "mathsf", "mathtt"):
            text = self.raw_group()
            if re.fullmatch(r"[A-Za-z]+", text):
                return f'<mi mathvariant="normal">{text}</mi>' if len(text) == 1 else f"<mi>{text}</mi>"
            return self.row(_LatexParser(text).expression(stop=())) if text else ""
        if value in ("mathbf", "boldsymbol", "bm", "mathit", "mathcal", "mathbb"):
            inner = self.argument()
            return f'<mrow style="font-weight:bold">{inner}</mrow>' if value in ("mathbf", "boldsymbol", "bm") \
                else inner
        if value in _ACCENTS:
            return f'<mover accent="true">{self.argument()}<mo stretchy="false">{_ACCENTS[value]}</mo></mover>'
        if value in _SIZERS:
            return ""
        if value in _GREEK:
            return f"<mi>{_GREEK[value]}</mi>"
        if value in _GREEK_UPPER:
            return f'<mi mathvariant="normal">{_GREEK_UPPER[value]}</mi>'
        if value in _IDENTIFIERS:
            return f"<mi>{_IDENTIFIERS[value]}</mi>"
        if value in _FUNCTIONS:                         # TeX puts a thin space after \log, \exp, …
            return f'<mi>{value}</mi><mo>\u2061</mo><mspace width="0.1667em"></mspace>'
        if value in _OPERATORS:
            return _mo(_OPERATORS[value])
        if value in _SPACES:
            width = _SPACES[value]
            return f'<mspace width="{width}"></mspace>' if width else ""
        return f"<mtext>\\{_x(value)}</mtext>"           # unknown: shown verbatim, so it gets noticed


def latex_to_mathml(latex: str, *, display: bool = False) -> str:
    """A ``<math>`` element for a LaTeX formula (presentation MathML; the TeX kept as an annotation).

    Parameters
    ----------
    latex : str
        Math-mode LaTeX such as ``-\\log\\gamma = \\frac{2B\\Delta L}{\\eta H_{ae}} + c``.
    display : bool, optional
        Block (``display="block"``) instead of inline.

    Returns
    -------
    str
        ``<math>…</math>`` markup. Unknown commands appear as ``\\name`` text rather than failing.
    """
    body = _LatexParser(latex).expression(stop=())
    inner = "<mrow>" + "".join(body) + "</mrow>"
    attr = ' display="block"' if display else ""
    return (f"<math{attr}><semantics>{inner}"
            f'<annotation encoding="application/x-tex">{_x(latex)}</annotation></semantics></math>')


# ============================================================================ Markdown -> HTML
_INLINE = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$([^$\n]+?)\$|`([^`\n]+)`", re.S)
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def _math_html(latex: str, display: bool, overrides) -> str:
    latex = latex.strip()
    if overrides and latex in overrides:
        attr = ' display="block"' if display else ""
        markup = overrides[latex]
        return markup if markup.lstrip().startswith("<math") else f"<math{attr}>{markup}</math>"
    return latex_to_mathml(latex, display=display)


def _text_html(text: str) -> str:
    out = _x(text).replace("\\$", "$")
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", r"<em>\1</em>", out)

    def link(m):
        label, target = m.group(1), html.unescape(m.group(2))
        if _ABSOLUTE.match(target):                    # no network references in the report: show, do not link
            return f"{label} ({_x(target)})"
        return f'<a href="{html.escape(target, quote=True)}">{label}</a>'

    return _LINK.sub(link, out)


def _inline(text: str, overrides=None) -> str:
    """Inline Markdown to HTML: ``$math$``, ``$$math$$``, `` `code` ``, ``**bold**``, ``*em*``, relative links."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(_text_html(text[pos:m.start()]))
        display, inline, code = m.groups()
        if display is not None:
            out.append(_math_html(display, True, overrides))
        elif inline is not None:
            out.append(_math_html(inline, False, overrides))
        else:
            out.append(f"<code>{_x(code)}</code>")
        pos = m.end()
    out.append(_text_html(text[pos:]))
    return "".join(out)


def _md_table_html(lines: list[str], overrides) -> list[str]:
    def cells(line):
        return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]

    rows = [cells(line) for line in lines if not re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", line)]
    if not rows:
        return []
    out = ["<table>", "<tr>" + "".join(f"<th>{_inline(c, overrides)}</th>" for c in rows[0]) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{_inline(c, overrides)}</td>" for c in r) + "</tr>" for r in rows[1:]]
    return out + ["</table>"]


def markdown_to_html(text: str, *, mathml=None, heading_level: int = 3) -> str:
    """Block Markdown to HTML: paragraphs, lists, headings, ``$$`` display math, fenced code, pipe tables.

    Parameters
    ----------
    text : str
        The Markdown of a section or of the verdict criteria.
    mathml : dict, optional
        ``{latex: mathml}``: hand-written MathML for formulas the built-in converter should not translate.
    heading_level : int, optional
        HTML level of a ``#`` heading inside the text.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    out, para, i = [], [], 0
    list_tag, items = None, []

    def flush_para():
        if para:
            out.append("<p>" + _inline("\n".join(para), mathml) + "</p>")
            para.clear()

    def flush_list():
        nonlocal list_tag
        if list_tag:
            out.append(f"<{list_tag}>" + "".join(f"<li>{_inline(it, mathml)}</li>" for it in items)
                       + f"</{list_tag}>")
            items.clear()
            list_tag = None

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        bullet = re.match(r"^\s*[-*+]\s+(.*)$", line)
        number = re.match(r"^\s*\d+[.)]\s+(.*)$", line)
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if stripped.startswith("$$") and not (len(stripped) > 4 and stripped.endswith("$$")):
            flush_para(), flush_list()
            block, i = [stripped[2:]], i + 1
            while i < len(lines) and not lines[i].strip().endswith("$$"):
                block.append(lines[i])
                i += 1
            if i < len(lines):
                block.append(lines[i].strip()[:-2])
            out.append(_math_html("\n".join(block), True, mathml))
        elif stripped.startswith("$$") and stripped.endswith("$$") and len(stripped) > 4 \
                and "$$" not in stripped[2:-2]:
            flush_para(), flush_list()
            out.append(_math_html(stripped[2:-2], True, mathml))
        elif stripped.startswith("```"):
            flush_para(), flush_list()
            block, i = [], i + 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            out.append("<pre><code>" + _x("\n".join(block)) + "</code></pre>")
        elif stripped.startswith("|"):
            flush_para(), flush_list()
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i])
                i += 1
            out += _md_table_html(block, mathml)
            continue
        elif heading:
            flush_para(), flush_list()
            level = min(6, heading_level + len(heading.group(1)) - 1)
            out.append(f"<h{level}>{_inline(heading.group(2), mathml)}</h{level}>")
        elif bullet or number:
            flush_para()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                flush_list()
                list_tag = tag
            items.append((bullet or number).group(1))
        elif not stripped:
            flush_para(), flush_list()
        elif list_tag and line[:1].isspace():           # continuation of a list item
            items[-1] += "\n" + stripped
        else:
            flush_list()
            para.append(line)
        i += 1
    flush_para(), flush_list()
    return "\n".join(out)


# ================================================================================== formatting
def _cell(value) -> str:
    """A table value as text: None (JSON for NaN/inf) as '—', floats to 4 significant digits."""
    if isinstance(value, np.generic):                  # numpy scalars of an in-memory result
        value = value.item()
    if isinstance(value, tuple):
        value = list(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"                                     # JSON stores NaN/inf as null: same text either way
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "0" if value == 0 else f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def _is_number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _anchor(text: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(p for p in keep.split("-") if p) or "section"


def figure_files(result: SuiteResult) -> list[tuple[object, str]]:
    """(figure, file name) pairs: ``<name>.png`` with unsafe characters replaced, made unique in order."""
    seen, out = set(), []
    for k, fig in enumerate(result.figures, 1):
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", fig.name).strip("-.") or f"figure-{k}"
        name, n = stem, 2
        while name.lower() in seen:
            name, n = f"{stem}-{n}", n + 1
        seen.add(name.lower())
        out.append((fig, f"{name}.png"))
    return out


def _overall(result: SuiteResult) -> tuple[int, int, str]:
    n = len(result.verdicts)
    k = sum(v.passed is True for v in result.verdicts)
    failed = sum(v.passed is False for v in result.verdicts)
    text = f"{k} of {n} verdicts pass"
    if n == 0:
        text += " (this run made no verdicts)"
    elif k == n:
        text += " — all claims hold within their tolerances"
    else:
        text += " — " + ", ".join(part for part in (f"{failed} FAIL" if failed else "",
                                                    f"{n - k - failed} INCONCLUSIVE" if n - k - failed else "") if part)
    return k, n, text + "."


_STATUS_CLASS = {"PASS": "ok", "FAIL": "bad", "INCONCLUSIVE": "unsure"}

_VERDICT_COLUMNS = ("check", "claim", "measured", "predicted", "tolerance", "outcome")

LAWS_TEXT = ("The laws are formulas of the theory registry (`theory.formulas()`); each is derived by SymPy from "
             "its assumptions in the derivation report, which `flatminima derive` writes "
             "(by default into `derivations/`, next to this results folder). The laws, conventions and checks "
             "(the labels C1–C22 of the check column) are explained in `docs/theory.md` of the flatminima "
             "repository.")


# ===================================================================================== Markdown
def _provenance_md(provenance: dict) -> list[str]:
    rows, blocks = [], []

    def walk(prefix, value):
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
            return
        scalars = isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)
        text = ", ".join(_cell(v) for v in value) if scalars else _cell(value)
        complex_list = isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)
        if complex_list or len(text) > 120:
            blocks.append((prefix, value))
        else:
            rows.append((prefix, text))

    for key, value in provenance.items():
        walk(str(key), value)
    out = []
    if rows:
        out += ["| item | value |", "|---|---|"] + [f"| {_md_cell(k)} | {_md_cell(v)} |" for k, v in rows] + [""]
    for key, value in blocks:
        out += [f"**{key}**", ""]
        keys = _flat_records(value)
        if keys:                                       # a list of flat records (e.g. task configs): a table
            out += ["| " + " | ".join(_md_cell(k) for k in keys) + " |", "|" + "---|" * len(keys)]
            out += ["| " + " | ".join(_md_cell(_cell(v.get(k))) for k in keys) + " |" for v in value] + [""]
        else:
            out += ["```json", json.dumps(value, indent=1, ensure_ascii=False), "```", ""]
    return out or ["(no provenance recorded)", ""]


def _flat_records(value) -> list[str] | None:
    """The union of keys when ``value`` is a non-empty list of dicts of scalars, else None."""
    if not (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
        return None
    if any(isinstance(x, (dict, list)) for v in value for x in v.values()):
        return None
    return list(dict.fromkeys(k for v in value for k in v))


def render_markdown(result: SuiteResult, *, figure_dir: str = FIGURE_DIR) -> str:
    """The report as GitHub-renderable Markdown (``$…$``/``$$…$$`` math, figures as relative PNG links).

    Parameters
    ----------
    result : validation.suite.SuiteResult
        What the suite produced (e.g. ``SuiteResult.load(OUT)``).
    figure_dir : str, optional
        Folder of the PNG files relative to the Markdown file (see :func:`figure_files` for their names).

    Returns
    -------
    str
    """
    _, _, overall = _overall(result)
    out = [f"# {result.title}", "",
           f"Suite `{result.suite}`, size `{result.size}`. Overall: **{result.status}**.", "",
           "## Summary of verdicts", "", f"**{overall}**", ""]
    if result.verdicts:
        out += ["| " + " | ".join(_VERDICT_COLUMNS) + " |", "|" + "---|" * len(_VERDICT_COLUMNS)]
        for v in result.verdicts:
            outcome = {"PASS": "✅ PASS", "FAIL": "❌ **FAIL**"}.get(v.status, "❔ **INCONCLUSIVE**")
            out.append("| " + " | ".join(_md_cell(c) for c in (v.check or "—", v.claim, v.measured, v.predicted,
                                                                   v.tolerance)) + f" | {outcome} |")
        out.append("")
        details = [v for v in result.verdicts if v.details]
        if details:
            out += [f"- **{v.check or v.claim}**: {' '.join(v.details.split())}" for v in details] + [""]
    out += ["## Verdict criteria", "", result.criteria.strip() or "(none stated)", ""]
    for section in result.sections:
        out += [f"## {section.get('title', '')}", "", str(section.get("text", "")).strip(), ""]
    if result.tables:
        out += ["## Tables", ""]
        for k, t in enumerate(result.tables, 1):
            out += [f"**Table {k}. {t.name}.** {' '.join(t.caption.split())}", "",
                    "| " + " | ".join(_md_cell(c) for c in t.columns) + " |", "|" + "---|" * len(t.columns)]
            out += ["| " + " | ".join(_md_cell(_cell(v)) for v in row) + " |" for row in t.rows]
            out.append("")
    if result.figures:
        out += ["## Figures", ""]
        for k, (fig, fname) in enumerate(figure_files(result), 1):
            path = f"{figure_dir.rstrip('/')}/{fname}" if figure_dir else fname
            out += [f"![{_md_cell(fig.title)}]({path})", "",
                    f"*Figure {k}. {fig.title}.* {' '.join(fig.caption.split())}".rstrip(), ""]
    out += ["## Method and provenance", ""] + _provenance_md(result.provenance)
    out += ["## Laws used", ""]
    out += [f"- `{name}`" for name in result.laws] or ["(no theory formula recorded)"]
    out += ["", LAWS_TEXT + f" See [derivations.md]({DERIVATIONS_MD}) or "
            f"[derivations.html]({DERIVATIONS_HTML}).", ""]
    return "\n".join(out) + "\n"


# ========================================================================================= HTML
def _provenance_html(value) -> str:
    if isinstance(value, dict):
        if not value:
            return "—"
        return "<dl>" + "".join(f"<dt>{_x(str(k))}</dt><dd>{_provenance_html(v)}</dd>"
                                for k, v in value.items()) + "</dl>"
    if isinstance(value, list):
        keys = _flat_records(value)
        if keys:                                       # a list of flat records (e.g. task configs): a table
            head = "<tr>" + "".join(f"<th>{_x(str(k))}</th>" for k in keys) + "</tr>"
            body = "".join("<tr>" + "".join(
                f'<td{" class=num" if _is_number(v.get(k)) else ""}>{_x(_cell(v.get(k)))}</td>' for k in keys)
                + "</tr>" for v in value)
            return f"<table>{head}{body}</table>"
        if any(isinstance(v, (dict, list)) for v in value):
            return "<pre>" + _x(json.dumps(value, indent=1, ensure_ascii=False)) + "</pre>"
        return _x(", ".join(_cell(v) for v in value)) or "—"
    return _x(_cell(value))


def _table_html(t, k: int) -> list[str]:
    numeric = [all(_is_number(row[j]) for row in t.rows if j < len(row)) for j in range(len(t.columns))]
    out = [f'<table id="table-{_anchor(t.name)}">',
           f"<caption><strong>Table {k}. {_x(t.name)}.</strong> {_inline(t.caption)}</caption>",
           "<tr>" + "".join(f"<th>{_inline(str(c))}</th>" for c in t.columns) + "</tr>"]
    for row in t.rows:
        out.append("<tr>" + "".join(
            f'<td{" class=num" if j < len(numeric) and numeric[j] else ""}>{_x(_cell(v))}</td>'
            for j, v in enumerate(row)) + "</tr>")
    return out + ["</table>"]


def render_html(result: SuiteResult, *, figure_png: dict | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS, base64 PNG figures, MathML, no scripts).

    Parameters
    ----------
    result : validation.suite.SuiteResult
    figure_png : dict, optional
        ``{file name: PNG bytes}`` as from :func:`figure_files` and :func:`reports.figures.render_figure`;
        figures missing from it are rendered here.

    Returns
    -------
    str
    """
    figure_png = figure_png or {}
    k_pass, n, overall = _overall(result)
    verdict = result.status
    section_ids = [f"sec-{_anchor(s.get('title', ''))}" for s in result.sections]
    contents = [("summary", "Summary of verdicts"), ("criteria", "Verdict criteria")]
    contents += list(zip(section_ids, (s.get("title", "") for s in result.sections)))
    contents += [("tables", "Tables")] if result.tables else []
    contents += [("figures", "Figures")] if result.figures else []
    contents += [("provenance", "Method and provenance"), ("laws", "Laws used")]

    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_x(result.title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{_x(result.title)}</h1>",
           f'<p class="meta">Suite <code>{_x(result.suite)}</code>, size <code>{_x(result.size)}</code>. Overall: '
           f'<strong class="{_STATUS_CLASS[verdict]}">{verdict}</strong>.</p>',
           "<nav><ul>" + "".join(f'<li><a href="#{a}">{_inline(t)}</a></li>' for a, t in contents) + "</ul></nav>",
           '<h2 id="summary">Summary of verdicts</h2>',
           f'<p class="overall"><strong class="{"ok" if k_pass == n else "bad"}">{_x(overall)}</strong></p>']
    if result.verdicts:
        out += ['<table class="verdicts">', "<tr>" + "".join(f"<th>{c}</th>" for c in _VERDICT_COLUMNS) + "</tr>"]
        for v in result.verdicts:
            cls = v.status.lower()
            texts = "".join(f"<td>{_inline(str(c))}</td>" for c in (v.claim, v.measured, v.predicted, v.tolerance))
            out.append(f'<tr class="{cls}-row"><td><code>{_x(v.check or "—")}</code></td>{texts}'
                       f'<td class="{cls}">{v.status}</td></tr>')
        out.append("</table>")
        details = [v for v in result.verdicts if v.details]
        if details:
            out += ["<ul>"] + [f"<li><strong>{_x(v.check or v.claim)}</strong>: {_inline(v.details)}</li>"
                               for v in details] + ["</ul>"]
    out += ['<h2 id="criteria">Verdict criteria</h2>', markdown_to_html(result.criteria or "(none stated)")]
    for anchor, section in zip(section_ids, result.sections):
        out += [f'<h2 id="{anchor}">{_inline(section.get("title", ""))}</h2>',
                markdown_to_html(str(section.get("text", "")), mathml=section.get("mathml"))]
    if result.tables:
        out.append('<h2 id="tables">Tables</h2>')
        for k, t in enumerate(result.tables, 1):
            out += _table_html(t, k)
    if result.figures:
        out.append('<h2 id="figures">Figures</h2>')
        for k, (fig, fname) in enumerate(figure_files(result), 1):
            png = figure_png.get(fname) or render_figure(fig)
            data = base64.b64encode(png).decode("ascii")
            out += [f'<figure id="fig-{_anchor(fname[:-4])}">',
                    f'<img src="data:image/png;base64,{data}" alt="{html.escape(fig.title, quote=True)}">',
                    f"<figcaption><strong>Figure {k}. {_x(fig.title)}.</strong> {_inline(fig.caption)}</figcaption>",
                    "</figure>"]
    out += ['<h2 id="provenance">Method and provenance</h2>',
            _provenance_html(result.provenance) if result.provenance else "<p>(no provenance recorded)</p>",
            '<h2 id="laws">Laws used</h2>']
    out += (["<ul>"] + [f"<li><code>{_x(name)}</code></li>" for name in result.laws] + ["</ul>"]
            if result.laws else ["<p>(no theory formula recorded)</p>"])
    out += [f"<p>{_inline(LAWS_TEXT)} See the "
            f'<a href="{DERIVATIONS_HTML}#registry">derivation report (derivations.html)</a>.</p>',
            "</body>", "</html>"]
    return "\n".join(out) + "\n"


# ======================================================================================= files
def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(out_dir, result: SuiteResult | None = None) -> list[Path]:
    """Write ``report.md``, ``report.html`` and ``figures/*.png`` into ``out_dir``; return their paths.

    Parameters
    ----------
    out_dir : str or Path
        The results folder of ``flatminima validate``/``check``.
    result : validation.suite.SuiteResult, optional
        Rendered as given; when absent it is loaded from ``out_dir/result.json`` (nothing is recomputed).

    Returns
    -------
    list of Path
        ``[report.md, report.html, figures/<name>.png, …]``.

    Raises
    ------
    FileNotFoundError
        When ``result`` is absent and ``out_dir`` holds no ``result.json``.
    ValueError
        For a figure of unknown kind or with malformed data.
    """
    out_dir = Path(out_dir)
    if result is None:
        result = SuiteResult.load(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = figure_files(result)
    pngs = {fname: render_figure(fig) for fig, fname in files}
    paths = []
    if files:
        (out_dir / FIGURE_DIR).mkdir(exist_ok=True)
        for _, fname in files:
            path = out_dir / FIGURE_DIR / fname
            _write_atomic(path, pngs[fname])
            paths.append(path)
    md_path, html_path = out_dir / REPORT_MD, out_dir / REPORT_HTML
    _write_atomic(md_path, render_markdown(result, figure_dir=FIGURE_DIR).encode("utf-8"))
    _write_atomic(html_path, render_html(result, figure_png=pngs).encode("utf-8"))
    return [md_path, html_path, *paths]
