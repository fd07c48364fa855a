#!/usr/bin/env python3
# onair
# Copyright (C) 2026 onair developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""reactions cost at 1080p30 with 1,000 reactions a second.

Two live runs of reactions_load (built next to this file), one after the
other in rounds:

  baseline   videotestsrc is-live=true pattern=black ! I420 1920x1080 30/1
                 ! fakesink sync=true
  reactions  the same with reactions (default settings: 500 ms windows,
             60 sprites at most, counters shown), 1,000 reactions a second
             added through its "add" action signal from a thread (10 calls
             every 10 ms, the seven default kinds in turn)

Each run is timed with getrusage (user + system CPU of the whole process).
Prints the median CPU milliseconds per frame of both, the element's own cost
(baseline subtracted), the frames out against the frames in, and the frames
that reached the sink more than a frame late (goal: 0 dropped or late). The
frames are blended (fakesink does not take the overlay meta): the worst case.

Standard library only. Environment:
  ONAIR_BENCH_FRAMES    frames per run (default 300, 10 s of video)
  ONAIR_BENCH_ROUNDS    rounds (default 3)
  ONAIR_BENCH_RATE      reactions a second (default 1000)
Argument: the path of reactions_load.
"""

import json
import os
import statistics
import subprocess
import sys

from benchutil import env_number, fmt, log, print_table

PROGRAM = "bench_reactions"


def main():
    if len(sys.argv) < 2:
        sys.exit(f"usage: {PROGRAM}.py PATH/reactions_load")
    load = sys.argv[1]
    frames = env_number("ONAIR_BENCH_FRAMES", 300, int, 30, PROGRAM)
    rounds = env_number("ONAIR_BENCH_ROUNDS", 3, int, 1, PROGRAM)
    rate = env_number("ONAIR_BENCH_RATE", 1000, int, 100, PROGRAM)
    env = dict(os.environ)
    if not env.get("GST_PLUGIN_PATH") and env.get("ONAIR_BUILD_ROOT"):
        env["GST_PLUGIN_PATH"] = os.path.join(env["ONAIR_BUILD_ROOT"], "plugins")
    results = {"baseline": [], "reactions": []}
    for r in range(rounds):
        for mode in results:
            proc = subprocess.run([load, mode, str(frames), str(rate)], env=env, capture_output=True, text=True,
                                  timeout=frames / 30 * 4 + 60)
            if proc.returncode != 0:
                log(f"{mode} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
                return 1
            results[mode].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        log(f"round {r + 1}/{rounds}: " + ", ".join(f"{m} {results[m][-1]['cpu']:.2f} s CPU" for m in results))

    per_frame = {m: statistics.median(x["cpu"] for x in runs) / frames * 1000 for m, runs in results.items()}
    rows = []
    for mode, runs in results.items():
        rows.append([mode, fmt(per_frame[mode], ".3f"), f"{min(x['frames'] for x in runs)}/{frames}",
                     str(max(x["late"] for x in runs)), str(max(x["adds"] for x in runs)),
                     str(max(x["max_sprites"] for x in runs))])
    log(f"\n1080p30 live, {frames} frames, {rate} reactions/s, median of {rounds} rounds "
        f"(CPU = user + system of the process)")
    print_table(["pipeline", "CPU ms/frame", "frames out (worst)", "late frames (worst)", "adds", "max sprites"],
                rows)
    element = per_frame["reactions"] - per_frame["baseline"]
    dropped = sum(frames - x["frames"] for x in results["reactions"])
    late = sum(x["late"] for x in results["reactions"])
    log(f"\nreactions alone (baseline subtracted): {element:.3f} ms CPU per frame "
        f"({element / (1000 / 30) * 100:.1f}% of a core at 30 fps)")
    log(f"frames dropped: {dropped}, late: {late} (goal 0: {'met' if dropped == 0 and late == 0 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
