"""Derivation: the non-reversible Eyring–Kramers law of Bouchet & Reygner (2016) for constant anisotropic diffusion.

Result, for dθ = −∇L dt + √(2D) dW with a constant symmetric positive definite matrix D:
γ = (μ/2π) · √(det Q_a / |det Q_b|) · exp(−I_ℓ) · exp(−ΔΦ),  τ = 1/γ,
with Q_c the Hessian of the quasi-potential Φ at the critical point c (Σ = Q_c⁻¹ solves H_c Σ + Σ H_c = 2D),
μ the unstable eigenvalue of the drift at the saddle (|H_be| for the drift −∇L, whatever D), ΔΦ the
quasi-potential barrier and I_ℓ = ∫ ∇·ℓ dt along the instanton, Bouchet and Reygner's non-Gibbsianness
correction (0 for reversible dynamics). For D = D₀·I it is the Eyring–Kramers law of :mod:`theory.eyring_kramers`.
:func:`bouchet_reygner_prefactor` computes μ, det Q_a, |det Q_b| and the local prefactor from H_a, H_b and D.
"""
from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from flatminima.errors import InputError
from flatminima.theory import symbols as S
from flatminima.theory.derivation import Derivation, Step, StepRecorder, eq
from flatminima.theory.errors import DomainError

SOURCE = ("Bouchet & Reygner, Ann. Henri Poincaré 17 (2016) 3499–3532 (arXiv:1507.02104); "
          "Eyring–Kramers limit: Bovier–Eckhoff–Gayrard–Klein 2004")
REFERENCE = "Bouchet & Reygner (2016)"


def _sym2(name: str, **assumptions) -> sp.ImmutableMatrix:
    """A symbolic symmetric 2×2 matrix [[x11, x12], [x12, x22]] with entries named after ``name``."""
    a, b, c = sp.symbols(f"{name}11 {name}12 {name}22", **assumptions)
    return sp.ImmutableMatrix([[a, b], [b, c]])


def _rotation(t: sp.Symbol, n: int) -> sp.ImmutableMatrix:
    """The rotation by angle 2·atan(t) in the (1, 2)-plane of ℝⁿ, with rational entries (identity for n = 1)."""
    R = sp.eye(n)
    if n >= 2:
        c, s = (1 - t**2) / (1 + t**2), 2 * t / (1 + t**2)
        R[0, 0], R[0, 1], R[1, 0], R[1, 1] = c, -s, s, c
    return sp.ImmutableMatrix(R)


def _check_matrix(r: StepRecorder, description: str, M) -> None:
    """Record the matrix identity M = 0 as one SymPy check; raise unless every entry cancels to 0."""
    entries = [sp.cancel(sp.together(e)) for e in sp.Matrix(M)]
    if any(e != 0 for e in entries):
        raise AssertionError(f"derivation check failed: {description}: residual {entries}")
    r.check(description, sum(entries))


def _check_abstract(r: StepRecorder, description: str, expr: sp.MatrixExpr) -> None:
    """Record an identity expr = 0 between matrix symbols of any size n; raise unless SymPy reduces it to 0."""
    reduced = sp.expand(expr).doit()
    if not (reduced == 0 or isinstance(reduced, sp.ZeroMatrix)):
        raise AssertionError(f"derivation check failed: {description}: residual {reduced}")
    r.check(description, sp.Integer(0))


def _lyapunov_2d() -> tuple[sp.ImmutableMatrix, sp.Expr]:
    """The solution Σ of H Σ + Σ H = 2D for generic symbolic symmetric 2×2 H, D, and the operator determinant."""
    H, D = _sym2("h", real=True), _sym2("d", real=True)
    s11, s12, s22 = sp.symbols("sigma11 sigma12 sigma22", real=True)
    Sig = sp.Matrix([[s11, s12], [s12, s22]])
    R = H * Sig + Sig * H - 2 * D
    system = [R[0, 0], R[0, 1], R[1, 1]]
    A, rhs = sp.linear_eq_to_matrix(system, [s11, s12, s22])
    sol = A.LUsolve(rhs).applyfunc(sp.factor)
    return sp.ImmutableMatrix([[sol[0], sol[1]], [sol[1], sol[2]]]), sp.factor(A.det())


