#!/usr/bin/env python3
# onair — end to end: a live channel in one gst-launch-1.0 process,
#   liveinput (RTMP) ! abrladder (two rungs + audio) ! abrsink (live HLS),
# whose ffmpeg publisher is killed (SIGKILL) mid-stream and replaced by a new
# one 5 s later. Checks that the output never stops (every playlist keeps
# growing through the outage), that the slate came within 1.5 s of the kill
# (from the liveinput-switch bus message), that every switch is an
# EXT-X-DISCONTINUITY in every video rendition and in the audio one, that the
# slate lasts as long as the outage, and that every segment passes ffprobe.
# SPDX-License-Identifier: LGPL-2.1-or-later

import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

WIDTH, HEIGHT = 640, 360
RUNGS = {"360p": (640, 360, 600), "180p": (320, 180, 200)}
GOP = 1.0  # seconds: one segment per keyframe interval
TIMEOUT = 1.0  # liveinput's stall timeout
FIRST_PUBLISH = 8.0  # seconds live before the kill
OUTAGE = 5.0  # seconds between the kill and the next publisher
SECOND_PUBLISH = 8  # seconds the next publisher sends, then it ends
# The most time between two new segments of one playlist: two segment
# durations, plus the polling period and a writer that is a little late on a
# loaded machine. An output that stopped during the 5 s outage exceeds it.
MAX_SEGMENT_GAP = 2 * GOP + 1.0
# The bound from the kill to the switch to the slate.
MAX_STALL_DETECTION = 1.5
POLL = 0.2


def at_switch(segment, switch_wall):
    """Whether a segment's program date-time is at a switch seen on the bus
    at `switch_wall`: the segment is cut at the first keyframe after it, and
    a switch to the slate may be dated back to the end of the live input
    (the stall before it is filled), up to the timeout and the detection
    delay before the message."""
    return segment["pdt"] is not None and switch_wall - TIMEOUT - 1.0 <= segment["pdt"] <= switch_wall + 1.5

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, failures, finish, free_port  # noqa: E402


def fatal(message):
    print("FATAL:", message, flush=True)
    sys.exit(1)


