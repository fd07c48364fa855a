#!/usr/bin/env python3
# onair
# Copyright (C) 2026 onair developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""RTMP ingest to HLS, remuxed (no transcode): onair against nginx-rtmp.

Two servers take the same publishes side by side, on loopback:

  onair       one gst-launch-1.0 process; per channel the launch line of
              pipelines/live-remux.pipeline (without DASH):
                rtmpserversrc port=P stream-key=K ! flvdemux
                  video ! abrsink (live, 2 s segments, HLS only)
                  audio ! (same abrsink)
              every rtmpserversrc on one port (one shared listener), as the
              daemon runs its channels
  nginx-rtmp  nginx 1.22 with Debian's libnginx-mod-rtmp, one worker,
              `live on; hls on; hls_fragment 2s; hls_playlist_length 20s;`

Both keep a 20 s window (10 segments). onair writes fMP4 (CMAF) segments
with one media playlist per track (video, audio); nginx-rtmp writes MPEG-TS
segments with both tracks in one playlist.

Cases:
  single  one publish: 1080p30 H.264, ~8 Mbit/s CBR, GOP exactly 2 s
          (-g 60 -keyint_min 60 -sc_threshold 0), AAC 128 kbit/s
  multi   20 simultaneous publishes (ONAIR_BENCH_CHANNELS) of a 720p30
          ~2 Mbit/s stream of the same kind, one key each, starting 0.1 s
          apart so that their keyframes do not all coincide

Publishing. The input is generated with ffmpeg (a pan over a Mandelbrot
render, a testsrc2 inset and grain, so the encoder must spend its bits) and
remuxed once to FLV. This script paces the FLV tags itself: each tag is
written, at publish start + its timestamp, into the stdin of one
`ffmpeg -f flv -i pipe:0 -c copy -f flv rtmp://...` per server (an ffmpeg
publisher, as with `ffmpeg -re`, but with the moment every frame leaves for
the servers known exactly, and the very same moment for both). ffmpeg's FLV
muxer holds a packet until it can interleave it, so a frame reaches the
socket 10-30 ms after it was written (measured here): the same for both
servers, and included in the latency below. `-analyzeduration 0
-fpsprobesize 0` keeps ffmpeg from holding the first second or so while it
probes.

Both servers run at the same time, fed by the same pacer: every frame reaches
both at the same instant, and the run takes half as long. That is fair on two
cores because remuxing is light (here about 1 % of a core for the single
publish and under 20 % for twenty, for either server), so the two hardly
compete; ONAIR_BENCH_SEQUENTIAL=1 runs one server after the other instead
(same input, same pacing).

Latency: a segment's last frame is the last video frame in decode order
before the keyframe that starts the next segment; "sent" is when the pacer
wrote that frame to the publisher. A segment "appears" when a playlist
listing it is renamed into place: this script watches the playlist
directories with inotify (polling every 5 ms where inotify is missing) and
reads each new playlist at once. Segment n's end is the sum of the EXTINF of
segments 0..n, counted from the first keyframe and snapped to the nearest
keyframe of the input (it is off by more than a frame only if a server cut
elsewhere, which is reported). For onair, whose tracks have playlists of
their own, a segment is playable once its video playlist lists it and the
audio playlist reaches as far (to within 100 ms: audio is cut between whole
frames): "onair" is the later of the two, and each track is also shown on
its own (audio against its own last frame). The segment ended by the
publisher leaving is not counted, nor (counted apart) one whose last frame
or next keyframe the pacer wrote more than 20 ms late: on a busy machine the
pacer itself falls behind (its lateness is printed). Figures are the median
and the 90th percentile over segments (all channels pooled), and the same
segment's latency at onair minus at nginx-rtmp (median, p10, p90): how long
ffmpeg holds a segment's last frame varies by tens of ms from segment to
segment, so the two medians may fall on different segments, while the
difference per segment compares the servers on the very same frames.

CPU: user + system seconds of the server processes (gst-launch-1.0; nginx
master, worker and helpers) from /proc/PID/stat, from the moment publishing
starts to the moment the last frame is written, per minute of that window
(per channel for the multi case). The publishers are not counted (they are
the same for both). Memory: resident set (VmRSS, summed over the server's
processes) sampled twice a second: the peak, the level before anything was
published, and the growth per channel. Threads and context switches per
second of the server's processes are shown too, as a clue to where the
time goes. "rest of the machine" is the busy time of
all cores minus the servers' and publishers': well above zero means other
work competed for the cores.

Goals (from the issue): onair's latency <= nginx-rtmp's, CPU <= 1.2 x
nginx-rtmp's. The benchmark reports them; it fails (non-zero exit) only when
something is broken: a server that does not start, a playlist that never
appears, no segments, or segments that ffprobe cannot read.

Standard library only; needs ffmpeg, ffprobe, nginx with
/usr/lib/nginx/modules/ngx_rtmp_module.so, gst-launch-1.0. Environment:
  ONAIR_BENCH_SECONDS     stream length in seconds (default 60)
  ONAIR_BENCH_CHANNELS    publishes in the multi case (default 20)
  ONAIR_BENCH_CASES       which cases, comma-separated (default single,multi)
  ONAIR_BENCH_SEQUENTIAL=1
                          run the servers one after the other
  ONAIR_BENCH_INPUT       use this file for the single case instead of
                          generating one (H.264 + AAC, GOP 2 s)
  ONAIR_BENCH_INPUT_MULTI the same for the multi case
  ONAIR_BENCH_KEEP=1      keep the temporary directory (its path is printed)
  ONAIR_BENCH_TMPDIR      where to make the temporary directory
  ONAIR_BENCH_NGINX_MODULE
                          path of ngx_rtmp_module.so
  ONAIR_BENCH_ONAIR_BRANCH
                          gst-launch description of one channel instead of
                          the default one (to try a change); {n}, {port},
                          {application}, {key}, {location}, {segment} and
                          {window} are substituted, e.g. the default:
                          "rtmpserversrc name=src{n} address=127.0.0.1
                          port={port} application={application}
                          stream-key={key} eos-on-disconnect=true
                          ! flvdemux name=d{n} d{n}.video
                          ! abrsink name=s{n} location={location} mode=live
                          playlist-length={window} segment-duration={segment}
                          dash=false d{n}.audio ! s{n}."
  GST_PLUGIN_PATH         where libgstonair.so is; defaults to
                          $ONAIR_BUILD_ROOT/plugins when ONAIR_BUILD_ROOT is set
