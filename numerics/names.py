"""Landscapes by name, as the command line writes them.

Forms: ``styblinski-tang:dim=10``, ``mlp:data=wine,hidden=16``, ``path/to/file.py:function``.
A user file's function takes θ (a 1-D array) and is written with ``autograd.numpy``; its dimension
comes from a ``dim`` attribute on the function, a module-level ``DIM``, or the ``dim`` argument here
(the CLI passes the length of ``--minimum``).
"""
from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from typing import Callable

import autograd.numpy as anp
import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import builtins
from flatminima.numerics.errors import LandscapeError
from flatminima.numerics.landscape import Landscape, probe_vectorised


def _mlp(**kwargs):
    from flatminima.numerics.mlp import mlp
    return mlp(**kwargs)


# ---------------------------------------------------------------------- finite sums
# (here, not in numerics.builtins: the base is a landscape by name, made by build_landscape)
def finite_sum(base: str = "double-well", n_samples: int = 64, spread: float = 0.1, seed: int = 0) -> Landscape:
    """L(θ) = (1/m) Σ_j f(θ − c_j): a built-in test function f averaged over m per-sample shifts.

    The shifts c_j are drawn N(0, spread²·I) from ``seed`` and then centred (Σ_j c_j = 0), so minibatch
    SGD on L is genuine SGD: a minibatch gradient is the mean of per-sample gradients ∇f(θ − c_j).

    Parameters
    ----------
    base : str
        A built-in landscape name with its parameters, written with ``;`` between parameters,
        e.g. ``styblinski-tang;dim=2`` or ``double-well``.
    n_samples : int ≥ 2
        m, the number of samples.
    spread : float ≥ 0
        Standard deviation of the shifts.
    seed : int
        Seed of the shifts (numpy SeedSequence entropy).
    """
    if int(n_samples) != n_samples or n_samples < 2:
        raise LandscapeError(f"n_samples must be an integer >= 2; got {n_samples}")
    spread = float(spread)
    if not np.isfinite(spread) or spread < 0:
        raise LandscapeError(f"spread must be a finite number >= 0; got {spread}")
    m = int(n_samples)
    f = build_landscape(base.replace(";", ":", 1).replace(";", ","))
    d = f.dim
    shifts = np.random.default_rng(np.random.SeedSequence(int(seed))).standard_normal((m, d)) * spread
    shifts -= shifts.mean(axis=0)
    fl = f.loss

    def loss(theta):
        # theta (d,) or (d, n): per-sample arguments (d, m[, n])
        shifted = theta[:, None] - (shifts.T if theta.ndim == 1 else shifts.T[:, :, None])
        return anp.mean(fl(shifted), axis=0)

    def minibatch_loss(theta, idx):
        # theta (d, R), idx (B, R) -> mean over each replica's batch, (R,)
        c = shifts[idx]                               # (B, R, d)
        return anp.mean(fl(theta[:, None, :] - np.moveaxis(c, 2, 0)), axis=0)

    def sample_loss(theta, idx):
        return fl(theta[:, None] - shifts[np.asarray(idx)].T)

    return Landscape(
        name=f"finite-sum:base={base},n_samples={m},spread={spread:g},seed={int(seed)}", dim=d, loss=loss,
        minima=f.minima, saddles=f.saddles,
        params={"base": base, "n_samples": m, "spread": spread, "seed": int(seed)},
        n_samples=m, minibatch_loss=minibatch_loss, sample_loss=sample_loss,
        description=f"mean over {m} shifted copies of {f.name} (hints are those of the unshifted function)",
    )


BUILTINS: dict[str, Callable[..., Landscape]] = {
    "styblinski-tang": builtins.styblinski_tang,
    "double-well": builtins.double_well,
    "two-well-2d": builtins.two_well_2d,
    "muller-brown": builtins.muller_brown,
    "finite-sum": finite_sum,
    "mlp": _mlp,
}


def _factory_signature(name: str) -> inspect.Signature:
    if name == "mlp":
        from flatminima.numerics.mlp import mlp
        return inspect.signature(mlp)
    return inspect.signature(BUILTINS[name])


