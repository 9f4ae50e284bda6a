"""A results store: one Parquet file of tidy rows per task, keyed by the hash of the task's config.

Layout of a results folder ``OUT``::

    OUT/.lock                  held (fcntl.flock) by the one run writing into OUT
    OUT/store/<hash>.parquet   the rows of one task; its config is in the Parquet metadata

A task's key is the SHA-256 of the canonical JSON of its config (:func:`canonical_json`). Files are
written atomically (temporary file in the same folder, fsync, ``os.replace``), so a reader sees either
the whole file or none. A file that cannot be read back (truncated, corrupt, page checksum wrong, or
its stored config does not hash to its name) is treated as missing, with a
:class:`CorruptResultWarning`.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flatminima.errors import InputError

__all__ = [
    "canonical_json",
    "normalize_config",
    "config_hash",
    "Store",
    "StoreLockedError",
    "CorruptResultWarning",
    "load_all",
]

FORMAT_VERSION = "1"
_META_CONFIG = b"flatminima.config"
_META_HASH = b"flatminima.task_hash"
_META_VERSION = b"flatminima.format_version"
_META_TASK = b"flatminima.task"
# Floats are rounded to this many significant digits before hashing, so that 0.1 + 0.2 and 0.3 are one
# config; configs that differ only beyond it are the same task.
FLOAT_DIGITS = 15


class StoreLockedError(InputError, RuntimeError):
    """Another run holds the lock of this results folder."""


class CorruptResultWarning(UserWarning):
    """A stored task file could not be read back; it is treated as missing and will be recomputed."""


def _normalize(value, where: str):
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"config keys must be strings, got {key!r} in {where or 'config'}")
            out[key] = _normalize(item, f"{where}.{key}" if where else key)
        return out
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_normalize(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            raise InputError(f"config value {where} = {x} is not finite")
        return float(f"{x:.{FLOAT_DIGITS}g}") + 0.0        # + 0.0 turns -0.0 into 0.0
    if isinstance(value, str):
        return value
    raise TypeError(f"config value {where} has unsupported type {type(value).__name__}")


def normalize_config(config: Mapping) -> dict:
    """The config as plain JSON types: tuples and arrays as lists, numpy scalars as Python ones, floats rounded.

    Parameters
    ----------
    config : Mapping
        Strings to str, bool, int, float (finite), None, lists or nested mappings of those.

    Returns
    -------
    dict
        What a task receives, and what is hashed. Ints stay ints and floats stay floats, so
        ``{"batch_size": 32}`` and ``{"batch_size": 32.0}`` are different tasks.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"a config must be a mapping, got {type(config).__name__}")
    return _normalize(config, "")


