"""Figures of a suite report, drawn from the plain numbers in :class:`validation.suite.Figure`.

One function per ``Figure.kind``, each ``plot_<kind>(figure, *, ax=None) -> Axes``, and
:func:`render_figure`, which dispatches on the kind and returns PNG bytes. Every curve is drawn from
numbers that ``validation`` stored in ``Figure.data``: a fitted or predicted line comes as a slope and an
intercept, never from a call into ``theory`` or ``numerics``. JSON turns NaN and
inf into ``null``; such entries are skipped.

Data layout per kind (keys marked "opt." may be absent):

``fit``
    ``x``, ``y``; error bars as ``y_err`` (half-widths) or ``y_lo``/``y_hi`` (interval ends), opt.;
    ``x_label``, ``y_label``; ``fit`` = ``{"slope", "intercept"}`` (a ``LineFit.to_dict()`` is fine; its
    ``slope_stderr`` or ``slope_ci_low``/``slope_ci_high`` go into the legend); ``predicted`` =
    ``{"slope", "intercept"}`` opt. (without an intercept the predicted slope is drawn through the
    weighted centre of the points); ``law_points``, ``exact_points`` opt. (the law's and an exact
    reference's y at each x, drawn as open markers); ``reference_slope`` opt. (e.g. 1 for SGLD log γ vs log k), drawn
    through the centre of the points; ``x_log`` opt. (log x axis, the line is still y = a + b·x).
    The panels of the paper's escape-rate claims (docs/theory.md §The paper's claims): −log γ against 1/k, B,
    1/η, and log γ against log k.
``survival``
    ``t``, ``survival`` (Kaplan–Meier estimate, a step function right-continuous at ``t``), ``rate``
    (γ̂), ``t_max``; opt. ``rate_ci`` = [lo, hi], ``survival_lo``/``survival_hi`` (pointwise band),
    ``x_label``. Or ``curves``: a list of such dicts with a ``label`` each.
``landscape2d``
    ``x`` (n_x), ``y`` (n_y), ``z`` (n_y × n_x loss values), opt. ``minima``, ``other_minima`` (minima
    not analysed, e.g. the neighbouring ones), ``saddles`` (lists of [x, y]), ``paths`` (minimum energy
    paths) and ``trajectories`` (lists of [x, y] points), ``levels`` (int or list), ``x_label``,
    ``y_label``. The frame holds every minimum, saddle and path end with a margin
    (:func:`landscape_frame`); where it reaches beyond the grid the background is grey.
``spectrum``
    ``minimum`` and ``saddle`` (Hessian eigenvalues), or ``series`` = {label: eigenvalues}; opt.
    ``y_label``.
``scatter``
    ``x``, ``y``, ``x_label``, ``y_label``; opt. ``x_err``, ``y_err``, ``log`` (log–log axes),
    ``fit`` and ``reference`` = ``{"slope", "intercept"}`` in the plotted coordinates (with ``log``:
    log10 y = intercept + slope · log10 x), ``identity`` (draw y = x).
``histogram``
    ``values``, opt. ``bins`` (int, default 40), ``gaussian`` = ``{"mean", "std"}`` (normal density
    overlaid), ``x_label``, ``log`` (log y axis).
"""
from __future__ import annotations

import io
import math

import numpy as np

from flatminima.errors import InputError

__all__ = [
    "FIGURE_KINDS",
    "DPI",
    "plot_fit",
    "plot_survival",
    "plot_landscape2d",
    "plot_spectrum",
    "plot_scatter",
    "landscape_frame",
    "plot_histogram",
    "render_figure",
]

DPI = 110
FIGSIZE = (6.4, 4.4)
FIGSIZE_SQUARE = (6.0, 5.2)
MARGINS = {"left": 0.13, "right": 0.96, "bottom": 0.12, "top": 0.91}
# Colours of the report (matplotlib's tab10): measured data, fit, prediction, reference.
DATA, FIT, PREDICTED, REFERENCE = "#1f77b4", "#d62728", "#2ca02c", "#7f7f7f"


