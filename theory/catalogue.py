"""The derivation report's table of contents: sections of recorded derivations, in reading order.

Reports render these records; they never recompute. Everything here is built lazily. Each section's
introduction names the section of docs/theory.md that states the law in words.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flatminima.theory.derivation import Derivation


@dataclass(frozen=True)
class Section:
    """A report section: a title, an introduction (plain text) and its derivations."""

    title: str
    intro: str
    derivations: tuple[Derivation, ...]


@cache
def derivation_sections() -> tuple[Section, ...]:
    """All sections of the derivation report (derives every law on first call)."""
    from flatminima.theory.alternatives import derive_levy, derive_mori, derive_optimizers
    from flatminima.theory.bouchet_reygner import derive_bouchet_reygner
    from flatminima.theory.consequences import (derive_flat_vs_sharp, derive_minima_selection, derive_multiple_paths,
                                     derive_sharpness_scaling)
    from flatminima.theory.eyring_kramers import derive_eyring_kramers
    from flatminima.theory.finite_barrier import derive_kramers_next_term
    from flatminima.theory.finite_eta import derive_finite_eta_exponent
    from flatminima.theory.illposed import derive_ill_posed
    from flatminima.theory.kramers import derive_kramers_1d
    from flatminima.theory.sgd import derive_mfpt_asymptotics, derive_sde_noise, derive_sgd_exponent, derive_sgd_law
    from flatminima.theory.slopes import derive_slopes

    return (
        Section("1. Kramers law in one dimension (white noise)",
                "Flux over population (Eq. (4)) with constant diffusion D (docs/theory.md §Kramers law in 1-D), and "
                "its next term in D from the exact mean first-passage time (docs/theory.md §Finite barrier).",
                (derive_kramers_1d(), derive_kramers_next_term())),
        Section("2. Eyring–Kramers law in n dimensions (white noise)",
                "Gaussian integrals in the Hessian eigenbases of the minimum and the saddle (Eq. (6); "
                "docs/theory.md §Eyring-Kramers law). "
                "With a constant but anisotropic diffusion matrix the dynamics is no longer reversible: Bouchet and "
                "Reygner's generalisation replaces L/D by the quasi-potential, whose Hessians solve Lyapunov "
                "equations, and reduces to Eq. (6) for D = D₀·I (docs/theory.md §Bouchet-Reygner law).",
                (derive_eyring_kramers(), derive_bouchet_reygner())),
        Section("3. The SGD escape law",
                "SGD as an SDE with Hessian-shaped noise, the quasi-potential split at s, and the prefactor under "
                "three stochastic-calculus conventions (Eq. (2), (3), (7); docs/theory.md §SGD law, "
                "§The path parameter s, §Prefactor conventions, §Ill-posed Hessian noise), and the exponent of the "
                "discrete chain in powers of the learning rate (docs/theory.md §Discretisation).",
                (derive_sde_noise(), derive_sgd_exponent(), derive_mfpt_asymptotics(), derive_sgd_law(),
                 derive_ill_posed(), derive_finite_eta_exponent())),
        Section("4. Consequences",
                "Several paths, minima selection (Eq. (5)), flat versus sharp minima, the √k sharpness identities "
                "(docs/theory.md §Consequences).",
                (derive_multiple_paths(), derive_minima_selection(), derive_flat_vs_sharp(),
                 derive_sharpness_scaling())),
        Section("5. Alternative laws",
                "Mori et al.'s power law, Lévy-driven escape, and optimizer variants as formulas of the same kind "
                "(docs/theory.md §Mori power law, §Levy escape, §Optimizer exponents).",
                (derive_mori(), derive_levy(), derive_optimizers())),
        Section("6. Predicted fit slopes", "Slopes by differentiation, with the prefactor terms kept separate "
                "(docs/theory.md §Predicted slopes).",
                (derive_slopes(),)),
    )
