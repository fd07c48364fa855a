"""Helpers shared by the benchmarks: logging, numeric settings from the
environment and the result tables."""

import os
import signal
import subprocess
import sys
import threading


def log(*args):
    print(*args, flush=True)


def env_number(name, default, kind=float, minimum=None, program="bench"):
    """A number from the environment variable `name`, or `default`."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        sys.exit(f"{program}: {name}={text!r} is not a number")
    if minimum is not None and value < minimum:
        sys.exit(f"{program}: {name} must be >= {minimum}")
    return value


def fmt(value, spec=".2f", missing="-"):
    return missing if value is None else format(value, spec)


def ratio(a, b):
    return a / b if a is not None and b else None


def print_table(header, rows):
    """Columns padded to their widest cell; the first left-aligned."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(r):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    log(line(header))
    log("  ".join("-" * w for w in widths))
    for r in rows:
        log(line(r))


# --------------------------------------------------------------------------
# children: every process a benchmark starts is registered, so that a
# failure or Ctrl-C never leaves one running


_children_lock = threading.Lock()
_children = set()


def adopt(proc):
    """Registers a started process (in its own session) for kill_children."""
    with _children_lock:
        _children.add(proc)
    return proc


def forget(proc):
    with _children_lock:
        _children.discard(proc)


def kill(proc, sig=signal.SIGKILL):
    """Signals the process's whole session."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_children():
    with _children_lock:
        for proc in list(_children):
            kill(proc)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        _children.clear()


def _terminate(signum, _frame):
    kill_children()
    raise SystemExit(128 + signum)


def run_main(main):
    """Runs main() and exits with its status; SIGTERM/SIGINT kill the
    children first."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    sys.exit(main())
