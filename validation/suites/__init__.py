"""Validation suites (DESIGN §6): each module exposes ``run(out, *, size, workers, executor, resume, progress)``
returning a :class:`validation.suite.SuiteResult`, and ``SIZES`` (size name -> measured wall time)."""
