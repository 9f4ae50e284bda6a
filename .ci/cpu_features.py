"""Print numpy's dispatchable SIMD features that are not in its build baseline (for NPY_DISABLE_CPU_FEATURES).

`make test-generic` disables them, so the kernel tests see another host (no AVX2/AVX-512 loops in numpy).
"""
try:
    from numpy._core import _multiarray_umath as umath
except ImportError:                     # numpy < 2
    from numpy.core import _multiarray_umath as umath

print(" ".join(f for f in umath.__cpu_dispatch__ if f not in umath.__cpu_baseline__))
