"""What a validation suite produces: verdicts, tables and figure data, saved as JSON for the reports.

A suite run writes ``OUT/result.json`` (this module's :class:`SuiteResult`) next to the task store
``OUT/store/``. The reports layer renders Markdown/HTML and figures from that file alone, so a report
can be rebuilt without recomputing anything.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

RESULT_FILE = "result.json"


def _plain(value):
    """Numbers and arrays as JSON-ready Python values (NaN and inf become None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


@dataclass
class Verdict:
    """One falsifiable claim: what was measured, what theory predicts, the tolerance and the outcome.

    ``measured`` and ``predicted`` are display strings that carry their uncertainty and units
    (e.g. ``"2.05 ± 0.06 (95% CI)"``); ``value``/``stderr``/``expected`` keep the numbers.
    ``passed`` is True (PASS), False (FAIL) or None (INCONCLUSIVE: the data cannot decide; ``details``
    says why).
    """

    claim: str
    measured: str
    predicted: str
    tolerance: str
    passed: bool | None
    check: str = ""                      # check id of docs/theory.md §Checks, e.g. "C7"
    value: float | None = None
    stderr: float | None = None
    expected: float | None = None
    details: str = ""

    @property
    def status(self) -> str:
        """PASS, FAIL or INCONCLUSIVE."""
        return {True: "PASS", False: "FAIL"}.get(self.passed, "INCONCLUSIVE")


@dataclass
class Figure:
    """Data for one figure; ``kind`` selects the renderer in ``reports.figures``.

    Kinds: ``fit`` (points with error bars, fitted and predicted lines), ``survival`` (Kaplan–Meier vs
    exponential), ``scatter``, ``histogram``, ``spectrum``, ``landscape2d``. ``data`` holds plain numbers.
    """

    name: str
    kind: str
    title: str
    data: dict
    caption: str = ""


@dataclass
class Table:
    """A table: column names and rows of plain values, with a caption saying how the numbers were made."""

    name: str
    columns: list[str]
    rows: list[list]
    caption: str = ""


@dataclass
class SuiteResult:
    """Everything a suite run produced, ready to be rendered."""

    suite: str
    size: str
    title: str
    criteria: str                        # the explicit verdict criteria, printed in the report
    verdicts: list[Verdict] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)     # {"title", "text"} blocks (Markdown)
    provenance: dict = field(default_factory=dict)
    laws: list[str] = field(default_factory=list)          # names of theory formulas used

    @property
    def passed(self) -> bool:
        """Whether every verdict passed (an INCONCLUSIVE one does not)."""
        return all(v.passed is True for v in self.verdicts)

    @property
    def status(self) -> str:
        """FAIL if any verdict failed, else INCONCLUSIVE if any could not decide (or none was made), else PASS."""
        if any(v.passed is False for v in self.verdicts):
            return "FAIL"
        if not self.verdicts or any(v.passed is None for v in self.verdicts):
            return "INCONCLUSIVE"
        return "PASS"

    def to_dict(self) -> dict:
        return _plain(asdict(self))

    def save(self, out) -> Path:
        """Write ``OUT/result.json`` atomically."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / RESULT_FILE
        fd, tmp = tempfile.mkstemp(dir=out, prefix=".result-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(self.to_dict(), fh, indent=1, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, out) -> "SuiteResult":
        path = Path(out) / RESULT_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no {RESULT_FILE} in {out}: not a results folder of flatminima validate/check")
        raw = json.loads(path.read_text())
        return cls(
            suite=raw["suite"], size=raw["size"], title=raw["title"], criteria=raw["criteria"],
            verdicts=[Verdict(**v) for v in raw.get("verdicts", [])],
            tables=[Table(**t) for t in raw.get("tables", [])],
            figures=[Figure(**f) for f in raw.get("figures", [])],
            sections=raw.get("sections", []), provenance=raw.get("provenance", {}), laws=raw.get("laws", []),
        )


def fmt_pm(value: float, stderr: float | None = None, ci: tuple | None = None, digits: int = 3) -> str:
    """``value ± half-width (95% CI)`` or ``value ± stderr (s.e.)`` as a display string."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if ci is not None and all(c is not None and np.isfinite(c) for c in ci):
        half = 0.5 * (ci[1] - ci[0])
        return f"{value:.{digits}g} ± {half:.2g} (95% CI)"
    if stderr is not None and np.isfinite(stderr):
        return f"{value:.{digits}g} ± {stderr:.2g} (s.e.)"
    return f"{value:.{digits}g}"


@dataclass(frozen=True)
class Suite:
    """A registered suite: its name, what it checks, its sizes with expected run times, and its runner.

    ``run(out, *, size, workers, executor, resume, progress) -> SuiteResult``.
    """

    name: str
    description: str
    sizes: dict                          # size name -> expected wall time on 2 cores, as text
    run: Callable
