"""The parts of a run (numerics.parts): frozen, validated once with one-line errors, round-tripped through configs."""
import dataclasses
import inspect

import numpy as np
import pytest

from flatminima.errors import InputError
from flatminima.numerics import criteria, noise
from flatminima.numerics.parts import (CRITERION_KINDS, NOISE_KINDS, Basin, Criterion, Dynamics, Execution, NoiseModel,
                                       escape_parts, run_config)
from flatminima.numerics.simulate import simulate_escape
from flatminima.validation.store import canonical_json

CONFIGS = [
    dict(noise="white", temperature=0.1, criterion="radius", radius=0.5, eta=0.01),
    dict(noise="hessian_fixed", batch_size=4, loss_unit=10.0, criterion="dividing_surface", plane_offset=0.2,
         bridge=False, eta=0.002, saddle=[0.0, 0.0], escape_direction=[1.0, 0.0], minimum=[-1.0, 0.0]),
    dict(noise="hessian_two_region", batch_size=1, criterion="loss_level", fraction=0.5, eta=0.05, split=[-0.4]),
    dict(noise="hessian_psd", batch_size=2, delta=0.1, criterion="basin", check_every=10, capture_radius=0.2,
         eta=0.01, minima=[[-1.0], [1.0]]),
    dict(noise="levy", temperature=0.2, alpha=1.5, criterion="radius", radius=1.0, eta=0.01, backend="numpy",
         chunk_size=16),
    dict(noise="minibatch", batch_size=8, replacement=False, criterion="loss_level", eta=0.1),
]


@pytest.mark.parametrize("options", CONFIGS)
def test_a_run_config_round_trips_and_hashes_by_value(options):
    parts = escape_parts(**options)
    config = run_config(**parts)
    again = escape_parts(**config)
    assert again == parts                                   # frozen dataclasses compare by value
    assert canonical_json(config) == canonical_json(run_config(**again))
    assert "noise" in config and "criterion" in config and config["eta"] == options["eta"]