@cache
def derive_bouchet_reygner(n: int = 2) -> Derivation:
    """Bouchet and Reygner's generalised Eyring–Kramers law in θ-coordinates for constant anisotropic D.

    The general steps are dimension-free; the symbolic checks of the Lyapunov equation are in two dimensions
    (generic symmetric H and D), the reduction to the Eyring–Kramers law uses explicit eigenvalue symbols for
    dimension ``n`` (Hessians rotated in the (1, 2)-plane, hence generic symmetric for n = 2).
    """
    if n < 1:
        raise InputError("dimension n must be at least 1")
    from flatminima.theory.eyring_kramers import derive_eyring_kramers
    from flatminima.theory.kramers import derive_kramers_1d

    mu, dQa, dQb = S.mu, S.det_Q_a, S.abs_det_Q_b
    dPhi, I_l = S.quasi_potential_barrier, S.instanton_divergence
    D0, dL, h_be = S.temperature, S.barrier, S.h_be
    eps = sp.Symbol("varepsilon", positive=True)              # Bouchet–Reygner's noise parameter
    x1, x2 = sp.symbols("x_1 x_2", real=True)
    X = (x1, x2)
    lam = sp.Symbol("lambda_ev", real=True)                   # eigenvalue variable of characteristic polynomials
    nn = sp.Symbol("n", integer=True, positive=True)          # size of the matrix symbols
    hess_V = sp.Function("Hess_V")                            # displayed ∇²V
    detV_m = sp.Function("det")(hess_V(sp.Symbol("m")))
    detV_z = sp.Abs(sp.Function("det")(hess_V(sp.Symbol("z"))))
    Qm, Dmat, Hmat, Sm_sym, Sig_sym = (sp.MatrixSymbol(c, nn, nn) for c in ("Q", "D", "H", "S", "Sigma"))
    grad_Phi, grad_L = sp.MatrixSymbol("∇Φ", nn, 1), sp.MatrixSymbol("∇L", nn, 1)
    r = StepRecorder()

    assumptions = (
        Step("Dynamics: dθ = −∇L dt + √(2D) dW with a constant symmetric positive definite diffusion matrix D "
             "(white noise, anisotropic); Itô and Stratonovich coincide because D does not depend on θ",
             None, "Xie, Sato & Sugiyama (2021) SDE with the noise matrix frozen at a constant",
             "Xie, Sato & Sugiyama (ICLR 2021)"),
        Step("Bouchet–Reygner setting: dX = b(X)dt + √(2ε) dW, b = −∇V + ℓ with ℓ·∇V = 0, V the Freidlin–Wentzell "
             "quasi-potential; m a minimum and z a nondegenerate index-1 saddle of V on the instanton; ε → 0",
             None, "small-noise (WKB) regime", REFERENCE),
        Step("Critical points of L: a minimum a (H_a positive definite) and an index-1 saddle b (H_b with one "
             "negative eigenvalue −|H_be|); low noise, ΔΦ ≫ 1", None,
             "as in the Eyring–Kramers derivation", "Bovier–Eckhoff–Gayrard–Klein 2004"),
    )

    # --- 1. The non-Gibbsianness factor: WKB transport equation for the prefactor C of p = C e^{−V/ε}.
    V, C = sp.Function("V")(*X), sp.Function("C")(*X)
    ell = [sp.Function(f"ell_{i + 1}")(*X) for i in range(2)]
    gV = [sp.diff(V, v) for v in X]
    b = [-gV[i] + ell[i] for i in range(2)]
    p = C * sp.exp(-V / eps)
    fokker_planck = eps * sum(sp.diff(p, v, 2) for v in X) - sum(sp.diff(b[i] * p, X[i]) for i in range(2))
    div_ell = sum(sp.diff(ell[i], X[i]) for i in range(2))
    transport = (C * sum(ell[i] * gV[i] for i in range(2)) / eps
                 - (sum((gV[i] + ell[i]) * sp.diff(C, X[i]) for i in range(2)) + div_ell * C)
                 + eps * sum(sp.diff(C, v, 2) for v in X))
    r.step("WKB ansatz p = C e^{−V/ε} in the stationary Fokker–Planck equation εΔp − ∇·(bp) = 0 (in 2-D): "
           "the O(1/ε) term is Cℓ·∇V = 0, the O(1) term the transport equation (∇V + ℓ)·∇C = −(∇·ℓ)C",
           eq(sp.exp(V / eps) * sp.Function("FP")(p), transport),
           "expansion in ε with b = −∇V + ℓ", REFERENCE)
    r.check("e^{V/ε}(εΔp − ∇·(bp)) = Cℓ·∇V/ε − [(∇V + ℓ)·∇C + (∇·ℓ)C] + εΔC",
            sp.expand(sp.exp(V / eps) * fokker_planck), sp.expand(transport))
    t, s, t0 = sp.symbols("t s t_0", real=True)
    g = sp.Function("g")                                        # ∇·ℓ along the instanton, as a function of time
    C_path = sp.Symbol("C_m", positive=True) * sp.exp(-sp.Integral(g(s), (s, t0, t)))
    r.step("Along the instanton φ̇ = ∇V(φ) + ℓ(φ) (from m at t = −∞ to z at t = +∞) the transport equation reads "
           "dC/dt = −(∇·ℓ)C, so C(z)/C(m) = e^{−I_ℓ} with I_ℓ = ∫∇·ℓ(φ_t)dt: the non-Gibbsianness correction",
           eq(sp.Function("C")(sp.Symbol("z")) / sp.Function("C")(sp.Symbol("m")), sp.exp(-I_l)),
           "the transport equation integrated along its characteristic", REFERENCE)
    r.check("C(t) = C_m exp(−∫_{t0}^{t} ∇·ℓ ds) solves dC/dt = −(∇·ℓ)C", sp.diff(C_path, t) + g(t) * C_path)

    # --- 2. The statement.
    k_y = mu / (2 * sp.pi) * sp.sqrt(detV_m / detV_z) * sp.exp(-I_l) * sp.exp(-sp.Symbol("ΔV") / eps)
    r.step("Bouchet–Reygner rate: μ > 0 the unique positive eigenvalue of the drift's Jacobian Db(z) at the saddle "
           "(−μ the negative eigenvalue of ∇²V(z) − Dℓ(z)), ΔV = V(z) − V(m)",
           eq(S.rate, k_y),
           "quasi-stationary density in the valley (Laplace integral, ∇²V(m)) times the transport factor, and the "
           "flux through the saddle region crossed at the unstable rate μ; for ℓ = 0 the Eyring–Kramers law", SOURCE)

    # --- 3. Linear change of variables for constant D = ε·D̂, S = D̂^{1/2} (generic symmetric 2×2).
    Sm = _sym2("s", real=True)
    Sinv = Sm.inv()
    r.step("Change of variables θ = S y with S = D̂^{1/2}, D = εD̂: dy = −S⁻¹∇L(Sy)dt + √(2ε) dW, the Bouchet–Reygner "
           "form with isotropic noise; V(y) = εΦ(Sy) with Φ the quasi-potential in θ (e^{−Φ} at leading order)",
           None,
           "Itô's formula for a linear map; S⁻¹(2εD̂)S⁻¹ = 2εI", "Freidlin–Wentzell theory")
    _check_abstract(r, "noise covariance in y: S⁻¹(2εS²)S⁻¹ = 2εI",
                    Sm_sym.I * (2 * eps * Sm_sym * Sm_sym) * Sm_sym.I - 2 * eps * sp.Identity(nn))
    H = _sym2("h", real=True)
    J_y = -Sinv * H * Sm
    r.step("Jacobian of the y-drift at a critical point with Hessian H: similar to −H, so its eigenvalues do not "
           "depend on D", eq(sp.Symbol("Db_y"), -Sm_sym.I * Hmat * Sm_sym), "chain rule, ∇L(Sy) ≈ HSy",
           "linear algebra")
    r.check("det(λI − Db_y) = det(λI + H): same characteristic polynomial as −H",
            sp.cancel((lam * sp.eye(2) - J_y).det() - (lam * sp.eye(2) + H).det()))
    Qa_g, Qb_g = _sym2("qa", real=True), _sym2("qb", real=True)
    y1, y2 = sp.symbols("y_1 y_2", real=True)
    yv = sp.Matrix([y1, y2])
    V_quad = eps * ((Sm * yv).T * Qa_g * (Sm * yv))[0, 0] / 2
    _check_matrix(r, "∇²_y V = εSQS for V(y) = εΦ(Sy), Φ = ½xᵀQx", sp.hessian(V_quad, (y1, y2)) - eps * Sm * Qa_g * Sm)
    ratio_y = (eps * Sm * Qa_g * Sm).det() / (eps * Sm * Qb_g * Sm).det()
    r.step("Determinant ratios are invariant: det ∇²V(m)/|det ∇²V(z)| = det Q_a/|det Q_b| and ΔV/ε = ΔΦ",
           eq(detV_m / detV_z, dQa / dQb), "det(εSQS) = εⁿ det(S)² det Q; the factors cancel", "linear algebra")
    r.check("det(εSQ_aS)/det(εSQ_bS) = det Q_a/det Q_b", sp.cancel(ratio_y - Qa_g.det() / Qb_g.det()))
    Jg = sp.Matrix(2, 2, sp.symbols("j11 j12 j21 j22", real=True))
    r.step("The divergence is invariant too: ℓ_y = S⁻¹ℓ_θ has Jacobian S⁻¹(Dℓ_θ)S, and the instanton's time is the "
           "same, so I_ℓ may be computed in θ",
           eq(I_l, sp.Integral(sp.Function("div")(sp.Function("ell_theta")(sp.Function("phi")(t))),
                               (t, -sp.oo, sp.oo))),
           "the trace is similarity-invariant", "linear algebra")
    r.check("tr(S⁻¹JS) = tr J", sp.cancel((Sinv * Jg * Sm).trace() - Jg.trace()))

    # --- 4. Hamilton–Jacobi equation in θ and its quadratic (Lyapunov) reduction.
    f1, f2, g1, g2 = sp.symbols("f_1 f_2 g_1 g_2", real=True)   # ∇L and ∇Φ at a point
    f, gP = sp.Matrix([f1, f2]), sp.Matrix([g1, g2])
    D_hat = Sm * Sm
    Dg = eps * D_hat                                            # D = εD̂
    hj_y = ((eps * Sm * gP).T * (eps * Sm * gP))[0, 0] + ((-Sinv * f).T * (eps * Sm * gP))[0, 0]
    hj_theta = (gP.T * Dg * gP)[0, 0] - (f.T * gP)[0, 0]
    r.step("Hamilton–Jacobi equation of the quasi-potential in θ: ∇Φᵀ D ∇Φ − ∇L·∇Φ = 0, and ℓ_θ = −∇L + D∇Φ ⊥ ∇Φ",
           eq(grad_Phi.T * Dmat * grad_Phi - grad_L.T * grad_Phi, sp.ZeroMatrix(1, 1)),
           "|∇_yV|² + b_y·∇_yV = 0 (i.e. ℓ_y·∇_yV = 0) with ∇_yV = εS∇Φ, b_y = −S⁻¹∇L",
           "Freidlin–Wentzell theory")
    r.check("|∇_yV|² + b_y·∇_yV = ε(∇ΦᵀD∇Φ − ∇L·∇Φ)", sp.cancel(hj_y - eps * hj_theta))
    ell_theta = -f + Dg * gP
    r.check("ℓ_y·∇_yV = ε ℓ_θ·∇Φ with ℓ_y = S⁻¹ℓ_θ",
            sp.cancel(((Sinv * ell_theta).T * (eps * Sm * gP))[0, 0] - eps * (ell_theta.T * gP)[0, 0]))
    xv = sp.Matrix(X)
    Q, Dm = _sym2("q", real=True), _sym2("d", real=True)
    hj_quad = ((Q * xv).T * Dm * (Q * xv))[0, 0] - ((H * xv).T * (Q * xv))[0, 0]
    riccati = Q * Dm * Q - (H * Q + Q * H) / 2
    r.step("Near a critical point, ∇L = Hx and Φ = Φ(c) + ½xᵀQx: the Hamilton–Jacobi equation holds for all x iff",
           eq(Qm * Dmat * Qm, (Hmat * Qm + Qm * Hmat) / 2),
           "a quadratic form vanishes identically iff its symmetric part does",
           "Freidlin–Wentzell theory")
    r.check("∇ΦᵀD∇Φ − ∇L·∇Φ = xᵀ(QDQ − ½(HQ + QH))x", sp.expand(hj_quad - (xv.T * riccati * xv)[0, 0]))
    Sig_m = Qm.I
    r.step("With Σ = Q⁻¹ (multiply by Σ on both sides): the Lyapunov equation, at the minimum the stationary "
           "covariance equation of the linearised process dx = −H_a x dt + √(2D) dW, at the saddle the same "
           "equation with indefinite H",
           eq(Hmat * Sig_sym + Sig_sym * Hmat, 2 * Dmat),
           "Σ(QDQ − ½(HQ + QH))Σ = D − ½(HΣ + ΣH)",
           "Gardiner, Handbook of Stochastic Methods (multivariate Ornstein–Uhlenbeck process)")
    _check_abstract(r, "Σ(QDQ − ½(HQ + QH))Σ = D − ½(HΣ + ΣH) for Σ = Q⁻¹ (n × n matrix symbols)",
                    Sig_m * (Qm * Dmat * Qm - (Hmat * Qm + Qm * Hmat) / 2) * Sig_m
                    - (Dmat - (Hmat * Sig_m + Sig_m * Hmat) / 2))
    Sig2, op_det = _lyapunov_2d()
    r.step("In two dimensions the Lyapunov equation is a 3×3 linear system; its solution (SymPy)",
           eq(sp.Symbol("Sigma"), Sig2), "LU solve of the linear system for (σ11, σ12, σ22)", "linear algebra")
    _check_matrix(r, "the 2-D solution satisfies HΣ + ΣH = 2D (substitution)", H * Sig2 + Sig2 * H - 2 * Dm)
    r.step("The system's determinant is 4 tr(H) det(H) = 4(λ1 + λ2)λ1λ2: the solution is unique unless two "
           "eigenvalues of H sum to 0 (at an index-1 saddle in 2-D: when h_b2 = |H_be|)",
           eq(sp.Function("det")(sp.Symbol("A_Lyapunov")), op_det),
           "the operator Σ ↦ HΣ + ΣH has eigenvalues λ_i + λ_j", "linear algebra")
    r.check("det of the 2-D Lyapunov operator = 4 tr H det H", op_det - 4 * H.trace() * H.det())
    r.step("Inertia: HΣ + ΣH = 2D with 2D positive definite forces In(Σ) = In(H) (Ostrowski–Schneider), so Q_a is "
           "positive definite and Q_b has exactly one negative eigenvalue: det Q_b < 0 and |det Q_b| = −det Q_b",
           None, "Ostrowski–Schneider inertia theorem (1962)",
           "Ostrowski & Schneider, J. Math. Anal. Appl. 4 (1962) 72–84")

    # --- 4b. Characteristics (the instanton), the Riccati equation for Q along them and ∇·ℓ_θ (2-D, generic L, Φ).
    Lc, Pc = sp.Function("L")(*X), sp.Function("Phi")(*X)
    p1, p2 = sp.symbols("p_1 p_2", real=True)
    pc = sp.Matrix([p1, p2])
    gLc, gPc = (sp.Matrix([sp.diff(F, v) for v in X]) for F in (Lc, Pc))
    Hc, Qc = sp.hessian(Lc, X), sp.hessian(Pc, X)
    p_vec, th_vec = sp.MatrixSymbol("p", nn, 1), sp.MatrixSymbol("θ", nn, 1)
    ham = (pc.T * Dm * pc)[0, 0] - (gLc.T * pc)[0, 0]
    r.step("Hamiltonian K(θ, p) = pᵀDp − ∇L(θ)·p, so that the Hamilton–Jacobi equation is K(θ, ∇Φ) = 0; its "
           "characteristics, Hamilton's equations θ̇ = ∂K/∂p and ṗ = −∂K/∂θ = ∇²L p, are the instanton",
           eq(sp.Derivative(th_vec, t, evaluate=False), 2 * Dmat * p_vec - grad_L),
           "method of characteristics; the derivatives of K checked in 2-D with generic L", "Freidlin–Wentzell theory")
    _check_matrix(r, "∂K/∂p = 2Dp − ∇L (2-D, generic L, symmetric D)",
                  sp.Matrix([sp.diff(ham, v) for v in (p1, p2)]) - (2 * Dm * pc - gLc))
    _check_matrix(r, "−∂K/∂θ = ∇²L p (2-D, generic L)", -sp.Matrix([sp.diff(ham, v) for v in X]) - Hc * pc)
    E_hj = (gPc.T * Dm * gPc)[0, 0] - (gLc.T * gPc)[0, 0]
    vel = 2 * Dm * gPc - gLc                                    # θ̇ on the characteristic p = ∇Φ
    r.step("First derivative of E = ∇ΦᵀD∇Φ − ∇L·∇Φ: ∇E = Qθ̇ − Hp with p = ∇Φ, Q = ∇²Φ, H = ∇²L, θ̇ = 2D∇Φ − ∇L. "
           "Where E = 0 identically, along a characteristic ṗ = Qθ̇ (chain rule) = Hp: the action of Q on the "
           "tangent θ̇ is known without solving anything", eq(Qm * (2 * Dmat * grad_Phi - grad_L), Hmat * grad_Phi),
           "product rule; ∇E = 0 where E = 0 identically", "Freidlin–Wentzell theory")
    _check_matrix(r, "∂_iE = (Qθ̇ − Hp)_i for i = 1, 2 (2-D, generic L, Φ; p = ∇Φ, θ̇ = 2D∇Φ − ∇L)",
                  sp.Matrix([sp.diff(E_hj, v) for v in X]) - (Qc * vel - Hc * gPc))

    def ric(T3, H_, Q_):                                        # ∇³L[p] + HQ + QH − 2QDQ
        return T3 + H_ * Q_ + Q_ * H_ - 2 * Q_ * Dm * Q_

    T3c = sp.Matrix(2, 2, lambda i, j: sum(sp.diff(Lc, X[i], X[j], X[k]) * gPc[k] for k in range(2)))
    Qdot = sp.Matrix(2, 2, lambda i, j: sum(sp.diff(Pc, X[i], X[j], X[k]) * vel[k] for k in range(2)))
    riccati_c = ric(T3c, Hc, Qc)
    r.step("Second derivative: ∂_i∂_jE = Σ_k Φ_ijk θ̇_k − [∇³L[p] + HQ + QH − 2QDQ]_ij with ∇³L[p]_ij = "
           "Σ_k L_ijk p_k. Where E = 0 identically, dQ/dt = Σ_k Φ_ijk θ̇_k along the instanton: the Riccati equation",
           eq(sp.Derivative(Qm, t, evaluate=False),
              sp.MatrixSymbol("∇³L[p]", nn, nn) + Hmat * Qm + Qm * Hmat - 2 * Qm * Dmat * Qm),
           "∂_j of ∇E = Qθ̇ − Hp; ∂_i∂_jE = 0 where E = 0 identically",
           "method of characteristics (Courant & Hilbert, vol. II, ch. II)")
    _check_matrix(r, "∂_i∂_jE = Σ_k Φ_ijk θ̇_k − [∇³L[p] + HQ + QH − 2QDQ]_ij for all (i, j) (2-D, generic L, Φ)",
                  sp.hessian(E_hj, X) - (Qdot - riccati_c))
    rev = {Pc: Lc / D0, Dm[0, 0]: D0, Dm[0, 1]: 0, Dm[1, 1]: D0}
    _check_matrix(r, "Φ = L/D₀ and D = D₀·I (then E = 0): Σ_k Φ_ijk θ̇_k = [∇³L[p] + HQ + QH − 2QDQ]_ij (generic L)",
                  (Qdot - riccati_c).subs(rev).doit())
    r.step("At a critical point (p = 0 and θ̇ = 0; H constant) Q is constant: the fixed points of the Riccati equation "
           "solve the Lyapunov equation above, Q_a at the minimum and Q_b at the saddle",
           eq(Qm * Dmat * Qm, (Hmat * Qm + Qm * Hmat) / 2), "∇³L[p] = 0 at p = 0",
           "method of characteristics (Courant & Hilbert, vol. II, ch. II)")
    _check_matrix(r, "HQ + QH − 2QDQ = 0 for Q = Σ⁻¹, Σ the 2-D Lyapunov solution (Riccati right-hand side at p = 0)",
                  ric(sp.zeros(2, 2), H, Sig2.inv()))
    r.step("Near a critical point the instanton moves as θ̇ = −N(θ − c) with N = H − 2DQ = −ΣHΣ⁻¹ (from 2DΣ⁻¹ = H + "
           "ΣHΣ⁻¹): N is similar to −H whatever D. At the saddle the instanton arrives along the eigenvector Σe of "
           "the rate μ = |H_be| (e the unstable direction of H_b), and Q − Q_b decays at the gaps |μ − h_bj| to the "
           "saddle's positive curvatures: a near-resonant saddle (some h_bj ≈ μ) is approached very slowly",
           eq(Hmat - 2 * Dmat * Qm, -Sig_sym * Hmat * Sig_sym.I), "multiply HΣ + ΣH = 2D by Σ⁻¹ on the right",
           "linear algebra")
    _check_matrix(r, "H − 2DΣ⁻¹ = −ΣHΣ⁻¹ for the 2-D Lyapunov solution Σ (generic symmetric H, D)",
                  H - 2 * Dm * Sig2.inv() + Sig2 * H * Sig2.inv())
    tr = sp.Function("tr")
    ell_c = -gLc + Dm * gPc
    r.step("Divergence of ℓ_θ = −∇L + D∇Φ (D constant): ∇·ℓ_θ = tr(DQ) − ΔL, with ΔL = tr H",
           eq(sp.Function("div")(sp.Symbol("ℓ_θ")), tr(Dmat * Qm) - tr(Hmat)),
           "∂_i(D∇Φ)_i = Σ_ij D_ij Φ_ij", "linear algebra")
    r.check("∇·(−∇L + D∇Φ) = tr(DQ) − ΔL (2-D, generic L, Φ, symmetric D)",
            sum(sp.diff(ell_c[i], X[i]) for i in range(2)), (Dm * Qc).trace() - Hc.trace())
    r.step("Hence I_ℓ along the instanton θ_t from the minimum (t = −∞) to the saddle (t = +∞), with Q_t from the "
           "Riccati equation (Q_a at t = −∞, Q_b at t = +∞) and H_t = ∇²L(θ_t); the integrand vanishes for Φ = L/D₀ "
           "and D = D₀·I",
           eq(I_l, sp.Integral(tr(Dmat * sp.MatrixSymbol("Q_t", nn, nn)) - tr(sp.MatrixSymbol("H_t", nn, nn)),
                               (t, -sp.oo, sp.oo))),
           "∇·ℓ_θ = tr(DQ) − ΔL at θ_t", REFERENCE)
    r.check("tr(D₀I·H/D₀) − ΔL = 0 for Q = ∇²(L/D₀) (generic L)",
            (D0 * sp.eye(2) * sp.hessian(Lc / D0, X)).trace() - sum(sp.diff(Lc, v, 2) for v in X))

    # --- 5. μ for the gradient drift, and the law.
    r.step("The drift −∇L has Jacobian −H_b at the saddle, whose unique positive eigenvalue is |H_be| (any D): "
           "μ = |H_be|, not an eigenvalue of −DH_b (that would be the drift −D∇L of preconditioned descent)",
           eq(mu, h_be), "similarity of the y-drift's Jacobian to −H_b (step above)", REFERENCE)
    rate = mu / (2 * sp.pi) * sp.sqrt(dQa / dQb) * sp.exp(-I_l) * sp.exp(-dPhi)
    r.step("The law in θ-coordinates", eq(S.rate, rate),
           "the statement with the invariant ratios, ΔV/ε = ΔΦ and I_ℓ computed in θ", SOURCE)
    tau = sp.powsimp(2 * sp.pi / mu * sp.sqrt(dQb / dQa) * sp.exp(I_l) * sp.exp(dPhi))
    r.step("Mean escape time τ = 1/γ", eq(S.escape_time, tau), "rate of a Poisson escape", SOURCE)
    r.check("τ·γ = 1", tau * rate, 1)

    # --- 6. Reduction to the Eyring–Kramers law for D = D₀·I (explicit eigenvalue symbols, dimension n).
    ha = sp.symbols(f"h_a1:{n + 1}", positive=True)
    hb = sp.symbols(f"h_b2:{n + 1}", positive=True)
    ta, tb = sp.symbols("t_a t_b", real=True)
    Ra, Rb = _rotation(ta, n), _rotation(tb, n)
    Ha = Ra * sp.diag(*ha) * Ra.T
    Hb = Rb * sp.diag(-h_be, *hb) * Rb.T
    Iso = D0 * sp.eye(n)
    r.step("Isotropic case D = D₀·I (D₀ the scalar temperature of the Eyring–Kramers law, printed D below), with "
           "Hessians H = R diag(eigenvalues) Rᵀ (R a rotation with parameter t; generic symmetric for n = 2)",
           eq(sp.MatrixSymbol("H_a", n, n), sp.MatrixSymbol("R_a", n, n) * sp.ImmutableMatrix(sp.diag(*ha))
              * sp.MatrixSymbol("R_a", n, n).T), f"explicit symbols for n = {n}", "linear algebra")
    _check_matrix(r, "RRᵀ = I for the rational rotation", Ra * Ra.T - sp.eye(n))
    Sig_a = D0 * Ra * sp.diag(*[1 / h for h in ha]) * Ra.T
    Sig_b = D0 * Rb * sp.diag(-1 / h_be, *[1 / h for h in hb]) * Rb.T
    _check_matrix(r, "Σ_a = D H_a⁻¹ solves H_aΣ + ΣH_a = 2D₀·I", Ha * Sig_a + Sig_a * Ha - 2 * Iso)
    _check_matrix(r, "Σ_b = D H_b⁻¹ solves H_bΣ + ΣH_b = 2D₀·I", Hb * Sig_b + Sig_b * Hb - 2 * Iso)
    Qa_iso, Qb_iso = Ha / D0, Hb / D0
    _check_matrix(r, "Q_a = H_a/D is Σ_a⁻¹", Qa_iso * Sig_a - sp.eye(n))
    _check_matrix(r, "Q_b = H_b/D is Σ_b⁻¹", Qb_iso * Sig_b - sp.eye(n))
    _check_matrix(r, "Q_a = H_a/D solves QDQ = ½(HQ + QH)", Qa_iso * Iso * Qa_iso - (Ha * Qa_iso + Qa_iso * Ha) / 2)
    r.step("So Q_a = H_a/D, Q_b = H_b/D (unique when no two eigenvalues of H_b sum to 0)",
           eq(sp.MatrixSymbol("Q_a", n, n), sp.MatrixSymbol("H_a", n, n) / D0),
           "substitution in the Lyapunov equation", "linear algebra")
    det_a_iso = sp.Mul(*ha) / D0**n
    det_b_iso = h_be * sp.Mul(*hb) / D0**n
    r.check("det Q_a = Π h_ai / Dⁿ", sp.cancel(Qa_iso.det() - det_a_iso))
    r.check("|det Q_b| = −det Q_b = |H_be| Π h_bj / Dⁿ", sp.cancel(-Qb_iso.det() - det_b_iso))
    charpoly = sp.cancel((lam * sp.eye(n) + Hb).det())
    r.check("det(λI + H_b) = (λ − |H_be|) Π(λ + h_bj): the unique positive eigenvalue of −H_b is |H_be| = μ",
            sp.expand(charpoly - (lam - h_be) * sp.Mul(*[lam + h for h in hb])))
    Lf = sp.Function("L")(*X)
    gradL = sp.Matrix([sp.diff(Lf, v) for v in X])
    gradPhi = gradL / D0
    r.step("Globally Φ = L/D solves the Hamilton–Jacobi equation for every L, so ℓ_θ = −∇L + D·∇Φ = 0: the "
           "dynamics is reversible, I_ℓ = 0 and ΔΦ = ΔL/D", eq(dPhi, dL / D0),
           "substitution", "Freidlin–Wentzell theory")
    r.check("∇ΦᵀD∇Φ − ∇L·∇Φ = 0 for Φ = L/D", sp.expand((gradPhi.T * D0 * gradPhi)[0, 0] - (gradL.T * gradPhi)[0, 0]))
    ek = derive_eyring_kramers()
    ek_rate = 1 / ek.results["escape_time"]
    iso_rate = rate.subs({mu: h_be, dQa: det_a_iso, dQb: det_b_iso, dPhi: dL / D0, I_l: 0})
    ek_rate_eig = ek_rate.subs(S.det_ratio, det_b_iso / det_a_iso)
    difference = sp.simplify(iso_rate - ek_rate_eig)
    if difference != 0:
        raise AssertionError(f"derivation check failed: isotropic reduction, residual {difference}")
    r.step("With D = D₀·I the law becomes", eq(S.rate, iso_rate), "μ = |H_be|, Q = H/D, ΔΦ = ΔL/D, I_ℓ = 0",
           "substitution")
    r.step("Reduction to the Eyring–Kramers law: the rate equals the registry's eyring_kramers_rate with "
           "|det H_b|/det H_a = |H_be|Π h_bj/Π h_ai; sp.simplify(γ_BR − γ_EK) == 0",
           eq(sp.Symbol("gamma_BR") - sp.Symbol("gamma_EK"), difference), "sp.simplify of the difference",
           "Bovier–Eckhoff–Gayrard–Klein 2004; Xie et al. 2021, Eq. (6)")
    r.check("γ_BR(D = D₀·I) = γ_EK", iso_rate, ek_rate_eig)

    # --- 7. Diagonal anisotropic D with diagonal Hessians: product form; separable loss: 1-D Kramers.
    d1, d2 = sp.symbols("d_1 d_2", positive=True)
    h_a1, h_a2 = sp.symbols("h_a1 h_a2", positive=True)
    h_b2 = sp.Symbol("h_b2", positive=True)
    Dd = sp.diag(d1, d2)
    Ha_d, Hb_d = sp.diag(h_a1, h_a2), sp.diag(-h_be, h_b2)
    Qa_d, Qb_d = Dd.inv() * Ha_d, Dd.inv() * Hb_d
    r.step("Diagonal D = diag(d_1, d_2) and diagonal Hessians: Q = D⁻¹H",
           eq(sp.MatrixSymbol("Q_b", 2, 2), sp.ImmutableMatrix(Qb_d)),
           "substitution in the Lyapunov equation", "linear algebra")
    _check_matrix(r, "Σ_a = H_a⁻¹D solves H_aΣ + ΣH_a = 2D", Ha_d * Qa_d.inv() + Qa_d.inv() * Ha_d - 2 * Dd)
    _check_matrix(r, "Σ_b = H_b⁻¹D solves H_bΣ + ΣH_b = 2D", Hb_d * Qb_d.inv() + Qb_d.inv() * Hb_d - 2 * Dd)
    diag_rate = rate.subs({mu: h_be, dQa: Qa_d.det(), dQb: -Qb_d.det()})
    product = (sp.sqrt(h_a1 * h_be) / (2 * sp.pi)) * sp.sqrt(h_a2 / h_b2) * sp.exp(-I_l) * sp.exp(-dPhi)
    r.step("Product form: the diffusion coefficients cancel from the prefactor, which is the Eyring–Kramers one; "
           "only ΔΦ (and I_ℓ) depend on D", eq(S.rate, product), "det Q = det H/(d_1 d_2)", SOURCE)
    r.check("γ = √(h_a1|H_be|)/(2π)·√(h_a2/h_b2)·e^{−I_ℓ−ΔΦ} for diagonal D and Hessians", diag_rate, product)
    L1, L2 = sp.Function("L_1")(x1), sp.Function("L_2")(x2)
    gL = sp.Matrix([sp.diff(L1 + L2, v) for v in X])
    gPhi = sp.Matrix([sp.diff(L1 / d1 + L2 / d2, v) for v in X])
    r.step("Separable loss L = L_1(θ_1) + L_2(θ_2): Φ = L_1/d_1 + L_2/d_2 solves the Hamilton–Jacobi equation and "
           "ℓ_θ = 0 (reversible); with escape along θ_1, h_b2 = h_a2 and ΔΦ = ΔL/d_1",
           eq(sp.Symbol("Phi"), L1 / d1 + L2 / d2), "substitution", "Freidlin–Wentzell theory")
    r.check("∇ΦᵀD∇Φ − ∇L·∇Φ = 0 for the separable Φ", sp.expand((gPhi.T * Dd * gPhi)[0, 0] - (gL.T * gPhi)[0, 0]))
    _check_matrix(r, "ℓ_θ = −∇L + D∇Φ = 0 for the separable Φ", -gL + Dd * gPhi)
    kr = derive_kramers_1d()
    kramers_d1 = 1 / kr.results["escape_time"].subs({S.h_ae: h_a1, S.temperature: d1})
    separable = diag_rate.subs({h_b2: h_a2, I_l: 0, dPhi: dL / d1})
    r.step("…which is the 1-D Kramers rate with diffusion coefficient d_1 (the θ_1-motion is an autonomous 1-D "
           "diffusion)", eq(S.rate, separable), "the transverse factor √(h_a2/h_b2) = 1",
           "Xie et al. 2021, Eq. (6), n = 1")
    r.check("separable case = 1-D Kramers rate at temperature d_1", separable, kramers_d1)

    # --- 8. A non-commuting example: Q is not D⁻¹H and the prefactor is not the Eyring–Kramers one.
    Dn = sp.diag(1, 2)
    Ha_n = sp.Matrix([[2, 1], [1, 2]])
    Hb_n = sp.Matrix([[-1, 1], [1, 2]])
    r.step("Non-commuting example: D = diag(1, 2), H_a = [[2, 1], [1, 2]], H_b = [[−1, 1], [1, 2]]; DH_a ≠ H_aD, "
           "so D⁻¹∇L is not a gradient near a and the dynamics is not reversible",
           eq(sp.MatrixSymbol("D", 2, 2) * sp.MatrixSymbol("H_a", 2, 2)
              - sp.MatrixSymbol("H_a", 2, 2) * sp.MatrixSymbol("D", 2, 2), sp.ImmutableMatrix(Dn * Ha_n - Ha_n * Dn)),
           "matrix product", "linear algebra")
    h_, d_ = _sym2("h", real=True), _sym2("d", real=True)
    subs_a = dict(zip(list(h_) + list(d_), list(Ha_n) + list(Dn)))
    subs_b = dict(zip(list(h_) + list(d_), list(Hb_n) + list(Dn)))
    Sig_an, Sig_bn = Sig2.subs(subs_a), Sig2.subs(subs_b)
    Qa_n, Qb_n = Sig_an.inv(), Sig_bn.inv()
    r.step("Σ_a from the 2-D solution, and Q_a = Σ_a⁻¹ (not D⁻¹H_a, which is not even symmetric)",
           eq(sp.MatrixSymbol("Q_a", 2, 2), sp.ImmutableMatrix(Qa_n)),
           "substitution in the 2-D solution", "linear algebra")
    _check_matrix(r, "example: H_aΣ_a + Σ_aH_a = 2D", Ha_n * Sig_an + Sig_an * Ha_n - 2 * Dn)
    _check_matrix(r, "example: H_bΣ_b + Σ_bH_b = 2D", Hb_n * Sig_bn + Sig_bn * Hb_n - 2 * Dn)
    _check_matrix(r, "example: Q_a solves QDQ = ½(HQ + QH)", Qa_n * Dn * Qa_n - (Ha_n * Qa_n + Qa_n * Ha_n) / 2)
    _check_matrix(r, "example: Q_b solves QDQ = ½(HQ + QH)", Qb_n * Dn * Qb_n - (Hb_n * Qb_n + Qb_n * Hb_n) / 2)
    r.check("example: ∇·ℓ = tr(DQ − H) = 0 near a (linearised ℓ_θ = (DQ − H)x)", (Dn * Qa_n - Ha_n).trace())
    r.check("example: ∇·ℓ = tr(DQ − H) = 0 near b", (Dn * Qb_n - Hb_n).trace())
    r.check("example: det Q_a = 16/11", Qa_n.det(), sp.Rational(16, 11))
    r.check("example: det Q_b = −1 (index 1)", Qb_n.det(), -1)
    mu_n = (sp.sqrt(13) - 1) / 2
    r.check("example: μ = (√13 − 1)/2 is a root of det(λI + H_b)", sp.expand((mu_n * sp.eye(2) + Hb_n).det()))
    ratio_n = sp.sqrt(Qa_n.det() / -Qb_n.det()) / sp.sqrt(Ha_n.det() / -Hb_n.det())
    r.step("The prefactor differs from the Eyring–Kramers one with the same Hessians by √((det Q_a/|det Q_b|)/"
           "(det H_a/|det H_b|))", eq(sp.Symbol("gamma_BR") / sp.Symbol("gamma_EK"), ratio_n),
           "det Q_a = 16/11, |det Q_b| = 1, det H_a = 3, |det H_b| = 3", "linear algebra")
    r.check("example: prefactor ratio = 4/√11", ratio_n, 4 / sp.sqrt(11))

    return Derivation(
        key="bouchet_reygner",
        title="Non-reversible Eyring–Kramers law (Bouchet–Reygner), constant anisotropic diffusion",
        assumptions=assumptions,
        steps=tuple(r.steps),
        results={"rate": rate, "escape_time": tau, "exponent": dPhi,
                 "prefactor": 2 * sp.pi / mu * sp.sqrt(dQb / dQa) * sp.exp(I_l),
                 "rate_prefactor": mu / (2 * sp.pi) * sp.sqrt(dQa / dQb) * sp.exp(-I_l),
                 "lyapunov_2d": Sig2, "riccati": sp.ImmutableMatrix(riccati_c), "isotropic_rate": iso_rate,
                 "eyring_kramers_rate": ek_rate_eig,
                 "minimum_eigenvalues": ha, "saddle_positive_eigenvalues": hb},
        final=eq(S.rate, rate),
        matches="Bouchet & Reygner (2016), generalised Eyring–Kramers formula; Eq. (6) for D = D₀·I",
        checks=tuple(r.checks),
        notes=("μ is the unstable eigenvalue of the drift's Jacobian −H_b, hence |H_be| for every diffusion matrix; "
               "the y-coordinates Jacobian −S⁻¹H_bS is similar to −H_b, not to −DH_b.",
               "e^{−I_ℓ}, I_ℓ = ∫∇·ℓ(φ_t)dt along the instanton, is Bouchet and Reygner's non-Gibbsianness "
               "correction: it vanishes for reversible dynamics (D commuting with the Hessian along the path, e.g. "
               "D = D₀·I, or diagonal D and a separable loss) and ∇·ℓ = tr(DQ − H) = 0 near each critical point, but "
               "not in general; like ΔΦ it needs the instanton (minimum action method).",
               "Q_a, Q_b, μ and the local prefactor from the Hessians and D: "
               "bouchet_reygner_prefactor(h_a, h_b, diffusion).",
               f"The Lyapunov and change-of-variables checks are symbolic in two dimensions; the Eyring–Kramers "
               f"reduction uses explicit eigenvalue symbols for n = {n}."),
        source=SOURCE,
    )


