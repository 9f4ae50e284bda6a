"""The glossary: one SymPy symbol per concept, with its assumption, keyword name, LaTeX and meaning.

Public keyword arguments are the glossary words defined here (``eta``, ``batch_size``,
``sharpness``, ``temperature``, ``loss_unit``, ``barrier``, ``h_ae``, ``h_be``, ``s``, ...).
Assumptions live on the symbols (``positive=True``); the numeric domain guard of
:class:`theory.formula.Formula` is derived from them.

Time is SDE time, t = step × eta; rates are per unit SDE time unless a name says otherwise.
``h_be`` is the *absolute value* |H_be| of the negative saddle curvature, hence positive.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Parameter:
    """A glossary entry: keyword ``name`` ↔ SymPy ``symbol``; ``latex`` and ``unicode`` are for printing."""

    name: str
    symbol: sp.Symbol
    latex: str
    unicode: str
    meaning: str
    display: sp.Expr | None = None   # what reports print instead of the symbol, e.g. |H_be|


def _p(name, symbol, latex, unicode, meaning, display=None):
    return Parameter(name, symbol, latex, unicode, meaning, display)


# Real-valued display stand-in so that reports print |H_be| for the positive symbol h_be.
_H_be_real = sp.Symbol("H_be", real=True)
_det = sp.Function("det")
_DET_A_SHOWN = _det(sp.Symbol("H_a"))
_DET_B_SHOWN = _det(sp.Symbol("H_b"))

eta = sp.Symbol("eta", positive=True)
batch_size = sp.Symbol("B", positive=True)
sharpness = sp.Symbol("k", positive=True)
h_ae = sp.Symbol("H_ae", positive=True)
h_be = sp.Symbol("h_be", positive=True)               # |H_be|
loss_unit = sp.Symbol("lambda", positive=True)
barrier = sp.Symbol("Delta_L", positive=True)
temperature = sp.Symbol("D", positive=True)
s = sp.Symbol("s", real=True)                          # 0 <= s <= 1 is a regime, not a domain
det_ratio = sp.Symbol("det_ratio", positive=True)      # |det H_b| / det H_a
h_star = sp.Symbol("h_star", positive=True)            # Mori: typical outlier Hessian eigenvalue
loss_min = sp.Symbol("L_a", positive=True)             # Mori: L(θ*) at the minimum
loss_saddle = sp.Symbol("L_b", positive=True)          # Mori: L(θ^s) at the saddle
n_outliers = sp.Symbol("n", positive=True, integer=True)
tail_index = sp.Symbol("alpha", positive=True)         # Lévy: stability index α ∈ (0, 2)
noise_scale = sp.Symbol("epsilon", positive=True)      # Lévy: ε in dX = −U′dt + ε dL^α
sample_noise_scale = sp.Symbol("sigma", positive=True) # Lévy: scale of one per-sample gradient noise
width_left = sp.Symbol("b_minus", positive=True)       # Lévy: distance minimum → left basin edge
width_right = sp.Symbol("b_plus", positive=True)       # Lévy: distance minimum → right basin edge
momentum = sp.Symbol("beta", positive=True)            # heavy-ball momentum β ∈ (0, 1)
pnm_beta0 = sp.Symbol("beta_0", positive=True)         # PNM: negative-momentum weight β0
adam_epsilon = sp.Symbol("epsilon_Adam", nonnegative=True)  # Adam's ε (gradient units), may be 0
slope = sp.Symbol("kappa", real=True)                  # a fitted slope of −log γ against B/η
h_ae_flat = sp.Symbol("H_a1", positive=True)
h_ae_sharp = sp.Symbol("H_a2", positive=True)
escape_time_a = sp.Symbol("tau_a", positive=True)
escape_time_b = sp.Symbol("tau_b", positive=True)
rate = sp.Symbol("gamma", positive=True)
escape_time = sp.Symbol("tau", positive=True)
D_a, D_b = sp.symbols("D_a D_b", positive=True)      # two-region diffusion along e (minimum side, saddle side)
mu = sp.Symbol("mu", positive=True)                    # unstable eigenvalue of the drift's Jacobian at the saddle
det_Q_a = sp.Symbol("detQ_a", positive=True)           # det Q_a, Q = Hessian of the quasi-potential Φ
abs_det_Q_b = sp.Symbol("absdetQ_b", positive=True)    # |det Q_b| (det Q_b < 0 at an index-1 saddle)
quasi_potential_barrier = sp.Symbol("Delta_Phi", positive=True)   # ΔΦ = Φ(b) − Φ(a), in units of the noise
instanton_divergence = sp.Symbol("I_ell", real=True)   # ∫ ∇·ℓ dt along the instanton (non-Gibbsianness)
third_a = sp.Symbol("L3_a", real=True)                 # L‴(a) along the escape coordinate (1-D)
fourth_a = sp.Symbol("L4_a", real=True)                # L⁗(a)
third_b = sp.Symbol("L3_b", real=True)                 # L‴(b)
fourth_b = sp.Symbol("L4_b", real=True)                # L⁗(b)

GLOSSARY: dict[str, Parameter] = {p.name: p for p in [
    _p("eta", eta, r"\eta", "η", "learning rate; SDE time step dt = eta"),
    _p("batch_size", batch_size, "B", "B", "minibatch size"),
    _p("sharpness", sharpness, "k", "k", "factor k of L_k(θ) = L(√k θ); multiplies every Hessian by k"),
    _p("h_ae", h_ae, "H_{ae}", "H_ae", "curvature at the minimum a along the escape direction e"),
    _p("h_be", h_be, r"\lvert H_{be}\rvert", "|H_be|",
       "absolute curvature at the saddle b along the escape direction", sp.Abs(_H_be_real)),
    _p("loss_unit", loss_unit, r"\lambda", "λ",
       "loss-unit constant λ in C = λ H / B (docs/theory.md §Hessian noise and the loss unit)"),
    _p("barrier", barrier, r"\Delta L", "ΔL", "barrier height L(b) − L(a)"),
    _p("temperature", temperature, "D", "D", "constant diffusion coefficient (white noise, SGLD)"),
    _p("s", s, "s", "s", "path parameter: fraction of the barrier climbed in the minimum-like region"),
    _p("temperature_a", D_a, "D_a", "D_a", "diffusion coefficient along e near the minimum (two-region model)"),
    _p("temperature_b", D_b, "D_b", "D_b", "diffusion coefficient along e near the saddle (two-region model)"),
    _p("det_ratio", det_ratio, r"\frac{\lvert\det H_b\rvert}{\det H_a}", "|det H_b|/det H_a",
       "ratio of Hessian determinants, |det H_b| / det H_a (same dimension n)",
       sp.Abs(_DET_B_SHOWN) / _DET_A_SHOWN),
    _p("mu", mu, r"\mu", "μ",
       "unstable eigenvalue at the saddle: the positive eigenvalue of the drift's Jacobian there "
       "(|H_be| for the drift −∇L, whatever the diffusion matrix)"),
    _p("det_Q_a", det_Q_a, r"\det Q_a", "det Q_a",
       "determinant of the quasi-potential Hessian Q_a at the minimum (Q_a⁻¹ solves H_a Σ + Σ H_a = 2D)",
       _det(sp.Symbol("Q_a"))),
    _p("abs_det_Q_b", abs_det_Q_b, r"\lvert\det Q_b\rvert", "|det Q_b|",
       "absolute determinant of the quasi-potential Hessian Q_b at the saddle (Q_b⁻¹ solves H_b Σ + Σ H_b = 2D)",
       sp.Abs(_det(sp.Symbol("Q_b")))),
    _p("quasi_potential_barrier", quasi_potential_barrier, r"\Delta\Phi", "ΔΦ",
       "quasi-potential barrier Φ(b) − Φ(a) in units of the noise (ΔL/D when the diffusion matrix is D·I); "
       "from a minimum-action path"),
    _p("instanton_divergence", instanton_divergence, r"I_{\ell}", "I_ℓ",
       "∫ ∇·ℓ dt along the instanton, ℓ the non-gradient part of the drift (Bouchet–Reygner non-Gibbsianness "
       "correction; 0 for reversible dynamics)"),
    _p("third_a", third_a, "{L'''_{a}}", "L‴_a", "third derivative of L at the minimum a (1-D)"),
    _p("fourth_a", fourth_a, "{L''''_{a}}", "L⁗_a", "fourth derivative of L at the minimum a (1-D)"),
    _p("third_b", third_b, "{L'''_{b}}", "L‴_b", "third derivative of L at the saddle b (1-D)"),
    _p("fourth_b", fourth_b, "{L''''_{b}}", "L⁗_b", "fourth derivative of L at the saddle b (1-D)"),
    _p("h_star", h_star, "h^{*}", "h*", "Mori: Hessian eigenvalue entering the noise C = 2 L h* / B"),
    _p("loss_min", loss_min, "L_a", "L_a", "Mori: loss value at the minimum (must be > 0)"),
    _p("loss_saddle", loss_saddle, "L_b", "L_b", "Mori: loss value at the saddle"),
    _p("n_outliers", n_outliers, "n", "n", "Mori: number of outlier Hessian directions (integer ≥ 1)"),
    _p("tail_index", tail_index, r"\alpha", "α", "Lévy: stability (tail) index α in (0, 2)"),
    _p("noise_scale", noise_scale, r"\varepsilon", "ε", "Lévy: noise amplitude ε of dX = −U′dt + ε dL^α"),
    _p("sample_noise_scale", sample_noise_scale, r"\sigma", "σ",
       "Lévy: scale parameter of the α-stable noise of one per-sample gradient"),
    _p("width_left", width_left, "b_{-}", "b₋", "Lévy: distance from the minimum to the left basin edge"),
    _p("width_right", width_right, "b_{+}", "b₊", "Lévy: distance from the minimum to the right basin edge"),
    _p("momentum", momentum, r"\beta", "β", "heavy-ball momentum m ← β m + g, θ ← θ − η m (PyTorch style)"),
    _p("pnm_beta0", pnm_beta0, r"\beta_0", "β₀", "PNM: weight of the negative momentum buffer"),
    _p("epsilon", adam_epsilon, r"\epsilon", "ϵ",
       "Adam's ε, added to √v in the denominator of the step; gradient units, ≥ 0"),
    _p("slope", slope, r"\kappa", "κ", "fitted slope of −log γ against B/η"),
    _p("h_ae_flat", h_ae_flat, "H_{a_1 e}", "H_a1e", "curvature of the flatter minimum a₁ along e"),
    _p("h_ae_sharp", h_ae_sharp, "H_{a_2 e}", "H_a2e", "curvature of the sharper minimum a₂ along e"),
    _p("escape_time_a", escape_time_a, r"\tau_a", "τ_a", "mean escape time from valley a"),
    _p("escape_time_b", escape_time_b, r"\tau_b", "τ_b", "mean escape time from valley b"),
    _p("rate", rate, r"\gamma", "γ", "escape rate per unit SDE time"),
    _p("escape_time", escape_time, r"\tau", "τ", "mean escape time in SDE time"),
]}

BY_SYMBOL: dict[sp.Symbol, Parameter] = {p.symbol: p for p in GLOSSARY.values()}

# Letters used inside derivations only (never public keywords).
theta, x, y, z, u = sp.symbols("theta x y z u", real=True)
H_a = sp.Symbol("H_a", positive=True)        # 1-D curvature at the minimum
H_b = sp.Symbol("h_b", positive=True)         # 1-D |curvature| at the saddle
L_a, L_b = sp.symbols("L_a L_b", real=True)   # loss at a and b
P_a = sp.Symbol("P_a", positive=True)        # density at the minimum
J = sp.Symbol("J", positive=True)            # probability current
alpha_conv = sp.Symbol("alpha", nonnegative=True)  # the α of the α-convention (0 Itô, ½ Strat., 1 HK)

det_H_a = sp.Symbol("detH_a", positive=True)          # det H_a > 0
abs_det_H_b = sp.Symbol("absdetH_b", positive=True)   # |det H_b|
det_H_b = sp.Symbol("detH_b", negative=True)          # det H_b < 0 (index-1 saddle), as printed in Eq. (6)

LOCAL_LATEX = {H_b: r"\lvert H_b\rvert", alpha_conv: r"\alpha", P_a: "P(a)"}
_LOCAL_DISPLAY = {H_b: sp.Abs(sp.Symbol("H_b", real=True)), det_H_a: _DET_A_SHOWN,
                  abs_det_H_b: sp.Abs(_DET_B_SHOWN), det_H_b: _DET_B_SHOWN}


def parameter(name: str) -> Parameter:
    """The glossary entry for keyword ``name``; KeyError names the known keywords."""
    try:
        return GLOSSARY[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a glossary keyword; known: {', '.join(sorted(GLOSSARY))}") from None


def _display(expr: sp.Basic) -> tuple[sp.Basic, dict]:
    """Replace symbols by their printed stand-ins; return the expression and LaTeX names."""
    repl, names = {}, {}
    for sym in expr.free_symbols:
        p = BY_SYMBOL.get(sym)
        if p is not None:
            if p.display is not None:
                repl[sym] = p.display
            else:
                stand_in = sp.Symbol(p.unicode, **sym.assumptions0)
                repl[sym] = stand_in
                names[stand_in] = p.latex
        elif sym in _LOCAL_DISPLAY:
            repl[sym] = _LOCAL_DISPLAY[sym]
        elif sym in LOCAL_LATEX:
            names[sym] = LOCAL_LATEX[sym]
    return expr.xreplace(repl), names


def to_latex(expr: sp.Basic) -> str:
    """LaTeX of ``expr`` with glossary symbols printed as in the papers (ΔL, |H_be|, λ, ...)."""
    shown, names = _display(expr)
    return sp.latex(shown, symbol_names=names)


def to_mathml(expr: sp.Basic) -> str:
    """Presentation MathML (SymPy's printer) of ``expr`` with glossary symbols printed as in the papers."""
    shown, _ = _display(expr)
    return sp.mathml(shown, printer="presentation")
