"""Test-wide setup: matplotlib draws off-screen (Agg) in every test (STYLE §3.7)."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
