"""What the Python tests share: soft checks, all reported before the test
fails (it fails at the end when `failures` is not empty).

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
    from checks import check, failures
"""

failures = []


def check(condition, message):
    """Records `message` as a failure unless `condition` holds; returns it."""
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return condition