"""

import ctypes
import ctypes.util
import fcntl
import grp
import heapq
import json
import os
import pwd
import select
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

from benchutil import (Broken, adopt, env_number, fmt, forget, free_port, kill_children, listening, log, print_table,
                       proc_children, proc_cpu, ratio, run, run_main, stop, system_busy, tail)

SEGMENT_SECONDS = 2
WINDOW_SEGMENTS = 10
FPS = 30
CPU_GOAL = 1.2
AUDIO_SLACK_MS = 100  # an audio segment may end this much before its video segment
PACER_SLACK_SECONDS = 0.02  # segments whose end the pacer wrote later than this are not timed
STAGGER_SECONDS = 0.1  # between the starts of the multi case's publishes
NGINX_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
# One onair channel, as the daemon runs it (ONAIR_BENCH_ONAIR_BRANCH replaces it).
ONAIR_BRANCH = (
    "rtmpserversrc name=src{n} address=127.0.0.1 port={port} application={application} stream-key={key} "
    "eos-on-disconnect=true ! flvdemux name=d{n} "
    "d{n}.video ! abrsink name=s{n} location={location} mode=live "
    "playlist-length={window} segment-duration={segment} dash=false "
    "d{n}.audio ! s{n}."
)
APPLICATION = "live"

CASES = {
    # name: (width, height, video kbit/s, audio kbit/s, what the issue calls it)
    "single": (1920, 1080, 7872, 128, "1 publish, 1080p30 8 Mbit/s"),
    "multi": (1280, 720, 1872, 128, "{n} publishes, 720p30 2 Mbit/s each"),
}


def env_flag(name):
    return os.environ.get(name, "") not in ("", "0")


# --------------------------------------------------------------------------
# running children


def spawn(cmd, err_path, env=None, stdin=subprocess.DEVNULL):
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=err, env=env,
                                start_new_session=True)
    return adopt(proc)


def proc_status(pid, key):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_switches(pid):
    """(threads, context switches of all its threads so far)."""
    threads = switches = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for task in tasks:
        threads += 1
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        switches += int(line.split()[1])
        except OSError:
            pass
    return threads, switches


class Usage:
    """CPU seconds, resident memory, threads and context switches of a set
    of processes."""

    def __init__(self, pids_fn):
        self.pids_fn = pids_fn

    def switches(self):
        counts = [proc_switches(p) for p in self.pids_fn()]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    def cpu(self):
        return sum(c for c in (proc_cpu(p) for p in self.pids_fn()) if c is not None)

    def rss_kb(self):
        return sum(r for r in (proc_status(p, "VmRSS") for p in self.pids_fn()) if r is not None)


# --------------------------------------------------------------------------
# input


def generate_inputs(jobs, seconds):
    """One ffmpeg run for every (path, width, height, video kbit/s, audio
    kbit/s) of jobs: a pan over a Mandelbrot render with a testsrc2 inset and
    temporal grain, a beeping tone; libx264 veryfast CBR (nal-hrd=cbr, 1 s
    buffer), keyframes exactly every 2 s and nowhere else, AAC-LC stereo."""
    n = len(jobs)
    graph = (
        "[0:v]format=yuv420p,crop=1920:1080:x='480+440*sin(2*PI*t/11)':y='270+250*sin(2*PI*t/7)'[bg];"
        "[bg][1:v]overlay=x=64:y=48,noise=alls=4:allf=t,format=yuv420p,split=" + str(n)
        + "".join(f"[s{i}]" for i in range(n)) + ";"
        + ";".join(f"[s{i}]scale={w}:{h}[v{i}]" for i, (_, w, h, _, _) in enumerate(jobs))
        + f";[2:a]asplit={n}" + "".join(f"[a{i}]" for i in range(n))
    )
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i",
        f"mandelbrot=size=2880x1620:rate={FPS}:maxiter=512:start_x=-0.743643887037151:"
        "start_y=0.13182590420533:start_scale=0.03:outer=normalized_iteration_count,"
        f"trim=end_frame=1,loop=loop=-1:size=1,setpts=N/{FPS}/TB",
        "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}",
        "-f", "lavfi", "-i", "sine=frequency=440:beep_factor=4:sample_rate=48000",
        "-filter_complex", graph,
    ]
    gop = FPS * SEGMENT_SECONDS
    for i, (path, _, _, vk, ak) in enumerate(jobs):
        cmd += ["-map", f"[v{i}]", "-map", f"[a{i}]", "-t", f"{seconds:g}", "-r", str(FPS),
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                "-b:v", f"{vk}k", "-maxrate", f"{vk}k", "-bufsize", f"{vk}k", "-x264-params", "nal-hrd=cbr",
                "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
                "-c:a", "aac", "-b:a", f"{ak}k", "-ac", "2", "-movflags", "+faststart", path]
    run(cmd, "generate input", timeout=max(900, 30 * seconds))


class Flv:
    """An FLV file as tags: (type, dts ms, pts ms, keyframe, bytes incl. the
    previous-tag-size that follows)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        if data[:3] != b"FLV":
            raise Broken(f"{path}: not FLV")
        header_size = int.from_bytes(data[5:9], "big")
        self.header = data[:header_size + 4]
        self.tags = []
        pos = header_size + 4
        while pos + 11 <= len(data):
            kind = data[pos]
            size = int.from_bytes(data[pos + 1:pos + 4], "big")
            dts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
            end = pos + 11 + size + 4
            body = data[pos + 11:pos + 11 + size]
            pts, key, media = dts, False, False
            if kind == 9 and len(body) >= 5 and (body[0] & 0x0F) == 7:
                media = body[1] == 1  # AVC NALU, not the sequence header
                key = media and (body[0] >> 4) == 1
                cts = int.from_bytes(body[2:5], "big")
                if cts & 0x800000:
                    cts -= 1 << 24
                pts = dts + cts
            elif kind == 8 and len(body) >= 2:
                media = (body[0] >> 4) != 10 or body[1] == 1  # AAC raw, not the config
            self.tags.append((kind, dts, pts, key, media, data[pos:end]))
            pos = end
        self.keyframes = [i for i, t in enumerate(self.tags) if t[0] == 9 and t[3]]
        self.audio = [i for i, t in enumerate(self.tags) if t[0] == 8 and t[4]]
        if len(self.keyframes) < 3 or not self.audio:
            raise Broken(f"{path}: needs video with keyframes and audio")
        self.duration = max(t[2] for t in self.tags) / 1000.0

    def last_video_before(self, tag_index):
        for i in range(tag_index - 1, -1, -1):
            if self.tags[i][0] == 9 and self.tags[i][4]:
                return i
        return None


