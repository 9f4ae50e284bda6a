"""Sweeps: run one task per config on an executor, storing each task's rows as soon as it finishes.

A task is a picklable top-level function ``task_fn(config: dict, seed: int) -> list[dict]`` that runs
one setting (≥ 1 s of work, many particles) and returns tidy rows. Its seed is
:func:`task_seed` of its config hash, so results depend neither on the number of workers nor on the
order in which tasks run. Rows come back to the calling process and are written there
(:class:`~validation.store.Store`), so remote workers (a Dask ``Client.get_executor()``) need no access
to the results folder, and a killed run loses only the tasks in flight.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import pandas as pd
from tqdm.auto import tqdm

from flatminima.errors import InputError
from flatminima.validation.store import CorruptResultWarning, Store, config_hash, normalize_config

__all__ = ["task_seed", "run_sweep", "SweepError", "ResultsExistError", "TaskFailure"]


class ResultsExistError(InputError, RuntimeError):
    """The results folder already holds results for tasks of this sweep, and ``resume`` was not asked for."""


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised: its hash, its config and the error, as text."""

    task_hash: str
    config: dict
    error: str


class SweepError(RuntimeError):
    """Some tasks of a sweep failed; all others were run and stored, so ``resume=True`` continues."""

    def __init__(self, failures: list[TaskFailure], n_tasks: int) -> None:
        self.failures = failures
        first = failures[0]
        super().__init__(
            f"{len(failures)} of {n_tasks} tasks failed (first: task {first.task_hash[:12]} "
            f"{first.config} raised {first.error}); the other tasks are stored, rerun with resume=True")


def task_seed(task_hash: str) -> int:
    """The seed of a task: its hash's first 8 bytes as an unsigned integer (a ``SeedSequence`` entropy)."""
    return int.from_bytes(bytes.fromhex(task_hash)[:8], "big")


def _task_name(task_fn: Callable) -> str:
    return f"{getattr(task_fn, '__module__', '?')}.{getattr(task_fn, '__qualname__', repr(task_fn))}"