# ------------------------------------------------------------------------------------------- helpers
def _floats(values) -> np.ndarray:
    """A 1-D float array; JSON ``null`` (NaN/inf in the result) becomes NaN."""
    if values is None:
        return np.array([], dtype=float)
    return np.array([np.nan if v is None else v for v in np.ravel(np.asarray(values, dtype=object))], dtype=float)


def _points(values) -> np.ndarray:
    """A list of [x, y] points as an (n, 2) float array (empty when absent)."""
    if not values:
        return np.empty((0, 2))
    a = np.array([[np.nan if c is None else c for c in p] for p in values], dtype=float)
    return a.reshape(-1, 2)


def _new_axes(ax, figsize=FIGSIZE):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _wrapped_title(ax, title: str) -> str:
    """The title broken into lines that fit over the axes (about 1 character per 7 points of axes width),
    at spaces or after ``,``, ``:`` and ``;``; a longer word is cut."""
    import re

    try:
        width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
    except Exception:                                   # pragma: no cover - an axes without a figure
        width_pt = 400.0
    chars = max(30, int(width_pt / 7.0))
    lines, line = [], ""
    for piece in re.findall(r"[^\s,:;]*[,:;]?\s*", title):
        while len(piece.rstrip()) > chars:            # a word longer than a line
            if line:
                lines.append(line.rstrip())
                line = ""
            lines.append(piece[:chars])
            piece = piece[chars:]
        if line and len((line + piece).rstrip()) > chars:
            lines.append(line.rstrip())
            line = ""
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines) or title


def _finish(ax, figure, x_label=None, y_label=None, *, legend: dict | None = None):
    """Title (wrapped to the axes width), axis labels and the legend (``legend`` = keyword arguments of
    ``Axes.legend``; default: matplotlib's least-covering corner inside the axes)."""
    ax.set_title(_wrapped_title(ax, figure.title))
    if x_label:
        ax.set_xlabel(x_label)
    if y_label:
        ax.set_ylabel(y_label)
    if legend is not None or ax.get_legend_handles_labels()[0]:
        ax.legend(**{"fontsize": "small", "frameon": False, **(legend or {})})
    return ax


def _line(spec) -> tuple[float, float] | None:
    """(slope, intercept) of a line spec, or None when absent or not finite."""
    if not spec or spec.get("slope") is None:
        return None
    slope = float(spec["slope"])
    intercept = spec.get("intercept")
    intercept = math.nan if intercept is None else float(intercept)
    return (slope, intercept) if math.isfinite(slope) else None


def _slope_text(spec) -> str:
    slope = float(spec["slope"])
    lo, hi = spec.get("slope_ci_low"), spec.get("slope_ci_high")
    if lo is not None and hi is not None:
        return f"slope {slope:.4g} [{float(lo):.4g}, {float(hi):.4g}]"
    if spec.get("slope_stderr") is not None:
        return f"slope {slope:.4g} ± {float(spec['slope_stderr']):.2g}"
    return f"slope {slope:.4g}"


def _centre(x, y, sigma):
    """Weighted centre of the points (weights 1/σ² when all σ are positive, else equal)."""
    w = np.ones_like(x) if sigma is None or not np.all(sigma > 0) else 1.0 / sigma**2
    return float(np.dot(w, x) / w.sum()), float(np.dot(w, y) / w.sum())


