"""One vocabulary across the packages: the glossary's names (theory.symbols.GLOSSARY) and no synonyms.

Parsed from the source (no imports): every parameter of a public function or method and every field of a
public dataclass in theory, numerics, validation and reports. A quantity the glossary names must be
spelled as the glossary spells it; counts of runs are ``n_runs``; intervals are ``*_ci`` pairs.
"""
import ast
from pathlib import Path

import pytest

from flatminima.numerics.parts import Criterion, Dynamics, NoiseModel
from flatminima.numerics.simulate import EscapeResult
from flatminima.theory.symbols import GLOSSARY

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "numerics", "validation", "reports")

# synonym -> the one spelling used everywhere
SYNONYMS = {
    "lr": "eta", "learning_rate": "eta", "step_size": "eta",
    "batchsize": "batch_size", "bs": "batch_size",
    "sharp": "sharpness", "sharpness_factor": "sharpness",
    "temp": "temperature",
    "lam": "loss_unit", "loss_scale_unit": "loss_unit",
    "runs": "n_runs", "num_runs": "n_runs", "nruns": "n_runs", "n_trials": "n_runs",
    "hae": "h_ae", "hbe": "h_be", "delta_l": "barrier", "dL": "barrier",
    "conf_int": "ci", "confidence_interval": "ci", "ci95": "ci",
}


def _public_names(path: Path):
    """(name, line) of parameters of public functions and fields of public classes in one file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]:
                yield arg.arg, node.lineno
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    yield item.target.id, item.lineno


def test_the_synonym_table_points_at_glossary_names():
    assert set(SYNONYMS.values()) - {"n_runs", "ci"} <= set(GLOSSARY)


@pytest.mark.parametrize("package", PACKAGES)
def test_public_names_use_the_glossary_spelling(package):
    bad = [f"{p.relative_to(ROOT)}:{line} {name!r} (say {SYNONYMS[name]!r})"
           for p in sorted((ROOT / package).rglob("*.py")) for name, line in _public_names(p) if name in SYNONYMS]
    assert not bad, "synonyms of glossary names: " + "; ".join(bad)


def test_the_run_parts_and_results_spell_quantities_as_the_glossary():
    quantities = {"eta", "batch_size", "loss_unit", "temperature", "sharpness", "h_ae", "h_be", "barrier"}
    for cls in (Dynamics, NoiseModel, Criterion, EscapeResult):
        fields = set(cls.__dataclass_fields__)
        assert not fields & set(SYNONYMS), cls
        assert fields & quantities <= set(GLOSSARY)
    assert {"eta", "temperature", "batch_size", "loss_unit", "sharpness", "h_ae", "h_be", "barrier",
            "n_runs"} <= set(EscapeResult.__dataclass_fields__)


def test_the_checker_sees_a_synonym(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(lr, *, runs=1):\n    pass\n\nclass C:\n    temp: float\n")
    assert {n for n, _ in _public_names(bad)} & set(SYNONYMS) == {"lr", "runs", "temp"}