def run_sweep(
    task_fn: Callable[[dict, int], list[dict]],
    configs: Iterable[Mapping],
    out,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Run ``task_fn(config, seed)`` for every config, store each task's rows in ``OUT/store``, return them all.

    Parameters
    ----------
    task_fn : callable
        A top-level (picklable) function ``(config: dict, seed: int) -> list[dict]``. It receives
        the normalised config (:func:`validation.store.normalize_config`) and ``task_seed`` of
        the config's hash; it should seed with ``np.random.default_rng(seed)`` or
        ``np.random.SeedSequence(seed)``. If it has an attribute ``check_config(config)`` (as
        :func:`validation.experiments.escape_task` does), that is called on every normalised config
        before anything runs or the store is touched; its :class:`~flatminima.errors.InputError` is
        raised with the config's position (``sweep config 3 of 8: ...``).
    configs : iterable of Mapping
        One config per task. Two configs with the same hash are an error.
    out : path-like
        The results folder; locked (``OUT/.lock``) for the duration of the sweep.
    executor : concurrent.futures.Executor, optional
        Where to run tasks (e.g. a Dask ``Client.get_executor()``); not shut down here. Default:
        a ``ProcessPoolExecutor`` with the "spawn" start method (same behaviour on every OS, no
        fork of a process holding threads), or the calling process when ``workers == 1``.
    workers : int, optional
        Worker processes of the default executor (default ``os.cpu_count()``). Not with ``executor``.
    resume : bool, optional
        Reuse tasks whose file exists and reads back correctly; run the others.
        Without it the sweep refuses (:class:`ResultsExistError`) to run into a folder that
        already holds a result of one of its tasks, so fresh and old results are never mixed.
        Corrupt files are treated as missing (recomputed, with a warning) in both cases.
    progress : bool, optional
        Show a progress bar (tqdm) on stderr; default: when stderr is a terminal.

    Returns
    -------
    pandas.DataFrame
        All rows of all tasks, in the order of ``configs``, read back from the store (so a
        resumed sweep returns exactly what an uninterrupted one does), with the config columns
        (nested keys as ``a.b``) and a ``task_hash`` column.

    Raises
    ------
    InputError
        Before anything runs: a config the task's ``check_config`` refuses, the same config twice,
        or both ``executor`` and ``workers``.
    SweepError
        After all other tasks have run and been stored, if any task raised.
    StoreLockedError
        If another run holds the folder's lock.
    """
    if executor is not None and workers is not None:
        raise InputError("give either an executor or a number of workers, not both")
    if workers is not None and (int(workers) != workers or workers < 1):
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    if not callable(task_fn):
        raise TypeError("task_fn must be callable")
    normalized = [normalize_config(c) for c in configs]
    check = getattr(task_fn, "check_config", None)
    if check is not None:                   # the task's own config check, on every config before anything runs
        for i, config in enumerate(normalized):
            try:
                check(config)
            except InputError as err:
                raise InputError(f"sweep config {i + 1} of {len(normalized)}: {err}") from None
    hashes = [config_hash(c) for c in normalized]
    if len(set(hashes)) != len(hashes):
        seen: set[str] = set()
        dup = next(c for c, h in zip(normalized, hashes) if h in seen or seen.add(h))
        raise InputError(f"the same config appears twice in a sweep: {dup}")
    store = Store(out)
    with store.lock():
        done = set()
        for h in hashes:
            if not store.exists(h):
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", CorruptResultWarning)
                readable = store.read(h) is not None
            for w in caught:                                    # re-emit so the caller sees them
                warnings.warn(f"{w.message}; it will be recomputed", w.category, stacklevel=2)
            if readable:
                done.add(h)
        if done and not resume:
            raise ResultsExistError(
                f"{store.directory} already holds results for {len(done)} of the {len(hashes)} tasks "
                "of this sweep; pass resume=True to reuse them, or use an empty output folder")
        pending = [(c, h) for c, h in zip(normalized, hashes) if h not in done]
        failures = _run_pending(task_fn, pending, store, executor, workers, progress)
        if failures:
            raise SweepError(failures, len(hashes))
        return store.load_all(hashes)


def _run_pending(task_fn, pending, store, executor, workers, progress) -> list[TaskFailure]:
    """Run the pending tasks, writing each result as it arrives; return the failures."""
    if not pending:
        return []
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = tqdm(total=len(pending), desc="tasks", unit="task", disable=not show)
    plain = progress is None and not show          # not a terminal: plain log lines instead of a bar
    started = time.monotonic()
    finished = [0]
    failures: list[TaskFailure] = []
    name = _task_name(task_fn)

    def record(config, task_hash, get_rows):
        try:
            store.write(config, get_rows(), task=name)
        except Exception as err:          # a failed task (or unwritable rows) must not stop the others
            failures.append(TaskFailure(task_hash, config, f"{type(err).__name__}: {err}"))
        bar.update()
        finished[0] += 1
        if plain:
            print(f"flatminima: task {finished[0]}/{len(pending)} done ({task_hash[:12]}, "
                  f"{time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)

    try:
        if executor is None and (workers or os.cpu_count() or 1) == 1:
            for config, task_hash in pending:
                record(config, task_hash, lambda c=config, h=task_hash: task_fn(c, task_seed(h)))
            return failures
        own = executor is None
        if own:
            executor = ProcessPoolExecutor(max_workers=min(workers or os.cpu_count() or 1, len(pending)),
                                           mp_context=multiprocessing.get_context("spawn"))
        try:
            futures = {executor.submit(task_fn, config, task_seed(task_hash)): (config, task_hash)
                       for config, task_hash in pending}
            for future in as_completed(futures):
                config, task_hash = futures.pop(future)     # a kept future keeps its rows: memory O(tasks)
                record(config, task_hash, future.result)
        except BaseException:
            if own:
                executor.shutdown(wait=False, cancel_futures=True)
            raise
        if own:
            executor.shutdown(wait=True)
        return failures
    finally:
        bar.close()
