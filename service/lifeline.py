"""Child processes that die with their parent, so that a parent killed with SIGKILL (which it cannot
catch) leaves nothing running that a quick restart would run beside.

- `die_with_parent()`, first thing in a child process (a `multiprocessing` worker): on Linux the
  kernel sends the child SIGKILL when its parent exits (`prctl(PR_SET_PDEATHSIG)`, through ctypes);
  on every system a daemon thread watches the parent (the sentinel `multiprocessing` gives the
  child, or the parent's pid) and ends the process when it is gone.
- `pdeathsig_preexec(sig)`, as `subprocess.Popen(preexec_fn=...)`, makes a child program receive
  `sig` when its parent exits (Linux; elsewhere it does nothing): the setting survives `exec`.

The kernel sends the signal when the *thread* that started the child exits: start children from a
thread that lives as long as the process (the main thread, or a role's long-lived worker).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_S = 0.5  # the pid watchdog's period, where no sentinel is given


def _prctl() -> Callable[..., int] | None:
    """libc's `prctl`, on Linux; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    function: Callable[..., int] = libc.prctl
    return function


def set_pdeathsig(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send this process `sig` when its parent exits; whether it could."""
    prctl = _prctl()
    return prctl is not None and prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def pdeathsig_preexec(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` giving the child program `sig` when its parent exits; None off Linux. libc is
    loaded here, in the parent, so that the child only calls into it between fork and exec."""
    prctl = _prctl()
    if prctl is None:
        return None
    number = int(sig)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, number, 0, 0, 0)

    return preexec


def die_with_parent() -> None:
    """Make this (child) process end when its parent does: the kernel's signal where there is one,
    and a watchdog thread everywhere."""
    parent = multiprocessing.parent_process()
    expected = parent.pid if parent is not None and parent.pid is not None else os.getppid()
    set_pdeathsig(signal.SIGKILL)
    if os.getppid() != expected:  # the parent died before the kernel was asked
        os._exit(1)
    sentinel = parent.sentinel if parent is not None else None
    threading.Thread(target=_watch, args=(expected, sentinel), name="lifeline", daemon=True).start()


def _watch(parent_pid: int, sentinel: int | None) -> None:  # pragma: no cover - runs in a child
    if sentinel is not None:
        multiprocessing.connection.wait([sentinel])  # readable once the parent is gone
    else:
        while os.getppid() == parent_pid:
            time.sleep(POLL_S)
    os._exit(1)
