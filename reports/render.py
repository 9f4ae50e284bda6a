"""The validation report: ``report.md`` (GitHub Markdown, ``$`` math) and ``report.html`` (self-contained, MathML).

Both are rendered from a :class:`validation.suite.SuiteResult` alone, so ``flatminima report OUT`` rebuilds
them from ``OUT/result.json`` without recomputing anything. Order of both files:

1. summary table of the verdicts (check, claim, measured, predicted, tolerance, PASS/FAIL) and the line
   "k of n verdicts pass";
2. the verdict criteria (``result.criteria``);
3. the sections (``{"title", "text"}``, Markdown with ``$…$`` and ``$$…$$`` math);
4. the tables, with captions saying how the numbers were made;
5. the figures, with captions (``figures/<name>.png`` in Markdown, base64 PNG inside the HTML);
6. method and provenance: a compact table of the key facts found in ``result.provenance`` (versions,
   git commit, seeds, methods, host, run time, store, task/config-hash counts), then the whole record as
   JSON in a collapsed ``<details>`` block;
7. the laws used (``result.laws``): each formula of the theory registry written out (MathML in the HTML,
   ``$$`` LaTeX in the Markdown) with its description, source, symbols and regime of validity. The
   reports link only to files they write themselves; the full derivations are written by
   ``flatminima derive``.

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
import os
import re
import tempfile
from pathlib import Path


from flatminima.reports.derivations import _CSS as _DERIVATION_CSS
from flatminima.reports.figures import render_figure
from flatminima.reports.markup import _cell, _inline, _is_number, _md_cell, _x, latex_to_mathml, markdown_to_html
from flatminima.reports.provenance import _provenance_html, _provenance_md, _walk, provenance_facts
from flatminima.validation.suite import SuiteResult

__all__ = [
    "figure_files",
    "latex_to_mathml",
    "laws_used",
    "markdown_to_html",
    "provenance_facts",
    "render_html",
    "render_markdown",
    "write_report",
]

REPORT_MD, REPORT_HTML, FIGURE_DIR = "report.md", "report.html", "figures"

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
pre{background:#f6f8fa;padding:.5rem;font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}
math{font-size:1.05em;font-family:"STIX Two Math","Latin Modern Math","Cambria Math",math}
math[display=block]{overflow:visible;max-width:100%}
table{max-width:100%}td,th{overflow-wrap:break-word}th{font-size:.85rem}
table.wide td,table.wide th{font-size:.8rem;padding:.15rem .3rem;overflow-wrap:anywhere}
table.facts th{width:12rem;white-space:nowrap;vertical-align:top}table.facts td{overflow-wrap:anywhere}
details{margin:.6rem 0}summary{cursor:pointer;font-family:Helvetica,Arial,sans-serif;color:#333}
details pre{max-height:none}
.law{margin:1rem 0 1.6rem}.law math[display=block]{font-size:1.35em}
.law math[display=block] msup>:last-child{math-style:normal}.law h3{font-size:1.02rem;margin:.2rem 0}
.law p,.law ul{margin:.25rem 0;font-size:.95rem}.law ul{padding-left:1.4rem}
"""


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

LAWS_TEXT = ("Each formula below is taken from the theory registry (`theory.formulas()`), where SymPy derives it "
             "from its stated assumptions; the command `flatminima derive` writes the complete derivations "
             "(steps, SymPy checks, conventions) as derivations.md and derivations.html. The laws, conventions "
             "and checks (the labels C1–C22 of the check column) are explained in `docs/theory.md` of the "
             "flatminima repository. Rates are per unit SDE time t = step·η.")


# =================================================================================== provenance


def _registry():
    """The theory registry, or None when it cannot be loaded (then the laws are listed by name only)."""
    try:
        from flatminima import theory

        return theory.formulas()
    except Exception:                                   # pragma: no cover - a broken theory install
        return None


def _law_record(formula) -> dict:
    """What the reports show of a registry formula: LaTeX and MathML of the equation, its parameters
    (LaTeX, MathML, meaning) and its regime conditions (LaTeX, MathML, why)."""
    from flatminima.theory.symbols import BY_SYMBOL, to_latex, to_mathml

    params = []
    for sym in formula.params.values():
        g = BY_SYMBOL[sym]
        params.append({"latex": g.latex, "mathml": to_mathml(sym), "meaning": g.meaning})
    regime = [{"latex": to_latex(c), "mathml": to_mathml(c), "why": why} for c, why in formula.regime]
    return {"name": formula.name, "description": formula.description, "source": formula.source,
            "convention": formula.convention, "latex": formula.equation_latex, "mathml": formula.mathml,
            "params": params, "regime": regime}


