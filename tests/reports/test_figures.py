"""Figures: every kind draws what its data says (lines from the stored slopes), PNGs are deterministic."""
import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure as MplFigure

from flatminima.reports.figures import (FIGURE_KINDS, plot_fit, plot_histogram, plot_landscape2d, plot_scatter, plot_spectrum,
                             plot_survival, render_figure)
from test_render import make_result
from flatminima.validation.suite import Figure

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def figures():
    return {f.name: f for f in make_result().figures}


def _axes():
    return MplFigure().add_subplot()


def _line(ax, label_start):
    lines = [line for line in ax.get_lines() if line.get_label().startswith(label_start)]
    assert len(lines) == 1, [line.get_label() for line in ax.get_lines()]
    return lines[0]


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_fit_draws_points_fit_and_dashed_prediction(figures):
    fig = figures["neg-log-rate-vs-inverse-sharpness"]
    ax = plot_fit(fig, ax=_axes())
    fit = _line(ax, "fit:")
    x, y = fit.get_data()
    np.testing.assert_allclose(y, 1.22 + 3.08 * np.asarray(x))
    assert "[2.95, 3.21]" in fit.get_label()
    predicted = _line(ax, "predicted:")
    assert predicted.get_linestyle() == "--"
    px, py = predicted.get_data()
    np.testing.assert_allclose(np.diff(py) / np.diff(px), 3.0)       # slope only: drawn through the centre
    assert ax.get_xlabel() == "1/k" and ax.get_ylabel() == "−log γ" and ax.get_title() == fig.title
    np.testing.assert_allclose(_line(ax, "law at each point").get_ydata(), fig.data["law_points"])
    assert not [line for line in ax.get_lines() if line.get_label() == "exact reference"]   # all null
    assert not [line for line in ax.get_lines() if line.get_label().startswith("reference")]
    # the error bars are the stored CI half-widths
    bars = ax.containers[0]
    segs = bars.lines[2][0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segs], 2 * np.asarray(fig.data["y_err"]))


def test_fit_with_interval_ends_and_reference_slope(figures):
    ax = plot_fit(figures["sgld-log-rate-vs-log-sharpness"], ax=_axes())
    ref = _line(ax, "reference slope")
    rx, ry = ref.get_data()
    np.testing.assert_allclose(np.diff(ry) / np.diff(rx), 1.0)
    segs = ax.containers[0].lines[2][0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segs], 0.2)


def test_fit_skips_null_points():
    fig = Figure("f", "fit", "t", {"x": [1.0, 2.0, 3.0], "y": [1.0, None, 3.0], "y_err": [0.1, 0.1, 0.1]})
    ax = plot_fit(fig, ax=_axes())
    x, _ = ax.containers[0].lines[0].get_data()
    assert list(x) == [1.0, 3.0]


def test_survival_is_a_step_curve_against_the_exponential_on_log_axis(figures):
    fig = figures["survival-k1"]
    ax = plot_survival(fig, ax=_axes())
    assert ax.get_yscale() == "log"
    km = _line(ax, "Kaplan–Meier")
    assert km.get_drawstyle() == "steps-post"
    assert km.get_ydata()[0] == 1.0
    exp = _line(ax, "exp(−γ̂t)")
    t, s = exp.get_data()
    np.testing.assert_allclose(s, np.exp(-0.8 * np.asarray(t)))
    assert t[-1] == pytest.approx(fig.data["t_max"])


def test_landscape_marks_minima_saddles_paths_and_trajectories(figures):
    ax = plot_landscape2d(figures["landscape"], ax=_axes())
    labels = {line.get_label() for line in ax.get_lines()}
    assert {"minima", "index-1 saddles", "minimum energy paths", "trajectories"} <= labels
    np.testing.assert_allclose(_line(ax, "index-1 saddles").get_xydata(), [[0.0, 0.0]])
    bad = Figure("bad", "landscape2d", "t", {"x": [0, 1], "y": [0, 1, 2], "z": [[0, 1], [1, 2]]})
    with pytest.raises(ValueError, match="shape"):
        plot_landscape2d(bad, ax=_axes())


def test_spectrum_shows_the_negative_saddle_eigenvalue_on_symlog(figures):
    ax = plot_spectrum(figures["spectrum"], ax=_axes())
    assert ax.get_yscale() == "symlog"
    saddle = _line(ax, "saddle")
    assert min(saddle.get_ydata()) == -2.0
    lo, hi = ax.get_ylim()
    assert lo < -2.0 and hi > 40.0
    with pytest.raises(ValueError, match="spectrum"):
        plot_spectrum(Figure("s", "spectrum", "t", {}), ax=_axes())


