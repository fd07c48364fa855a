#!/usr/bin/env python3
# onair
# Copyright (C) 2026 onair developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reactions through the REST API into a live channel: latency at a fixed rate.

onaird (embedded PostgreSQL, durable, in a scratch directory; rate limits
raised by its config file) runs a small test card; 100 viewer tokens post
POST /api/v1/channels/{id}/reactions at ONAIR_BENCH_RATE per second (default
1000) for ONAIR_BENCH_DURATION seconds (default 10), open loop
(tests/bench/reactions_load.mjs, Node's fetch over loopback). Each 202 is
sent after its reaction's batch committed. Prints the achieved rate, answers
by status and latency percentiles (from each request's scheduled time), and
checks that the video's timeline counts every 202 (fails otherwise). No
peer: a point of reference for later changes. Exit 77 when node, onaird or
gst-launch-1.0 is missing.

Usage: bench_reactions_api.py [ONAIRD]
"""
import json
import resource
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
if len(sys.argv) > 1:
    os.environ["ONAIRD"] = sys.argv[1]
import test_channels  # noqa: E402
from test_channels import create, finish_daemon, scratch_daemon, state_is, wait_channel  # noqa: E402

CARD = {"width": 160, "height": 90, "ladder": "90p:100", "speed-preset": "ultrafast"}
CONFIG = """[reactions]
viewer_rate = 100000
viewer_burst = 100000
address_rate = 1000000
address_burst = 1000000
"""


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    rate = float(os.environ.get("ONAIR_BENCH_RATE", "1000"))
    seconds = float(os.environ.get("ONAIR_BENCH_DURATION", "10"))
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
        status, _, card = create(daemon, "reactions bench", "test-card", CARD)
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
        daemon_cpu = cpu_seconds(daemon.process.pid)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = subprocess.run(["node", os.path.join(HERE, "reactions_load.mjs"), daemon.base, card["id"], str(rate),
                               str(seconds), tokens_file], capture_output=True, text=True, timeout=seconds * 10 + 120)
        if load.returncode != 0:
            raise test_channels.Fatal(f"the load generator failed: {load.stderr[-2000:]}")
        daemon_cpu = cpu_seconds(daemon.process.pid) - daemon_cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        figures = json.loads(load.stdout.strip().splitlines()[-1])
        status, _, timeline = daemon.call("GET", f"/api/v1/videos/{card['video_id']}/reactions?bucket=3600")
        counted = sum(item["total"] for item in timeline.get("items", [])) if status == 200 else -1
        accepted = figures["statuses"].get("202", 0)
        print(f"reactions API, {rate:.0f}/s asked for {seconds:.0f} s into a live test card (100 viewers):")
        print(f"  sent {figures['sent']} at {figures['rate']:.0f}/s; answers {figures['statuses']}")
        print(f"  latency ms: p50 {figures['p50']:.2f}  p90 {figures['p90']:.2f}  p99 {figures['p99']:.2f}  "
              f"max {figures['max']:.2f}")
        print(f"  CPU seconds: onaird (with its test card) {daemon_cpu:.1f}, load generator {load_cpu:.1f}, "
              f"over {seconds:.0f} s on {os.cpu_count()} cores (shared)")
        print(f"  counted in the video's timeline: {counted} (202 answers: {accepted})")
        code = 0 if counted == accepted and accepted > 0 else 1
    except test_channels.Fatal as error:
        print(f"failed: {error}")
    finally:
        finish_daemon(daemon, work)
    return code


if __name__ == "__main__":
    sys.exit(main())
