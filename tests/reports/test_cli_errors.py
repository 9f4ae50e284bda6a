"""Command-line errors: one line on stderr, exit code 2, no traceback."""
import subprocess
import sys

import pytest

from flatminima.reports.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("argv,needle", [
    ((), "required: COMMAND"),
    (("landscape", "rosenbrock"), "unknown landscape 'rosenbrock'"),
    (("landscape", "styblinski-tang:dims=2"), "unknown parameter 'dims'"),
    (("landscape", "styblinski-tang:dim=2", "--minimum=1,a"), "--minimum"),
    (("landscape", "styblinski-tang:dim=2", "--minimum=1,2,3"), "--minimum has 3 coordinates"),
    (("landscape", "missing/file.py:f", "--minimum=0"), "not found"),
    (("frobnicate",), "invalid choice"),
])
def test_bad_command_lines_give_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("flatminima: error: ")
    assert "Traceback" not in err


def test_user_file_errors_through_the_cli(capsys, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\ndef f(theta):\n    return float(np.sum(np.cos(theta)))\n")
    code, _, err = _run(capsys, "landscape", f"{bad}:f", "--minimum=0,0")
    assert code == 2 and "autograd" in err and err.count("\n") == 1


def test_installed_console_script_has_no_traceback():
    result = subprocess.run([sys.executable, "-m", "flatminima.reports.cli", "landscape", "nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("flatminima: error: unknown landscape")
    assert "Traceback" not in result.stderr


def test_help_lists_examples(capsys):
    code, out, _ = _run(capsys, "landscape", "--help")
    assert code == 0 and "examples:" in out and "--minimum=" in out


@pytest.mark.parametrize("command", ["landscape", "derive", "validate", "check", "report", "suites"])
def test_every_command_has_examples_in_help(capsys, command):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"flatminima {command}" in out


def test_exit_code_2_is_decided_by_the_error_type(capsys, monkeypatch):
    """An InputError subclass means bad input (exit 2, one line) wherever it is raised; a plain
    ValueError is a bug, not bad input, and keeps its traceback."""
    from flatminima import InputError
    from flatminima.reports import cli

    class Custom(InputError):
        pass

    def raising(error):
        def cmd(args):
            raise error
        return cmd

    monkeypatch.setattr(cli, "cmd_suites", raising(Custom("eta must be in (0, 2/λ_max); got 5")))
    assert cli.main(["suites"]) == 2
    assert capsys.readouterr().err == "flatminima: error: eta must be in (0, 2/λ_max); got 5\n"
    monkeypatch.setattr(cli, "cmd_suites", raising(ValueError("internal")))
    with pytest.raises(ValueError, match="internal"):
        cli.main(["suites"])


def test_every_bad_input_error_of_the_packages_is_an_input_error():
    from flatminima import InputError
    from flatminima.numerics.critical import CriticalPointError
    from flatminima.numerics.errors import LandscapeError
    from flatminima.reports.cli import UsageError
    from flatminima.theory.errors import DomainError
    from flatminima.validation.executors import SchedulerUnreachableError
    from flatminima.validation.store import StoreLockedError
    from flatminima.validation.sweep import ResultsExistError
    for cls in (CriticalPointError, LandscapeError, UsageError, DomainError, SchedulerUnreachableError,
                StoreLockedError, ResultsExistError):
        assert issubclass(cls, InputError), cls
