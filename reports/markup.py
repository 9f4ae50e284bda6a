"""Markup for the reports: LaTeX to presentation MathML, Markdown (with $ math) to HTML, table-cell text.

:func:`latex_to_mathml` is a small converter for the notation the suites use (fractions, roots, scripts,
Greek letters, accents, common operators); :func:`markdown_to_html` renders the Markdown of report sections
and criteria with it. Browsers render the MathML natively, so reports need no script and no network.
"""
from __future__ import annotations

import html
import json
import math
import re
import unicodedata

import numpy as np

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
