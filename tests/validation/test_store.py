"""The task store: canonical hashing, atomic Parquet files, corruption detection and the folder lock."""
import hashlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from flatminima.validation.store import (
    CorruptResultWarning,
    Store,
    StoreLockedError,
    canonical_json,
    config_hash,
    load_all,
    normalize_config,
)

CONFIG = {"eta": 0.01, "batch_size": 32, "landscape": "double_well", "noise": {"model": "white", "scale": [1, 2.5]}}
ROWS = [{"run": 0, "rate": 0.5, "n_escaped": 10}, {"run": 1, "rate": 0.25, "n_escaped": 3}]


def test_canonical_json_sorts_keys_and_normalises_values():
    config = {"b": 0.1 + 0.2, "a": -0.0, "c": (1, np.int64(2)), "d": {"z": np.float64(1e-3), "y": True}}
    assert canonical_json(config) == '{"a":0.0,"b":0.3,"c":[1,2],"d":{"y":true,"z":0.001}}'


def test_hash_is_sha256_of_the_canonical_text():
    # Reference: the canonical text written by hand, hashed with hashlib directly.
    text = '{"batch_size":32,"eta":0.01,"landscape":"double_well","noise":{"model":"white","scale":[1,2.5]}}'
    assert config_hash(CONFIG) == hashlib.sha256(text.encode()).hexdigest()
    reordered = {"noise": {"scale": (1, 2.5), "model": "white"}, "landscape": "double_well",
                 "batch_size": np.int32(32), "eta": np.float64(0.01)}
    assert config_hash(reordered) == config_hash(CONFIG)


def test_types_are_part_of_the_config():
    assert config_hash({"batch_size": 32}) != config_hash({"batch_size": 32.0})
    assert config_hash({"eta": 0.01}) != config_hash({"eta": 0.0100001})


@pytest.mark.parametrize("bad,error,message", [
    ({"eta": float("nan")}, ValueError, "eta = nan is not finite"),
    ({"eta": [1.0, float("inf")]}, ValueError, r"eta\[1\] = inf is not finite"),
    ({1: 2}, TypeError, "keys must be strings"),
    ({"f": object()}, TypeError, "unsupported type object"),
])
def test_bad_configs_are_refused(bad, error, message):
    with pytest.raises(error, match=message):
        config_hash(bad)
    with pytest.raises(TypeError, match="must be a mapping"):
        normalize_config([("eta", 1.0)])


def test_write_then_read_round_trips_rows_and_config(tmp_path):
    store = Store(tmp_path)
    path = store.write(CONFIG, ROWS, task="mod.fn")
    assert path == tmp_path / "store" / f"{config_hash(CONFIG)}.parquet"
    pd.testing.assert_frame_equal(store.read(config_hash(CONFIG)), pd.DataFrame(ROWS))
    meta = pq.read_schema(path).metadata
    assert meta[b"flatminima.config"].decode() == canonical_json(CONFIG)
    assert meta[b"flatminima.task"] == b"mod.fn"
    assert sorted(os.listdir(path.parent)) == [path.name]     # no temporary file left behind


def test_load_all_adds_config_columns_and_task_hash(tmp_path):
    store = Store(tmp_path)
    store.write(CONFIG, ROWS)
    store.write(dict(CONFIG, eta=0.02), ROWS[:1])
    frame = load_all(tmp_path)
    assert len(frame) == 3
    assert set(frame.columns) == {"run", "rate", "n_escaped", "eta", "batch_size", "landscape",
                                  "noise.model", "noise.scale", "task_hash"}
    mine = frame[frame["task_hash"] == config_hash(CONFIG)]
    assert list(mine["eta"]) == [0.01, 0.01] and list(mine["noise.scale"].iloc[0]) == [1, 2.5]


def test_rows_may_repeat_config_values_but_not_contradict_them(tmp_path):
    store = Store(tmp_path)
    store.write(CONFIG, [dict(r, eta=0.01) for r in ROWS])
    with pytest.raises(ValueError, match="row 0 has eta=0.5 but the config says 0.01"):
        store.write(CONFIG, [dict(ROWS[0], eta=0.5)])
    with pytest.raises(TypeError, match="list of dicts"):
        store.write(CONFIG, {"rate": 1.0})


def test_sequential_stopping_may_report_more_runs_than_one_batch(tmp_path):
    """With target_log_ci the config's n_runs is the batch size; the row reports every run made. Without it a
    different n_runs is a contradiction."""
    store = Store(tmp_path)
    store.write(dict(CONFIG, n_runs=50, target_log_ci=0.2), [dict(ROWS[0], n_runs=150)])
    with pytest.raises(ValueError, match="row 0 has n_runs=150 but the config says 50"):
        store.write(dict(CONFIG, n_runs=50), [dict(ROWS[0], n_runs=150)])


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    store = Store(tmp_path)
    path = store.write(CONFIG, ROWS)
    before = path.read_bytes()

    def half_write(table, handle, **kwargs):
        handle.write(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_write)
    with pytest.raises(OSError, match="disk full"):
        store.write(CONFIG, ROWS[:1])
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


@pytest.mark.parametrize("damage", ["truncate", "flip_data_byte", "renamed"])
def test_damaged_files_are_treated_as_missing_with_a_warning(tmp_path, damage):
    store = Store(tmp_path)
    rows = [{"run": i, "rate": float(i) / 7} for i in range(200)]
    path = store.write(CONFIG, rows)
    task_hash = config_hash(CONFIG)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "flip_data_byte":
        data[len(data) // 4] ^= 0xFF                          # inside the column data, caught by page CRC
        path.write_bytes(bytes(data))
    else:
        task_hash = config_hash(dict(CONFIG, eta=0.5))
        path.rename(store.path(task_hash))
    with pytest.warns(CorruptResultWarning, match="treating the task as missing"):
        assert store.read(task_hash) is None
    with pytest.warns(CorruptResultWarning):
        assert len(load_all(tmp_path)) == 0


def test_missing_task_reads_as_none_without_warning(tmp_path):
    assert Store(tmp_path).read("0" * 64) is None
    assert list(load_all(tmp_path).columns) == ["task_hash"]


def test_lock_refuses_a_second_holder_in_another_process(tmp_path):
    holder = textwrap.dedent(f"""
        import sys, time
        from flatminima.validation.store import Store
        with Store({str(tmp_path)!r}).lock():
            print("held", flush=True)
            sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError, match=f"pid {proc.pid} holds"):
            with Store(tmp_path).lock():
                pass
    finally:
        proc.communicate("\n", timeout=30)
    with Store(tmp_path).lock():                              # released when the holder is done
        pass
