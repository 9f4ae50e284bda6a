"""Inline mathematics in prose: find the pseudo-TeX runs of a Unicode text and print them as MathML, $…$ or LaTeX.

The prose of ``theory`` (statements, justifications, checks, notes) embeds mathematics in a small pseudo-TeX
(``e^{L/D}``, ``H_ae``, ``x²``, ``√(2D)``, ``ĝ``). :func:`segments` splits a text into prose and math runs;
:func:`parse_math` turns a run into a small tree that prints as presentation MathML or LaTeX;
:func:`inline_html`, :func:`inline_md` and :func:`inline_tex` do the whole text. Used by the derivation report.
"""
from __future__ import annotations

import html
import re
import unicodedata

# ---------------------------------------------------------------------------------- inline mathematics
# The prose of ``theory`` (statements, justifications, checks, notes) is Unicode text with embedded
# mathematics in a small pseudo-TeX: Greek letters, operators, x², H⁻¹, H_ae, θ_{t+1}, e^{L/D}, √(2D), ĝ.
# ``segments`` finds the mathematical runs of such a text; ``parse_math`` turns a run into a small tree
# that is printed as presentation MathML (HTML) or as LaTeX (Markdown ``$…$`` and the LaTeX appendix).

_MATH_FUNCS = {"exp", "log", "ln", "det", "tr", "diag", "max", "min", "sin", "cos", "tanh", "cosh", "sinh",
               "Cov", "Var", "In", "clip", "mean", "sgn", "lim", "sup", "inf"}
_TEX_FUNCS = {"exp", "log", "ln", "det", "max", "min", "sin", "cos", "tanh", "cosh", "sinh", "lim", "sup", "inf"}
_ENGLISH_2 = {"in", "of", "by", "to", "is", "as", "at", "on", "or", "an", "be", "if", "so", "it", "we", "no",
              "up", "vs", "ie", "eg", "do", "us"}
_ACRONYMS = {"SDE", "SGD", "SGLD", "PNM", "WKB", "MSE", "FIM", "EMA", "MPP", "ODE", "PSD", "GTH", "AMS", "MLE",
             "MFPT", "CI", "LU", "FP", "RMS", "CLT", "PDE", "API", "CPU", "JSON", "HTML", "LR", "MAP", "MAM",
             "OU", "ICLR", "ICML", "NB"}
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_CODE_WORD = re.compile(r"(?<![\w.])[a-z][a-z0-9]+(?:_[a-z0-9]+)+")
_SUP_CHARS = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8",
              "⁹": "9", "⁻": "−", "⁺": "+", "ⁿ": "n", "ᵀ": "T", "ⁱ": "i"}
_SUB_CHARS = {"₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6", "₇": "7", "₈": "8",
              "₉": "9", "₊": "+", "₋": "−"}