def test_parts_are_frozen():
    part = NoiseModel("white", temperature=0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        part.temperature = 0.2


def test_values_are_normalised_at_construction():
    assert Dynamics(eta=np.float32(0.5)).eta == 0.5 and type(Dynamics(eta=1).eta) is float
    assert NoiseModel("hessian_fixed", batch_size=np.int64(3)).batch_size == 3
    b = Basin(minimum=np.array([-1.0, 0.0]), saddles=[0.0, 0.0])
    assert b.minimum == (-1.0, 0.0) and b.saddles == ((0.0, 0.0),)
    assert np.array_equal(b.array("saddles"), [[0.0, 0.0]])


@pytest.mark.parametrize("make,needle", [
    (lambda: Dynamics(eta=0.0), "eta must be a finite number > 0"),
    (lambda: Dynamics(eta=0.1, kind="lion"), "unknown optimizer 'lion'"),
    (lambda: Dynamics(eta=0.1, kind="momentum", momentum=1.0), "momentum must be in [0, 1)"),
    (lambda: Dynamics(eta=0.1, kind="adam", epsilon=-1e-8), "epsilon must be a finite number >= 0"),
    (lambda: Dynamics(eta=0.1, kind="sgd", momentum=0.9), "momentum does not apply to the sgd optimizer"),
    (lambda: Dynamics(eta=0.1, kind="adam", pnm_beta0=1.0), "pnm_beta0 does not apply to the adam optimizer"),
    (lambda: Dynamics(eta=0.1, kind="adai", epsilon=1.0), "epsilon must be in (0, 1) for adai"),
    (lambda: Dynamics(eta=0.1, kind="momentum", nesterov="yes"), "nesterov must be true or false"),
    (lambda: NoiseModel("pink"), "unknown noise 'pink'"),
    (lambda: NoiseModel("white"), "temperature is required for white noise"),
    (lambda: NoiseModel("white", temperature=0.1, batch_size=2), "batch_size applies only to SGD-type noise"),
    (lambda: NoiseModel("hessian_fixed"), "batch_size is required"),
    (lambda: NoiseModel("hessian_fixed", batch_size=0), "batch_size must be an integer >= 1"),
    (lambda: NoiseModel("hessian_fixed", batch_size=True), "batch_size must be an integer >= 1"),
    (lambda: NoiseModel("levy", temperature=0.1, alpha=2.5), "alpha must be in (0, 2]"),
    (lambda: NoiseModel("hessian_psd", batch_size=1, delta=-1), "delta must be a finite number >= 0"),
    (lambda: NoiseModel("loss_hessian", batch_size=1, loss_unit=2.0), "loss_unit must be 1 for loss_hessian"),
    (lambda: NoiseModel("white", temperature=0.1, split=[0.0]), "split applies only to hessian_two_region"),
    (lambda: Criterion("radius"), "radius is required for the radius criterion"),
    (lambda: Criterion("basin", radius=1.0), "radius applies only to the radius criterion"),
    (lambda: Criterion("basin", check_every=0), "check_every must be an integer >= 1"),
    (lambda: Criterion("dividing_surface", plane_offset=float("inf")), "plane_offset must be a finite number"),
    (lambda: Basin(minimum=[0.0, np.nan]), "minimum must be a finite vector"),
    (lambda: Basin(minimum=[0.0], saddles=[0.0, 1.0]), "must have one dimension"),
    (lambda: Basin(escape_directions=[1.0]), "escape_direction needs one row per saddle"),
    (lambda: Basin(saddles=[0.0], escape_directions=[0.0]), "escape_direction must be non-zero"),
    (lambda: Execution(backend="gpu"), "unknown backend 'gpu'"),
    (lambda: escape_parts(noise="white", temperature=0.1, criterion="radius", radius=1, eta=0.1, tempreature=1),
     "unknown run option 'tempreature'"),
    (lambda: escape_parts(noise="white", temperature=0.1, criterion="radius", radius=1), "eta is required"),
])
def test_bad_parts_are_one_line_input_errors(make, needle):
    with pytest.raises(InputError) as info:
        make()
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_one_vocabulary_of_kinds():
    assert NOISE_KINDS == noise.NOISE_MODELS
    assert CRITERION_KINDS == criteria.CRITERIA


def test_the_entry_point_takes_parts_and_few_parameters():
    assert len(inspect.signature(simulate_escape).parameters) <= 12
    from flatminima.numerics import build_landscape
    land = build_landscape("double-well")
    with pytest.raises(InputError, match="noise must be a numerics.parts object"):
        simulate_escape(land, [-1.0], dynamics=Dynamics(0.01), noise="white", criterion=Criterion("radius", radius=1),
                        n_runs=1, max_steps=1, seed=0)
    with pytest.raises(InputError, match=r"minimum must be a finite array of shape \(1,\)"):
        simulate_escape(land, [-1.0], **escape_parts(noise="white", temperature=0.1, criterion="radius", radius=1.0,
                                                     eta=0.01, minimum=[0.0, 0.0]), n_runs=1, max_steps=1, seed=0)


def test_each_part_declares_its_compiled_counterpart():
    """The declarations the simulator's path choice reads (numerics.simulate.compiled.find_kernel)."""
    assert Dynamics(0.1).compiled
    assert {k: NoiseModel(k, **({"temperature": 1.0} if k in ("white", "levy") else {"batch_size": 1})).compiled
            for k in NOISE_KINDS} == {"white": "fixed_noise", "hessian_fixed": "fixed_noise",
                                      "hessian_two_region": "fixed_noise", "hessian_psd": "psd_noise",
                                      "loss_hessian": None, "levy": None, "minibatch": None}
    assert Criterion("dividing_surface").compiled and Criterion("radius", radius=1, bridge=False).compiled
    assert not Criterion("radius", radius=1).compiled and not Criterion("basin").compiled
    from flatminima.numerics import build_landscape
    with pytest.raises(InputError, match="no compiled kernel for levy noise"):
        simulate_escape(build_landscape("double-well"), [-1.0],
                        **escape_parts(noise="levy", temperature=0.1, criterion="dividing_surface", eta=0.01,
                                       backend="numba"), n_runs=1, max_steps=1, seed=0)