# -------------------------------------------------------------------------------------------- kinds
def plot_fit(figure, *, ax=None):
    """Points with confidence-interval error bars, the fitted line and the predicted line (dashed).

    Parameters
    ----------
    figure : validation.suite.Figure
        ``kind == "fit"``; see the module docstring for ``figure.data``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made (through pyplot) when absent.

    Returns
    -------
    matplotlib.axes.Axes
    """
    d = figure.data
    ax = _new_axes(ax)
    if d.get("series"):
        return _plot_series(figure, ax)
    x, y = _floats(d.get("x")), _floats(d.get("y"))
    if x.shape != y.shape:
        raise InputError(f"figure {figure.name!r}: x and y differ in length ({x.size} vs {y.size})")
    if d.get("y_err") is not None:
        err = np.abs(_floats(d["y_err"]))
        lower = upper = err
    elif d.get("y_lo") is not None and d.get("y_hi") is not None:
        lower = np.clip(y - _floats(d["y_lo"]), 0, None)
        upper = np.clip(_floats(d["y_hi"]) - y, 0, None)
        err = 0.5 * (lower + upper)
    else:
        err = lower = upper = None
    ok = np.isfinite(x) & np.isfinite(y)
    if err is not None:
        ok &= np.isfinite(lower) & np.isfinite(upper)
    xs, ys = x[ok], y[ok]
    yerr = None if err is None else np.vstack([lower[ok], upper[ok]])
    ax.errorbar(xs, ys, yerr=yerr, fmt="o", color=DATA, ecolor=DATA, capsize=3, ms=5,
                label=d.get("data_label", "measured (95% CI)" if err is not None else "measured"))
    if d.get("x_log"):
        ax.set_xscale("log")
    if xs.size:
        lo, hi = float(xs.min()), float(xs.max())
        pad = 0.05 * (hi - lo) if hi > lo else 0.5 * abs(lo) or 0.5
        grid = (np.geomspace(lo, hi, 100) if d.get("x_log") and lo > 0 else np.linspace(lo - pad, hi + pad, 100))
        cx, cy = _centre(xs, ys, None if err is None else err[ok])
        fit = _line(d.get("fit"))
        if fit is not None:
            slope, intercept = fit
            if not math.isfinite(intercept):
                intercept = cy - slope * cx
            ax.plot(grid, intercept + slope * grid, "-", color=FIT, label=f"fit: {_slope_text(d['fit'])}")
        predicted = _line(d.get("predicted"))
        if predicted is not None:
            slope, intercept = predicted
            where = ""
            if not math.isfinite(intercept):
                intercept, where = cy - slope * cx, " (through the data centre)"
            ax.plot(grid, intercept + slope * grid, "--", color=PREDICTED, lw=1.6,
                    label=f"predicted: slope {slope:.4g}{where}")
        for key, marker, color, label in (("law_points", "s", PREDICTED, "law at each point"),
                                          ("exact_points", "+", "k", "exact reference")):
            if d.get(key) is not None:
                v = _floats(d[key])
                keep = ok & np.isfinite(v) if v.shape == x.shape else None
                if keep is None:
                    raise InputError(f"figure {figure.name!r}: {key} differs in length from x")
                if keep.any():
                    ax.plot(x[keep], v[keep], marker, mfc="none", mec=color, color=color, ms=7, ls="none",
                            label=label)
        if d.get("reference_slope") is not None:
            slope = float(d["reference_slope"])
            ax.plot(grid, cy + slope * (grid - cx), ":", color=REFERENCE, lw=1.4,
                    label=f"reference slope {slope:g}")
    return _finish(ax, figure, d.get("x_label"), d.get("y_label"))


def _survival_curve(ax, d, color, label=None):
    """One Kaplan–Meier step curve, its band and exp(−γ̂t); ``label`` (several curves) names the step curve
    in the legend and the exponential stays unlabelled; alone, both carry their own label."""
    t, surv = _floats(d.get("t")), _floats(d.get("survival"))
    ok = np.isfinite(t) & np.isfinite(surv) & (surv > 0)
    if t.shape != surv.shape:
        raise InputError(f"survival: t and survival differ in length ({t.size} vs {surv.size})")
    tt, ss = t[ok], surv[ok]
    if tt.size and tt[0] > 0:                       # S(0) = 1 before the first event
        tt, ss = np.concatenate([[0.0], tt]), np.concatenate([[1.0], ss])
    rate = d.get("rate")
    rate = float(rate) if rate is not None and math.isfinite(float(rate)) else None
    if label is None:
        km_label = "Kaplan–Meier"
    else:
        km_label = label + (f" (γ̂ = {rate:.3g})" if rate is not None else "")
    ax.step(tt, ss, where="post", color=color, lw=1.6, label=km_label)
    lo, hi = d.get("survival_lo"), d.get("survival_hi")
    if lo is not None and hi is not None:
        lo, hi = _floats(lo), _floats(hi)
        band = ok & np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
        ax.fill_between(t[band], lo[band], hi[band], step="post", color=color, alpha=0.15, lw=0)
    t_max = d.get("t_max")
    if t_max is None:
        t_max = float(tt.max()) if tt.size else 1.0
    if rate is not None:
        grid = np.linspace(0.0, float(t_max), 200)
        ax.plot(grid, np.exp(-rate * grid), "--", color=color, alpha=0.8, lw=1.2,
                label=f"exp(−γ̂t), γ̂ = {rate:.3g}" if label is None else "_nolegend_")
        ci = d.get("rate_ci")
        if ci and all(c is not None for c in ci):
            ax.fill_between(grid, np.exp(-float(ci[1]) * grid), np.exp(-float(ci[0]) * grid),
                            color=color, alpha=0.10, lw=0)
    return float(t_max)