_PRIMES = {"′": 1, "″": 2, "‴": 3, "⁗": 4}
_ACCENTS = {"\u0302": "hat", "\u0303": "tilde", "\u0307": "dot", "\u0308": "ddot", "\u0304": "bar"}
_ACCENT_MATHML = {"hat": "^", "tilde": "~", "dot": "˙", "ddot": "¨", "bar": "¯"}
_GREEK_TEX = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ι": r"\iota", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu",
    "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau", "υ": r"\upsilon",
    "φ": r"\varphi", "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta",
    "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi",
    "Ψ": r"\Psi", "Ω": r"\Omega", "ℓ": r"\ell", "𝒜": r"\mathcal{A}", "∂": r"\partial", "∇": r"\nabla",
    "∞": r"\infty",
}
_OPS_TEX = {
    "−": "-", "·": r"\cdot", "×": r"\times", "±": r"\pm", "≈": r"\approx", "≃": r"\simeq", "∝": r"\propto",
    "≪": r"\ll", "≫": r"\gg", "≤": r"\le", "≥": r"\ge", "≠": r"\neq", "→": r"\to", "←": r"\leftarrow",
    "↦": r"\mapsto", "⇄": r"\rightleftharpoons", "∈": r"\in", "⊥": r"\perp", "∼": r"\sim", "~": r"\sim",
    "∫": r"\int", "…": r"\dots", "|": r"\vert", "½": r"\tfrac{1}{2}", "∧": r"\wedge", "∀": r"\forall",
    "⟨": r"\langle", "⟩": r"\rangle", "%": r"\%", "#": r"\#", "&": r"\&", "{": r"\{", "}": r"\}", "$": r"\$", "\\": r"\backslash", "'": "'",
    "√": r"\surd", "✓": r"\surd", "⁄": "/", "→̃": r"\to", "–": r"\text{--}", "—": r"\text{---}",
}
_GREEK_SCRIPT = re.compile(r"(?<![\w.])([\u0370-\u03ff]_(?:\{[^}]*\}|[A-Za-z0-9]+))(?![\w(])")
_TIGHT_OPS = {"/", "|", "(", ")", "[", "]", ",", "·", "…", "'"}
_STRONG_CHARS = set("=<>≤≥≈≃∝≪≫∼±×·/∫√∇′″‴⁗∂∞→←↦⇄∈⊥≠|−+½^_…⟨⟩") | set(_SUP_CHARS) | set(_SUB_CHARS) \
    | set(_ACCENTS)


def _decompose(ch: str) -> tuple[str, str | None]:
    """A precomposed accented Latin letter (ĝ, ÿ) as (base letter, accent name), else (ch, None)."""
    d = unicodedata.normalize("NFD", ch)
    if len(d) == 2 and d[0].isascii() and d[1] in _ACCENTS:
        return d[0], _ACCENTS[d[1]]
    return ch, None


def _strip_scripts(word: str) -> str:
    """``word`` without its sub/superscript arguments (to classify the letters that remain)."""
    out, i = [], 0
    while i < len(word):
        c = word[i]
        if c in "^_" and i + 1 < len(word):
            if word[i + 1] == "{":
                depth, j = 0, i + 1
                while j < len(word):
                    depth += {"{": 1, "}": -1}.get(word[j], 0)
                    if depth == 0:
                        break
                    j += 1
                i = j + 1
            else:
                m = re.match(r"[a-z0-9]+|[A-Z][A-Z]+|[A-Z][a-z]+|.", word[i + 1:])
                i += 1 + len(m.group(0))
            out.append(" ")
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _word_kind(word: str) -> str:
    """'prose', 'strong' (certainly mathematics) or 'weak' (mathematics only next to strong words)."""
    if not word or re.search(r"(?:^|\W)(?:e\.g|i\.e|cf|etc)\.?$", word) or "§" in word or word.startswith("docs/") \
            or "://" in word or _CODE_WORD.search(word):
        return "prose"
    if all(c in "—–-.,;:!?'\"" for c in word):
        return "prose"
    body = _strip_scripts(word)
    for run in re.findall(f"[{_LATIN}]+", body):
        if run in _MATH_FUNCS or len(run) == 1:
            continue
        if run.isupper():
            if run in _ACRONYMS or len(run) >= 5:
                return "prose"
        elif sum(c.islower() for c in run) >= 3 or run.lower() in _ENGLISH_2 or not run.isascii():
            return "prose"
    if body != word or any(c in _STRONG_CHARS or (c.isalpha() and not re.match(f"[{_LATIN}]", c))
                           or _decompose(c)[1] for c in word):
        return "strong"
    return "weak"


def _balance(run: str) -> tuple[str, str, str]:
    """Split unbalanced outer brackets off a math run: (text before, math, text after)."""
    pre, post = "", ""
    for o, c in ("()", "[]"):
        while run.startswith(o) and run.count(o) > run.count(c):
            pre, run = pre + o, run[1:]
        while run.endswith(c) and run.count(c) > run.count(o):
            post, run = c + post, run[:-1]
    return pre, run, post