class Launch:
    """gst-launch-1.0 -m with every output line stamped as it is read (its
    g_print flushes each line), so bus messages carry the time they were
    posted, within a few ms."""

    SWITCH = re.compile(r'from element "in" \(element\): liveinput-switch, source=\(string\)(\w+)')

    def __init__(self, args):
        print("gst-launch-1.0", " ".join(args), flush=True)
        self.process = subprocess.Popen(["gst-launch-1.0", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines = []  # (monotonic, wall clock, line)
        self.switches = []  # (monotonic, wall clock, "live" or "slate")
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            now, wall = time.monotonic(), time.time()
            with self.lock:
                self.lines.append((now, wall, line.rstrip("\n")))
                match = self.SWITCH.search(line)
                if match:
                    self.switches.append((now, wall, match.group(1)))
                    print(f"  liveinput-switch {match.group(1)}", flush=True)

    def switch_count(self, source):
        with self.lock:
            return sum(1 for s in self.switches if s[2] == source)

    def nth_switch(self, source, n):
        with self.lock:
            return [s for s in self.switches if s[2] == source][n]

    def errors(self):
        with self.lock:
            return [line for _, _, line in self.lines if line.startswith("ERROR")]

    def tail(self, n=40):
        with self.lock:
            return "\n".join(line for _, _, line in self.lines[-n:] if "state-changed" not in line)


def wait_for(condition, seconds, what, launch):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            fatal(f"{what} within {seconds} s; gst-launch said:\n{launch.tail()}")
        if launch.process.poll() is not None:
            fatal(f"gst-launch exited ({launch.process.returncode}) before {what}:\n{launch.tail()}")
        time.sleep(0.02)


def publish(port, key, seconds, log_path):
    """ffmpeg as a live encoder: a test pattern with a clock and a tone,
    H.264 + AAC over RTMP, paced in real time."""
    log = open(log_path, "w")
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re",
         "-f", "lavfi", "-i", f"testsrc=size={WIDTH}x{HEIGHT}:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-f", "flv", f"rtmp://127.0.0.1:{port}/live/{key}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


class PlaylistWatcher:
    """Polls media playlists and records when each one gained segments."""

    def __init__(self, paths):
        self.paths = paths
        self.history = {name: [] for name in paths}  # (monotonic, segments so far)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            for name, path in self.paths.items():
                try:
                    with open(path) as f:
                        text = f.read()
                except FileNotFoundError:
                    continue
                sequence = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
                count = (int(sequence.group(1)) if sequence else 0) + len(parse_playlist(text))
                history = self.history[name]
                if not history or history[-1][1] != count:
                    history.append((time.monotonic(), count))
            self.stop.wait(POLL)

    def finish(self):
        self.stop.set()
        self.thread.join()


def parse_playlist(text):
    """Segments of a media playlist: uri, duration, program date-time
    (seconds since the epoch) and whether a discontinuity precedes it."""
    segments, pending = [], {"discontinuity": False, "pdt": None, "duration": None}
    for line in text.splitlines():
        line = line.strip()
        if line == "#EXT-X-DISCONTINUITY":
            pending["discontinuity"] = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            stamp = line.split(":", 1)[1].replace("Z", "+00:00")
            pending["pdt"] = datetime.datetime.fromisoformat(stamp).timestamp()
        elif line.startswith("#EXTINF:"):
            pending["duration"] = float(line.split(":", 1)[1].split(",")[0])
        elif line and not line.startswith("#"):
            segments.append(dict(pending, uri=line))
            pending = {"discontinuity": False, "pdt": None, "duration": None}
    return segments


def ffprobe_segment(rendition_dir, uri, kind):
    """What a player gets from one segment (init + media): the stream and
    the timestamps of its frames. Errors are failures."""
    joined = os.path.join(rendition_dir, uri + ".probe.mp4")
    with open(joined, "wb") as out:
        for part in ("init.mp4", uri):
            with open(os.path.join(rendition_dir, part), "rb") as f:
                out.write(f.read())
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0" if kind == "video" else "a:0",
         "-show_entries", "stream=codec_name,width,height:packet=pts_time,duration_time",
         "-of", "compact=p=0:nk=0", joined], capture_output=True, text=True)
    os.unlink(joined)
    # a frame's duration where the first packet has none: 30 fps, AAC frames
    default_duration = 1 / 30 if kind == "video" else 1024 / 48000
    stream, times = {}, []
    for line in result.stdout.splitlines():
        fields = dict(item.split("=", 1) for item in line.split("|") if "=" in item)
        if "codec_name" in fields:
            stream = fields
        elif "pts_time" in fields and fields["pts_time"] not in ("", "N/A"):
            duration = fields.get("duration_time", "N/A")
            times.append((float(fields["pts_time"]), default_duration if duration in ("", "N/A") else float(duration)))
    return result.returncode, result.stderr.strip(), stream, times


def check_rendition(output, name, kind, switches, expected_size=None):
    """Segments, discontinuities and ffprobe of one rendition; returns its
    segments."""
    rendition_dir = os.path.join(output, name)
    with open(os.path.join(rendition_dir, "index.m3u8")) as f:
        segments = parse_playlist(f.read())
    print(f"{name}: {len(segments)} segments, durations "
          f"{[round(s['duration'], 2) for s in segments]}", flush=True)
    if not check(len(segments) > 0, f"{name}: no segments"):
        return segments

    # one EXT-X-DISCONTINUITY per switch, at the switch
    marked = [s for s in segments if s["discontinuity"]]
    wall_switches = [(wall, source) for _, wall, source in switches]
    print(f"{name}: discontinuities at "
          f"{[round(s['pdt'] - wall_switches[0][0], 2) for s in marked if s['pdt']]} s, switches at "
          f"{[round(wall - wall_switches[0][0], 2) for wall, _ in wall_switches]} s", flush=True)
    for wall, source in wall_switches:
        near = [s for s in marked if at_switch(s, wall)]
        check(len(near) == 1, f"{name}: {len(near)} EXT-X-DISCONTINUITY near the switch to {source} "
                              f"({len(marked)} in the playlist)")
    check(len(marked) == len(wall_switches),
          f"{name}: {len(marked)} EXT-X-DISCONTINUITY for {len(wall_switches)} switches")

    # every segment: ffprobe reads it without error, it has media, its
    # EXTINF is the time its media covers, and it starts after the previous
    previous_start = None
    for segment in segments:
        uri = segment["uri"]
        code, errors, stream, times = ffprobe_segment(rendition_dir, uri, kind)
        if not check(code == 0 and not errors and times, f"{name}/{uri}: ffprobe: {errors or 'no frames'}"):
            continue
        codec = "h264" if kind == "video" else "aac"
        check(stream.get("codec_name") == codec, f"{name}/{uri}: codec {stream.get('codec_name')}")
        if expected_size:
            size = (int(stream.get("width", 0)), int(stream.get("height", 0)))
            check(size == expected_size, f"{name}/{uri}: {size[0]}x{size[1]}")
        start = min(t for t, _ in times)
        end = max(t + d for t, d in times)
        check(segment["duration"] > 0, f"{name}/{uri}: EXTINF {segment['duration']}")
        check(abs(segment["duration"] - (end - start)) <= 0.1,
              f"{name}/{uri}: EXTINF {segment['duration']:.3f} s but its media covers {end - start:.3f} s")
        if previous_start is not None:
            check(start > previous_start, f"{name}/{uri}: starts at {start:.3f} s, the previous one at "
                                          f"{previous_start:.3f} s")
        previous_start = start
    return segments


