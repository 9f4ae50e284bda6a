"""Sweeps: seeds from the config hash, identical results for 1 and 2 workers and after a resume."""
import gc
import sys
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))      # spawned workers inherit sys.path and import this
import sweep_tasks  # noqa: E402

from flatminima.validation.store import CorruptResultWarning, Store, StoreLockedError, config_hash, load_all  # noqa: E402
from flatminima.validation.sweep import ResultsExistError, SweepError, run_sweep, task_seed  # noqa: E402

CONFIGS = [{"x": x, "slope": 2.0, "tag": "line"} for x in range(8)]


def _expected(configs):
    """The rows each config must produce, computed directly from the task and the hash-derived seed."""
    frames = []
    for c in configs:
        h = config_hash(c)
        frame = pd.DataFrame(sweep_tasks.noisy_line(c, task_seed(h)))
        frames.append(frame.assign(**c, task_hash=h))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted in-process sweep."""
    return run_sweep(sweep_tasks.noisy_line, CONFIGS, tmp_path_factory.mktemp("ref"), workers=1, progress=False)


def test_task_seed_is_the_first_eight_bytes_of_the_hash():
    h = config_hash({"x": 1})
    assert task_seed(h) == int(h[:16], 16)
    assert 0 <= task_seed(h) < 2**64


def test_rows_carry_config_columns_and_hash_in_config_order(reference):
    expected = _expected(CONFIGS)
    pd.testing.assert_frame_equal(reference[expected.columns], expected, check_dtype=False)
    assert list(reference["x"].drop_duplicates()) == list(range(8))


def test_two_process_workers_give_identical_results(reference, tmp_path):
    result = run_sweep(sweep_tasks.noisy_line, CONFIGS, tmp_path, workers=2, progress=False)
    pd.testing.assert_frame_equal(result, reference)


def test_task_order_and_executor_do_not_matter(reference, tmp_path):
    with ThreadPoolExecutor(3) as pool:
        result = run_sweep(sweep_tasks.noisy_line, CONFIGS[::-1], tmp_path, executor=pool, progress=True)
    result = result.sort_values(["x", "rep"], ignore_index=True)
    pd.testing.assert_frame_equal(result, reference)


def test_resume_after_failures_equals_an_uninterrupted_run(reference, tmp_path):
    with pytest.raises(SweepError, match=r"3 of 8 tasks failed .*resume=True") as info:
        run_sweep(sweep_tasks.fails_on_multiples_of_three, CONFIGS, tmp_path, workers=1, progress=False)
    assert sorted(f.config["x"] for f in info.value.failures) == [0, 3, 6]
    assert len(Store(tmp_path).task_hashes()) == 5           # every finished task was written at once
    result = run_sweep(sweep_tasks.noisy_line, CONFIGS, tmp_path, workers=1, resume=True, progress=False)
    pd.testing.assert_frame_equal(result, reference)


def test_a_killed_worker_loses_only_tasks_in_flight(tmp_path):
    configs = [dict(c, kill_at=5) for c in CONFIGS]
    expected = _expected(configs)
    with pytest.raises(SweepError, match="BrokenProcessPool"):
        run_sweep(sweep_tasks.kills_worker_at_x, configs, tmp_path, workers=2, progress=False)
    stored = Store(tmp_path).load_all()                     # whatever finished before the kill is intact
    assert 5 not in set(stored["x"])
    done = expected[expected["task_hash"].isin(stored["task_hash"])]
    pd.testing.assert_frame_equal(stored.sort_values(["x", "rep"], ignore_index=True)[expected.columns],
                                  done.reset_index(drop=True), check_dtype=False)
    result = run_sweep(sweep_tasks.noisy_line, configs, tmp_path, workers=1, resume=True, progress=False)
    pd.testing.assert_frame_equal(result[expected.columns], expected, check_dtype=False)


def test_without_resume_existing_results_are_refused(tmp_path):
    run_sweep(sweep_tasks.noisy_line, CONFIGS[:2], tmp_path, workers=1, progress=False)
    with pytest.raises(ResultsExistError, match="2 of the 3 tasks.*resume=True"):
        run_sweep(sweep_tasks.noisy_line, CONFIGS[:3], tmp_path, workers=1, progress=False)


def test_corrupt_file_is_detected_and_recomputed(reference, tmp_path):
    run_sweep(sweep_tasks.noisy_line, CONFIGS, tmp_path, workers=1, progress=False)
    store = Store(tmp_path)
    victim = store.path(config_hash(CONFIGS[2]))
    victim.write_bytes(victim.read_bytes()[:-40])             # truncated (killed mid-copy, disk full...)
    with pytest.warns(CorruptResultWarning, match="cannot be read"):
        assert len(load_all(tmp_path)) == len(reference) - sweep_tasks.N_ROWS
    with pytest.warns(CorruptResultWarning, match="recomputed"):
        result = run_sweep(sweep_tasks.noisy_line, CONFIGS, tmp_path, workers=1, resume=True, progress=False)
    pd.testing.assert_frame_equal(result, reference)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(load_all(tmp_path).sort_values(["x", "rep"], ignore_index=True), reference)


def test_lock_refuses_a_second_run_into_the_same_folder(tmp_path):
    with Store(tmp_path).lock():
        with pytest.raises(StoreLockedError, match="in use by another run"):
            run_sweep(sweep_tasks.noisy_line, CONFIGS[:1], tmp_path, workers=1, progress=False)
    assert len(run_sweep(sweep_tasks.noisy_line, CONFIGS[:1], tmp_path, workers=1, progress=False)) == 3


def test_bad_rows_and_bad_arguments_are_reported(tmp_path):
    with pytest.raises(SweepError, match="list of dicts"):
        run_sweep(sweep_tasks.returns_bad_rows, CONFIGS[:1], tmp_path, workers=1, progress=False)
    with pytest.raises(ValueError, match="same config appears twice"):
        run_sweep(sweep_tasks.noisy_line, [CONFIGS[0], dict(CONFIGS[0])], tmp_path, workers=1)
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="not both"):
        run_sweep(sweep_tasks.noisy_line, CONFIGS, tmp_path, executor=pool, workers=2)
    with pytest.raises(ValueError, match="positive integer"):
        run_sweep(sweep_tasks.noisy_line, CONFIGS, tmp_path, workers=0)


def test_seeds_differ_between_tasks(reference):
    seeds = reference.groupby("x")["seed"].first()
    assert seeds.nunique() == len(CONFIGS)
    assert np.all(reference.groupby("x")["y"].std() > 0)


def test_plain_log_lines_when_stderr_is_not_a_terminal(tmp_path, capsys):
    """Issue 6: a progress bar on a terminal, plain log lines otherwise (pytest's stderr is not a tty)."""
    run_sweep(sweep_tasks.noisy_line, CONFIGS[:2], tmp_path, workers=1, progress=None)
    err = capsys.readouterr().err
    assert "flatminima: task 1/2 done" in err and "flatminima: task 2/2 done" in err
    run_sweep(sweep_tasks.noisy_line, CONFIGS[:2], tmp_path / "quiet", workers=1, progress=False)
    assert "flatminima: task" not in capsys.readouterr().err


class _TrackingPool(ThreadPoolExecutor):
    """A one-thread pool that keeps a weak reference to every future it hands out."""

    def __init__(self):
        super().__init__(max_workers=1)
        self.futures = []

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        self.futures.append(weakref.ref(future))
        return future


def test_a_written_task_releases_its_future_and_rows(tmp_path, monkeypatch):
    """The sweep keeps no finished future (nor the rows it holds) once their rows are written: memory O(1)
    in the number of finished tasks, which a 1e10-step sweep needs (issue 7's long run).

    At the write of the k-th finished task (k = 1..n), only the n − k + 1 futures not yet handed over
    by as_completed (the k-th included) may still be alive.
    """
    pool = _TrackingPool()
    alive = []
    write = Store.write

    def counting_write(self, *args, **kwargs):
        gc.collect()
        alive.append(sum(ref() is not None for ref in pool.futures))
        return write(self, *args, **kwargs)

    monkeypatch.setattr(Store, "write", counting_write)
    with pool:
        run_sweep(sweep_tasks.noisy_line, CONFIGS, tmp_path, executor=pool, progress=False)
    n = len(CONFIGS)
    assert alive == [n - k + 1 for k in range(1, n + 1)]
