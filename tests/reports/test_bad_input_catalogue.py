"""A catalogue of bad input (issue 7): every case exits 2 with one line naming the parameter and what is
allowed, no traceback, and nothing written (OUT absent, or unchanged when it existed).

Infeasible but legal settings are not errors: a run where no escape is expected exits 0 with a warning
in the experiment's ``warnings`` (see ``test_no_escape_expected_is_a_warning_not_an_error``).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from flatminima.reports.cli import main

ROOT = Path(__file__).resolve().parents[2]

FILES = {
    "syntax.py": "def f(theta)\n    return 1\n",
    "nofunc.py": "x = 1\n",
    "shapes.py": """import autograd.numpy as np
import numpy


def vec(theta):
    return theta ** 2


def nan(theta):
    return np.sum(theta ** 2) * np.nan


def nondiff(theta):
    return float(numpy.sum(numpy.asarray(theta) ** 2))


def raises(theta):
    raise RuntimeError("boom")


def nodim(theta):
    return np.sum((theta ** 2 - 1) ** 2)
""",
}

# (argv, needle); {d} is a folder holding FILES, {out} a results folder that must not appear
CASES = [
    # check: numbers out of range or malformed
    (["check", "double-well", "--eta", "-0.1"], "--eta must be a finite number > 0"),
    (["check", "double-well", "--eta", "0"], "--eta must be a finite number > 0"),
    (["check", "double-well", "--eta", "nan"], "--eta must be a finite number > 0"),
    (["check", "double-well", "--eta", "abc"], "--eta must be a finite number > 0; got 'abc'"),
    (["check", "double-well", "--temperature", "0"], "--temperature must be a finite number > 0"),
    (["check", "double-well", "--temperature", "-1"], "--temperature must be a finite number > 0"),
    (["check", "double-well", "--loss-unit", "0"], "--loss-unit must be a finite number > 0"),
    (["check", "double-well", "--loss-unit", "x"], "--loss-unit must be a finite number > 0"),
    (["check", "double-well", "--batch-size", "0"], "--batch-size must be an integer >= 1"),
    (["check", "double-well", "--batch-size", "2.5"], "--batch-size must be an integer >= 1"),
    (["check", "double-well", "--batch-size", "-4"], "--batch-size must be an integer >= 1"),
    (["check", "double-well", "--runs", "0"], "--runs must be an integer >= 1"),
    (["check", "double-well", "--runs", "many"], "--runs must be an integer >= 1"),
    (["check", "double-well", "--max-steps", "0"], "--max-steps must be an integer >= 1"),
    (["check", "double-well", "--max-steps", "1e3"], "--max-steps must be an integer >= 1"),
    (["check", "double-well", "--seed", "-1"], "--seed must be an integer >= 0"),
    (["check", "double-well", "--seed", "x"], "--seed must be an integer >= 0"),
    (["check", "double-well", "--dynamics", "adam"], "argument --dynamics: invalid choice: 'adam'"),
    (["check", "double-well", "--noise", "bogus"], "--noise must be one of white,"),
    (["check", "double-well", "--criterion", "bogus"], "--criterion must be one of dividing_surface, basin"),
    (["check", "double-well", "--minimum=a"], "--minimum: expected comma-separated numbers"),
    (["check", "double-well", "--minimum=1,2,3"], "--minimum has 3 coordinates"),
    (["check", "double-well", "--dynamics", "sgld", "--batch-size", "4"], "--batch-size applies to --dynamics sgd only"),
    (["check", "double-well", "--dynamics", "sgd", "--temperature", "1"], "--temperature applies to --dynamics sgld only"),
    (["check", "double-well", "--dynamics", "sgld", "--noise", "hessian_two_region"], "--dynamics sgld means --noise white"),
    # infeasible: η·λ_max ≥ 2 makes the minimum unstable (λ_max = 2 on the double well, ≈ 34.6 on Styblinski-Tang)
    (["check", "double-well", "--eta", "1.0"], "--eta must be < 2/λ_max(H_a) = 1 "),
    (["check", "styblinski-tang:dim=1", "--dynamics", "sgld", "--eta", "0.06"], "--eta must be < 2/λ_max(H_a) = 0.0578"),
    # landscape specs
    (["check", "styblinski-tang:dim=0"], "dim must be an integer >= 1; got 0"),
    (["check", "styblinski-tang:dim=-2"], "dim must be an integer >= 1; got -2"),
    (["check", "styblinski-tang:dim=abc"], "parameter dim of styblinski-tang"),
    (["check", "double-well:barrier_left=-1"], "barrier_left must be a finite number > 0"),
    (["check", "double-well:h_left=0"], "h_left must be a finite number > 0"),
    (["check", "rosenbrock"], "unknown landscape 'rosenbrock'; built-ins: double-well"),
    (["check", "double-well:foo=1"], "unknown parameter 'foo' for double-well; allowed: barrier_left"),
    (["landscape", "styblinski-tang:dims=2"], "unknown parameter 'dims' for styblinski-tang; allowed: dim"),
    # landscape files
    (["check", "{d}/missing.py:f", "--minimum=0"], "landscape file not found"),
    (["check", "{d}/syntax.py:f", "--minimum=0"], "syntax error at line 1"),
    (["check", "{d}/nofunc.py:f", "--minimum=0"], "no function 'f' in"),
    (["check", "{d}/shapes.py:vec", "--minimum=0,0"], "the loss must return a scalar; got shape (2,)"),
    (["check", "{d}/shapes.py:nan", "--minimum=0,0"], "is not finite (NaN or inf)"),
    (["check", "{d}/shapes.py:nondiff", "--minimum=0,0"], "autograd cannot compute the gradient"),
    (["check", "{d}/shapes.py:raises", "--minimum=0,0"], "raises failed at θ=[0.0, 0.0]: RuntimeError: boom"),
    (["check", "{d}/shapes.py:nodim"], "cannot tell the dimension"),
    (["check", "{d}/shapes.py", "--minimum=0"], "path/to/file.py:function"),
    # validate
    (["validate", "--suite", "nope"], "unknown suite 'nope'; suites: quick"),
    (["validate", "--suite", "quick", "--size", "huge"], "--size must be one of default, full"),
    (["validate", "--suite", "quick", "--workers", "0"], "--workers must be an integer >= 1"),
    (["validate", "--suite", "quick", "--workers", "two"], "--workers must be an integer >= 1"),
    (["validate", "--suite", "quick", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
     "argument --scheduler: not allowed with argument --workers"),
    (["validate", "--suite", "quick", "--scheduler", "foo://bar"], "--scheduler must be an address like tcp://"),
    (["validate", "--suite", "quick", "--scheduler", "tcp://127.0.0.1:1"], "no Dask scheduler answered"),
    (["validate"], "the following arguments are required: --suite"),
    # output folders and other commands
    (["check", "double-well", "--out", "/proc/flatminima-out"], "--out /proc/flatminima-out is not writable"),
    (["check", "double-well", "--out", "{d}/nofunc.py"], "is a file; it must be a folder"),
    (["validate", "--suite", "quick", "--out", "{d}/nofunc.py/sub"], "is not writable"),
    (["report", "{out}"], "has no result.json"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "required: COMMAND"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("landscapes")
    for name, text in FILES.items():
        (d / name).write_text(text)
    return d


def _argv(argv, files, out):
    argv = [a.replace("{d}", str(files)).replace("{out}", str(out)) for a in argv]
    if argv[:1] in (["check"], ["validate"]) and "--out" not in argv:
        argv += ["--out", str(out)]
    return argv


def _snapshot(folder: Path):
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


@pytest.mark.parametrize("argv,needle", CASES, ids=[" ".join(a)[:60] or "<empty>" for a, _ in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(capsys, files, tmp_path, argv, needle):
    out = tmp_path / "out"
    before = _snapshot(files)
    code = main(_argv(argv, files, out))
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.startswith("flatminima: error: ") and captured.err.count("\n") == 1, captured.err
    assert needle in captured.err, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists()
    assert _snapshot(files) == before                        # the probe of a writable folder leaves nothing


def test_catalogue_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.slow            # ~10 s: the quick suite plans its sweeps before it reaches the lock
def test_a_folder_locked_by_another_run_is_refused_and_unchanged(capsys, tmp_path):
    from flatminima.validation.store import Store

    out = tmp_path / "out"
    with Store(out).lock():
        before = _snapshot(out)
        code = main(["validate", "--suite", "quick", "--out", str(out), "--resume", "--quiet"])
        assert _snapshot(out) == before
    err = capsys.readouterr().err
    assert code == 2 and "is in use by another run" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv,needle", [
    (["check", "styblinski-tang:dim=0"], "dim must be an integer >= 1"),
    (["validate", "--suite", "quick", "--scheduler", "tcp://127.0.0.1:1"], "no Dask scheduler answered"),
])
def test_no_traceback_from_the_command(tmp_path, argv, needle):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "flatminima.reports.cli", *argv, "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("flatminima: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_no_escape_expected_is_inconclusive_not_an_error(capsys, tmp_path):
    """Legal but hopeless (ΔL/D = 62.5, 5 × 50 steps): nothing is simulated, INCONCLUSIVE with the reason;
    exit 0, or 3 with --strict."""
    out = tmp_path / "out"
    argv = ["check", "double-well", "--dynamics", "sgld", "--temperature", "0.004", "--runs", "5",
            "--max-steps", "50", "--json", "--out", str(out), "--method", "simulate"]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0
    (exp,) = json.loads(captured.out)["experiments"]
    assert exp["simulated"] is False and exp["agrees"] is None and exp["n_escaped"] is None
    assert exp["expected_escapes"] < 1e-20
    assert "not simulated" in exp["inconclusive_reason"] and "raise --temperature" in exp["inconclusive_reason"]
    assert "--loss-unit" not in exp["inconclusive_reason"]          # a flag of the other dynamics
    assert (out / "result.json").is_file()
    assert main(argv + ["--strict"]) == 3