def _convert(text: str, default):
    if isinstance(default, bool):
        if text.lower() in ("1", "true", "yes"):
            return True
        if text.lower() in ("0", "false", "no"):
            return False
        raise InputError(text)
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float) or default is None:
        return float(text)
    return text


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``name:key=value,key=value`` into the name and raw string parameters."""
    name, colon, rest = spec.partition(":")
    params: dict[str, str] = {}
    if colon and not rest.strip():
        raise LandscapeError(f"landscape parameters must follow the colon as key=value[,key=value]; got {spec!r}")
    if rest:
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise LandscapeError(f"landscape parameters must be key=value; got {item!r} in {spec!r}")
            params[key.strip()] = value.strip()
    return name.strip(), params


def build_landscape(spec: str, *, dim: int | None = None) -> Landscape:
    """A landscape from a built-in spec or ``path/to/file.py:function``."""
    if not isinstance(spec, str) or not spec.strip():
        raise LandscapeError("LANDSCAPE must be a built-in name or path/to/file.py:function")
    head = spec.split(":", 1)[0]
    if head.endswith(".py"):
        return load_user_landscape(spec, dim=dim)
    name, raw = parse_spec(spec)
    if name not in BUILTINS:
        raise LandscapeError(f"unknown landscape {name!r}; built-ins: {', '.join(sorted(BUILTINS))} "
                             "(or path/to/file.py:function)")
    sig = _factory_signature(name)
    kwargs = {}
    for key, text in raw.items():
        if key not in sig.parameters:
            allowed = ", ".join(sig.parameters) or "none"
            raise LandscapeError(f"unknown parameter {key!r} for {name}; allowed: {allowed}")
        default = sig.parameters[key].default
        try:
            kwargs[key] = _convert(text, default)
        except ValueError:
            kind = ("true or false" if isinstance(default, bool) else
                    "an integer" if isinstance(default, int) else "a number")
            raise LandscapeError(f"parameter {key} of {name} must be {kind}; got {text!r}") from None
    return BUILTINS[name](**kwargs)


def load_user_landscape(spec: str, *, dim: int | None = None) -> Landscape:
    """Load ``path/to/file.py:function`` as a landscape, checking file, function, dimension and value."""
    path_text, sep, func_name = spec.rpartition(":")
    if not sep or not path_text.endswith(".py") or not func_name:
        raise LandscapeError(f"a landscape file is given as path/to/file.py:function; got {spec!r}")
    path = Path(path_text)
    if not path.is_file():
        raise LandscapeError(f"landscape file not found: {path}")
    module_name = f"_flatminima_user_{abs(hash(str(path.resolve())))}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(loader_spec)
    try:
        loader_spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise LandscapeError(f"landscape file {path} has a syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:  # the user's module failed at import
        raise LandscapeError(f"landscape file {path} failed to import: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, func_name, None)
    if fn is None or not callable(fn):
        funcs = [n for n, v in vars(module).items() if inspect.isfunction(v) and v.__module__ == module_name]
        raise LandscapeError(f"no function {func_name!r} in {path}; functions there: {', '.join(funcs) or 'none'}")
    d = getattr(fn, "dim", None) or getattr(module, "DIM", None) or dim
    if d is None:
        raise LandscapeError(f"cannot tell the dimension of {spec}: set {func_name}.dim or DIM in the file, "
                             "or pass --minimum")
    if dim is not None and int(d) != int(dim):
        raise LandscapeError(f"dimension mismatch: {spec} declares dim={d} but --minimum has {dim} coordinates")
    d = int(d)
    minima = tuple(np.atleast_1d(np.asarray(m, float)) for m in getattr(fn, "minima", ()) or ())
    saddles = tuple(np.atleast_1d(np.asarray(s, float)) for s in getattr(fn, "saddles", ()) or ())
    finite_sum = _per_sample_losses(spec, fn, module, d, minima[0] if minima else np.zeros(d))
    land = Landscape(name=spec, dim=d, loss=fn, minima=minima, saddles=saddles,
                     params={"file": str(path), "function": func_name},
                     vectorised=probe_vectorised(fn, d), description=(fn.__doc__ or "").strip().split("\n")[0],
                     **finite_sum)
    probe = minima[0] if minima else np.zeros(d)
    try:
        land.value(probe)
    except LandscapeError:
        raise
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else ""
        raise LandscapeError(f"{spec} failed at θ={probe.tolist()}: {type(exc).__name__}: {msg} "
                             f"(is dim={d} right?)") from None
    land.grad(probe)   # raises NotDifferentiableError with a one-line message
    return land


def _per_sample_losses(spec: str, fn, module, dim: int, probe: np.ndarray) -> dict:
    """The finite-sum fields of a user loss that declares per-sample losses, or {} when it declares none.

    A loss file may define ``sample_losses(theta, idx)``, the losses ℓ_j(θ) of the samples j in the
    integer array ``idx`` (shape (B,) → (B,)), and the number of samples m, as attributes of the loss
    function (``loss.sample_losses``, ``loss.n_samples``) or at module level (``sample_losses``,
    ``N_SAMPLES``). The loss must be their mean, L(θ) = (1/m) Σ_j ℓ_j(θ); then minibatch SGD
    (``--noise minibatch``) runs on it. ``sample_losses`` may also take θ of shape (d, R) with idx of
    shape (B, R) and return (B, R) (one minibatch per column), which is faster.
    """
    sample = getattr(fn, "sample_losses", None) or getattr(module, "sample_losses", None)
    m = getattr(fn, "n_samples", None) or getattr(module, "N_SAMPLES", None)
    if sample is None and m is None:
        return {}
    if sample is None or m is None:
        raise LandscapeError(f"{spec}: per-sample losses need both sample_losses(theta, idx) and n_samples "
                             "(attributes of the loss function, or sample_losses and N_SAMPLES in the file)")
    if not callable(sample):
        raise LandscapeError(f"{spec}: sample_losses must be a function of (theta, idx)")
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise LandscapeError(f"{spec}: n_samples must be an integer >= 2; got {m!r}")
    m = int(m)
    idx = np.arange(m)
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(sample(probe, idx), float)
            full = float(np.asarray(fn(probe), float))
    except Exception as exc:
        raise LandscapeError(f"{spec}: sample_losses(theta, idx) failed at θ={probe.tolist()}: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    if values.shape != (m,):
        raise LandscapeError(f"{spec}: sample_losses(theta, idx) must return one loss per index, shape ({m},) for "
                             f"idx = arange({m}); got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise LandscapeError(f"{spec}: sample_losses returned a non-finite loss at θ={probe.tolist()}")
    if abs(values.mean() - full) > 1e-8 * (1.0 + abs(full)):
        raise LandscapeError(f"{spec}: the loss must be the mean of sample_losses over the {m} samples; at "
                             f"θ={probe.tolist()} the loss is {full:.10g} but the mean is {values.mean():.10g}")
    vectorised = _probe_sample_vectorised(sample, dim, m)

    def minibatch_loss(theta, idx):
        # theta (d, R), idx (B, R) -> the mean loss of each replica's minibatch, (R,)
        if vectorised:
            return anp.mean(sample(theta, idx), axis=0)
        return anp.stack([anp.mean(sample(theta[:, r], idx[:, r])) for r in range(idx.shape[1])])

    return {"n_samples": m, "minibatch_loss": minibatch_loss, "sample_loss": sample}


def _probe_sample_vectorised(sample, dim: int, m: int) -> bool:
    """Whether sample_losses maps θ (d, R) and idx (B, R) to (B, R), equal to per-column calls."""
    rng = np.random.default_rng(0)
    theta = rng.standard_normal((dim, 3))
    idx = rng.integers(0, m, size=(2, 3))
    try:
        with np.errstate(all="ignore"):
            batch = np.asarray(sample(theta, idx), float)
            single = np.stack([np.asarray(sample(theta[:, r], idx[:, r]), float) for r in range(3)], axis=1)
    except Exception:
        return False
    return batch.shape == (2, 3) and np.allclose(batch, single, rtol=1e-12, atol=1e-12, equal_nan=True)
