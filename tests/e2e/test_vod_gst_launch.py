#!/usr/bin/env python3
"""A short file through the ladder to VOD with plain gst-launch-1.0 ends by
itself, every time.

With sinks that did not preroll, gst-launch set PLAYING while uridecodebin was
still completing its own preroll; a 4 s file could be transcoded within that
window and the pipeline's end of stream was lost (about 1 run in 3 hung with
ENDLIST already written). The race needs many runs to show: 8 runs here."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, finish  # noqa: E402

RUNS = 8


def main():
    work = tempfile.mkdtemp(prefix="onair-vod-launch-")
    try:
        clip = os.path.join(work, "clip.mp4")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                        "-f", "lavfi", "-i", "sine=frequency=440", "-t", "4", "-c:v", "libx264", "-g", "30",
                        "-c:a", "aac", clip], check=True)
        for run in range(RUNS):
            out = os.path.join(work, f"out{run}")
            args = ["gst-launch-1.0", "-q", "uridecodebin", "name=d", f"uri=file://{clip}", "d.", "!", "queue", "!",
                    "videoconvert", "!", "abrladder", "name=l", "ladder=240p:300,144p:100", "speed-preset=ultrafast",
                    "!", "abrsink", f"location={out}", "mode=vod", "d.", "!", "queue", "!", "audioconvert", "!",
                    "audioresample", "!", "l.audio"]
            try:
                result = subprocess.run(args, capture_output=True, text=True, timeout=30)
            except subprocess.TimeoutExpired:
                check(False, f"run {run}: gst-launch-1.0 did not end within 30 s")
                continue
            check(result.returncode == 0, f"run {run}: exit {result.returncode}: {result.stderr[-500:]}")
            with open(os.path.join(out, "144p", "index.m3u8")) as playlist:
                check("#EXT-X-ENDLIST" in playlist.read(), f"run {run}: no ENDLIST")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