def canonical_json(config: Mapping) -> str:
    """The canonical JSON text of a config: normalised values, sorted keys, no whitespace."""
    return json.dumps(normalize_config(config), sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: Mapping) -> str:
    """SHA-256 (hex) of the canonical JSON of a config: the key of its task."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


def _flatten(config: Mapping, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _same(a, b) -> bool:
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        a, b = float(a), float(b)
        return a == b or (math.isnan(a) and math.isnan(b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """The task files of one results folder ``OUT``: atomic writes, checked reads, one writer at a time.

    Parameters
    ----------
    out : path-like
        The results folder; created on first write.
    """

    def __init__(self, out) -> None:
        self.out = Path(out)
        self.directory = self.out / "store"

    def path(self, task_hash: str) -> Path:
        """The file of a task."""
        return self.directory / f"{task_hash}.parquet"

    def exists(self, task_hash: str) -> bool:
        """Whether a file exists for a task (it may still be corrupt; see :meth:`read`)."""
        return self.path(task_hash).exists()

    def task_hashes(self) -> list[str]:
        """Hashes of all task files present, sorted (temporary files are ignored)."""
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.parquet") if not p.name.startswith("."))

    def write(self, config: Mapping, rows: Sequence[Mapping], *, task: str = "") -> Path:
        """Write the rows of one task atomically; returns the file.

        Parameters
        ----------
        config : Mapping
            The task's config (hashed to name the file, stored in the metadata).
        rows : sequence of Mapping
            Tidy rows: each a mapping of column name to scalar. A column that is also a config key
            must hold the config's value.
        task : str, optional
            The task function's qualified name, stored for provenance.
        """
        normalized = normalize_config(config)
        task_hash = config_hash(normalized)
        frame = self._rows_frame(rows, _flatten(normalized))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({
            **(table.schema.metadata or {}),
            _META_CONFIG: canonical_json(normalized).encode(),
            _META_HASH: task_hash.encode(),
            _META_VERSION: FORMAT_VERSION.encode(),
            _META_TASK: task.encode(),
        })
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(task_hash)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{task_hash}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pq.write_table(table, handle, write_page_checksum=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.directory)
        return target

    @staticmethod
    def _rows_frame(rows, flat_config: dict) -> pd.DataFrame:
        if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
            raise TypeError(f"a task must return a list of dicts (tidy rows), got {type(rows).__name__}")
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise TypeError(f"row {i} of a task is a {type(row).__name__}, not a dict")
            if "task_hash" in row:
                raise InputError("rows must not have a 'task_hash' column (the store adds it)")
            # with sequential stopping (target_log_ci) n_runs is the batch size: the row reports all runs made
            adaptive = {"n_runs"} if flat_config.get("target_log_ci") is not None else set()
            for key in (row.keys() & flat_config.keys()) - adaptive:
                if not _same(row[key], flat_config[key]):
                    raise InputError(f"row {i} has {key}={row[key]!r} but the config says {flat_config[key]!r}")
        return pd.DataFrame(list(rows))

    def read(self, task_hash: str) -> pd.DataFrame | None:
        """The rows of a task, or None if it has no file or the file is corrupt (then with a warning)."""
        path = self.path(task_hash)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path, page_checksum_verification=True)
            meta = table.schema.metadata or {}
            config = json.loads(meta[_META_CONFIG])
            if meta.get(_META_HASH, b"").decode() != task_hash or config_hash(config) != task_hash:
                raise InputError("stored config does not hash to the file name")
            return table.to_pandas()
        except (OSError, ValueError, KeyError, pa.ArrowException) as err:   # ArrowInvalid is a ValueError
            warnings.warn(
                f"{path} cannot be read ({type(err).__name__}: {err}); treating the task as missing",
                CorruptResultWarning, stacklevel=2)
            return None

    def read_config(self, task_hash: str) -> dict:
        """The config stored with a task (the file must be readable)."""
        meta = pq.read_schema(self.path(task_hash)).metadata
        return json.loads(meta[_META_CONFIG])

    def load(self, task_hash: str) -> pd.DataFrame | None:
        """The rows of a task joined with its config columns (nested keys as ``a.b``) and ``task_hash``."""
        rows = self.read(task_hash)
        if rows is None:
            return None
        for key, value in _flatten(self.read_config(task_hash)).items():
            if key not in rows.columns:
                rows[key] = [value] * len(rows) if isinstance(value, list) else value
        rows["task_hash"] = task_hash
        return rows

    def load_all(self, task_hashes: Sequence[str] | None = None) -> pd.DataFrame:
        """All rows of the given tasks (default: every readable file, in hash order), one frame."""
        hashes = self.task_hashes() if task_hashes is None else list(task_hashes)
        frames = [f for f in (self.load(h) for h in hashes) if f is not None]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame({"task_hash": pd.Series([], dtype=object)})
        return pd.concat(frames, ignore_index=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``OUT/.lock`` (non-blocking ``fcntl.flock``) for the duration; refuse if another run holds it.

        Raises
        ------
        StoreLockedError
            If another process (or another open of the lock in this one) holds it.
        """
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                raise StoreLockedError(
                    f"{self.out} is in use by another run (pid {holder} holds {path}); "
                    "wait for it to finish or choose another output folder") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def load_all(out) -> pd.DataFrame:
    """Every readable task's rows in a results folder, with config columns and ``task_hash``.

    Corrupt files are skipped with a :class:`CorruptResultWarning`. Reading does not take the lock.
    """
    return Store(out).load_all()