def probe_media(path):
    out = run(["ffprobe", "-v", "error", "-of", "json", "-show_entries",
               "stream=codec_type,codec_name,width,height,r_frame_rate:format=duration,bit_rate", path],
              f"ffprobe {os.path.basename(path)}")
    return json.loads(out)


# --------------------------------------------------------------------------
# playlists: watched as they are renamed into place


def parse_playlist(text):
    """(media sequence, [(duration, uri)], ended)."""
    sequence, segments, duration, ended = 0, [], None, False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line and not line.startswith("#"):
            segments.append((duration, line))
            duration = None
    return sequence, segments, ended


class Track:
    """One media playlist as seen over time: every segment ever listed, with
    the moment it first appeared."""

    def __init__(self, path):
        self.path = path
        self.segments = {}  # sequence -> (duration, uri, first seen)
        self.reads = 0
        self.ended = False

    def update(self, seen):
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return
        self.reads += 1
        sequence, segments, ended = parse_playlist(text)
        self.ended = self.ended or ended
        for i, (duration, uri) in enumerate(segments):
            if sequence + i not in self.segments and duration is not None:
                self.segments[sequence + i] = (duration, uri, seen)

    def ordered(self):
        return [self.segments[k] + (k,) for k in sorted(self.segments)]


IN_CLOSE_WRITE = 0x08
IN_MOVED_TO = 0x80
IN_CREATE = 0x100


