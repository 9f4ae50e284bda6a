"""The optimizers' step rules in numpy: heavy-ball and Nesterov momentum, Adam, PNM and Adai, with per-particle state.

Each rule takes the noise model's :class:`~numerics.noise.Kick` (the gradient g and the noise displacement ζ of
SGD at the same η) and works with the stochastic gradient in displacement units, q = η·g − ζ = η·ĝ
(ĝ = g − ζ/η; for plain SGD θ' = θ − q). The buffers hold η times the literature's (u = η·m), so no rule
divides by η:

- ``momentum`` (heavy ball, PyTorch's SGD with dampening 0): u ← βu + q, θ ← θ − u; Nesterov: θ ← θ − (q + βu);
- ``adam`` (Kingma & Ba 2015, bias-corrected): m ← β₁m + (1−β₁)q, v ← β₂v + (1−β₂)q², p₁ ← p₁β₁, p₂ ← p₂β₂
  (p = βᵗ by products), θ ← θ − η·(m·i₁)/(√(v·i₂) + ηε) with i = 1/(1−p)  (= η·m̂/(√v̂ + ε) in gradient units);
- ``pnm`` (Positive–Negative Momentum, Xie et al. 2021): two buffers alternate with the step's parity (odd steps
  update the first); the buffer of this step m⁺ ← β₁²m⁺ + (1−β₁²)q, θ ← θ − ((1+β₀)m⁺ − β₀m⁻)/√((1+β₀)²+β₀²);
- ``adai`` (Adaptive Inertia, Xie et al. 2022): v ← β₂v + (1−β₂)q², p₂ ← p₂β₂, v̂ = v/(1−p₂) (p₂ = β₂ᵗ by
  products), mean(v̂) summed over the coordinates left to right then divided by d,
  β₁ᵢ = clip(1 − β₀v̂ᵢ/mean(v̂), 0, 1−ε), m ← β₁m + (1−β₁)q, Π ← Π·β₁, θ ← θ − m/(1−Π).

The stability of each rule on a quadratic of curvature λ (the Jury conditions of its linear recursion;
docs/theory.md §Optimizer exponents) sets :meth:`StepRule.stability_limit` and the overshoot test's equivalent
gradient step :meth:`StepRule.overshoot_rate`: an exit taken by a step that plain gradient descent at that rate
would take uphill is an overshoot of an unstable iteration, reported as divergence (as for SGD).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = ["StepRule", "step_rule", "pnm_stability_limit"]


@dataclass
class StepRule:
    """One optimizer's update of n particles with per-particle state (arrays of shape (n, d), steps t (n,))."""

    kind: str
    eta: float
    hyper: dict
    state: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ state
    def start(self, n: int, d: int) -> None:
        """Zero state for n fresh particles (buffers 0, step count 0, Adai's Π = 1, Adam's and Adai's p = 1)."""
        names = {"sgd": (), "momentum": ("u",), "adam": ("m", "v"), "pnm": ("m1", "m2"),
                 "adai": ("m", "v", "prod")}[self.kind]
        self.state = {k: np.zeros((n, d)) for k in names}
        if "prod" in self.state:
            self.state["prod"][:] = 1.0
        if self.kind == "adam":            # β₁ᵗ and β₂ᵗ by repeated products (no pow: the same bits everywhere)
            self.state["p1"] = np.ones((n, 1))
        if self.kind in ("adam", "adai"):
            self.state["p2"] = np.ones((n, 1))
        self.state["t"] = np.zeros(n, np.int64)

    def keep(self, mask: np.ndarray) -> None:
        """Keep the state of the particles where ``mask`` is true (the others have finished)."""
        self.state = {k: v[mask] for k, v in self.state.items()}

    # ------------------------------------------------------------------ one step
    def step(self, theta: np.ndarray, kick) -> np.ndarray:
        """θ after one step of every particle, from its Kick (the state advances)."""
        eta, h, st = self.eta, self.hyper, self.state
        q = eta * kick.grad if kick.zeta is None else eta * kick.grad - kick.zeta
        st["t"] += 1
        if self.kind == "sgd":
            new = theta - q
        elif self.kind == "momentum":
            b = h["momentum"]
            u = st["u"] = b * st["u"] + q
            new = theta - (q + b * u) if h["nesterov"] else theta - u
        elif self.kind == "adam":
            b1, b2, eps = h["momentum"], h["beta2"], h["epsilon"]
            m = st["m"] = b1 * st["m"] + (1.0 - b1) * q
            v = st["v"] = b2 * st["v"] + (1.0 - b2) * (q * q)
            p1 = st["p1"] = st["p1"] * b1
            p2 = st["p2"] = st["p2"] * b2
            # the bias corrections as reciprocals: one division per particle and step, not per coordinate
            # (the compiled loops are divider-bound: docs in benchmarks/OPTIMIZERS.md)
            i1, i2 = 1.0 / (1.0 - p1), 1.0 / (1.0 - p2)
            new = theta - eta * (m * i1) / (np.sqrt(v * i2) + eta * eps)
        elif self.kind == "pnm":
            b, b0 = h["momentum"] ** 2, h["pnm_beta0"]
            odd = (st["t"] % 2 == 1)[:, None]
            pos = np.where(odd, st["m1"], st["m2"])
            neg = np.where(odd, st["m2"], st["m1"])
            pos = b * pos + (1.0 - b) * q
            st["m1"] = np.where(odd, pos, st["m1"])
            st["m2"] = np.where(odd, st["m2"], pos)
            new = theta - ((1.0 + b0) * pos - b0 * neg) / np.sqrt((1.0 + b0) ** 2 + b0 ** 2)
        else:                                               # adai
            b0, b2, eps = h["adai_beta0"], h["beta2"], h["epsilon"]
            v = st["v"] = b2 * st["v"] + (1.0 - b2) * (q * q)
            p2 = st["p2"] = st["p2"] * b2
            vhat = v / (1.0 - p2)
            # the mean summed left to right (numpy's mean sums pairwise from d = 8 on): the compiled loop's order
            total = vhat[:, 0]
            for j in range(1, vhat.shape[1]):
                total = total + vhat[:, j]
            mean = (total / vhat.shape[1])[:, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                b1 = np.clip(1.0 - b0 * vhat / mean, 0.0, 1.0 - eps)
            m = st["m"] = b1 * st["m"] + (1.0 - b1) * q
            prod = st["prod"] = st["prod"] * b1
            st["b1"] = b1
            new = theta - m / (1.0 - prod)
        return new

    # ------------------------------------------------------------------ stability
    def stability_limit(self, dim: int | None = None) -> float:
        """A with the iteration stable on a quadratic of curvature λ iff η·P·λ < A (P the preconditioner).

        Adai's β₁ = clip(1 − β₀v̂ᵢ/mean v̂, 0, 1 − ε) is the constant 1 − β₀ in 1-D (``dim`` = 1), where it is an EMA
        momentum like Adam's; in d > 1 a coordinate can have β₁ = 0, so A = 2 (plain gradient descent) bounds it.
        """
        h = self.hyper
        if self.kind == "adai" and dim == 1:
            b = min(max(1.0 - h["adai_beta0"], 0.0), 1.0 - h["epsilon"])
            return 2.0 * (1.0 + b) / (1.0 - b)
        if self.kind == "momentum":
            b = h["momentum"]
            return 2.0 * (1.0 + b) / (1.0 + 2.0 * b) if h["nesterov"] else 2.0 * (1.0 + b)
        if self.kind == "adam":                  # EMA momentum: step η(1−β₁)P, momentum β₁
            b = h["momentum"]
            return 2.0 * (1.0 + b) / (1.0 - b)
        if self.kind == "pnm":
            return pnm_stability_limit(h["momentum"], h["pnm_beta0"])
        return 2.0                                # sgd; adai in d > 1 at its worst case β₁ = 0

    def effective_rate(self) -> float:
        """The learning rate of the SGD this rule equals in the diffusion limit (before any preconditioner).

        One gradient's total displacement over all later steps: η/(1−β) for heavy ball and Nesterov, η for the
        EMA momenta of Adam and Adai, η/√((1+β₀)²+β₀²) for PNM (docs/theory.md §Optimizer exponents).
        """
        h = self.hyper
        if self.kind == "momentum":
            return self.eta / (1.0 - h["momentum"])
        if self.kind == "pnm":
            b0 = h["pnm_beta0"]
            return self.eta / np.sqrt((1.0 + b0) ** 2 + b0 ** 2)
        return self.eta

    def overshoot_rate(self, sel=None) -> np.ndarray | float:
        """The gradient-descent rate (per coordinate for Adam and Adai) unstable exactly where this rule is.

        Plain GD at rate r is unstable iff r·λ > 2, so r = 2η·P/A (A = :meth:`stability_limit`); Adam uses its
        current preconditioner P = 1/(√v̂ + ε), Adai its current β₁ per coordinate.
        """
        eta, h, st = self.eta, self.hyper, self.state
        if self.kind == "adam":
            v = st["v"][sel] * (1.0 / (1.0 - st["p2"][sel]))
            return 2.0 * eta * eta / ((np.sqrt(v) + eta * h["epsilon"]) * self.stability_limit())
        if self.kind == "adai" and "b1" in st:
            b1 = st["b1"][sel]
            return eta * (1.0 - b1) / (1.0 + b1)
        return 2.0 * eta / self.stability_limit()


def step_rule(dynamics) -> StepRule:
    """The step rule of a :class:`numerics.parts.Dynamics` part."""
    return StepRule(dynamics.kind, float(dynamics.eta), dynamics.hyperparameters())


@lru_cache(maxsize=64)
def pnm_stability_limit(beta1: float, beta0: float) -> float:
    """The largest ηλ for which PNM is stable on L = λx²/2: spectral radius of its two-step map below 1 (bisection).

    State (x, m₁, m₂) with q = ηλ·x; odd steps update m₁ and step with (1+β₀)m₁ − β₀m₂, even steps the reverse.
    """
    b, n = beta1 ** 2, np.sqrt((1 + beta0) ** 2 + beta0 ** 2)

    def radius(a):
        def one(first):
            # buffer update m ← b m + (1 − b) a x, then x ← x − ((1+β₀) m⁺ − β₀ m⁻)/n
            M = np.eye(3)
            i, j = (1, 2) if first else (2, 1)
            U = np.eye(3)
            U[i, i], U[i, 0] = b, (1 - b) * a
            X = np.eye(3)
            X[0, i] -= (1 + beta0) / n
            X[0, j] += beta0 / n
            return X @ U @ M
        return max(abs(np.linalg.eigvals(one(False) @ one(True))))

    lo, hi = 0.0, 1.0
    while radius(hi) < 1.0 and hi < 1e6:
        lo, hi = hi, 2 * hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if radius(mid) < 1.0 else (lo, mid)
    return float(lo)