def _emit_run(run: str, emit) -> None:
    """Emit a run of non-prose words: math if it holds a strong word, split at unmatched brackets."""
    stack, cuts = [], []
    for i, c in enumerate(run):
        if c in "([":
            stack.append(i)
        elif c in ")]":
            if stack and run[stack[-1]] == {")": "(", "]": "["}[c]:
                stack.pop()
            else:
                cuts.append(i)
    cuts = sorted(cuts + stack)
    if cuts:
        start = 0
        for i in cuts:
            _emit_run(run[start:i], emit)
            emit(False, run[i])
            start = i + 1
        _emit_run(run[start:], emit)
        return
    words = run.split()
    if not any(_word_kind(w) == "strong" for w in words):
        emit(False, run)
        return
    lead = re.match(r"\s*(?:[aA]\s+)?['\"‘“]*", run).group(0)
    trail = re.search(r"[,;:]*['\"’”]*(?:\s+a)?\s*$", run[len(lead):]).group(0)
    emit(False, lead)
    emit(True, run[len(lead):len(run) - len(trail)])
    emit(False, trail)


def segments(text: str) -> list[tuple[bool, str]]:
    """``text`` as a list of (is_math, piece); pieces concatenate to ``text``."""
    out: list[tuple[bool, str]] = []

    def emit(is_math, piece):
        if piece:
            if out and out[-1][0] == is_math:
                out[-1] = (is_math, out[-1][1] + piece)
            else:
                out.append((is_math, piece))

    run: list[str] = []          # words and the spaces between them

    def close(tail=""):
        _emit_run("".join(run), emit)
        emit(False, tail)
        run.clear()

    for piece in re.split(r"(\s+)", text):
        if not piece:
            continue
        if piece.isspace():
            if run:
                run.append(piece)
            else:
                emit(False, piece)
            continue
        m = re.match(r"(.*?)([,;:!?]+|\.+)?$", piece, re.S)
        core, punct = m.group(1), m.group(2) or ""
        if re.search(r"(?:^|\W)(?:e\.g|i\.e)\.$", piece):
            core, punct = piece, ""
        kind = _word_kind(core)
        if kind == "prose" and "·" in core and re.search(r"[\^_]", core) and not _CODE_WORD.search(core):
            if run:                              # prefactor·e^{ΔΦ}: the scripted parts are mathematics
                space = run.pop() if run[-1].isspace() else ""
                close(space)
            for part in re.split(r"(·)", piece):
                if part and part != "·" and _word_kind(part.rstrip(",;:.")) == "strong":
                    core_part = part.rstrip(",;:.")
                    _emit_run(core_part, emit)
                    emit(False, part[len(core_part):])
                else:
                    emit(False, part)
            continue
        if kind == "prose":
            if run:
                space = run.pop() if run[-1].isspace() else ""
                close(space)
            for j, part in enumerate(_GREEK_SCRIPT.split(piece)):   # θ_1-motion, sp.simplify(γ_BR
                emit(j % 2 == 1, part)
            continue
        run.append(core)
        joined = "".join(run)
        if punct and punct != "," or punct == "," and joined.count("(") + joined.count("[") \
                <= joined.count(")") + joined.count("]"):
            close(punct)
        elif punct:
            run[-1] += punct
    if run:
        space = run.pop() if run[-1].isspace() else ""
        close(space)
    return out


# -------------------------------------------------------------------- the math tree: parse and print
# nodes: ("i", name) identifier, ("n", digits), ("o", operator), ("g", open, [nodes], close) group,
# ("sqrt", [nodes]), ("acc", node, accent), ("s", base, sub | None, sup | None), ("t", text) upright text


