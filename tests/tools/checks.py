"""What the Python tests share: soft checks, all reported before the test
fails at the end, as plain lines (check/finish, for meson's exit-code
protocol) or as TAP (tap/note/tap_finish, for protocol 'tap'); and a free
loopback port.

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
    from checks import check, failures, finish
"""

import socket
import sys

failures = []
_tap_count = 0


def check(condition, message):
    """Records `message` as a failure unless `condition` holds; returns it."""
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return condition



def finish():
    """Ends the test: exit status 1 if any check failed."""
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)


def tap(condition, name, diagnostics=""):
    """One TAP line, with the diagnostics as comments when it fails; a
    failure is recorded too. Returns the condition."""
    global _tap_count
    _tap_count += 1
    if condition:
        print(f"ok {_tap_count} - {name}", flush=True)
    else:
        failures.append(name)
        print(f"not ok {_tap_count} - {name}", flush=True)
        for line in str(diagnostics).splitlines():
            print("# " + line, flush=True)
    return condition


def note(message):
    """A TAP comment."""
    print("# " + message, flush=True)


def tap_finish():
    """Ends a TAP test: the plan, and exit status 1 if any check failed."""
    print(f"1..{_tap_count}", flush=True)
    if failures:
        note(f"{len(failures)} check(s) failed")
        sys.exit(1)


def free_port():
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
