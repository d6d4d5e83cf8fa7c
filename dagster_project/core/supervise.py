"""Run a server command until it ends or this process is asked to stop: SIGTERM, SIGINT
(Ctrl-C) or SIGHUP (the terminal went away); then stop it and every process it started
(``kpi ui``: Dagster; ``kpi bi``: Superset).

Why a supervisor rather than exec:

- A process may start with SIGTERM and SIGINT ignored (SIG_IGN survives exec, and some
  machines start everything that way). Python then installs no KeyboardInterrupt handler, and
  a server that gives SIGTERM whatever SIGINT has (``dagster dev`` does) cannot be stopped.
- A server stops what it started itself, but a grandchild whose parent died first is left
  running, re-parented to PID 1.

So the supervisor installs its own handlers, whatever it inherited, and starts the command in
a session of its own. Handled signals revert to SIG_DFL at exec (only ignored ones stay
ignored), so the command and everything it starts get the default dispositions back. On a
stop signal it forwards the signal to that whole process group, waits up to GRACE_SECONDS,
then kills whatever is left. It ends the way it was asked to (killed by the same signal: a
shell shows 143 for SIGTERM, 130 for Ctrl-C), or with the command's status if that ended by
itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

import psutil

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_SECONDS = 20.0
_POLL_SECONDS = 0.25


def supervise(
    command: Sequence[str],
    name: str,
    grace: float = GRACE_SECONDS,
    env: dict[str, str] | None = None,
) -> int:
    """Run ``command`` in a session of its own until it ends or a stop signal arrives.

    Returns the command's exit status when it ended by itself (after stopping anything it
    left running); on a stop signal, stops every descendant and then dies of that signal.
    """
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)  # acted on by the loop below, never inside the handler

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    # A blocked signal would stay pending whatever its handler; the child inherits the mask.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if received:
        _die_of(received[0])
    child = subprocess.Popen(command, start_new_session=True, env=env)
    while child.poll() is None and not received:
        time.sleep(_POLL_SECONDS)
    _stop_all(child, received, grace, name)
    code = child.wait()
    if received:
        _die_of(received[0])
    return code if code >= 0 else 128 - code


def _family(group: int) -> set[psutil.Process]:
    """This process's descendants, and the members of the child's process group: an orphan
    leaves the process tree (for PID 1's), not the group."""
    family = set(psutil.Process().children(recursive=True))
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == group:
                family.add(process)
    return family


def _running(processes: list[psutil.Process]) -> list[psutil.Process]:
    running = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
    return running


def _signal_all(group: int, processes: list[psutil.Process], signum: int) -> None:
    """Signal the child's process group, and any descendant that left it (its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
            if os.getpgid(process.pid) != group:
                process.send_signal(signum)


def _stop_all(child: subprocess.Popen, received: list[int], grace: float, name: str) -> None:
    """Stop the child and every descendant: the first stop signal received (or SIGTERM for what
    a child that ended by itself left behind), then SIGKILL after ``grace`` seconds or at a
    second stop signal."""
    # Remembered, not only looked up: a descendant in a session of its own that loses its
    # parent is neither in the tree nor in the group any more.
    family = _family(child.pid)
    running = _running(list(family))
    if not running:
        return
    signum = received[0] if received else signal.SIGTERM
    signame = signal.Signals(signum).name
    _say(f"{signame}: stopping {name} ({len(running)} processes, up to {grace:.0f} s)")
    _signal_all(child.pid, running, signum)
    asked = len(received)
    deadline = time.monotonic() + grace
    while running and time.monotonic() < deadline and len(received) == asked:
        time.sleep(_POLL_SECONDS)
        child.poll()  # reap dagster dev as soon as it ends
        family |= _family(child.pid)
        running = _running(list(family))
    if running:
        pids = " ".join(str(p.pid) for p in running)
        _say(f"{name}: killing {len(running)} processes still running: {pids}")
        _signal_all(child.pid, running, signal.SIGKILL)


def _say(message: str) -> None:
    print(f"kpi: {message}", file=sys.stderr, flush=True)


def _die_of(signum: int) -> NoReturn:
    """End as killed by ``signum``, as the one who sent it expects (a shell shows 128 + N)."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)  # not reached: the signal is unblocked and its action is default
