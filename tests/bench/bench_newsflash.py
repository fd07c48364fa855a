#!/usr/bin/env python3
# onair
# Copyright (C) 2026 onair developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""newsflash drawing cost against textoverlay, 1080p30.

Three gst-launch-1.0 pipelines on the same source and sink:

  baseline    videotestsrc pattern=black num-buffers=N ! I420 1920x1080 30/1
                  ! fakesink sync=false
  textoverlay the same with textoverlay showing the crawl text (static, one
              line at the bottom on a shaded background, wrap-mode=none as a
              ticker is one line; the peer does less)
  newsflash   the same with newsflash and all three layers on screen: the
              crawl scrolling that text, a lower third (title + subtitle) and
              a fullscreen card over the picture dimmed by half

run one after the other in rounds from this process, each timed with wait4
(user + system CPU of gst-launch-1.0 and all its threads). It prints the
median CPU milliseconds per frame of each, the ratio newsflash/textoverlay
of the whole pipeline, and the ratio of the overlay alone (baseline
subtracted from both). Goal from the issue: overlay ratio <= 1.5. Neither
overlay gets the overlay composition meta from fakesink, so both blend into
the frames.

Standard library only. Environment:
  ONAIR_BENCH_FRAMES    frames per run (default 600, 20 s of video)
  ONAIR_BENCH_ROUNDS    rounds of the three pipelines (default 5)
  GST_PLUGIN_PATH       where libgstonair.so is; defaults to
                        $ONAIR_BUILD_ROOT/plugins when ONAIR_BUILD_ROOT is set
"""

import os
import shlex
import statistics
import subprocess
import time

from benchutil import Broken, adopt, env_number, fmt, log, print_table, ratio, reap, run_main, tail

PROGRAM = "bench_newsflash"
CAPS = "video/x-raw,format=I420,width=1920,height=1080,framerate=30/1"
CRAWL = "Markets close higher · Heavy rain expected tomorrow in the north · Election results at ten"
GOAL = 1.5


def pipelines(frames):
    source = f"videotestsrc pattern=black num-buffers={frames} ! {CAPS}"
    sink = "fakesink sync=false"
    return {
        "baseline": f"{source} ! {sink}",
        "textoverlay": (f"{source} ! textoverlay text=\"{CRAWL}\" font-desc=\"Sans Bold 36\" "
                        f"valignment=bottom halignment=left wrap-mode=none shaded-background=true ! {sink}"),
        "newsflash": (f"{source} ! newsflash crawl-text=\"{CRAWL}\" lower-third-title=\"Jane Doe\" "
                      f"lower-third-subtitle=\"Correspondent, London\" "
                      f"fullscreen-text=\"<b>BREAKING NEWS</b>\" fullscreen-dim=0.5 ! {sink}"),
    }


def timed(description, label, env, workdir):
    """CPU and wall seconds of one gst-launch-1.0 run."""
    cmd = ["gst-launch-1.0", "-q"] + shlex.split(description)
    err_path = os.path.join(workdir, f"{label}.log")
    start = time.monotonic()
    with open(err_path, "wb") as err:
        proc = adopt(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                      env=env, start_new_session=True))
    usage = reap(proc)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise Broken(f"{label} failed (exit {proc.returncode})", ["command: " + shlex.join(cmd)] + tail(err_path))
    return usage.ru_utime + usage.ru_stime, wall


def main():
    frames = env_number("ONAIR_BENCH_FRAMES", 600, int, 30, PROGRAM)
    rounds = env_number("ONAIR_BENCH_ROUNDS", 5, int, 1, PROGRAM)
    env = dict(os.environ)
    if not env.get("GST_PLUGIN_PATH") and env.get("ONAIR_BUILD_ROOT"):
        env["GST_PLUGIN_PATH"] = os.path.join(env["ONAIR_BUILD_ROOT"], "plugins")
    workdir = os.environ.get("TMPDIR", "/tmp")
    descriptions = pipelines(frames)
    for label, description in descriptions.items():
        log(f"{label}: gst-launch-1.0 {description}")
    cpu = {label: [] for label in descriptions}
    wall = {label: [] for label in descriptions}
    try:
        for r in range(rounds):
            for label, description in descriptions.items():
                c, w = timed(description, f"{PROGRAM}-{label}", env, workdir)
                cpu[label].append(c)
                wall[label].append(w)
            log(f"round {r + 1}/{rounds}: " + ", ".join(f"{label} {cpu[label][-1]:.2f} s" for label in cpu))
    except Broken as broken:
        log(broken.report())
        return 1

    per_frame = {label: statistics.median(values) / frames * 1000 for label, values in cpu.items()}
    rows = [[label, fmt(per_frame[label], ".3f"), fmt(statistics.median(wall[label]) / frames * 1000, ".3f")]
            for label in descriptions]
    log(f"\n1080p30, {frames} frames, median of {rounds} rounds (CPU = user + system of gst-launch-1.0)")
    print_table(["pipeline", "CPU ms/frame", "wall ms/frame"], rows)
    whole = ratio(per_frame["newsflash"], per_frame["textoverlay"])
    overlay_newsflash = per_frame["newsflash"] - per_frame["baseline"]
    overlay_textoverlay = per_frame["textoverlay"] - per_frame["baseline"]
    overlay = ratio(overlay_newsflash, overlay_textoverlay)
    log(f"\noverlay alone (baseline subtracted): newsflash {overlay_newsflash:.3f} ms/frame, "
        f"textoverlay {overlay_textoverlay:.3f} ms/frame")
    log(f"ratio newsflash / textoverlay: whole pipeline {fmt(whole, '.2f')}x, overlay alone {fmt(overlay, '.2f')}x "
        f"(goal <= {GOAL}x: {'met' if overlay is not None and overlay <= GOAL else 'NOT met'})")
    return 0


if __name__ == "__main__":
    run_main(main)
