"""Where sweep tasks run: local worker processes (default) or a Dask distributed cluster
(README.md §Running on a Dask cluster).

``executor_for(scheduler, workers)`` is a context manager yielding what :func:`validation.sweep.run_sweep`
takes as ``executor``: ``None`` for the default local processes, or a ``concurrent.futures.Executor`` of a
``distributed.Client`` connected to the scheduler at ``scheduler`` (closed on exit). Rows come back to the
calling process, which writes the store, so the workers need no access to the results folder; they need
the same flatminima and its dependencies importable (and, for the tasks of a suite, nothing else).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor

from flatminima.errors import InputError

__all__ = ["executor_for", "SchedulerUnreachableError", "CONNECT_TIMEOUT"]

CONNECT_TIMEOUT = 5.0        # seconds to wait for the scheduler before giving up


class SchedulerUnreachableError(InputError, ConnectionError):
    """The Dask scheduler at the given address did not answer in time."""


@contextlib.contextmanager
def executor_for(scheduler: str | None, workers: int | None = None, *,
                 timeout: float = CONNECT_TIMEOUT) -> Iterator[Executor | None]:
    """Yield the executor for a sweep: ``None`` (local processes) or a Dask client's executor.

    Parameters
    ----------
    scheduler : str or None
        Address of a running Dask scheduler (``tcp://host:8786``), or None for local processes.
    workers : int, optional
        Local worker processes; only without ``scheduler`` (the cluster has its own workers).
    timeout : float
        Seconds to wait for the scheduler.

    Raises
    ------
    ValueError
        Both ``scheduler`` and ``workers`` given, or an empty address.
    SchedulerUnreachableError
        The scheduler does not answer within ``timeout`` seconds.
    """
    if scheduler is None:
        yield None
        return
    if workers is not None:
        raise InputError("give either --scheduler or --workers, not both (a Dask cluster has its own workers)")
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InputError(f"--scheduler must be an address like tcp://127.0.0.1:8786; got {scheduler!r}")
    address = scheduler.strip()
    _probe(address, timeout)
    from distributed import Client

    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except Exception as err:             # refused, timed out, or something else answered
        raise SchedulerUnreachableError(_unreachable(scheduler, timeout, err)) from None
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()


def _unreachable(scheduler, timeout, err) -> str:
    return (f"--scheduler {scheduler}: no Dask scheduler answered there within {timeout:g} s "
            f"(start one with `dask scheduler`, then `dask worker ADDRESS`): {type(err).__name__}")


def _probe(address: str, timeout: float) -> None:
    """Check the address's form, and for TCP that something listens there, before making a Client.

    A Client whose connection failed lingers and tries to close itself at exit (a 10 s wait and a
    printed traceback), so unreachable schedulers are caught here with a plain socket.
    """
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location) if scheme in ("tcp", "tls") else (None, None)
    except (ValueError, TypeError) as err:
        raise InputError(f"--scheduler must be an address like tcp://127.0.0.1:8786; got {address!r} "
                         f"({' '.join(str(err).split())})") from None
    if scheme not in ("tcp", "tls", "ws", "wss", "ucx", "inproc"):
        raise InputError(f"--scheduler must be an address like tcp://127.0.0.1:8786; got {address!r} "
                         f"(unknown scheme {scheme!r})")
    if host is None:
        return
    try:
        socket.create_connection((host.strip("[]"), port), timeout=timeout).close()
    except OSError as err:
        raise SchedulerUnreachableError(_unreachable(address, timeout, err)) from None