def laws_used(result: SuiteResult) -> list[tuple[str, dict | None]]:
    """(name, record) for every law of ``result.laws`` and every registry formula named by a ``law`` item of
    the provenance (the experiments of ``flatminima check``), in that order; the record is None for a name
    of ``result.laws`` that the registry lacks."""
    recorded = [v for _, k, v in _walk(result.provenance or {}) if k == "law" and isinstance(v, str) and v]
    if not result.laws and not recorded:
        return []
    registry = _registry()
    names = list(dict.fromkeys(list(result.laws) + [n for n in recorded if registry is not None and n in registry]))
    out = []
    for name in names:
        formula = registry.get(name) if registry is not None else None
        out.append((name, None if formula is None else _law_record(formula)))
    return out


def _laws_md(result: SuiteResult) -> list[str]:
    laws = laws_used(result)
    if not laws:
        return ["(no theory formula recorded)", "", LAWS_TEXT, ""]
    out = [LAWS_TEXT, ""]
    for name, rec in laws:
        if rec is None:
            out += [f"### `{name}`", "", "(not a formula of the theory registry)", ""]
            continue
        out += [f"### `{name}`", "", ' '.join(rec['description'].split()).rstrip(".") + ".", "",
                "$$", rec["latex"], "$$", ""]
        if rec["params"]:
            out.append("Symbols: " + "; ".join(f"${p['latex']}$ {p['meaning']}" for p in rec["params"]) + ".")
            out.append("")
        if rec["regime"]:
            out.append("Valid when: " + "; ".join(f"${r['latex']}$ ({r['why']})" for r in rec["regime"]) + ".")
            out.append("")
        source = f"Source: {rec['source']}" + (f"; convention: {rec['convention']}" if rec["convention"] else "")
        out += [source + ".", ""]
    return out


def _laws_html(result: SuiteResult) -> list[str]:
    laws = laws_used(result)
    if not laws:
        return ["<p>(no theory formula recorded)</p>", f"<p>{_inline(LAWS_TEXT)}</p>"]
    out = [f"<p>{_inline(LAWS_TEXT)}</p>"]
    for name, rec in laws:
        out.append(f'<div class="law" id="law-{_anchor(name)}">')
        if rec is None:
            out += [f"<h3><code>{_x(name)}</code></h3>", "<p>(not a formula of the theory registry)</p>", "</div>"]
            continue
        out += [f"<h3><code>{_x(name)}</code> — {_x(rec['description'])}</h3>",
                f'<math display="block">{rec["mathml"]}</math>']
        if rec["params"]:
            out.append("<p>Symbols: " + "; ".join(f"<math>{p['mathml']}</math> {_x(p['meaning'])}"
                                                  for p in rec["params"]) + ".</p>")
        if rec["regime"]:
            out.append("<p>Valid when: " + "; ".join(f"<math>{r['mathml']}</math> ({_inline(r['why'])})"
                                                     for r in rec["regime"]) + ".</p>")
        source = f"Source: {rec['source']}" + (f"; convention: {rec['convention']}" if rec["convention"] else "")
        out += [f'<p class="just">{_inline(source)}.</p>', "</div>"]
    return out


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
    out += ["## Laws used", ""] + _laws_md(result)
    return "\n".join(out) + "\n"


# ========================================================================================= HTML
WIDE_TABLE = 8     # tables with more columns get a smaller font (class "wide") so that they fit the page


def _header(text: str) -> str:
    """A column header that may break after ``_`` (``expected_escapes``) so that wide tables fit the page."""
    out = _inline(text)
    return out if "$" in text else out.replace("_", "_<wbr>")


def _table_html(t, k: int) -> list[str]:
    numeric = [all(_is_number(row[j]) for row in t.rows if j < len(row)) for j in range(len(t.columns))]
    wide = ' class="wide"' if len(t.columns) > WIDE_TABLE else ""
    out = [f'<table id="table-{_anchor(t.name)}"{wide}>',
           f"<caption><strong>Table {k}. {_x(t.name)}.</strong> {_inline(t.caption)}</caption>",
           "<tr>" + "".join(f"<th>{_header(str(c))}</th>" for c in t.columns) + "</tr>"]
    for row in t.rows:
        out.append("<tr>" + "".join(
            f'<td class=num>{_x(_cell(v))}</td>' if j < len(numeric) and numeric[j]
            else f"<td>{_x(_cell(v)).replace('_', '_<wbr>')}</td>" for j, v in enumerate(row)) + "</tr>")
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
    out += ['<h2 id="provenance">Method and provenance</h2>', _provenance_html(result.provenance),
            '<h2 id="laws">Laws used</h2>'] + _laws_html(result) + ["</body>", "</html>"]
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
