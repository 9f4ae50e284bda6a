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