# ------------------------------------------------------------------------------------------------ numerics
def _square(name: str, value) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise DomainError(f"{name} must be a square (d, d) array; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise DomainError(f"{name} must be finite")
    scale = max(1.0, float(np.max(np.abs(a))))
    if np.max(np.abs(a - a.T)) > 1e-10 * scale:
        raise DomainError(f"{name} is not symmetric")
    return (a + a.T) / 2


def solve_lyapunov(hessian, diffusion) -> np.ndarray:
    """The solution Σ of H Σ + Σ H = 2D for symmetric H and D, by the eigenbasis of H (Σ_ij = 2D̃_ij/(λ_i + λ_j)).

    Raises
    ------
    DomainError
        If some λ_i + λ_j vanishes (relative to the largest |λ|): the equation is singular.
    """
    h, d = np.asarray(hessian, dtype=float), np.asarray(diffusion, dtype=float)
    lam, U = np.linalg.eigh(h)
    sums = lam[:, None] + lam[None, :]
    if np.min(np.abs(sums)) <= 1e-10 * np.max(np.abs(lam)):
        raise DomainError("the Lyapunov equation H Σ + Σ H = 2D is singular: two eigenvalues of H sum to 0")
    sigma = U @ (2 * (U.T @ d @ U) / sums) @ U.T
    return (sigma + sigma.T) / 2


def bouchet_reygner_prefactor(h_a, h_b, diffusion) -> dict:
    """Local quantities of the Bouchet–Reygner law for dθ = −∇L dt + √(2D) dW with constant SPD D.

    Parameters
    ----------
    h_a, h_b : array_like, shape (d, d)
        Hessians of L at the minimum (positive definite) and at the index-1 saddle.
    diffusion : array_like, shape (d, d)
        The constant diffusion matrix D (symmetric positive definite).

    Returns
    -------
    dict
        ``mu`` (|H_be|, the positive eigenvalue of −H_b), ``det_Q_a``, ``abs_det_Q_b`` (glossary keywords of
        ``bouchet_reygner_rate``), ``prefactor`` = μ/(2π)·√(det Q_a/|det Q_b|) (the rate prefactor without the
        factor e^{−I_ℓ}), and the quasi-potential Hessians ``Q_a``, ``Q_b`` (Q⁻¹ solves H Σ + Σ H = 2D).

    Raises
    ------
    DomainError
        (a ValueError) naming the bad parameter: not square, not finite, not symmetric, h_a not positive definite,
        h_b not of index 1, diffusion not SPD, shapes differ, or the Lyapunov equation singular at the saddle.
    """
    ha, hb, d = _square("h_a", h_a), _square("h_b", h_b), _square("diffusion", diffusion)
    if not ha.shape == hb.shape == d.shape:
        raise DomainError(f"h_a, h_b and diffusion must have the same shape; got {ha.shape}, {hb.shape}, {d.shape}")
    lam_a, lam_b, lam_d = np.linalg.eigvalsh(ha), np.linalg.eigvalsh(hb), np.linalg.eigvalsh(d)
    if lam_a[0] <= 0:
        raise DomainError(f"h_a is not positive definite (smallest eigenvalue {lam_a[0]:.3g})")
    tiny = 1e-12 * np.max(np.abs(lam_b))
    if np.sum(lam_b < 0) != 1 or np.any(np.abs(lam_b) <= tiny):
        raise DomainError(f"h_b is not an index-1 saddle Hessian (one negative eigenvalue, no zero one); "
                          f"eigenvalues {np.array2string(lam_b, precision=3)}")
    if lam_d[0] <= 0:
        raise DomainError(f"diffusion is not symmetric positive definite (smallest eigenvalue {lam_d[0]:.3g})")
    sigma_a = solve_lyapunov(ha, d)
    try:
        sigma_b = solve_lyapunov(hb, d)
    except DomainError:
        raise DomainError("the Lyapunov equation at the saddle is singular: a positive eigenvalue of h_b equals "
                          "|H_be|, so Q_b is not determined") from None
    sign_a, logdet_a = np.linalg.slogdet(sigma_a)
    sign_b, logdet_b = np.linalg.slogdet(sigma_b)
    if sign_a <= 0 or sign_b >= 0:       # excluded by the inertia theorem; only rounding can get here
        raise DomainError("the Lyapunov equation at the saddle is too ill-conditioned: the inertia of Q is lost")
    mu = float(-lam_b[0])
    prefactor = mu / (2 * np.pi) * float(np.exp(0.5 * (logdet_b - logdet_a)))    # √(det Q_a/|det Q_b|)
    return {"mu": mu, "det_Q_a": float(np.exp(-logdet_a)), "abs_det_Q_b": float(np.exp(-logdet_b)),
            "prefactor": prefactor, "Q_a": np.linalg.inv(sigma_a), "Q_b": np.linalg.inv(sigma_b)}
