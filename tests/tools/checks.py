"""What the Python tests share: soft checks, all reported before the test
fails at the end.

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
    from checks import check, failures, finish
"""

import sys

failures = []


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