def slate_duration(segments, slate_wall, live_wall):
    """Sum of EXTINF from the discontinuity at the switch to the slate to the
    one at the switch back to live."""
    begin = next((i for i, s in enumerate(segments) if s["discontinuity"] and at_switch(s, slate_wall)), None)
    end = next((i for i, s in enumerate(segments) if s["discontinuity"] and at_switch(s, live_wall)), None)
    if begin is None or end is None or end <= begin:
        return None
    return sum(s["duration"] for s in segments[begin:end])


def main():
    for program in ("gst-launch-1.0", "ffmpeg", "ffprobe"):
        if not shutil.which(program):
            print(f"SKIP: {program} not found", flush=True)
            sys.exit(77)
    work = tempfile.mkdtemp(prefix="onair-live-e2e-")
    output = os.path.join(work, "out")
    port, key = free_port(), "secret"
    ladder = ",".join(f"{name}:{kbps}" for name, (_, _, kbps) in RUNGS.items())
    launch = Launch([
        "-e", "-m",
        "liveinput", "name=in", f"uri=rtmp://127.0.0.1:{port}/live/{key}", f"timeout={TIMEOUT}",
        f"width={WIDTH}", f"height={HEIGHT}",
        "in.video", "!", "abrladder", "name=ladder", f"ladder={ladder}", f"gop-duration={GOP}",
        "speed-preset=ultrafast",
        "!", "abrsink", f"location={output}", "mode=live", "playlist-length=0",
        "in.audio", "!", "ladder.audio"])
    renditions = {name: "video" for name in RUNGS}
    renditions["audio"] = "audio"
    watcher = PlaylistWatcher({name: os.path.join(output, name, "index.m3u8") for name in renditions})
    publishers = []
    try:
        # the slate runs until the first publisher; the server listens once PLAYING
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or launch.process.poll() is not None:
                    fatal(f"nothing listens on {port}:\n{launch.tail()}")
                time.sleep(0.1)

        # nobody publishes yet: the slate is served from the start
        def segments_so_far(name):
            history = watcher.history[name]
            return history[-1][1] if history else 0

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and min(segments_so_far(n) for n in renditions) < 2:
            time.sleep(0.1)
        check(min(segments_so_far(n) for n in renditions) >= 2,
              "before any publisher: segments " + str({n: segments_so_far(n) for n in renditions}) +
              " after 15 s (the slate must be served from the start)")

        first = publish(port, key, 60, os.path.join(work, "ffmpeg1.log"))
        publishers.append(first)
        wait_for(lambda: launch.switch_count("live") == 1, 20, "no switch to live", launch)
        live_at = launch.nth_switch("live", 0)[0]
        time.sleep(max(0.0, live_at + FIRST_PUBLISH - time.monotonic()))
        check(first.poll() is None, "the first publisher ended before it was killed")
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.wait()
        print("first publisher killed", flush=True)

        wait_for(lambda: launch.switch_count("slate") == 1, 10, "no switch to the slate after the kill", launch)
        detection = launch.nth_switch("slate", 0)[0] - killed_at
        print(f"slate {detection:.3f} s after the kill (timeout {TIMEOUT} s)", flush=True)
        check(detection <= MAX_STALL_DETECTION,
              f"the stall was detected {detection:.3f} s after the kill (at most {MAX_STALL_DETECTION} s)")

        time.sleep(max(0.0, killed_at + OUTAGE - time.monotonic()))
        second = publish(port, key, SECOND_PUBLISH, os.path.join(work, "ffmpeg2.log"))
        publishers.append(second)
        wait_for(lambda: launch.switch_count("live") == 2, 20, "no switch back to live", launch)
        try:
            second.wait(timeout=SECOND_PUBLISH + 30)
        except subprocess.TimeoutExpired:
            fatal("the second publisher did not finish")
        with open(os.path.join(work, "ffmpeg2.log")) as f:
            check(second.returncode == 0, f"the second publisher failed:\n{f.read()[-2000:]}")
        wait_for(lambda: launch.switch_count("slate") == 2, 10, "no switch to the slate after the end", launch)
        time.sleep(3)

        stopped_at = time.monotonic()
        launch.process.send_signal(signal.SIGINT)  # -e: EOS, then exit
        try:
            launch.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            launch.process.kill()
            launch.process.wait()
            check(False, "gst-launch did not stop within 60 s of SIGINT (EOS)")
        launch.reader.join(timeout=10)
        watcher.finish()
        check(launch.process.returncode == 0, f"gst-launch exited with {launch.process.returncode}")
        check(not launch.errors(), f"errors: {launch.errors()}")

        switches = list(launch.switches)
        sources = [source for _, _, source in switches]
        check(sources == ["live", "slate", "live", "slate"], f"switches {sources}")
        if len(switches) != 4:
            fatal(f"switches {sources}")
        slate_at, back_at = switches[1][0], switches[2][0]
        print(f"outage: kill to live again {back_at - killed_at:.3f} s, slate on for {back_at - slate_at:.3f} s",
              flush=True)

        # the playlists kept growing, the outage included
        for name, history in watcher.history.items():
            times = [t for t, count in history if count > 0]
            if not check(len(times) > 3, f"{name}: the playlist never grew"):
                continue
            gaps = [(b - a, a) for a, b in zip(times, times[1:] + [stopped_at])]
            worst, worst_at = max(gaps)
            print(f"{name}: longest wait for a new segment {worst:.2f} s (at {worst_at - killed_at:+.2f} s from "
                  f"the kill)", flush=True)
            check(worst <= MAX_SEGMENT_GAP, f"{name}: no new segment for {worst:.2f} s, from "
                                            f"{worst_at - killed_at:+.2f} s after the kill")
            during = [t for t in times if slate_at <= t <= back_at]
            expected = int((back_at - slate_at) / GOP) - 2
            check(len(during) >= expected, f"{name}: {len(during)} new segments while the slate was on, "
                                           f"expected {expected} or more")

        # discontinuities, segments, the slate's length
        for name, kind in renditions.items():
            size = RUNGS[name][:2] if kind == "video" else None
            segments = check_rendition(output, name, kind, switches, size)
            slate = slate_duration(segments, switches[1][1], switches[2][1])
            if check(slate is not None, f"{name}: no slate period between two discontinuities"):
                # from the switch to the slate (or from the kill, when the
                # stall before the switch counts as slate) to the return
                shortest, longest = back_at - slate_at - 1.0, back_at - killed_at + 1.0
                print(f"{name}: slate period {slate:.3f} s in the playlist; outage {back_at - killed_at:.3f} s, "
                      f"slate on for {back_at - slate_at:.3f} s", flush=True)
                check(shortest <= slate <= longest,
                      f"{name}: the slate lasts {slate:.3f} s in the playlist, expected {shortest:.3f} to "
                      f"{longest:.3f} s")
        check(os.path.isfile(os.path.join(output, "master.m3u8")), "no master.m3u8")
    finally:
        for process in publishers + [launch.process]:
            if process.poll() is None:
                process.kill()
                process.wait()
        watcher.stop.set()
        if failures and os.environ.get("ONAIR_KEEP_OUTPUT"):
            print("output kept in", work, flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)

    finish()


if __name__ == "__main__":
    main()