def test_scatter_log_fit_is_a_power_law(figures):
    ax = plot_scatter(figures["noise-covariance"], ax=_axes())
    assert ax.get_xscale() == ax.get_yscale() == "log"
    x, y = _line(ax, "fit:").get_data()
    np.testing.assert_allclose(np.log10(y), 0.01 + 0.98 * np.log10(x))
    assert _line(ax, "y = x").get_linestyle() == ":"


def test_histogram_overlays_the_stored_gaussian(figures):
    fig = figures["gradient-noise"]
    ax = plot_histogram(fig, ax=_axes())
    assert len(ax.patches) == 40
    x, pdf = _line(ax, "Gaussian").get_data()
    assert x[np.argmax(pdf)] == pytest.approx(0.01, abs=0.02)
    assert pdf.max() == pytest.approx(1 / (0.3 * np.sqrt(2 * np.pi)), rel=1e-3)


def test_render_figure_gives_deterministic_png_for_every_kind(figures):
    assert set(FIGURE_KINDS) == {f.kind for f in figures.values()}
    fig = figures["spectrum"]
    first = render_figure(fig)
    assert first[:8] == PNG and first == render_figure(fig)
    assert b"Software" not in first                                  # no version stamp in the PNG


def test_render_figure_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind 'pie'"):
        render_figure(Figure("x", "pie", "t", {}))


def test_plot_without_axes_makes_a_pyplot_figure(figures):
    import matplotlib.pyplot as plt

    ax = plot_histogram(figures["gradient-noise"])
    try:
        assert ax.figure in [plt.figure(n) for n in plt.get_fignums()]
    finally:
        plt.close(ax.figure)


def _legend_outside(ax) -> bool:
    ax.figure.canvas.draw()
    legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
    return legend.x0 >= frame.x1 or legend.y1 <= frame.y0 or legend.x1 <= frame.x0 or legend.y0 >= frame.y1


def test_survival_legend_sits_outside_the_axes_with_one_entry_per_curve():
    curves = [{"label": f"batch_size={b}, eta=0.01, sharpness=1", "t": [1.0, 2.0, 3.0], "survival": [0.8, 0.5, 0.2],
               "rate": 0.5, "t_max": 3.0} for b in (2, 3, 4)]
    ax = plot_survival(Figure("s", "survival", "Survival", {"curves": curves}), ax=MplFigure().add_subplot())
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["batch_size=2 (γ̂ = 0.5)", "batch_size=3 (γ̂ = 0.5)", "batch_size=4 (γ̂ = 0.5)",
                     "Kaplan–Meier S(t)", "exp(−γ̂t)"]
    assert legend.get_title().get_text() == "eta=0.01, sharpness=1"      # the common part, said once
    assert _legend_outside(ax)


def test_spectrum_ticks_are_integer_indices():
    fig = Figure("s", "spectrum", "Hessian spectra", {"minimum": [2.0], "saddle": [-1.0]})
    ax = plot_spectrum(fig, ax=MplFigure().add_subplot())
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks == [1.0]
    ax = plot_spectrum(Figure("s", "spectrum", "t", {"minimum": [1.0, 2.0, 3.0, 4.0, 5.0]}),
                       ax=MplFigure().add_subplot())
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_landscape_frame_holds_every_minimum_and_saddle_and_the_title_is_not_clipped():
    from flatminima.reports.figures import landscape_frame

    gx, gy = np.linspace(-1.6, 0.7, 30), np.linspace(-1.1, 0.7, 20)
    z = np.add.outer(gy**2, gx**2).tolist()
    data = {"x": gx.tolist(), "y": gy.tolist(), "z": z, "minima": [[-1.0, 0.0]], "other_minima": [[0.97, -0.03]],
            "saddles": [[0.05, -0.5]], "paths": [[[-1.0, 0.0], [0.05, -0.5]]]}
    (x0, x1), (y0, y1) = landscape_frame(data)
    assert x0 <= -1.6 and x1 >= 0.97 + 0.1 and y0 <= -1.1 and y1 >= 0.7
    title = "two-well-2d:stiffness=2,curvature=0.5,tilt=0.2: basin and escape paths"
    fig = Figure("l", "landscape2d", title, data)
    mpl = MplFigure(figsize=(6.0, 5.2))
    ax = plot_landscape2d(fig, ax=mpl.add_subplot())
    assert ax.get_xlim()[1] == pytest.approx(x1) and "other minima" in {ln.get_label() for ln in ax.get_lines()}
    assert "\n" in ax.get_title()                                          # wrapped over the axes
    mpl.canvas.draw()
    box = ax.title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= mpl.bbox.width and _legend_outside(ax)
    png = render_figure(fig)
    assert png[:8] == PNG