def _split_labels(labels: list[str]) -> tuple[list[str], str]:
    """Curve labels such as ``"B=2, eta=0.01"`` without the ``", "``-separated parts common to all of them,
    and those common parts (the legend's title)."""
    parts = [[p.strip() for p in label.split(",")] for label in labels]
    if len(parts) < 2:
        return labels, ""
    common = [p for p in parts[0] if all(p in q for q in parts[1:])]
    short = [", ".join(p for p in q if p not in common) for q in parts]
    if not all(short) or len(set(short)) < len(short):
        return labels, ""
    return short, ", ".join(common)


def plot_survival(figure, *, ax=None):
    """Kaplan–Meier survival step curve against exp(−γ̂t) on a log y axis.

    A straight line on this axis is an exponential escape-time law, which the censored exponential
    MLE γ̂ = escapes / exposure assumes (docs/theory.md §Time and rates). The legend sits outside the axes,
    right of them, so that it never covers a curve; with several curves it has one entry per curve (the
    label without the parts common to all curves, which become the legend's title, and γ̂) and two grey
    entries for the line styles.

    Parameters
    ----------
    figure : validation.suite.Figure
        ``kind == "survival"``; see the module docstring.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.lines import Line2D

    d = figure.data
    ax = _new_axes(ax)
    curves = d.get("curves") or [d]
    colors = [f"C{i}" for i in range(10)]
    several = len(curves) > 1 or bool(curves[0].get("label"))
    labels = [str(c.get("label") or f"curve {i + 1}") for i, c in enumerate(curves)]
    short, common = _split_labels(labels) if several else (labels, "")
    t_max = 0.0
    for i, c in enumerate(curves):
        t_max = max(t_max, _survival_curve(ax, c, colors[i % 10], short[i] if several else None))
    ax.set_yscale("log")
    ax.set_xlim(0.0, t_max if t_max > 0 else None)
    legend = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0}
    if several:
        handles, texts = ax.get_legend_handles_labels()
        handles += [Line2D([], [], color=REFERENCE, lw=1.6), Line2D([], [], color=REFERENCE, lw=1.2, ls="--")]
        texts += ["Kaplan–Meier S(t)", "exp(−γ̂t)"]
        legend.update(handles=handles, labels=texts)
        if common:
            legend.update(title=common, title_fontsize="small", alignment="left")
    return _finish(ax, figure, d.get("x_label", "SDE time t"), d.get("y_label", "fraction not escaped S(t)"),
                   legend=legend)


def plot_landscape2d(figure, *, ax=None):
    """Contour plot of a 2-D loss with minima, index-1 saddles, minimum energy paths and trajectories.

    Parameters
    ----------
    figure : validation.suite.Figure
        ``kind == "landscape2d"``; ``z[i][j]`` is the loss at (x[j], y[i]).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    d = figure.data
    ax = _new_axes(ax, FIGSIZE_SQUARE)
    x, y = _floats(d["x"]), _floats(d["y"])
    z = np.array([[np.nan if v is None else v for v in row] for row in d["z"]], dtype=float)
    if z.shape != (y.size, x.size):
        raise InputError(f"figure {figure.name!r}: z has shape {z.shape}, expected (len(y), len(x)) = "
                         f"{(y.size, x.size)}")
    levels = d.get("levels", 30)
    if isinstance(levels, int):
        finite = z[np.isfinite(z)]
        # levels up to the 95th percentile, so that a steep rim does not flatten the basins
        top = float(np.percentile(finite, 95)) if finite.size else 1.0
        bottom = float(finite.min()) if finite.size else 0.0
        levels = np.linspace(bottom, top if top > bottom else bottom + 1.0, levels)
    zc = np.ma.masked_invalid(z)
    filled = ax.contourf(x, y, zc, levels=levels, cmap="viridis", extend="max")
    ax.contour(x, y, zc, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    from matplotlib.ticker import MaxNLocator

    ax.figure.colorbar(filled, ax=ax, label=d.get("z_label", "loss L(θ)"), ticks=MaxNLocator(7))
    for i, traj in enumerate(d.get("trajectories") or []):
        p = _points(traj)
        ax.plot(p[:, 0], p[:, 1], "-", color="white", lw=0.7, alpha=0.8,
                label="trajectories" if i == 0 else None)
    for i, path in enumerate(d.get("paths") or []):
        p = _points(path)
        ax.plot(p[:, 0], p[:, 1], "-", color="orange", lw=2.0, label="minimum energy paths" if i == 0 else None)
    minima, saddles = _points(d.get("minima")), _points(d.get("saddles"))
    others = _points(d.get("other_minima"))
    if minima.size:
        ax.plot(minima[:, 0], minima[:, 1], "o", color="white", mec="k", ms=8, ls="none", label="minima")
    if others.size:
        ax.plot(others[:, 0], others[:, 1], "o", mfc="none", mec="white", mew=2.0, ms=9, ls="none",
                label="other minima")
    if saddles.size:
        ax.plot(saddles[:, 0], saddles[:, 1], "X", color="red", mec="k", ms=9, ls="none", label="index-1 saddles")
    (x0, x1), (y0, y1) = landscape_frame(d)
    if x0 < np.nanmin(x) or x1 > np.nanmax(x) or y0 < np.nanmin(y) or y1 > np.nanmax(y):
        ax.set_facecolor("#dddddd")                    # beyond the evaluated grid: grey, not a fake basin
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    from matplotlib.lines import Line2D

    handles, texts = ax.get_legend_handles_labels()
    proxies = {"trajectories": Line2D([], [], color="#777777", lw=0.9),     # white on white: grey proxies
               "other minima": Line2D([], [], marker="o", mfc="none", mec="#555555", mew=2.0, ms=9, ls="none")}
    handles = [proxies.get(t, h) for h, t in zip(handles, texts)]
    legend = {"handles": handles, "labels": texts, "loc": "upper center", "bbox_to_anchor": (0.5, -0.13),
              "ncol": 3, "borderaxespad": 0.0}
    return _finish(ax, figure, d.get("x_label", "θ₁"), d.get("y_label", "θ₂"), legend=legend)


FRAME_MARGIN = 0.15     # of the larger side of the box around the critical points


def landscape_frame(d: dict) -> tuple[tuple[float, float], tuple[float, float]]:
    """The plotted box of a ``landscape2d`` figure: the evaluated grid, enlarged where needed so that every
    minimum (``minima``, ``other_minima``), saddle and path end lies inside with a margin of
    ``FRAME_MARGIN`` times the larger side of the box around those points."""
    x, y = _floats(d.get("x")), _floats(d.get("y"))
    pts = [_points(d.get(k)) for k in ("minima", "other_minima", "saddles")]
    pts += [_points(p)[[0, -1]] for p in d.get("paths") or [] if len(p)]
    pts = np.concatenate(pts) if pts else np.empty((0, 2))
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    fx = [float(np.nanmin(x)), float(np.nanmax(x))] if x.size else [np.inf, -np.inf]
    fy = [float(np.nanmin(y)), float(np.nanmax(y))] if y.size else [np.inf, -np.inf]
    if pts.size:
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        margin = FRAME_MARGIN * (float((hi - lo).max()) or 1.0)
        fx = [min(fx[0], lo[0] - margin), max(fx[1], hi[0] + margin)]
        fy = [min(fy[0], lo[1] - margin), max(fy[1], hi[1] + margin)]
    if not np.all(np.isfinite(fx + fy)):
        return (0.0, 1.0), (0.0, 1.0)
    return (fx[0], fx[1]), (fy[0], fy[1])


def plot_spectrum(figure, *, ax=None):
    """Hessian eigenvalues at a minimum and at a saddle, as stems on a symmetric-log axis.

    Parameters
    ----------
    figure : validation.suite.Figure
        ``kind == "spectrum"``; ``data["minimum"]``, ``data["saddle"]`` or ``data["series"]``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    d = figure.data
    ax = _new_axes(ax)
    series = d.get("series") or {k: d[k] for k in ("minimum", "saddle") if d.get(k) is not None}
    if not series:
        raise InputError(f"figure {figure.name!r}: a spectrum needs 'minimum', 'saddle' or 'series'")
    markers = ["o", "s", "^", "D", "v"]
    n = len(series)
    smallest, values = [], []
    for i, (label, eigs) in enumerate(series.items()):
        e = np.sort(_floats(eigs)[np.isfinite(_floats(eigs))])
        idx = np.arange(1, e.size + 1) + (i - (n - 1) / 2) * 0.18
        ax.vlines(idx, 0, e, color=f"C{i}", lw=1.2)
        ax.plot(idx, e, markers[i % len(markers)], color=f"C{i}", ls="none", label=f"{label} ({e.size})")
        nz = np.abs(e[e != 0])
        if nz.size:
            smallest.append(float(nz.min()))
        values.append(e)
    ax.axhline(0.0, color="k", lw=0.6)
    linthresh = min(smallest) if smallest else 1.0
    ax.set_yscale("symlog", linthresh=linthresh)
    e = np.concatenate(values)
    if e.size:                                          # room for the markers beyond the extreme stems
        top, bottom = float(e.max()), float(e.min())
        ax.set_ylim(-linthresh if bottom >= 0 else 3 * bottom, linthresh if top <= 0 else 3 * top)
    from matplotlib.ticker import MaxNLocator

    n_max = max((v.size for v in values), default=1) or 1
    ax.set_xlim(0.5, n_max + 0.5)                       # eigenvalue indices are integers: 1 … n
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("eigenvalue index (ascending)")
    return _finish(ax, figure, None, d.get("y_label", "Hessian eigenvalue"))


def plot_scatter(figure, *, ax=None):
    """Scatter of y against x with an optional fitted line, reference line and identity y = x.

    Parameters
    ----------
    figure : validation.suite.Figure
        ``kind == "scatter"``; e.g. the gradient-noise covariance C against H/B (docs/theory.md §C17).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    d = figure.data
    ax = _new_axes(ax)
    if d.get("series"):
        return _plot_series(figure, ax)
    x, y = _floats(d.get("x")), _floats(d.get("y"))
    if x.shape != y.shape:
        raise InputError(f"figure {figure.name!r}: x and y differ in length ({x.size} vs {y.size})")
    log = bool(d.get("log"))
    ok = np.isfinite(x) & np.isfinite(y)
    if log:
        ok &= (x > 0) & (y > 0)
    xerr = None if d.get("x_err") is None else np.abs(_floats(d["x_err"]))[ok]
    yerr = None if d.get("y_err") is None else np.abs(_floats(d["y_err"]))[ok]
    xs, ys = x[ok], y[ok]
    ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="o", ms=4, color=DATA, alpha=0.8, capsize=2,
                label=d.get("data_label", "measured"))
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    if xs.size:
        lo, hi = float(xs.min()), float(xs.max())
        grid = np.geomspace(lo, hi, 100) if log else np.linspace(lo, hi, 100)
        u = np.log10(grid) if log else grid

        def draw(spec, style, color, label):
            line = _line(spec)
            if line is None:
                return
            slope, intercept = line
            v = (0.0 if not math.isfinite(intercept) else intercept) + slope * u
            ax.plot(grid, 10**v if log else v, style, color=color, lw=1.5, label=label(spec))

        draw(d.get("fit"), "-", FIT, lambda s: f"fit: {_slope_text(s)}")
        draw(d.get("reference"), "--", PREDICTED,
             lambda s: s.get("label") or f"predicted: slope {float(s['slope']):.4g}")
        if d.get("identity"):
            both = np.concatenate([xs, ys])
            a, b = float(both.min()), float(both.max())
            ax.plot([a, b], [a, b], ":", color=REFERENCE, lw=1.2, label="y = x")
    return _finish(ax, figure, d.get("x_label"), d.get("y_label"))


