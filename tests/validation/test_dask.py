"""Sweeps on a real Dask cluster (issue 7): same rows as local processes, and reliable under faults.

One ``LocalCluster(n_workers=2, processes=True, threads_per_worker=1)`` is shared by the module (its
start-up takes seconds). Faults: a worker SIGKILLed mid-sweep, the driver SIGKILLed mid-sweep and
resumed, damaged store files, and a second run into a folder another run is writing.
"""
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

sys.path.insert(0, str(Path(__file__).parent))      # workers (spawned) inherit sys.path and import this
import dask_tasks  # noqa: E402

from flatminima.validation.executors import SchedulerUnreachableError, executor_for  # noqa: E402
from flatminima.validation.experiments import escape_task  # noqa: E402
from flatminima.validation.store import CorruptResultWarning, Store, StoreLockedError, config_hash  # noqa: E402
from flatminima.validation.sweep import run_sweep  # noqa: E402

DRIVER = Path(__file__).parent / "dask_tasks.py"
ROOT = Path(__file__).resolve().parents[2]

# distributed's own shutdown chatter (closed comms, a killed worker's nanny) is not under test
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning:distributed"),
              pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore:.*Port 8787 is already in use.*:UserWarning")]


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                      silence_logs=50) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as c:
        yield c


def _local(configs, out, task=dask_tasks.slow_line):
    """The reference rows, from a local executor (threads: the tasks only sleep)."""
    with ThreadPoolExecutor(16) as pool:
        return run_sweep(task, configs, out, executor=pool, progress=False)


def _driver(out, address, n, sleep):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, str(DRIVER), str(out), address, str(n), str(sleep)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_escape_sweep_on_dask_equals_local_processes(cluster, tmp_path):
    base = {"landscape": "double-well", "sharpness": 1.0, "minimum": [-1.0], "noise": "white", "criterion": "basin",
            "eta": 0.02, "n_runs": 12, "max_steps": 1500, "options": {}}
    configs = [dict(base, temperature=t) for t in (0.08, 0.12)]
    local = run_sweep(escape_task, configs, tmp_path / "local", workers=1, progress=False)
    with executor_for(cluster.scheduler_address) as ex:
        remote = run_sweep(escape_task, configs, tmp_path / "dask", executor=ex, progress=False)
    cols = [c for c in local.columns if c != "wall_seconds"]
    pd.testing.assert_frame_equal(remote[cols], local[cols])
    assert local["n_escaped"].sum() > 0                          # the rows are not trivially equal


def test_a_killed_worker_loses_nothing(cluster, client, tmp_path):
    configs = dask_tasks.configs(16, 0.4)
    expected = _local(configs, tmp_path / "ref")
    pids = list(client.run(os.getpid).values())
    assert len(pids) == 2
    out, outcome = tmp_path / "dask", {}

    def sweep():
        with executor_for(cluster.scheduler_address) as ex:
            outcome["frame"] = run_sweep(dask_tasks.slow_line, configs, out, executor=ex, progress=False)

    thread = threading.Thread(target=sweep)
    thread.start()
    store = Store(out)
    _wait_for(lambda: len(store.task_hashes()) >= 3, what="three stored tasks")
    os.kill(pids[0], signal.SIGKILL)                             # mid-sweep: it holds a task in flight
    n_at_kill = len(store.task_hashes())
    thread.join(120)
    assert not thread.is_alive() and "frame" in outcome
    assert n_at_kill < len(configs)
    frame = outcome["frame"]
    pd.testing.assert_frame_equal(frame, expected)               # every task, each once, same rows
    assert not frame.duplicated(["task_hash", "rep"]).any()
    assert sorted(store.task_hashes()) == sorted(config_hash(c) for c in configs)
    assert not list(store.directory.glob(".*.tmp"))              # no half-written files left
    _wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, what="the nanny to restart the worker")


def test_a_killed_driver_resumes_with_only_unfinished_tasks(cluster, tmp_path):
    n = 14
    configs = dask_tasks.configs(n, 0.3)
    expected = _local(configs, tmp_path / "ref")
    out = tmp_path / "dask"
    store = Store(out)
    proc = _driver(out, cluster.scheduler_address, n, 0.3)
    try:
        _wait_for(lambda: len(store.task_hashes()) >= 4 or proc.poll() is not None, what="four stored tasks")
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = set(store.task_hashes())
    assert 4 <= len(done) < n
    with executor_for(cluster.scheduler_address) as ex:
        counting = dask_tasks.CountingExecutor(ex)
        frame = run_sweep(dask_tasks.slow_line, configs, out, executor=counting, resume=True, progress=False)
    recomputed = {config_hash(c) for c in counting.submitted}
    assert len(counting.submitted) == n - len(done)              # only the unfinished tasks ran again
    assert recomputed == {config_hash(c) for c in configs} - done
    pd.testing.assert_frame_equal(frame, expected)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_store_files_are_recomputed_on_dask(cluster, tmp_path, damage):
    configs = dask_tasks.configs(6, 0.0)
    expected = _local(configs, tmp_path)
    store = Store(tmp_path)
    victim = store.path(config_hash(configs[4]))
    data = victim.read_bytes()
    victim.write_bytes({"truncate": data[: len(data) // 2], "garbage": os.urandom(len(data)), "empty": b""}[damage])
    with executor_for(cluster.scheduler_address) as ex, pytest.warns(CorruptResultWarning, match="recomputed"):
        counting = dask_tasks.CountingExecutor(ex)
        frame = run_sweep(dask_tasks.slow_line, configs, tmp_path, executor=counting, resume=True, progress=False)
    assert [c["x"] for c in counting.submitted] == [4]
    pd.testing.assert_frame_equal(frame, expected)
    pd.testing.assert_frame_equal(store.read(config_hash(configs[4])), expected[expected["x"] == 4]
                                  [store.read(config_hash(configs[4])).columns].reset_index(drop=True),
                                  check_dtype=False)


def test_a_second_run_into_the_same_folder_is_refused_and_the_first_is_intact(cluster, tmp_path):
    n = 8
    configs = dask_tasks.configs(n, 0.3)
    expected = _local(configs, tmp_path / "ref")
    out = tmp_path / "dask"
    store = Store(out)
    proc = _driver(out, cluster.scheduler_address, n, 0.3)
    try:
        _wait_for(lambda: len(store.task_hashes()) >= 1 or proc.poll() is not None, what="the first run to start")
        with executor_for(cluster.scheduler_address) as ex, pytest.raises(StoreLockedError, match="in use by another run"):
            run_sweep(dask_tasks.slow_line, configs, out, executor=ex, resume=True, progress=False)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    frame = run_sweep(dask_tasks.slow_line, configs, out, workers=1, resume=True, progress=False)  # all stored
    pd.testing.assert_frame_equal(frame, expected)
    assert not list(store.directory.glob(".*.tmp"))


def test_executor_for_refuses_unreachable_and_malformed_schedulers():
    with executor_for(None) as ex:
        assert ex is None
    t0 = time.monotonic()
    with pytest.raises(SchedulerUnreachableError, match="no Dask scheduler answered"):
        with executor_for("tcp://127.0.0.1:1", timeout=2):
            pass
    assert time.monotonic() - t0 < 10
    with pytest.raises(ValueError, match="--scheduler must be an address"):
        with executor_for("foo://bar"):
            pass
    with pytest.raises(ValueError, match="not both"):
        with executor_for("tcp://127.0.0.1:8786", 2):
            pass
