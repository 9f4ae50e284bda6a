"""Display equations that fit the page: estimate a MathML equation's width and break or scale it to fit."""
from __future__ import annotations

import re

# ------------------------------------------------------------------- display equations that fit the page
# Chromium's MathML has no automatic line breaking. Display equations wider than the text column are
# broken by hand at the top-level + and − of their right-hand side into an <mtable> of left-aligned
# rows (the relation sign stays on the first row); an equation without such a break point is scaled
# down. Widths are estimated from the MathML in em (calibrated against Chromium at 16 px).

_MAX_EQ_EM = 50.0          # widest display equation kept on one line, in estimated em (the column holds ~65)
_MIN_SCALE = 0.7
_TAG = re.compile(r"<(/?)([A-Za-z]+)((?:\s+[^>]*?)?)(/?)>|([^<]+)")
_RELATIONS = {"=", "&lt;", "&gt;", "≤", "≥", "≈", "≃", "∝", "≠", "&#8804;", "&#8805;", "&#8776;", "→", "&#8594;"}
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);")
_ZERO_WIDTH = {"InvisibleTimes", "ApplyFunction", "InvisibleComma", "#x2062", "#x2061", "#8290", "#8289"}


class _El:
    __slots__ = ("tag", "attrs", "children")

    def __init__(self, tag, attrs=""):
        self.tag, self.attrs, self.children = tag, attrs, []

    def xml(self) -> str:
        inner = "".join(c if isinstance(c, str) else c.xml() for c in self.children)
        return f"<{self.tag}{self.attrs}>{inner}</{self.tag}>"

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


def _parse_mathml(mathml: str) -> _El:
    root = _El("mrow")
    stack = [root]
    for m in _TAG.finditer(mathml):
        closing, tag, attrs, empty, text = m.groups()
        if text is not None:
            stack[-1].children.append(text)
        elif closing:
            if len(stack) > 1:
                stack.pop()
        else:
            el = _El(tag, attrs or "")
            stack[-1].children.append(el)
            if not empty:
                stack.append(el)
    return root


def _glyphs(text: str) -> float:
    width = 0.0
    for m in re.finditer(r"&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);|(.)", text, re.S):
        if m.group(1) in _ZERO_WIDTH:
            continue
        width += 0.6
    return width


def _em(node) -> float:
    """Estimated width of a MathML element in em."""
    if isinstance(node, str):
        return _glyphs(node)
    tag, kids = node.tag, [c for c in node.children if not isinstance(c, str)]
    if tag in ("mi", "mn", "mtext", "ms"):
        return _glyphs(node.text()) * (0.9 if tag == "mn" else 1.0)
    if tag == "mo":
        t = node.text().strip()
        if t in _ZERO_WIDTH or _ENTITY.fullmatch(t) and _ENTITY.fullmatch(t).group(1) in _ZERO_WIDTH:
            return 0.0
        if t in ("(", ")", "[", "]", "|", "{", "}", ",", "&#x27;", "'", "′"):
            return 0.45
        return 0.6 + 0.55          # operator with its spacing
    if tag == "mfrac":
        return max((_em(k) for k in kids), default=0.0) + 0.3
    if tag in ("msup", "msub"):
        return _em(kids[0]) + 0.75 * sum(_em(k) for k in kids[1:]) if kids else 0.0
    if tag == "msubsup":
        return _em(kids[0]) + 0.75 * max(_em(k) for k in kids[1:]) if len(kids) == 3 else sum(map(_em, kids))
    if tag in ("munder", "mover", "munderover"):
        return max((_em(k) for k in kids), default=0.0)
    if tag == "msqrt":
        return sum(_em(k) for k in kids) + 1.0
    if tag == "mfenced":
        return sum(_em(k) for k in kids) + 0.9 + 0.5 * max(len(kids) - 1, 0)
    if tag == "mtable":
        return max((_em(r) for r in kids), default=0.0)
    if tag == "mspace":
        m = re.search(r'width="([0-9.]+)em"', node.attrs)
        return float(m.group(1)) if m else 0.0
    return sum(_em(k) for k in kids)


def _flatten(node: _El) -> list:
    """The children of ``node``, with single-child mrows unwrapped."""
    while len(node.children) == 1 and isinstance(node.children[0], _El) and node.children[0].tag == "mrow":
        node = node.children[0]
    return node.children


def _is_mo(el, texts) -> bool:
    return isinstance(el, _El) and el.tag == "mo" and el.text().strip() in texts


def _terms(items: list) -> list[list]:
    """Top-level summands of a row: each starts with its + or − (except the first)."""
    terms, cur = [], []
    for el in items:
        if _is_mo(el, {"+", "-", "−", "&#8722;"}) and cur:
            terms.append(cur)
            cur = []
        cur.append(el)
    if cur:
        terms.append(cur)
    return terms


def _xml(items) -> str:
    return "".join(c if isinstance(c, str) else c.xml() for c in items)


def fit_display_math(mathml: str, max_em: float = _MAX_EQ_EM) -> tuple[str, str]:
    """(MathML, style) for a display equation: unchanged when it fits ``max_em``, else broken into rows at
    the top-level + and − of the right-hand side, or (no break point) scaled down."""
    root = _parse_mathml(mathml)
    total = _em(root)
    if total <= max_em:
        return mathml, ""
    items = _flatten(root)
    rel = next((i for i, el in enumerate(items) if _is_mo(el, _RELATIONS)), None)
    lhs, rel_el = (items[:rel], items[rel]) if rel is not None else ([], None)
    rhs = items[rel + 1:] if rel is not None else items
    if len(rhs) == 1 and isinstance(rhs[0], _El) and rhs[0].tag == "mrow":
        rhs = _flatten(rhs[0])
    terms = _terms(rhs)
    lead = _em(_El("mrow")) + sum(_em(x) for x in lhs) + (_em(rel_el) if rel_el is not None else 0.0)
    budget = max_em - (lead if lead < max_em / 2 else 2.0)

    lines, cur, width = [], [], 0.0
    for t in terms:
        w = sum(_em(x) for x in t)
        if cur and width + w > budget:
            lines.append(cur)
            cur, width = [], 0.0
        cur += t
        width += w
    if cur:
        lines.append(cur)
    if len(lines) < 2:
        scale = max(_MIN_SCALE, max_em / total)
        return mathml, f"font-size:{100 * scale:.0f}%"
    wide_lhs = lead >= max_em / 2
    indent = '<mspace width="2em"></mspace>'
    rows = []
    if wide_lhs:                     # one column: the left side and its relation, then the rows indented
        rows.append(f"<mtr><mtd>{_xml(lhs)}{rel_el.xml() if rel_el is not None else ''}</mtd></mtr>")
        rows += [f"<mtr><mtd>{indent}{_xml(line)}</mtd></mtr>" for line in lines]
        widest = 2.0 + max(sum(_em(x) for x in line) for line in lines)
    else:                            # two columns: the left side right-aligned, the rows left-aligned
        for i, line in enumerate(lines):
            right = (rel_el.xml() if rel_el is not None else "") + _xml(line) if i == 0 else \
                '<mspace width="1em"></mspace>' + _xml(line)
            rows.append(f"<mtr><mtd>{_xml(lhs) if i == 0 else ''}</mtd><mtd>{right}</mtd></mtr>")
        widest = lead + max(sum(_em(x) for x in line) for line in lines)
    style = "" if widest <= max_em else f"font-size:{100 * max(_MIN_SCALE, max_em / widest):.0f}%"
    cls = "lines1" if wide_lhs else "lines"
    return f'<mtable class="{cls}">{"".join(rows)}</mtable>', style
