"""Joins theory and numerics: rate estimators, sweeps and store, fits against predictions, suites."""