def _matching(s: str) -> dict[int, int]:
    pairs, stack = {}, []
    for i, c in enumerate(s):
        if c in "([{":
            stack.append(i)
        elif c in ")]}":
            want = {")": "(", "]": "[", "}": "{"}[c]
            while stack and s[stack[-1]] != want:   # an unmatched opener inside: leave it alone
                stack.pop()
            if stack:
                pairs[stack.pop()] = i
    return pairs


def parse_math(s: str) -> list:
    pairs = _matching(s)
    return _parse_seq(s, 0, len(s), pairs)


def _attach(nodes: list, sub=None, sup=None) -> None:
    base = nodes.pop() if nodes else ("o", "")
    if base[0] == "s" and ((sub is None or base[2] is None) and (sup is None or base[3] is None)):
        nodes.append(("s", base[1], base[2] if sub is None else sub, base[3] if sup is None else sup))
    else:
        nodes.append(("s", base, sub, sup))


def _script_arg(s: str, i: int, end: int, pairs: dict, kind: str) -> tuple[list, int]:
    if i < end and s[i] == "{" and i in pairs:
        return _parse_seq(s, i + 1, pairs[i], pairs), pairs[i] + 1
    rest = s[i:end]
    if kind == "_":
        m = re.match(r"[a-z0-9]+|[A-Z][A-Z]+|[A-Z][a-z]+", rest)
        if m:
            word = m.group(0)
            if word.isdigit():
                return [("n", word)], i + len(word)
            if len(word) >= 3 and word.isalpha() or word.isupper() and len(word) >= 2 \
                    or (word[0].isupper() and len(word) >= 2):
                return [("t", word)], i + len(word)
            return [("i", c) if not c.isdigit() else ("n", c) for c in word], i + len(word)
    else:
        m = re.match(r"[0-9]+", rest)
        if m:
            return [("n", m.group(0))], i + len(m.group(0))
    if rest.startswith("√"):
        inner, j = _one_atom(s, i + 1, end, pairs)
        return [("sqrt", inner)], j
    if rest.startswith(("−", "-")) and len(rest) > 1:      # ^−α
        inner, j = _one_atom(s, i + 1, end, pairs)
        return [("o", "−")] + inner, j
    return _one_atom(s, i, end, pairs)


def _one_atom(s: str, i: int, end: int, pairs: dict) -> tuple[list, int]:
    nodes = _parse_seq(s, i, end, pairs, limit=1)
    return nodes, _parse_seq.last


def _parse_seq(s: str, i: int, end: int, pairs: dict, limit: int | None = None) -> list:
    nodes: list = []
    while i < end:
        if limit is not None and len(nodes) >= limit and not (s[i] in "^_′″‴" or s[i] in _SUP_CHARS
                                                               or s[i] in _SUB_CHARS or s[i] in _ACCENTS):
            break
        c = s[i]
        if c.isspace():
            if limit is not None and nodes:
                break
            i += 1
            continue
        if c in "([{" and i in pairs and pairs[i] < end:
            close = pairs[i]
            inner = _parse_seq(s, i + 1, close, pairs)
            nodes.append(("g", "" if c == "{" else c, inner, "" if c == "{" else s[close]))
            i = close + 1
        elif c in "^_" and i + 1 < end:
            arg, i = _script_arg(s, i + 1, end, pairs, c)
            _attach(nodes, sub=arg) if c == "_" else _attach(nodes, sup=arg)
        elif c == "√" and i + 1 < end and not s[i + 1].isspace():
            inner, i = _one_atom(s, i + 1, end, pairs)
            if inner and inner[0][0] == "g" and inner[0][1] == "(" and len(inner) == 1:
                inner = inner[0][2]
            nodes.append(("sqrt", inner))
        elif c in _SUP_CHARS or c in _SUB_CHARS:
            table = _SUP_CHARS if c in _SUP_CHARS else _SUB_CHARS
            j = i
            while j < end and s[j] in table:
                j += 1
            text = "".join(table[x] for x in s[i:j])
            arg = [("o", "−"), ("n", text[1:])] if text.startswith("−") and text[1:].isdigit() else \
                [("n", text)] if text.isdigit() else [("o", x) if x in "+−" else ("i", x) for x in text]
            _attach(nodes, sub=arg) if table is _SUB_CHARS else _attach(nodes, sup=arg)
            i = j
        elif c in _PRIMES:
            nodes.append(("o", "′" * _PRIMES[c]))
            i += 1
        elif c in _ACCENTS:
            if nodes:
                nodes.append(("acc", nodes.pop(), _ACCENTS[c]))
            i += 1
        elif c.isdigit():
            m = re.match(r"[0-9]+(?:\.[0-9]+)?", s[i:end])
            nodes.append(("n", m.group(0)))
            i += len(m.group(0))
        elif re.match(f"[{_LATIN}]", c):
            word = re.match(f"[{_LATIN}]+", s[i:end]).group(0)
            if word in _MATH_FUNCS:
                nodes.append(("i", word))
                i += len(word)
            else:
                base, accent = _decompose(c)
                nodes.append(("i", base) if accent is None else ("acc", ("i", base), accent))
                i += 1
        elif c.isalpha():
            base, accent = _decompose(c)
            nodes.append(("i", base) if accent is None else ("acc", ("i", base), accent))
            i += 1
        else:
            nodes.append(("o", c))
            i += 1
    _parse_seq.last = i
    return nodes


