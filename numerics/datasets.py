"""Classification data sets for MLP landscapes: scikit-learn's bundled UCI sets or a user CSV.

Nothing is downloaded: the bundled sets ship inside scikit-learn. Features are standardised
(zero mean, unit variance over all rows; a constant column becomes all zeros) and labels are
encoded as integers 0..K−1 in sorted order of the original labels.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flatminima.numerics.errors import LandscapeError

BUNDLED = ("breast_cancer", "digits", "iris", "wine")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A standardised classification data set.

    Parameters
    ----------
    X : ndarray, shape (m, p)
        Standardised features (each column zero mean, unit variance; constant columns are zero).
    y : ndarray of int, shape (m,)
        Labels 0..K−1.
    n_classes : int
        K ≥ 2.
    name : str
        The bundled name or the CSV path.
    classes : tuple
        The original label of each code 0..K−1.
    feature_names : tuple of str
        Column names of ``X``.
    """

    X: np.ndarray
    y: np.ndarray
    n_classes: int
    name: str
    classes: tuple = ()
    feature_names: tuple = ()

    @property
    def n_samples(self) -> int:
        """m, the number of rows."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """p, the number of feature columns."""
        return int(self.X.shape[1])


def standardise(X: np.ndarray) -> np.ndarray:
    """Columns shifted to zero mean and scaled to unit variance; constant columns become zeros."""
    X = np.asarray(X, dtype=float)
    centred = X - X.mean(axis=0)
    std = centred.std(axis=0)
    constant = std <= 1e-12 * np.maximum(np.abs(X).max(axis=0), 1.0)
    out = centred / np.where(constant, 1.0, std)
    out[:, constant] = 0.0
    return out


def _encode(labels) -> tuple[np.ndarray, tuple]:
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    return y.astype(np.intp), tuple(c.item() if hasattr(c, "item") else c for c in classes)


def _bundled(name: str):
    from sklearn import datasets as skd

    loader = {"breast_cancer": skd.load_breast_cancer, "digits": skd.load_digits,
              "iris": skd.load_iris, "wine": skd.load_wine}[name]
    bunch = loader()
    names = tuple(str(f) for f in getattr(bunch, "feature_names", range(bunch.data.shape[1])))
    return np.asarray(bunch.data, float), np.asarray(bunch.target), names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: Path, label: str | None):
    if not path.is_file():
        raise LandscapeError(f"data file not found: {path} (bundled data sets: {', '.join(BUNDLED)})")
    with path.open(newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = [r for r in csv.reader(fh, dialect) if any(cell.strip() for cell in r)]
    if not rows:
        raise LandscapeError(f"data file {path} is empty")
    width = len(rows[0])
    if width < 2:
        raise LandscapeError(f"data file {path} needs at least 2 columns (features and a label); got {width}")
    has_header = not all(_is_number(c) for c in rows[0])
    header = [c.strip() for c in rows[0]] if has_header else [str(i) for i in range(width)]
    body = rows[1:] if has_header else rows
    if len(body) < 2:
        raise LandscapeError(f"data file {path} needs at least 2 data rows; got {len(body)}")
    for i, r in enumerate(body):
        if len(r) != width:
            line = i + 1 + has_header
            raise LandscapeError(f"data file {path}: line {line} has {len(r)} columns; expected {width}")
    if label is None or label == "":
        col = width - 1
    elif label in header:
        col = header.index(label)
    elif label.lstrip("-").isdigit() and -width <= int(label) < width:
        col = int(label) % width
    else:
        raise LandscapeError(f"label column {label!r} not in {path}; columns: {', '.join(header)}")
    labels = [r[col].strip() for r in body]
    feat_cols = [j for j in range(width) if j != col]
    X = np.empty((len(body), len(feat_cols)))
    for i, r in enumerate(body):
        for k, j in enumerate(feat_cols):
            try:
                X[i, k] = float(r[j])
            except ValueError:
                line = i + 1 + has_header
                raise LandscapeError(f"data file {path}: feature {header[j]!r} is not numeric at line {line} "
                                     f"({r[j].strip()!r}); features must be numbers") from None
    if not np.all(np.isfinite(X)):
        raise LandscapeError(f"data file {path}: features must be finite (found NaN or inf)")
    # numeric labels sort as numbers (2 < 10), other labels as strings
    if all(_is_number(s) for s in labels):
        values = np.array([float(s) for s in labels])
        labels = values.astype(int) if np.all(values == np.round(values)) else values
    return X, np.asarray(labels), tuple(header[j] for j in feat_cols)


def load_dataset(name_or_csv: str, *, label: str | None = None) -> Dataset:
    """A standardised classification data set, bundled (``breast_cancer``, ``wine``, ``iris``, ``digits``) or a CSV.

    Parameters
    ----------
    name_or_csv : str
        A bundled name, or the path of a CSV file (comma, semicolon or tab separated; a header row
        is detected when its cells are not all numbers).
    label : str, optional
        For a CSV: the label column, by header name or by integer position (``"-1"`` is the last);
        default the last column. Ignored for bundled sets.

    Returns
    -------
    Dataset
        Standardised features and labels 0..K−1.

    Raises
    ------
    LandscapeError
        Unknown name, missing file, missing label column, non-numeric features, or fewer than 2 classes.
    """
    if not isinstance(name_or_csv, str) or not name_or_csv.strip():
        raise LandscapeError(f"data must be one of {', '.join(BUNDLED)} or a path to a CSV file; got {name_or_csv!r}")
    name = name_or_csv.strip()
    key = name.lower().replace("-", "_")
    if key in BUNDLED:
        X, raw, features = _bundled(key)
        name = key
    elif name.lower().endswith((".csv", ".tsv", ".txt")) or Path(name).exists():
        X, raw, features = _read_csv(Path(name), label)
    else:
        raise LandscapeError(f"unknown data set {name!r}; bundled: {', '.join(BUNDLED)} (or a path to a .csv file)")
    y, classes = _encode(raw)
    if len(classes) < 2:
        raise LandscapeError(f"data set {name} has only one class ({classes[0]!r}); classification needs at least 2")
    return Dataset(X=standardise(X), y=y, n_classes=len(classes), name=name, classes=classes,
                   feature_names=tuple(features))
