"""Sweeps: seeds from the config hash, identical results for 1 and 2 workers and after a resume."""
import gc
import hashlib
import json
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


# ---------------------------------------------------------------------- escape configs are checked up front
from flatminima import InputError  # noqa: E402
from flatminima.validation.experiments import CONFIG_KEYS, check_config, escape_task  # noqa: E402
from flatminima.validation.store import canonical_json  # noqa: E402

ESCAPE = {"landscape": "double-well", "sharpness": 1.0, "minimum": [-1.0], "noise": "white", "criterion": "basin",
          "eta": 0.02, "temperature": 0.08, "n_runs": 4, "max_steps": 400, "options": {}}


def _refused(config, tmp_path):
    """The InputError run_sweep raises for ``[ESCAPE, config]``, after checking that nothing was written."""
    out = tmp_path / "out"
    with pytest.raises(InputError) as info:
        run_sweep(escape_task, [ESCAPE, config], out, workers=1, progress=False)
    assert not out.exists(), "a refused sweep must not touch the results folder"
    message = str(info.value)
    assert "\n" not in message and message.startswith("sweep config 2 of 2: ")
    return message


def test_a_missing_key_names_the_key_and_what_it_must_be(tmp_path):
    """The issue: a config without max_steps used to fail inside the task with a bare KeyError: 'max_steps'."""
    config = {k: v for k, v in ESCAPE.items() if k != "max_steps"}
    message = _refused(config, tmp_path)
    assert "config key 'max_steps' is missing" in message and "an integer >= 1" in message
    for key in ("landscape", "minimum", "noise", "eta", "n_runs"):
        with pytest.raises(InputError, match=f"config key '{key}' is missing"):
            check_config({k: v for k, v in ESCAPE.items() if k != key})
    # the task itself refuses it the same way (no KeyError), e.g. when called outside a sweep
    with pytest.raises(InputError, match="config key 'max_steps' is missing"):
        escape_task(config, 0)
    # method ams or exact need no max_steps (AMS caps a branch at AMS_BRANCH_STEPS; the exact chain has no steps)
    check_config(dict(config, method="ams"))
    check_config(dict(config, method="exact"))


def test_an_unknown_key_is_refused_with_the_closest_allowed_one(tmp_path):
    config = dict(ESCAPE, max_step=400)
    message = _refused(config, tmp_path)
    assert "unknown config key 'max_step' (did you mean 'max_steps'?)" in message
    assert all(k in message for k in CONFIG_KEYS)