def math_nodes_mathml(nodes: list) -> str:
    return "".join(_node_mathml(n) for n in nodes)


def _row(nodes: list) -> str:
    inner = math_nodes_mathml(nodes)
    return inner if len(nodes) == 1 and nodes[0][0] not in ("o",) else f"<mrow>{inner}</mrow>"


def _node_mathml(n) -> str:
    kind = n[0]
    if kind == "i":
        name = html.escape(n[1])
        if len(n[1]) == 1 and (n[1].isupper() and not n[1].isascii() or n[1] in "∂∇∞"):
            return f'<mi mathvariant="normal">{name}</mi>'
        return f"<mi>{name}</mi>"
    if kind == "t":
        return f"<mi>{html.escape(n[1])}</mi>" if len(n[1]) > 1 else f'<mi mathvariant="normal">{n[1]}</mi>'
    if kind == "n":
        return f"<mn>{n[1]}</mn>"
    if kind == "o":
        if not n[1]:
            return "<mrow></mrow>"
        tight = ' lspace="0" rspace="0"' if n[1] in _TIGHT_OPS or set(n[1]) == {"′"} else ""
        return f"<mo{tight}>{html.escape(n[1])}</mo>"
    if kind == "g":
        inner = math_nodes_mathml(n[2])
        if not n[1]:
            return f"<mrow>{inner}</mrow>"
        return (f'<mrow><mo lspace="0" rspace="0">{html.escape(n[1])}</mo>{inner}'
                f'<mo lspace="0" rspace="0">{html.escape(n[3])}</mo></mrow>')
    if kind == "sqrt":
        return f"<msqrt>{math_nodes_mathml(n[1])}</msqrt>"
    if kind == "acc":
        return f'<mover accent="true">{_node_mathml(n[1])}<mo>{_ACCENT_MATHML[n[2]]}</mo></mover>'
    base, sub, sup = _node_mathml(n[1]), n[2], n[3]
    if sub is not None and sup is not None:
        return f"<msubsup>{base}{_row(sub)}{_row(sup)}</msubsup>"
    if sub is not None:
        return f"<msub>{base}{_row(sub)}</msub>"
    return f"<msup>{base}{_row(sup)}</msup>"


def _tex_join(parts: list[str]) -> str:
    out = ""
    for p in parts:
        if p and out and re.search(r"\\[A-Za-z]+$", out) and re.match(r"[A-Za-z0-9]", p):
            out += " "
        out += p
    return out


