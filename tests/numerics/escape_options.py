"""Test helper: ``simulate_escape`` called with the flat option names of the configs and the CLI."""
from flatminima.numerics.parts import escape_parts
from flatminima.numerics.simulate import simulate_escape


def simulate(landscape, start, **options):
    """``simulate_escape`` with its parts built by ``escape_parts`` from ``options`` (n_runs, max_steps, seed pass on)."""
    run = {k: options.pop(k) for k in ("n_runs", "max_steps", "seed") if k in options}
    return simulate_escape(landscape, start, **escape_parts(**options), **run)