@pytest.mark.parametrize("key,value,expected", [
    ("n_runs", 300.0, "config key 'n_runs' must be an integer >= 1; got 300.0"),
    ("n_runs", 0, "config key 'n_runs' must be an integer >= 1; got 0"),
    ("n_runs", True, "config key 'n_runs' must be an integer >= 1; got True"),
    ("max_steps", 1e6, "config key 'max_steps' must be an integer >= 1 (write 1000000 or 10**6, not 1e6)"),
    ("eta", -0.01, "config key 'eta' must be a number > 0; got -0.01"),
    ("eta", "0.01", "config key 'eta' must be a number > 0; got '0.01'"),
    ("sharpness", 0, "config key 'sharpness' must be a number > 0"),
    ("minimum", -1.0, "config key 'minimum' must be a non-empty list of numbers"),
    ("minimum", [], "config key 'minimum' must be a non-empty list of numbers"),
    ("noise", "gaussian", "config key 'noise' must be one of white, hessian_fixed, "),
    ("criterion", "plane", "config key 'criterion' must be one of dividing_surface, basin, loss_level, radius"),
    ("batch_size", 2.5, "config key 'batch_size' must be an integer >= 1, or null; got 2.5"),
    ("temperature", 0, "config key 'temperature' must be a number > 0, or null; got 0"),
    ("burn_in_steps", -1, "config key 'burn_in_steps' must be an integer >= 0"),
    ("method", "brute", "config key 'method' must be one of simulate, ams, exact"),
    ("options", [1], "config key 'options' must be a mapping of run options"),
    ("options", {"eta": 0.1}, "config key 'options' must not set 'eta': give it as the config key 'eta'"),
    ("options", {"momentum": 0.5}, "must not set 'momentum': give it as the config key 'optimizer'"),
    ("options", {"plane_ofset": 1.0}, "unknown run option 'plane_ofset'"),
    ("options", {"plane_offset": "far"}, "plane_offset must be a finite number; got 'far'"),
    ("ams", {"n_replicas": 50}, "config key 'ams' applies to method 'ams' only; got method 'simulate'"),
    ("max_runs", 2, "config key 'max_runs' must be an integer >= n_runs (4), or null; got 2"),
    ("optimizer", {"momentum": 0.9}, "optimizer must be a dict with a 'kind'"),
    ("optimizer", {"kind": "momentum", "beta": 0.9}, "optimizer has an unknown hyper-parameter 'beta'"),
    ("optimizer", {"kind": "momentum", "momentum": 1.5}, "momentum must be in [0, 1)"),
    ("batch_size", 4, "batch_size applies only to SGD-type noise; got batch_size=4 with noise='white'"),
    ("temperature", None, "temperature is required for white noise"),
])
def test_wrong_types_and_ranges_are_one_line_errors(key, value, expected, tmp_path):
    message = _refused(dict(ESCAPE, **{key: value}), tmp_path)
    assert expected in message, message


def test_ams_options_are_checked_by_name():
    config = dict(ESCAPE, method="ams", max_steps=None, ams={"n_replicas": 50, "max_ams_runs": 40})
    check_config(config)
    with pytest.raises(InputError, match="config key 'ams' has an unknown option 'replicas'; allowed: n_replicas"):
        check_config(dict(config, ams={"replicas": 50}))
    with pytest.raises(InputError, match="config key 'max_steps' must be an integer >= 1"):
        check_config(dict(ESCAPE, max_steps=None))          # null max_steps only with method ams


def test_valid_configs_keep_their_canonical_json_and_hash(tmp_path):
    """The check fills nothing in: a valid config is stored under the hash it always had."""
    before = json.loads(json.dumps(ESCAPE))
    check_config(ESCAPE)
    assert ESCAPE == before
    text = ('{"criterion":"basin","eta":0.02,"landscape":"double-well","max_steps":400,"minimum":[-1.0],'
            '"n_runs":4,"noise":"white","options":{},"sharpness":1.0,"temperature":0.08}')
    assert canonical_json(ESCAPE) == text
    assert config_hash(ESCAPE) == hashlib.sha256(text.encode()).hexdigest()
    frame = run_sweep(escape_task, [ESCAPE], tmp_path, workers=1, progress=False)
    assert Store(tmp_path).task_hashes() == [config_hash(ESCAPE)] == list(frame["task_hash"])
    assert int(frame["n_runs"].iloc[0]) == 4


def test_tasks_without_a_config_check_take_any_config(tmp_path):
    """run_sweep is generic: only a task function with a ``check_config`` attribute has its configs checked."""
    assert not hasattr(sweep_tasks.noisy_line, "check_config")
    assert escape_task.check_config is check_config
    frame = run_sweep(sweep_tasks.noisy_line, [{"x": 1, "slope": 2.0, "anything": [1, 2]}], tmp_path, workers=1,
                      progress=False)
    assert len(frame) == sweep_tasks.N_ROWS


def test_ams_options_of_a_config_are_the_keywords_of_ams_escape_the_task_does_not_set():
    import inspect

    from flatminima.numerics.simulate.ams import ams_escape
    from flatminima.validation.experiments import _AMS_SET_BY_TASK, AMS_OPTIONS
    keywords = [n for n in inspect.signature(ams_escape).parameters if n not in _AMS_SET_BY_TASK]
    assert list(AMS_OPTIONS) == keywords