_SERIES_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _plot_series(figure, ax):
    """Several labelled series side by side (``data["series"]``: each {label, x, y, y_err, fit: {slope, intercept}})."""
    d = figure.data
    for i, ser in enumerate(d["series"]):
        x, y = _floats(ser.get("x")), _floats(ser.get("y"))
        if x.shape != y.shape:
            raise InputError(f"figure {figure.name!r}: series {ser.get('label')!r}: x and y differ in length")
        color = _SERIES_COLORS[i % len(_SERIES_COLORS)]
        yerr = None if ser.get("y_err") is None else np.abs(_floats(ser["y_err"]))
        ax.errorbar(x, y, yerr=yerr, fmt="o", ms=4, color=color, capsize=2, label=ser.get("label", f"series {i}"))
        line = _line(ser.get("fit"))
        if line is not None and x.size:
            grid = np.linspace(float(x.min()), float(x.max()), 50)
            ax.plot(grid, line[1] + line[0] * grid, "-", color=color, lw=1.2, alpha=0.8)
    return _finish(ax, figure, d.get("x_label"), d.get("y_label"))


def plot_histogram(figure, *, ax=None):
    """Density histogram of samples (e.g. gradient-noise components) with a Gaussian density overlaid.

    Parameters
    ----------
    figure : validation.suite.Figure
        ``kind == "histogram"``; the Gaussian's mean and std come from ``data["gaussian"]``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    d = figure.data
    ax = _new_axes(ax)
    values = _floats(d.get("values"))
    values = values[np.isfinite(values)]
    bins = int(d.get("bins", 40))
    ax.hist(values, bins=bins, density=True, color=DATA, alpha=0.6, label=f"samples (n = {values.size})")
    g = d.get("gaussian")
    if g and g.get("std") is not None and float(g["std"]) > 0 and values.size:
        mean, std = float(g.get("mean") or 0.0), float(g["std"])
        lo, hi = min(float(values.min()), mean - 4 * std), max(float(values.max()), mean + 4 * std)
        grid = np.linspace(lo, hi, 300)
        pdf = np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
        ax.plot(grid, pdf, "-", color=FIT, lw=1.6, label=f"Gaussian (mean {mean:.3g}, std {std:.3g})")
    if d.get("log"):
        ax.set_yscale("log")
    return _finish(ax, figure, d.get("x_label", "value"), d.get("y_label", "density"))


PLOTTERS = {
    "fit": plot_fit,
    "survival": plot_survival,
    "landscape2d": plot_landscape2d,
    "spectrum": plot_spectrum,
    "scatter": plot_scatter,
    "histogram": plot_histogram,
}
FIGURE_KINDS = tuple(PLOTTERS)


def render_figure(figure, *, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes, drawn by the plotter of ``figure.kind``.

    Uses a bare :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot state, nothing shown); the
    PNG carries no software-version metadata, so the same data gives the same bytes.

    Parameters
    ----------
    figure : validation.suite.Figure
    dpi : int, optional

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        For an unknown ``figure.kind`` or malformed data.
    """
    try:
        plotter = PLOTTERS[figure.kind]
    except KeyError:
        raise InputError(f"figure {figure.name!r}: unknown kind {figure.kind!r}; "
                         f"known kinds: {', '.join(FIGURE_KINDS)}") from None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    size = FIGSIZE_SQUARE if figure.kind == "landscape2d" else FIGSIZE
    # fixed margins: a layout engine would measure every tick label on every draw (slow on log axes)
    fig = MplFigure(figsize=size)
    fig.subplots_adjust(**MARGINS)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    plotter(figure, ax=ax)
    buf = io.BytesIO()
    # "tight": the saved area grows to hold every artist (a legend outside the axes, a wrapped title)
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.12)
    return buf.getvalue()
