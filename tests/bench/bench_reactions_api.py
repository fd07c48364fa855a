#!/usr/bin/env python3
# onair
# Copyright (C) 2026 onair developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""1,000 reactions a second through the REST API into a live 1080p channel.

onaird (embedded PostgreSQL, durable, in a scratch directory; rate limits
raised by its config file) runs the test card at 1920x1080, 30 fps, encoded
to a 1080p rung (ONAIR_BENCH_LADDER, default 1080p:4000, x264 ultrafast):
the channel's reactions element draws on 1080p frames. 100 viewer tokens
post POST /api/v1/channels/{id}/reactions at ONAIR_BENCH_RATE per second
(default 1000) for ONAIR_BENCH_DURATION seconds (default 20), open loop
(tests/bench/reactions_load.mjs, node:http keep-alive over loopback; each 202 is
sent after its reaction's batch committed).

Measured, for a quiet window of the same length first and then under the
load, from onaird's /metrics (per channel, refreshed every second; read
just after a refresh, so the wall time of each reading is known to a few
ms):
  - API latency percentiles (from each request's scheduled time), answers;
  - the reactions element's CPU per frame (its processing-time over its
    frames: the streaming thread's CPU time inside the element);
  - frames dropped or late: 30 x the wall time between the readings minus
    the frames that entered the ladder (a live source that falls behind
    makes fewer), plus videorate's drops (goal: 0);
  - CPU seconds of onaird (its channel included), of the load generator and
    of the whole machine (PostgreSQL's processes are not onaird's children).
Fails when the video's timeline does not count exactly the 202s. No peer:
nothing else takes reactions into a live stream. Exit 77 when node, onaird
or gst-launch-1.0 is missing.

Usage: bench_reactions_api.py [ONAIRD]
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
if len(sys.argv) > 1:
    os.environ["ONAIRD"] = sys.argv[1]
import test_channels  # noqa: E402
from benchutil import proc_cpu, system_busy  # noqa: E402
from test_channels import create, finish_daemon, scratch_daemon, state_is, wait_channel  # noqa: E402

FPS = 30
METRICS = ("onair_channel_frames_total", "onair_channel_dropped_frames_total", "onair_reactions_frames_total",
           "onair_reactions_processing_seconds_total")
CONFIG = """[reactions]
viewer_rate = 100000
viewer_burst = 100000
address_rate = 1000000
address_burst = 1000000
"""


def read_metrics(daemon, cid):
    with urllib.request.urlopen(daemon.base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        for name in METRICS:
            if line.startswith(f'{name}{{channel="{cid}"}}'):
                values[name] = float(line.split()[-1])
    return values


def reading(daemon, cid):
    """The channel's metrics just after the supervisor refreshed them (polled
    every 10 ms until the frame count moves), with the monotonic time."""
    first = read_metrics(daemon, cid)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.01)
        values = read_metrics(daemon, cid)
        if values.get(METRICS[0]) != first.get(METRICS[0]):
            return time.monotonic() - 0.005, values
    raise test_channels.Fatal(f"the channel's frame count did not move in 5 s: {first}")


def window(before, after):
    """Figures of the window between two readings."""
    (t0, a), (t1, b) = before, after
    delta = {name: b.get(name, 0) - a.get(name, 0) for name in METRICS}
    expected = (t1 - t0) * FPS
    frames = delta["onair_channel_frames_total"]
    return {
        "seconds": t1 - t0,
        "frames": frames,
        "expected": expected,
        "missing": max(0, round(expected - frames)),
        "dropped": delta["onair_channel_dropped_frames_total"],
        "element_ms": (delta["onair_reactions_processing_seconds_total"] * 1000 /
                       max(1, delta["onair_reactions_frames_total"])),
    }


def main():
    rate = float(os.environ.get("ONAIR_BENCH_RATE", "1000"))
    seconds = float(os.environ.get("ONAIR_BENCH_DURATION", "20"))
    card_params = {"width": 1920, "height": 1080, "ladder": os.environ.get("ONAIR_BENCH_LADDER", "1080p:4000"),
                   "speed-preset": "ultrafast", "pattern": "ball"}
    for program in (test_channels.ONAIRD, "gst-launch-1.0", "node"):
        if shutil.which(program) is None:
            print(f"{program} is missing: skipped")
            return 77
    work, state, daemon = scratch_daemon("onair-bench-reactions-")
    config = os.path.join(work, "onaird.conf")
    with open(config, "w") as f:
        f.write(CONFIG)
    os.environ["ONAIRD_CONFIG"] = config
    code = 1
    try:
        daemon.start()
        status, _, card = create(daemon, "reactions bench", "test-card", card_params)
        if status != 201:
            raise test_channels.Fatal(f"no channel: {status} {card}")
        card, live = wait_channel(daemon, card["id"], state_is("live"), 120, "live")
        if not live:
            raise test_channels.Fatal(f"the channel is not live: {card}")
        tokens = []
        for i in range(100):
            status, _, token = daemon.call("POST", "/api/v1/tokens", {"name": f"viewer {i}", "role": "viewer"})
            tokens.append(token["token"])
        tokens_file = os.path.join(work, "tokens.json")
        with open(tokens_file, "w") as f:
            json.dump(tokens, f)
        time.sleep(3)  # settle
        quiet_start = reading(daemon, card["id"])
        quiet_cpu, quiet_busy = proc_cpu(daemon.process.pid), system_busy()
        time.sleep(seconds)
        quiet = window(quiet_start, reading(daemon, card["id"]))
        quiet_cpu, quiet_busy = proc_cpu(daemon.process.pid) - quiet_cpu, system_busy() - quiet_busy
        loaded_start = reading(daemon, card["id"])
        daemon_cpu, busy = proc_cpu(daemon.process.pid), system_busy()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = subprocess.run(["node", os.path.join(HERE, "reactions_load.mjs"), daemon.base, card["id"], str(rate),
                               str(seconds), tokens_file], capture_output=True, text=True, timeout=seconds * 10 + 120)
        if load.returncode != 0:
            raise test_channels.Fatal(f"the load generator failed: {load.stderr[-2000:]}")
        daemon_cpu, busy = proc_cpu(daemon.process.pid) - daemon_cpu, system_busy() - busy
        loaded = window(loaded_start, reading(daemon, card["id"]))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        figures = json.loads(load.stdout.strip().splitlines()[-1])
        status, _, timeline = daemon.call("GET", f"/api/v1/videos/{card['video_id']}/reactions?bucket=3600")
        counted = sum(item["total"] for item in timeline.get("items", [])) if status == 200 else -1
        accepted = figures["statuses"].get("202", 0)
        print(f"reactions API, {rate:.0f}/s asked for {seconds:.0f} s into a live 1920x1080 30 fps test card "
              f"(ladder {card_params['ladder']}, 100 viewers):")
        print(f"  sent {figures['sent']} at {figures['rate']:.0f}/s; answers {figures['statuses']}")
        print(f"  API latency ms: p50 {figures['p50']:.2f}  p90 {figures['p90']:.2f}  p99 {figures['p99']:.2f}  "
              f"max {figures['max']:.2f}")
        for label, w in (("quiet", quiet), (f"{rate:.0f}/s", loaded)):
            print(f"  {label:8s} {w['seconds']:.2f} s: reactions element {w['element_ms']:.3f} ms CPU/frame; "
                  f"frames into the ladder {w['frames']:.0f} of {w['expected']:.1f} due, missing {w['missing']}, "
                  f"dropped {w['dropped']:.0f}")
        print(f"  CPU seconds: quiet: onaird (with its channel) {quiet_cpu:.1f}, machine {quiet_busy:.1f}; "
              f"under load: onaird {daemon_cpu:.1f}, load generator {load_cpu:.1f}, machine {busy:.1f} "
              f"(of {os.cpu_count() * seconds:.0f} on {os.cpu_count()} cores)")
        print(f"  counted in the video's timeline: {counted} (202 answers: {accepted})")
        lost = loaded["missing"] + loaded["dropped"]
        print(f"  frames dropped or late under load: {lost:.0f} (goal 0: {'met' if lost == 0 else 'NOT met'})")
        code = 0 if counted == accepted and accepted > 0 else 1
    except test_channels.Fatal as error:
        print(f"failed: {error}")
    finally:
        finish_daemon(daemon, work)
    return code


if __name__ == "__main__":
    sys.exit(main())
