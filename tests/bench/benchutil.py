"""Helpers shared by the benchmarks: logging, numeric settings from the
environment, the result tables, the processes they start, and /proc
accounting."""

import os
import shlex
import signal
import socket
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


def reap(proc):
    """Waits for an adopted process; its resource usage (user and system CPU
    of it and its waited-for children). Sets proc.returncode and forgets it."""
    while True:
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            break
        except InterruptedError:
            continue
    proc.returncode = os.waitstatus_to_exitcode(status)
    forget(proc)
    return usage


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


# --------------------------------------------------------------------------
# running children to completion, stopping them, reading their logs


class Broken(Exception):
    """Something that makes the figures meaningless: the benchmark fails."""

    def __init__(self, what, lines=()):
        super().__init__(what)
        self.what = what
        self.lines = list(lines)

    def report(self):
        program = os.path.splitext(os.path.basename(sys.argv[0]))[0] or "bench"
        return "\n".join([f"{program}: {self.what}"] + ["    " + line for line in self.lines])


def run(cmd, label, env=None, timeout=600, input_text=None, cwd=None):
    """Runs a helper command to completion; returns stdout as text. Raises
    Broken with the end of its stderr when it fails."""
    proc = subprocess.run(cmd, input=input_text.encode() if input_text is not None else None,
                          stdin=None if input_text is not None else subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=timeout, cwd=cwd)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").splitlines()
        raise Broken(f"{label} failed (exit {proc.returncode})", ["command: " + shlex.join(cmd)] + err[-20:])
    return proc.stdout.decode("utf-8", "replace")


def stop(proc, sig=signal.SIGTERM, grace=10):
    """Sends sig, waits up to grace seconds, then kills; returns the exit code."""
    if proc.poll() is None:
        kill(proc, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            kill(proc)
            proc.wait()
    forget(proc)
    return proc.returncode


def tail(path, lines=30):
    """The last non-empty lines of a log file."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True when something listens on 127.0.0.1:port (from /proc/net/tcp, so
    that no probe connection reaches the server)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


# --------------------------------------------------------------------------
# /proc accounting

TICK = os.sysconf("SC_CLK_TCK")


def proc_children(pid):
    """The pids of a process's children alive now (every thread's), from
    /proc; none when it is gone."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return out


def proc_cpu(pid):
    """user + system seconds of a process (all its threads), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def system_busy():
    """Busy CPU seconds of the whole machine (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    values = [int(v) for v in fields[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / TICK