class Watcher(threading.Thread):
    """Records when each playlist changes: inotify on the directories that
    hold them (and on the directories that will), or stat every 5 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.tracks = {}   # path -> Track
        self.parents = []  # directories in which the playlists' directories will appear
        self.stopping = threading.Event()
        self.error = None
        self.mode = "inotify"

    def add(self, path):
        self.tracks[path] = Track(path)
        return self.tracks[path]

    def add_parent(self, directory):
        """Playlists will appear in subdirectories of directory, created later."""
        self.parents.append(directory)

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the caller
            self.error = e

    def _run(self):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fd = -1
        try:
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        except AttributeError:
            pass
        if fd < 0:
            self.mode = "polling every 5 ms"
            return self._poll()
        watches = {}  # wd -> directory

        def watch(directory, mask):
            wd = libc.inotify_add_watch(fd, os.fsencode(directory), mask)
            if wd >= 0:
                watches[wd] = directory
            return wd >= 0

        by_dir = {}
        for path in self.tracks:
            by_dir.setdefault(os.path.dirname(path), []).append(path)
        pending = set(by_dir)  # directories not there yet: looked for every 5 ms
        for parent in self.parents:
            watch(parent, IN_CREATE)  # wakes the loop when one appears

        poller = select.poll()
        poller.register(fd, select.POLLIN)
        try:
            while not self.stopping.is_set():
                for directory in list(pending):
                    if os.path.isdir(directory) and watch(directory, IN_MOVED_TO | IN_CLOSE_WRITE):
                        pending.discard(directory)
                        now = time.monotonic()
                        for path in by_dir[directory]:
                            if os.path.exists(path):
                                self.tracks[path].update(now)
                if not poller.poll(5 if pending else 100):
                    continue
                now = time.monotonic()
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                changed = set()
                pos = 0
                while pos + 16 <= len(data):
                    wd, _mask, _cookie, length = struct.unpack_from("iIII", data, pos)
                    name = data[pos + 16:pos + 16 + length].rstrip(b"\0").decode("utf-8", "replace")
                    pos += 16 + length
                    directory = watches.get(wd)
                    if directory is None:
                        continue
                    path = os.path.join(directory, name)
                    if path in self.tracks:
                        changed.add(path)
                for path in changed:
                    self.tracks[path].update(now)
        finally:
            os.close(fd)

    def _poll(self):
        last = {}
        while not self.stopping.is_set():
            now = time.monotonic()
            for path, track in self.tracks.items():
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                key = (st.st_ino, st.st_mtime_ns, st.st_size)
                if last.get(path) != key:
                    last[path] = key
                    track.update(now)
            time.sleep(0.005)

    def finish(self):
        self.stopping.set()
        self.join(timeout=5)
        for track in self.tracks.values():  # the final state, e.g. ENDLIST
            track.update(time.monotonic())


# --------------------------------------------------------------------------
# publishing


F_SETPIPE_SZ = 1031


def relay_command(port, key):
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-analyzeduration", "0", "-fpsprobesize", "0", "-f", "flv", "-i", "pipe:0",
            "-c", "copy", "-f", "flv", f"rtmp://127.0.0.1:{port}/{APPLICATION}/{key}"]


class Pacer(threading.Thread):
    """Writes each channel's FLV tags to its publishers' stdin at channel
    start + tag timestamp, and records when each tag was written."""

    def __init__(self, flv, channels, offsets):
        super().__init__(daemon=True)
        self.flv = flv
        self.channels = channels  # per channel: [fd, ...] (one per server)
        self.offsets = offsets
        self.sent = [[None] * len(flv.tags) for _ in channels]
        self.start_at = None
        self.finished_at = None
        self.late = []
        self.error = None
        self.ready = threading.Event()

    def run(self):
        try:
            self._run()
        except Exception as e:
            self.error = e

    def _run(self):
        for fds in self.channels:
            for fd in fds:
                os.write(fd, self.flv.header)
        schedule = []
        for c, offset in enumerate(self.offsets):
            for i, tag in enumerate(self.flv.tags):
                schedule.append((offset + tag[1] / 1000.0, c, i))
        heapq.heapify(schedule)
        self.start_at = time.monotonic() + 0.05
        self.ready.set()
        flip = 0
        late = self.late
        while schedule:
            due, c, i = heapq.heappop(schedule)
            due += self.start_at
            delay = due - time.monotonic()
            if delay > 0.0005:
                time.sleep(delay)
            now = time.monotonic()
            late.append(now - due)
            self.sent[c][i] = now
            data = self.flv.tags[i][5]
            fds = self.channels[c]
            flip ^= 1
            for fd in (fds if flip else reversed(fds)):
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
        self.finished_at = time.monotonic()


# --------------------------------------------------------------------------
# servers


class Nginx:
    label = "nginx-rtmp"

    def __init__(self, workdir, port, keys, module):
        self.dir = os.path.join(workdir, "nginx")
        self.hls = os.path.join(self.dir, "hls")
        os.makedirs(self.hls)
        self.port = port
        self.keys = keys
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.err = os.path.join(self.dir, "error.log")
        user = ""
        if os.geteuid() == 0:
            # Workers keep the user that started nginx (onair runs as it too):
            # the default ("nobody") could not write into this directory.
            user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};\n"
        with open(self.conf, "w") as f:
            f.write(
                f"load_module {module};\n{user}"
                "worker_processes 1;\n"
                f"pid {self.dir}/nginx.pid;\n"
                f"error_log {self.err} warn;\n"
                "events { worker_connections 1024; }\n"
                "rtmp {\n"
                "  server {\n"
                f"    listen 127.0.0.1:{port};\n"
                f"    application {APPLICATION} {{\n"
                "      live on;\n"
                "      hls on;\n"
                f"      hls_path {self.hls};\n"
                f"      hls_fragment {SEGMENT_SECONDS}s;\n"
                f"      hls_playlist_length {SEGMENT_SECONDS * WINDOW_SEGMENTS}s;\n"
                "    }\n"
                "  }\n"
                "}\n")
        self.cmd = ["nginx", "-p", self.dir, "-e", self.err, "-c", self.conf, "-g", "daemon off;"]
        self.proc = None

    def start(self, env):
        self.proc = spawn(self.cmd, os.path.join(self.dir, "stderr.log"), env=env)

    def pids(self):
        if not self.proc or self.proc.poll() is not None:
            return []
        return [self.proc.pid] + proc_children(self.proc.pid)

    def describe(self):
        return shlex.join(self.cmd) + f"   (config: {self.conf})"

    def playlists(self, key):
        """{track: playlist path}; "av" is a playlist with both tracks."""
        return {"av": os.path.join(self.hls, key + ".m3u8")}

    def watch(self, watcher):
        pass

    def stop(self):
        # SIGQUIT: graceful shutdown (open fragments are closed)
        return stop(self.proc, signal.SIGQUIT, 10)

    def log_tail(self):
        return tail(self.err) + tail(os.path.join(self.dir, "stderr.log"))


class Onair:
    label = "onair"

    def __init__(self, workdir, port, keys):
        self.dir = os.path.join(workdir, "onair")
        os.makedirs(self.dir)
        self.port = port
        self.keys = keys
        template = os.environ.get("ONAIR_BENCH_ONAIR_BRANCH") or ONAIR_BRANCH
        parts = [template.format(n=n, port=port, application=APPLICATION, key=key,
                                 location=shlex.quote(self.location(key)), segment=SEGMENT_SECONDS,
                                 window=WINDOW_SEGMENTS)
                 for n, key in enumerate(keys)]
        self.description = " ".join(parts)
        self.first = parts[0]
        self.cmd = ["gst-launch-1.0", "-q", "-e", *shlex.split(self.description)]
        self.proc = None

    def location(self, key):
        return os.path.join(self.dir, key)

    def start(self, env):
        self.proc = spawn(self.cmd, os.path.join(self.dir, "stderr.log"), env=env)

    def pids(self):
        if not self.proc or self.proc.poll() is not None:
            return []
        return [self.proc.pid]

    def describe(self):
        if len(self.keys) == 1:
            return shlex.join(self.cmd)
        return (f"gst-launch-1.0 -q -e {self.first} ... ({len(self.keys)} such branches, keys "
                f"{self.keys[0]}..{self.keys[-1]})")

    def playlists(self, key):
        loc = self.location(key)
        return {"video": os.path.join(loc, "video_0", "index.m3u8"),
                "audio": os.path.join(loc, "audio", "index.m3u8")}

    def watch(self, watcher):
        for key in self.keys:
            watcher.add_parent(self.location(key))

    def stop(self):
        # every branch ends by itself (eos-on-disconnect); -e turns SIGINT
        # into EOS if one did not
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log("  onair: still running 20 s after the publishers left; sending SIGINT (EOS)")
                return stop(self.proc, signal.SIGINT, 20)
        forget(self.proc)
        return self.proc.returncode

    def log_tail(self):
        return tail(os.path.join(self.dir, "stderr.log"))


# --------------------------------------------------------------------------
# one run: servers up, publish, measure, servers down


class ServerRun:
    def __init__(self, server):
        self.server = server
        self.usage = Usage(server.pids)
        self.tracks = {}  # key -> {track: Track}
        self.cpu = None
        self.window = None
        self.rss_idle = None
        self.rss_peak = 0
        self.hwm = None
        self.exit = None


def run_case(case, servers_for_pass, flv, keys, env, workdir):
    """Runs each pass (a list of servers fed together); returns every
    ServerRun."""
    results = []
    for servers in servers_for_pass:
        results += run_pass(case, servers, flv, keys, env, workdir)
    return results


def run_pass(case, servers, flv, keys, env, workdir):
    runs = [ServerRun(s) for s in servers]
    watcher = Watcher()
    relays = []
    pacer = None
    try:
        for r in runs:
            r.server.start(env)
            r.server.watch(watcher)
            for key in keys:
                r.tracks[key] = {name: watcher.add(path) for name, path in r.server.playlists(key).items()}
        deadline = time.monotonic() + 60
        for r in runs:
            while not listening(r.server.port):
                if r.server.proc.poll() is not None or time.monotonic() > deadline:
                    raise Broken(f"{case}: {r.server.label} did not start listening on port {r.server.port}",
                                 ["command: " + r.server.describe()] + r.server.log_tail())
                time.sleep(0.05)
        watcher.start()

        # one ffmpeg publisher per channel and server, blocked on its stdin
        channel_fds = []
        for n, key in enumerate(keys):
            fds = []
            for r in runs:
                proc = spawn(relay_command(r.server.port, key),
                             os.path.join(workdir, f"publisher-{case}-{r.server.label}-{key}.log"),
                             stdin=subprocess.PIPE)
                try:
                    fcntl.fcntl(proc.stdin.fileno(), F_SETPIPE_SZ, 1 << 20)
                except OSError:
                    pass
                relays.append((proc, r, key))
                fds.append(proc.stdin.fileno())
            channel_fds.append(fds)
        time.sleep(1.0)  # let the publishers and servers settle
        for r in runs:
            r.rss_idle = r.usage.rss_kb()

        offsets = [n * STAGGER_SECONDS for n in range(len(keys))]
        pacer = Pacer(flv, channel_fds, offsets)
        busy0 = system_busy()
        pacer.start()
        pacer.ready.wait()
        cpu0 = {id(r): r.usage.cpu() for r in runs}
        switches0 = {id(r): r.usage.switches()[1] for r in runs}
        relay_cpu0 = sum(proc_cpu(p.pid) or 0 for p, _, _ in relays)
        t0 = time.monotonic()
        while pacer.is_alive():
            for r in runs:
                if r.server.proc.poll() is not None:
                    raise Broken(f"{case}: {r.server.label} exited while publishing "
                                 f"({r.server.proc.returncode})", r.server.log_tail())
                r.rss_peak = max(r.rss_peak, r.usage.rss_kb())
            for proc, r, key in relays:
                if proc.poll() is not None:
                    raise Broken(f"{case}: the publisher of {key} to {r.server.label} exited "
                                 f"({proc.returncode})",
                                 tail(os.path.join(workdir, f"publisher-{case}-{r.server.label}-{key}.log"))
                                 + r.server.log_tail())
            pacer.join(timeout=0.5)
        if pacer.error:
            raise Broken(f"{case}: publishing failed: {pacer.error!r}")
        t1 = time.monotonic()
        busy1 = system_busy()
        relay_cpu = sum(proc_cpu(p.pid) or 0 for p, _, _ in relays) - relay_cpu0
        for r in runs:
            r.cpu = r.usage.cpu() - cpu0[id(r)]
            r.threads, switches = r.usage.switches()
            r.switches = switches - switches0[id(r)]
            r.window = t1 - t0
            r.rss_peak = max(r.rss_peak, r.usage.rss_kb())
            r.hwm = sum(h for h in (proc_status(p, "VmHWM") for p in r.server.pids()) if h is not None)
            r.relay_cpu = relay_cpu  # the whole pass's
            r.machine_busy = (busy1 - busy0) if busy0 is not None and busy1 is not None else None
            r.pass_servers = len(runs)
            r.pacer = pacer

        # the publishers leave: ffmpeg finishes its stream and disconnects
        for proc, _, _ in relays:
            try:
                proc.stdin.close()
            except OSError:
                pass
        for proc, r, key in relays:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log(f"  publisher of {key} to {r.server.label} did not finish; killed")
            stop(proc, signal.SIGKILL, 1)
        for r in runs:
            r.exit = r.server.stop()
        watcher.finish()
        if watcher.error:
            raise Broken(f"{case}: watching the playlists failed: {watcher.error!r}")
        for r in runs:
            r.watch_mode = watcher.mode
    finally:
        for proc, _, _ in relays:
            if proc.returncode is None:
                stop(proc, signal.SIGKILL, 1)
        for r in runs:
            if r.server.proc and r.server.proc.returncode is None:
                stop(r.server.proc, signal.SIGKILL, 1)
        watcher.stopping.set()
    return runs


# --------------------------------------------------------------------------
# analysis


def median(values):
    return statistics.median(values) if values else None


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Timing:
    """When the pacer wrote each tag of one channel, and how late that was."""

    def __init__(self, pacer, channel, flv):
        self.sent = pacer.sent[channel]
        self.base = pacer.start_at + pacer.offsets[channel]
        self.finished_at = pacer.finished_at
        self.flv = flv

    def late(self, i):
        if i >= len(self.sent) or self.sent[i] is None:
            return 0.0
        return self.sent[i] - (self.base + self.flv.tags[i][1] / 1000.0)

    def on_time(self, *tags):
        return all(self.late(i) <= PACER_SLACK_SECONDS for i in tags)


def video_latencies(track, flv, timing):
    """([(sequence, latency s, keyframe index)], segments whose end is not
    at a keyframe, segments not timed because the pacer was late)."""
    kf_pts = [flv.tags[i][2] for i in flv.keyframes]
    origin = kf_pts[0]
    out, off_grid, skipped, end = [], 0, 0, 0.0
    for duration, _uri, seen, sequence in track.ordered():
        end += duration
        if seen > timing.finished_at:
            break  # ended by the publisher leaving
        target = origin + end * 1000.0
        j = min(range(len(kf_pts)), key=lambda k: abs(kf_pts[k] - target))
        if abs(kf_pts[j] - target) > 1.5 * 1000.0 / FPS or j == 0:
            off_grid += 1
            continue
        last = flv.last_video_before(flv.keyframes[j])
        if last is None or timing.sent[last] is None:
            continue
        if not timing.on_time(last, flv.keyframes[j]):
            skipped += 1
            continue
        out.append((sequence, seen - timing.sent[last], j))
    return out, off_grid, skipped


def audio_latencies(track, flv, timing):
    """([(sequence, latency s)], segments not timed): against the last audio
    frame before the segment's end (sum of EXTINF from the first audio
    frame)."""
    audio_pts = [flv.tags[i][2] for i in flv.audio]
    origin = audio_pts[0]
    out, skipped, end, k = [], 0, 0.0, 0
    half_frame = 1024 / 48000 * 1000 / 2
    for duration, _uri, seen, sequence in track.ordered():
        end += duration
        if seen > timing.finished_at:
            break
        boundary = origin + end * 1000.0
        while k + 1 < len(audio_pts) and audio_pts[k + 1] < boundary - half_frame:
            k += 1
        tag = flv.audio[k]
        if timing.sent[tag] is None:
            continue
        if not timing.on_time(tag, flv.audio[min(k + 1, len(flv.audio) - 1)]):
            skipped += 1
            continue
        out.append((sequence, seen - timing.sent[tag]))
    return out, skipped


class Figures:
    def __init__(self, run, flv, keys):
        self.run = run
        self.label = run.server.label
        self.channels = len(keys)
        self.latency = []        # s, the playable segment
        self.by_segment = {}     # (channel, index of the keyframe that ends it) -> s, as self.latency
        self.per_track = {}      # track -> [s]
        self.off_grid = 0
        self.skipped = 0
        self.segments = 0
        self.pairing = 0.0       # ms, the farthest a video end is from the nearest audio end
        self.durations = {}      # track -> [EXTINF of every segment but the last]
        pacer = run.pacer
        for c, key in enumerate(keys):
            tracks = run.tracks[key]
            timing = Timing(pacer, c, flv)
            for name, track in tracks.items():
                if not track.segments:
                    raise Broken(f"{self.label}: no segment in {track.path}" if track.reads else
                                 f"{self.label}: playlist {track.path} never appeared",
                                 run.server.log_tail())
                self.durations.setdefault(name, []).extend(d for d, *_ in track.ordered()[:-1])
            if "av" in tracks:
                lat, off, skipped = video_latencies(tracks["av"], flv, timing)
                self.off_grid += off
                self.skipped += skipped
                self.latency += [x[1] for x in lat]
                self.by_segment.update({(c, x[2]): x[1] for x in lat})
                self.segments += len(tracks["av"].segments)
            else:
                video, off, skipped = video_latencies(tracks["video"], flv, timing)
                audio, audio_skipped = audio_latencies(tracks["audio"], flv, timing)
                self.off_grid += off
                self.skipped += skipped + audio_skipped
                self.per_track.setdefault("video", []).extend(x[1] for x in video)
                self.per_track.setdefault("audio", []).extend(x[1] for x in audio)
                self.segments += len(tracks["video"].segments)
                # playable: the video segment is listed, and the audio
                # playlist reaches its end (within AUDIO_SLACK_MS: audio is
                # cut between whole AAC frames)
                a_origin = flv.tags[flv.audio[0]][2]
                a_ends, end = [], 0.0
                for duration, _uri, seen, _sequence in tracks["audio"].ordered():
                    end += duration
                    a_ends.append((a_origin + end * 1000.0, seen))
                for sequence, latency, j in video:
                    v_end = flv.tags[flv.keyframes[j]][2]
                    self.pairing = max(self.pairing, min(abs(a - v_end) for a, _ in a_ends))
                    covering = next((a for a in a_ends if a[0] >= v_end - AUDIO_SLACK_MS), None)
                    if covering is None or covering[1] > pacer.finished_at:
                        continue
                    v_seen = tracks["video"].segments[sequence][2]
                    self.latency.append(latency + max(0.0, covering[1] - v_seen))
                    self.by_segment[(c, j)] = self.latency[-1]
        minutes = run.window / 60.0
        self.cpu_per_min = run.cpu / minutes
        self.cpu_per_min_channel = self.cpu_per_min / self.channels
        self.rss_growth_channel = (run.rss_peak - run.rss_idle) / self.channels


def stats_ms(values):
    if not values:
        return ("-",) * 5
    # tenths of a millisecond: the goal compares medians a fraction of a
    # millisecond apart
    return (str(len(values)), f"{statistics.median(values) * 1000:.1f}", f"{percentile(values, 0.9) * 1000:.1f}",
            f"{min(values) * 1000:.1f}", f"{max(values) * 1000:.1f}")


# --------------------------------------------------------------------------
# checking what was written


def ffprobe_json(path, *entries):
    proc = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *entries, path], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if proc.returncode != 0:
        return None, proc.stderr.decode("utf-8", "replace").strip()
    return json.loads(proc.stdout), proc.stderr.decode("utf-8", "replace").strip()


def probe_segment(path):
    """A readable segment: streams, duration, first video packet a keyframe."""
    info, err = ffprobe_json(path, "-show_entries", "stream=codec_type,codec_name,width,height"
                             ":format=duration", "-show_entries", "packet=stream_index,flags,pts_time")
    if info is None:
        return None, err
    streams = info.get("streams", [])
    kinds = {s["codec_type"]: s for s in streams}
    packets = info.get("packets", [])
    video_index = next((i for i, s in enumerate(streams) if s["codec_type"] == "video"), None)
    first_video = next((p for p in packets if p.get("stream_index") == video_index), None)
    return {
        "kinds": kinds,
        "duration": float(info.get("format", {}).get("duration") or 0),
        "video_packets": sum(1 for p in packets if p.get("stream_index") == video_index),
        "starts_with_key": bool(first_video and "K" in first_video.get("flags", "")),
    }, err


def verify(run, keys, size, workdir):
    """ffprobe a few segments of the first and last channel; returns text
    lines, raises Broken when a segment is unreadable or lacks a track."""
    lines = []
    check_keys = sorted({keys[0], keys[-1]})
    for key in check_keys:
        for name, track in run.tracks[key].items():
            if not os.path.exists(track.path):
                raise Broken(f"{run.server.label}: {track.path} missing at the end")
            sequence, segments, ended = parse_playlist(open(track.path, encoding="utf-8").read())
            if not segments:
                raise Broken(f"{run.server.label}: {track.path} lists no segment at the end")
            base = os.path.dirname(track.path)
            picks = sorted({0, len(segments) // 2, max(0, len(segments) - 2)})
            results = []
            for i in picks:
                duration, uri = segments[i]
                seg = os.path.join(base, uri)
                path = seg
                if name != "av":  # fMP4: init + media segment
                    path = os.path.join(workdir, f"probe-{run.server.label}-{key}-{name}-{i}.mp4")
                    with open(path, "wb") as out:
                        for part in (os.path.join(base, "init.mp4"), seg):
                            with open(part, "rb") as f:
                                out.write(f.read())
                info, err = probe_segment(path)
                if info is None:
                    raise Broken(f"{run.server.label}: ffprobe cannot read {seg}", [err])
                want = {"av": ("video", "audio"), "video": ("video",), "audio": ("audio",)}[name]
                missing = [k for k in want if k not in info["kinds"]]
                if missing:
                    raise Broken(f"{run.server.label}: {seg} has no {' or '.join(missing)}",
                                 [f"streams: {sorted(info['kinds'])}"])
                desc = [f"#{sequence + i} {duration:.3f}s"]
                video = info["kinds"].get("video")
                problems = []
                if video:
                    desc.append(f"{video['codec_name']} {video.get('width')}x{video.get('height')} "
                                f"{info['video_packets']} frames")
                    if (video.get("width"), video.get("height")) != size:
                        problems.append("size")
                    if not info["starts_with_key"]:
                        problems.append("not starting on a keyframe")
                    if video["codec_name"] != "h264":
                        problems.append("codec")
                audio = info["kinds"].get("audio")
                if audio:
                    desc.append(audio["codec_name"])
                    if audio["codec_name"] != "aac":
                        problems.append("audio codec")
                if name != "audio" and abs(duration - SEGMENT_SECONDS) > 0.1 and i < len(segments) - 1:
                    problems.append(f"EXTINF {duration:.3f}")
                if problems:
                    raise Broken(f"{run.server.label}: {seg}: " + ", ".join(problems), [" ".join(desc)])
                results.append(" ".join(desc))
            lines.append(f"  {run.server.label:10} {key} {name:5}: {len(segments)} in playlist"
                         f"{', ENDLIST' if ended else ''}; probed " + "; ".join(results))
    return lines


# --------------------------------------------------------------------------


def main():
    seconds = env_number("ONAIR_BENCH_SECONDS", 60.0, float, minimum=10, program="bench_ingest")
    channels = env_number("ONAIR_BENCH_CHANNELS", 20, int, minimum=1, program="bench_ingest")
    cases = [c.strip() for c in os.environ.get("ONAIR_BENCH_CASES", "single,multi").split(",") if c.strip()]
    for c in cases:
        if c not in CASES:
            sys.exit(f"bench_ingest: unknown case {c!r} (single, multi)")
    sequential = env_flag("ONAIR_BENCH_SEQUENTIAL")
    keep = env_flag("ONAIR_BENCH_KEEP")
    module = os.environ.get("ONAIR_BENCH_NGINX_MODULE") or NGINX_MODULE

    for tool in ("ffmpeg", "ffprobe", "gst-launch-1.0", "gst-inspect-1.0"):
        if not shutil.which(tool):
            log(f"bench_ingest: {tool} not found")
            return 2
    nginx = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
    if not nginx or not os.path.exists(module):
        log(f"bench_ingest: nginx with the rtmp module not found (nginx: {nginx or 'missing'}, {module}); "
            "apt-get install nginx libnginx-mod-rtmp")
        return 2
    os.environ["PATH"] = os.path.dirname(nginx) + os.pathsep + os.environ.get("PATH", "")

    env = dict(os.environ)
    build_root = env.get("ONAIR_BUILD_ROOT")
    if build_root and not env.get("GST_PLUGIN_PATH"):
        env["GST_PLUGIN_PATH"] = os.path.join(build_root, "plugins")

    workdir = tempfile.mkdtemp(prefix="onair-bench-ingest-", dir=os.environ.get("ONAIR_BENCH_TMPDIR") or None)
    try:
        return bench(workdir, env, seconds, channels, cases, sequential, module)
    except Broken as e:
        log(e.report())
        return 1
    finally:
        kill_children()
        if keep:
            log(f"bench_ingest: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def bench(workdir, env, seconds, channels, cases, sequential, module):
    t_start = time.monotonic()
    log("== ingest_vs_nginx_rtmp: RTMP publish -> HLS remux, onair against nginx-rtmp ==")
    log(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, "
        f"GST_PLUGIN_PATH={env.get('GST_PLUGIN_PATH', '(unset)')}")
    log(run(["ffmpeg", "-hide_banner", "-version"], "ffmpeg -version").splitlines()[0])
    log(run(["gst-launch-1.0", "--version"], "gst-launch-1.0 --version", env=env).splitlines()[1])
    for directory in env.get("GST_PLUGIN_PATH", "").split(os.pathsep):
        plugin = os.path.join(directory, "libgstonair.so")
        if directory and os.path.exists(plugin):
            built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(plugin)))
            log(f"onair plugin: {plugin} (built {built})")
            break
    version = subprocess.run(["nginx", "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
    log(version.decode().strip() + f", {module}")
    for element in ("rtmpserversrc", "abrsink"):  # also warms the registry
        run(["gst-inspect-1.0", element], f"gst-inspect-1.0 {element}", env=env, timeout=120)

    # -- input
    inputs = {}
    to_generate = []
    for case in cases:
        w, h, vk, ak, _ = CASES[case]
        given = os.environ.get("ONAIR_BENCH_INPUT" + ("_MULTI" if case == "multi" else ""), "").strip()
        if given:
            inputs[case] = os.path.abspath(given)
        else:
            inputs[case] = os.path.join(workdir, f"input-{case}.mp4")
            to_generate.append((inputs[case], w, h, vk, ak))
    if to_generate:
        t0 = time.monotonic()
        generate_inputs(to_generate, seconds)
        log(f"input: generated {seconds:g} s ({', '.join(os.path.basename(p) for p, *_ in to_generate)}) "
            f"in {time.monotonic() - t0:.0f} s")
    flvs = {}
    for case in cases:
        flv_path = os.path.join(workdir, f"input-{case}.flv")
        run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", inputs[case], "-map", "0:v:0", "-map", "0:a:0",
             "-c", "copy", "-f", "flv", flv_path], "remux input to FLV")
        flvs[case] = Flv(flv_path)
        info = probe_media(inputs[case])
        v = next(s for s in info["streams"] if s["codec_type"] == "video")
        a = next((s for s in info["streams"] if s["codec_type"] == "audio"), {"codec_name": "none"})
        flv = flvs[case]
        gaps = {round((flv.tags[b][2] - flv.tags[a_][2]) / 1000.0, 3)
                for a_, b in zip(flv.keyframes, flv.keyframes[1:])}
        log(f"input {case}: {v['codec_name']} {v['width']}x{v['height']} {v['r_frame_rate']} + {a['codec_name']}, "
            f"{float(info['format']['duration']):.1f} s, {int(info['format']['bit_rate']) / 1e6:.2f} Mbit/s, "
            f"{len(flv.keyframes)} keyframes, apart: {', '.join(f'{g:g}' for g in sorted(gaps))} s")
        if gaps != {float(SEGMENT_SECONDS)}:
            log(f"  WARNING: keyframes not exactly {SEGMENT_SECONDS} s apart: segments differ between servers")

    outcome = {}
    for case in cases:
        w, h, _vk, _ak, what = CASES[case]
        n = 1 if case == "single" else channels
        keys = [f"ch{i:02d}" for i in range(n)]
        log("")
        log(f"-- case {case}: {what.format(n=n)}, {SEGMENT_SECONDS} s segments, window {WINDOW_SEGMENTS}, "
            + ("servers one after the other" if sequential else "both servers at once, same pacer"))
        casedir = os.path.join(workdir, case)
        os.makedirs(casedir)

        def make(kind, sub):
            d = os.path.join(casedir, sub)
            os.makedirs(d, exist_ok=True)
            if kind == "nginx":
                return Nginx(d, free_port(), keys, module)
            return Onair(d, free_port(), keys)
        if sequential:
            passes = [[make("nginx", "nginx")], [make("onair", "onair")]]
        else:
            passes = [[make("nginx", "both"), make("onair", "both")]]
        for p in passes:
            for s in p:
                log(f"  {s.label}: {s.describe()}")
        t0 = time.monotonic()
        runs = run_case(case, passes, flvs[case], keys, env, casedir)
        log(f"  ran in {time.monotonic() - t0:.0f} s; playlists watched with {runs[0].watch_mode}")
        for r in runs:
            if r.exit not in (0, None):
                log(f"  note: {r.server.label} exit status {r.exit}")
                for line in r.server.log_tail()[-5:]:
                    log("    " + line)
        figures = {r.server.label: Figures(r, flvs[case], keys) for r in runs}
        lines = []
        for r in runs:
            lines += verify(r, keys, (w, h), casedir)
        outcome[case] = report(case, runs, figures, lines, n)

    log("")
    log("summary:")
    for case, (lat_ok, cpu_ok, line) in outcome.items():
        log(f"  {case}: {line}")
    log(f"bench_ingest: done in {time.monotonic() - t_start:.0f} s")
    return 0


def report(case, runs, figures, verify_lines, n):
    ng = figures["nginx-rtmp"]
    on = figures["onair"]
    for pacer in dict.fromkeys(r.pacer for r in runs):
        late = pacer.late
        log(f"  pacing: {len(late)} tags, written late by median {statistics.median(late) * 1000:.2f} ms, "
            f"p99 {percentile(late, 0.99) * 1000:.1f} ms, max {max(late) * 1000:.1f} ms")
    log("")
    log("  latency: a segment's last frame written to the publisher -> the segment listed in the playlist (ms)")
    rows = [("nginx-rtmp",) + stats_ms(ng.latency),
            ("onair (video and audio listed)",) + stats_ms(on.latency)]
    for name in ("video", "audio"):
        rows.append((f"  onair {name} playlist",) + stats_ms(on.per_track.get(name, [])))
    print_table(("server", "segments", "median", "p90", "min", "max"), rows)
    # Both servers get each frame at the same instant, but how long ffmpeg
    # holds a segment's last frame varies from segment to segment (tens of
    # ms): the medians above can fall on different segments. The same
    # segment's figures, one server against the other, tell the servers
    # apart more steadily.
    paired = sorted(on.by_segment[k] - ng.by_segment[k] for k in on.by_segment.keys() & ng.by_segment.keys())
    if paired:
        log(f"  the same segment, onair minus nginx-rtmp ({len(paired)} segments): median "
            f"{median(paired) * 1000:+.2f} ms, p10 {percentile(paired, 0.1) * 1000:+.2f}, "
            f"p90 {percentile(paired, 0.9) * 1000:+.2f}; onair first in "
            f"{sum(1 for d in paired if d < 0)}, nginx-rtmp first in {sum(1 for d in paired if d > 0)}")
    lengths = [f"nginx-rtmp {statistics.fmean(ng.durations['av']):.3f} s"] + [
        f"onair {name} {statistics.fmean(d):.3f} s" for name, d in sorted(on.durations.items(), reverse=True)]
    log("  mean segment length (EXTINF): " + ", ".join(lengths)
        + (f"; onair audio segment ends are up to {on.pairing:.0f} ms from the video's" if on.pairing else ""))
    for f in (ng, on):
        if f.off_grid:
            log(f"  note: {f.label}: {f.off_grid} segment(s) not ending at an input keyframe (not timed)")
        if f.skipped:
            log(f"  note: {f.label}: {f.skipped} segment end(s) not timed: the pacer wrote their last frame or "
                f"the next one more than {PACER_SLACK_SECONDS * 1000:.0f} ms late (a busy machine)")

    log("")
    log("  CPU (user + system of the server's processes while publishing) and memory (VmRSS summed)")
    rows = []
    for f in (ng, on):
        r = f.run
        rows.append((f.label, f"{r.cpu:.2f}", f"{r.window:.1f}", f"{f.cpu_per_min:.3f}",
                     f"{f.cpu_per_min_channel:.4f}" if n > 1 else "-",
                     f"{r.rss_idle / 1024:.1f}", f"{r.rss_peak / 1024:.1f}", f"{r.hwm / 1024:.1f}",
                     f"{f.rss_growth_channel / 1024:.2f}" if n > 1 else "-",
                     f"{r.rss_peak / 1024 / n:.2f}" if n > 1 else "-",
                     str(r.threads), f"{r.switches / r.window:.0f}"))
    print_table(("server", "cpu s", "window s", "CPU-s/min", "per channel", "RSS idle MB", "RSS peak MB",
                 "HWM MB", "growth/ch MB", "peak/ch MB", "threads", "switches/s"), rows)
    log("  growth/ch = (peak - idle) / channels; HWM = VmHWM summed (includes start-up); "
        "switches/s = context switches of all the server's threads")
    for r in runs:
        if r is not next(x for x in runs if x.pacer is r.pacer) or r.machine_busy is None:
            continue  # once per pass
        servers_cpu = sum(x.cpu for x in runs if x.pacer is r.pacer)
        publishers = r.relay_cpu
        log(f"  meanwhile{'' if len(runs) == r.pass_servers else ' (' + r.server.label + ' pass)'}: publishers "
            f"(ffmpeg, not counted) {publishers:.1f} cpu s; rest of the machine "
            f"{max(0.0, r.machine_busy - servers_cpu - publishers):.1f} cpu s (this script's pacer and watcher, "
            f"other work) over {r.window:.0f} s on {os.cpu_count()} cores")
    log("")
    log("  output check (ffprobe):")
    for line in verify_lines:
        log(line)

    on_med, ng_med = median(on.latency), median(ng.latency)
    lat_med = ratio(on_med, ng_med)
    lat_p90 = ratio(percentile(on.latency, 0.9), percentile(ng.latency, 0.9))
    cpu = ratio(on.cpu_per_min, ng.cpu_per_min)
    mem = ratio(on.rss_growth_channel, ng.rss_growth_channel) if n > 1 else ratio(on.run.rss_peak, ng.run.rss_peak)
    lat_ok = on_med is not None and ng_med is not None and on_med <= ng_med
    cpu_ok = cpu is not None and cpu <= CPU_GOAL
    log("")
    log(f"  onair/nginx-rtmp: latency median {fmt(lat_med, '.2f')}x, p90 {fmt(lat_p90, '.2f')}x; "
        f"CPU {fmt(cpu, '.2f')}x; memory {'growth per channel' if n > 1 else 'peak RSS'} {fmt(mem, '.2f')}x")
    lat_verdict = "not measured" if on_med is None or ng_med is None else ("met" if lat_ok else "NOT met")
    verdict = (f"latency {lat_verdict} (onair median {fmt(on_med and on_med * 1000, '.1f')} ms vs "
               f"{fmt(ng_med and ng_med * 1000, '.1f')} ms, goal <=), CPU {'met' if cpu_ok else 'NOT met'} "
               f"({fmt(cpu, '.2f')}x, goal <= {CPU_GOAL}x; {on.cpu_per_min:.3f} vs {ng.cpu_per_min:.3f} CPU-s/min"
               + (f", per channel {on.cpu_per_min_channel:.4f} vs {ng.cpu_per_min_channel:.4f}" if n > 1 else "")
               + ")"
               + (f", memory per channel {on.rss_growth_channel / 1024:.2f} vs {ng.rss_growth_channel / 1024:.2f} MB"
                  if n > 1 else ""))
    log(f"  goals: {verdict}")
    return lat_ok, cpu_ok, verdict


if __name__ == "__main__":
    run_main(main)
