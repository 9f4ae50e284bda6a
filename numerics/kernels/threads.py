"""Runs of a compiled escape loop on several threads over one shared particle queue, with a kept helper pool."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from numba import types
from numba.extending import intrinsic
from llvmlite import ir


@intrinsic
def claim(typingctx, queue):
    """The next particle of a shared queue: returns ``queue[0]`` and adds 1 to it, atomically.

    Every thread running a call's particles takes them from one queue (``run_in_chunks``), so the
    threads stay busy to the last particle whatever the escape times; each particle is taken once.
    """
    sig = types.int64(queue)

    def codegen(context, builder, signature, args):
        ptr = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.atomic_rmw("add", ptr, ir.Constant(ir.IntType(64), 1), "monotonic")
    return sig, codegen


_CHUNK = 4096
"""Particles per thread in one part of :func:`run_in_chunks` (the parts run one after another)."""


def run_in_chunks(run, n_runs: int, workers: int) -> None:
    """Call ``run(queue, i1)`` on ``workers`` threads at once, over parts of particles 0..n_runs−1.

    A part holds up to ``_CHUNK`` particles per thread. Its threads take the particles one at a time
    from one shared queue (``queue[0]`` is the next one; the kernels take it with :func:`claim`), so
    no thread idles while particles are left to start, whatever the escape times, and the kernels'
    lanes stay full to the part's end. The parts run one after another (Ctrl-C is handled between
    them). The calling thread runs too; ``run`` must release the GIL (a ``nogil`` compiled kernel).
    """
    workers = max(1, min(int(workers), os.cpu_count() or 1))
    pool = _helper_threads(workers - 1)
    part = _CHUNK * workers
    for i0 in range(0, n_runs, part):
        i1 = min(i0 + part, n_runs)
        queue = np.array([i0], np.int64)
        helpers = [pool.submit(run, queue, i1) for _ in range(workers - 1)]
        try:
            run(queue, i1)
        finally:                   # no helper may still write to the outputs when this returns
            wait(helpers)
        for h in helpers:
            h.result()


_HELPERS: list = [0, -1, None]            # size, process id, pool
_HELPERS_LOCK = threading.Lock()


def _helper_threads(n: int) -> ThreadPoolExecutor | None:
    """A pool of at least ``n`` helper threads, kept between calls (None when n = 0).

    Starting a pool costs about 0.25 ms per call against 0.05 ms for handing work to a kept one
    (measured on this project's 2-core machine), which counts for calls of a few ms. A process
    forked after the pool was made gets a pool of its own (the parent's threads do not exist there).
    """
    if n <= 0:
        return None
    with _HELPERS_LOCK:
        size, pid, pool = _HELPERS
        if pool is None or size < n or pid != os.getpid():
            if pool is not None and pid == os.getpid():
                pool.shutdown(wait=False)
            _HELPERS[:] = [n, os.getpid(), ThreadPoolExecutor(max_workers=n, thread_name_prefix="flatminima")]
        return _HELPERS[2]