def math_nodes_tex(nodes: list) -> str:
    return _tex_join([_node_tex(n) for n in nodes])


def _char_tex(c: str) -> str:
    if c in _GREEK_TEX:
        return _GREEK_TEX[c]
    if c in _OPS_TEX:
        return _OPS_TEX[c]
    if c.isascii():
        return c
    return _unknown(c)


def _node_tex(n) -> str:
    kind = n[0]
    if kind == "i":
        name = n[1]
        if len(name) > 1:
            return f"\\{name}" if name in _TEX_FUNCS else f"\\operatorname{{{name}}}"
        return _char_tex(name)
    if kind == "t":
        return f"\\mathrm{{{name}}}" if (name := n[1]) else ""
    if kind == "n":
        return n[1]
    if kind == "o":
        return "'" * len(n[1]) if n[1] and set(n[1]) == {"′"} else _tex_join([_char_tex(c) for c in n[1]])
    if kind == "g":
        inner = math_nodes_tex(n[2])
        if not n[1]:
            return "{" + inner + "}"
        return _char_tex(n[1]) + inner + _char_tex(n[3])
    if kind == "sqrt":
        return "\\sqrt{" + math_nodes_tex(n[1]) + "}"
    if kind == "acc":
        return f"\\{n[2]}{{{_node_tex(n[1])}}}"
    base = _node_tex(n[1])
    if n[1][0] in ("s",) or base.endswith("'") or (n[1][0] == "o" and not base.startswith("\\int")):
        base = "{" + base + "}"
    out = base
    if n[2] is not None:
        out += "_{" + math_nodes_tex(n[2]) + "}"
    if n[3] is not None:
        out += "^{" + math_nodes_tex(n[3]) + "}"
    return out


_UNKNOWN: set[str] = set()


def _unknown(c: str) -> str:
    """A character without a LaTeX spelling: recorded, printed as its code point (ASCII)."""
    _UNKNOWN.add(c)
    return f"[U+{ord(c):04X}]"


_TEXT_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0303": "~", "\u0308": '"', "\u0327": "c",
                 "\u0307": ".", "\u0304": "="}
_TEXT_TEX = {"–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "§": r"\S{}", "…": r"\dots{}",
             "\u00a0": "~", "✓": r"$\surd$", "✗": r"$\times$", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
             "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
             "\\": r"\textbackslash{}", "<": r"$<$", ">": r"$>$", "|": r"$\vert$"}


def tex_text(text: str) -> str:
    """Prose as pure-ASCII LaTeX: specials escaped, accents and symbols as macros."""
    out = []
    for c in text:
        if c in _TEXT_TEX:
            out.append(_TEXT_TEX[c])
        elif c.isascii():
            out.append(c)
        else:
            d = unicodedata.normalize("NFD", c)
            if len(d) == 2 and d[0].isascii() and d[1] in _TEXT_ACCENTS:
                acc = _TEXT_ACCENTS[d[1]]
                out.append(f"\\{acc}{{{d[0]}}}" if acc.isalpha() else f"\\{acc}{{{d[0]}}}")
            else:
                out.append("$" + math_nodes_tex(parse_math(c)) + "$")
    return "".join(out)


def inline_tex(text: str) -> str:
    """Prose with its mathematics in ``$…$`` (pure ASCII)."""
    return "".join(f"${math_nodes_tex(parse_math(p))}$" if m else tex_text(p) for m, p in segments(text))


def inline_md(text: str) -> str:
    """Prose with its mathematics in GitHub ``$…$`` spans."""
    return "".join(f"${math_nodes_tex(parse_math(p))}$" if m else p for m, p in segments(text))


def inline_html(text: str) -> str:
    """Escaped prose with its mathematics as inline presentation MathML."""
    return "".join(f"<math>{math_nodes_mathml(parse_math(p))}</math>" if m else html.escape(p, quote=True)
                   for m, p in segments(text))
