#!/usr/bin/env python3
# onair
# Copyright (C) 2026 onair developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ladder encode cost and quality: `abrladder ! abrsink` against ffmpeg.

The same generated input goes through the same ladder (1080p:5000, 720p:2800,
480p:1400, 144p:200 kbit/s; x264 veryfast; GOP 2 s, no scene-cut keyframes;
ABR with a VBV max rate equal to the bitrate and a 600 ms buffer) twice:

  onair   gst-launch-1.0 filesrc ! qtdemux ! h264parse ! avdec_h264
              ! abrladder ! abrsink mode=vod
  ffmpeg  ffmpeg -filter_complex split+scale, four libx264 outputs,
              -f hls -var_stream_map (fMP4 segments)

run alternately, and a floor: decoding the input plus encoding each rung from
pre-scaled raw pictures (five processes at once, as a ladder runs them), the
least any ladder with these encoders can cost. It prints the CPU
seconds (user + system of the child and all its threads, from wait4) and wall
seconds of each, their ratios, and per rung the bitrate reached and the SSIM of
each rendition against the source scaled to the rung's size (lanczos).

Target (from the issue): onair's CPU <= 0.92 x ffmpeg's at equal or better SSIM
per rung (within 0.002). The benchmark reports; it fails (non-zero exit) only
when a command fails.

Standard library only. Environment:
  ONAIR_BENCH_SECONDS   input length in seconds (default 20)
  ONAIR_BENCH_ROUNDS    rounds of onair + ffmpeg + floor (default 2)
  ONAIR_BENCH_INPUT     use this file instead of generating one
  ONAIR_BENCH_KEEP=1    keep the temporary directory (its path is printed)
  ONAIR_BENCH_TMPDIR    where to make the temporary directory (default: $TMPDIR)
  ONAIR_BENCH_ONAIR_PIPELINE
                        gst-launch description to time instead of the default
                        one; {input} and {outdir} are substituted
  ONAIR_BENCH_SKIP_ONAIR=1
                        time ffmpeg and the floor only (when the plugin is absent)
  GST_PLUGIN_PATH       where libgstonair.so is; defaults to
                        $ONAIR_BUILD_ROOT/plugins when ONAIR_BUILD_ROOT is set
"""

import concurrent.futures
import json
import math
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from benchutil import adopt, env_number, fmt, forget, kill, kill_children, log, print_table, ratio, reap, run_main

# The ladder as abrladder's `ladder` property spells it: name, short side, kbit/s.
LADDER = [("1080p", 1080, 5000), ("720p", 720, 2800), ("480p", 480, 1400), ("144p", 144, 200)]
PRESET = "veryfast"
GOP_SECONDS = 2
VBV_BUFFER_MS = 600  # x264enc's default vbv-buf-capacity; abrladder keeps it
SSIM_TOLERANCE = 0.002
CPU_TARGET = 0.92

DEFAULT_ONAIR_PIPELINE = (
    "filesrc location={input} ! qtdemux ! h264parse ! avdec_h264 ! "
    "abrladder ladder=" + ",".join(f"{n}:{k}" for n, _, k in LADDER) + " "
    f"gop-duration={GOP_SECONDS} speed-preset={PRESET} ! "
    "abrsink mode=vod location={outdir}"
)

# x264 options that differ for reasons that do not change the work done.
INERT_WHEN_NO_SCENECUT = {"keyint_min"}


# --------------------------------------------------------------------------
# running children


class CommandFailed(Exception):
    def __init__(self, label, cmd, status, stderr_tail):
        super().__init__(label)
        self.label = label
        self.cmd = cmd
        self.status = status
        self.stderr_tail = stderr_tail

    def report(self):
        lines = [f"bench_ladder: {self.label} failed ({self.status})", "  command: " + shlex.join(self.cmd)]
        if self.stderr_tail:
            lines.append("  stderr (last lines):")
            lines.extend("    " + line for line in self.stderr_tail)
        return "\n".join(lines)


def system_cpu_seconds():
    """(busy, steal): CPU seconds the whole machine has spent busy (all
    cores) and those a hypervisor took away, from /proc/stat; None where
    there is no /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(v) for v in fields[1:]] + [0] * 8
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick  # guest time is already in user


class Measure:
    """CPU and wall seconds of one child process, and what the rest of the
    machine used meanwhile (other = busy seconds of all cores minus the
    child's, a sign of a noisy machine)."""

    def __init__(self, user, system, wall, maxrss_kb, other=None, steal=None):
        self.user = user
        self.system = system
        self.wall = wall
        self.maxrss_kb = maxrss_kb
        self.other = other
        self.steal = steal

    @property
    def cpu(self):
        return self.user + self.system

    def __add__(self, other):
        def add(a, b):
            return None if a is None or b is None else a + b
        return Measure(self.user + other.user, self.system + other.system, self.wall + other.wall,
                       max(self.maxrss_kb, other.maxrss_kb), add(self.other, other.other),
                       add(self.steal, other.steal))


def _tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def run_timed(cmd, label, workdir, env=None, timeout=None):
    """Runs cmd, waits for it with wait4 and returns its Measure."""
    return run_timed_together([(cmd, label)], workdir, env=env, timeout=timeout)[0]


def run_timed_together(jobs, workdir, env=None, timeout=None):
    """Starts every (cmd, label) of jobs at once, waits for each with wait4
    and returns their Measures (wall: from the common start to the last
    exit; other: what the rest of the machine used, shared by all).

    stderr goes to files (never a pipe that could fill while we sit in
    wait4); on failure the others are killed and the failed one's stderr
    tail is part of the exception."""
    running = []
    timed_out = threading.Event()
    timer = None
    busy_before = system_cpu_seconds()
    start = time.monotonic()
    try:
        for cmd, label in jobs:
            err_path = os.path.join(workdir, "stderr-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", label) + ".log")
            with open(err_path, "wb") as err:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                        env=env, start_new_session=True)
            adopt(proc)
            running.append((proc, cmd, label, err_path))
        if timeout:
            def on_timeout():
                timed_out.set()
                for proc, *_ in running:
                    kill(proc)
            timer = threading.Timer(timeout, on_timeout)
            timer.daemon = True
            timer.start()
        finished = []
        for proc, cmd, label, err_path in running:
            usage = reap(proc)
            if proc.returncode != 0:
                what = (f"timed out after {timeout:.0f} s" if timed_out.is_set()
                        else describe_status(proc.returncode))
                raise CommandFailed(label, cmd, what, _tail(err_path))
            finished.append(usage)
        wall = time.monotonic() - start
        busy_after = system_cpu_seconds()
    finally:
        if timer:
            timer.cancel()
        for proc, *_ in running:
            if proc.returncode is None:
                kill(proc)
                try:
                    os.waitpid(proc.pid, 0)
                except ChildProcessError:
                    pass
                proc.returncode = -9
            forget(proc)
    other = steal = None
    if busy_before is not None and busy_after is not None:
        own = sum(u.ru_utime + u.ru_stime for u in finished)
        other = max(0.0, busy_after[0] - busy_before[0] - own)
        steal = busy_after[1] - busy_before[1]
    return [Measure(u.ru_utime, u.ru_stime, wall, u.ru_maxrss, other, steal) for u in finished]


def run(cmd, label, env=None, timeout=None):
    """Runs an untimed helper command; returns (stdout, stderr) as text."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, start_new_session=True)
    adopt(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        out, err = proc.communicate()
        raise CommandFailed(label, cmd, f"timed out after {timeout:.0f} s",
                            err.decode("utf-8", "replace").splitlines()[-40:])
    finally:
        forget(proc)
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise CommandFailed(label, cmd, describe_status(proc.returncode),
                            [line for line in err.splitlines() if line.strip()][-40:])
    return out, err


def describe_status(code):
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


# --------------------------------------------------------------------------
# media helpers


def ffprobe_json(path, *entries):
    out, _ = run(["ffprobe", "-v", "error", "-of", "json", *entries, path], f"ffprobe {os.path.basename(path)}",
                 timeout=300)
    return json.loads(out)


def rational(text):
    num, _, den = (text or "0").partition("/")
    den = float(den or 1)
    return float(num) / den if den else 0.0


def probe_input(path):
    info = ffprobe_json(path, "-select_streams", "v:0", "-show_entries",
                        "stream=codec_name,width,height,pix_fmt,r_frame_rate,avg_frame_rate,nb_frames,duration"
                        ":format=duration,bit_rate")
    if not info.get("streams"):
        sys.exit(f"bench_ladder: {path} has no video stream")
    stream = info["streams"][0]
    fps = rational(stream.get("avg_frame_rate") or "0/1") or rational(stream["r_frame_rate"])
    duration = float(stream.get("duration") or info["format"].get("duration") or 0)
    frames = int(stream.get("nb_frames") or round(duration * fps))
    return {
        "codec": stream["codec_name"], "width": int(stream["width"]), "height": int(stream["height"]),
        "pix_fmt": stream.get("pix_fmt", "?"), "fps": fps, "frame_rate": stream["r_frame_rate"],
        "duration": duration, "frames": frames, "bit_rate": int(info["format"].get("bit_rate") or 0),
    }


def rung_dimensions(lines, width, height):
    """Same rule as abrladder (plugins/common/ladderspec.cpp): the short side is
    the rung's lines, the long side follows the aspect ratio, both rounded to
    even; None when that would upscale."""
    portrait = height > width
    short_side, long_side = (width, height) if portrait else (height, width)
    if lines > short_side:
        return None

    def even(v):
        return max(2, int(math.floor(v / 2.0 + 0.5)) * 2)

    out_short = even(lines)
    out_long = even(lines * long_side / short_side)
    return (out_short, out_long) if portrait else (out_long, out_short)


def generate_input(path, seconds):
    """1080p30 with global motion over fine detail (a pan across a Mandelbrot
    render), moving graphics (testsrc2), chaotic motion (life) and temporal
    grain, so that motion search and rate control have work to do. Encoded
    once as a high-quality H.264 mezzanine (~20 Mbit/s)."""
    fps = 30
    graph = (
        "[0:v]format=yuv420p,crop=1920:1080:x='480+440*sin(2*PI*t/11)':y='270+250*sin(2*PI*t/7)'[bg];"
        "[2:v]scale=704:396:flags=neighbor,format=yuv420p[lf];"
        "[bg][1:v]overlay=x=64:y=48[t1];"
        "[t1][lf]overlay=x='W-w-64-200*(1+sin(2*PI*t/9))':y=H-h-48,"
        "noise=alls=4:allf=t,format=yuv420p"
    )
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i",
        f"mandelbrot=size=2880x1620:rate={fps}:maxiter=512:start_x=-0.743643887037151:"
        "start_y=0.13182590420533:start_scale=0.03:outer=normalized_iteration_count,"
        f"trim=end_frame=1,loop=loop=-1:size=1,setpts=N/{fps}/TB",
        "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={fps}",
        "-f", "lavfi", "-i", f"life=size=352x198:rate={fps}:mold=10:ratio=0.3:death_color=#302040:"
        "life_color=#f0d090:mold_color=#405080",
        "-filter_complex", graph,
        "-t", f"{seconds:g}", "-r", str(fps),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", str(fps * 2), "-pix_fmt", "yuv420p",
        "-an", "-movflags", "+faststart", path,
    ]
    run(cmd, "generate input", timeout=max(600, 60 * seconds))
    return cmd


class Playlist:
    """The pieces of one HLS media playlist, in order, enough to join a
    rendition into one file (init + media segments, or TS segments)."""

    def __init__(self, path):
        self.path = path
        self.maps = []      # (file, offset, length) of each EXT-X-MAP in order of appearance
        self.pieces = []    # ("map"|"seg", file, offset, length)
        base = os.path.dirname(path)
        pending_range = None
        last_end = {}
        with open(path, encoding="utf-8", errors="replace") as f:
            for raw in f:
                line = raw.strip()
                if not line:
                    continue
                if line.startswith("#EXT-X-MAP:"):
                    attrs = parse_attributes(line[len("#EXT-X-MAP:"):])
                    file = resolve(base, attrs["URI"])
                    offset, length = parse_byterange(attrs.get("BYTERANGE"), last_end.get(file, 0))
                    piece = (file, offset, length)
                    if offset is not None:
                        last_end[file] = offset + length
                    self.maps.append(piece)
                    self.pieces.append(("map", *piece))
                elif line.startswith("#EXT-X-BYTERANGE:"):
                    pending_range = line[len("#EXT-X-BYTERANGE:"):]
                elif line.startswith("#"):
                    continue
                else:
                    file = resolve(base, line)
                    offset, length = parse_byterange(pending_range, last_end.get(file, 0))
                    if offset is not None:
                        last_end[file] = offset + length
                    pending_range = None
                    self.pieces.append(("seg", file, offset, length))
        if not any(kind == "seg" for kind, *_ in self.pieces):
            raise ValueError(f"{path}: no media segments")

    @property
    def segments(self):
        return [p[1:] for p in self.pieces if p[0] == "seg"]

    def join(self, out_path):
        """Writes init + segments into one file; a map is written again only
        when it changes."""
        current_map = None
        with open(out_path, "wb") as out:
            for kind, file, offset, length in self.pieces:
                if kind == "map":
                    if (file, offset, length) == current_map:
                        continue
                    current_map = (file, offset, length)
                out.write(read_piece(file, offset, length))


def parse_attributes(text):
    attrs = {}
    for m in re.finditer(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', text):
        value = m.group(2)
        attrs[m.group(1)] = value[1:-1] if value.startswith('"') else value
    return attrs


def parse_byterange(text, default_offset):
    if not text:
        return None, None
    length, _, offset = text.partition("@")
    return (int(offset) if offset else default_offset), int(length)


def resolve(base, uri):
    uri = urllib.parse.urlsplit(uri).path
    return os.path.normpath(os.path.join(base, urllib.parse.unquote(uri)))


def read_piece(file, offset, length):
    with open(file, "rb") as f:
        if offset is None:
            return f.read()
        f.seek(offset)
        return f.read(length)


def x264_options(data):
    """The option string x264 writes into its SEI, as a dict."""
    at = data.find(b"x264 - core")
    if at < 0:
        return None
    end = data.find(b"\x00", at)
    text = data[at:end if end > 0 else at + 4096].decode("ascii", "replace")
    _, _, options = text.partition("options: ")
    result = {}
    for item in options.split():
        key, eq, value = item.partition("=")
        if eq:
            result[key] = value
    return result


def find_rung_playlist(outdir, name, size):
    """OUTDIR/<name>/index.m3u8 (or OUTDIR/<name>.m3u8), or else the variant
    of a multivariant playlist with the rung's resolution."""
    for direct in (os.path.join(outdir, name, "index.m3u8"), os.path.join(outdir, name + ".m3u8")):
        if os.path.isfile(direct):
            return direct
    for entry in sorted(os.listdir(outdir)):
        path = os.path.join(outdir, entry)
        if not entry.endswith(".m3u8") or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f]
        for i, line in enumerate(lines):
            if line.startswith("#EXT-X-STREAM-INF:"):
                attrs = parse_attributes(line[len("#EXT-X-STREAM-INF:"):])
                if attrs.get("RESOLUTION") == f"{size[0]}x{size[1]}":
                    for uri in lines[i + 1:]:
                        if uri and not uri.startswith("#"):
                            candidate = resolve(outdir, uri)
                            if os.path.isfile(candidate):
                                return candidate
                            break
    return None


class Rendition:
    def __init__(self, tool, rung, playlist_path, workdir):
        self.tool = tool
        self.rung = rung
        self.playlist = Playlist(playlist_path)
        ext = ".mp4" if self.playlist.maps else ".ts"
        self.joined = os.path.join(workdir, f"{tool}-{rung['name']}{ext}")
        self.playlist.join(self.joined)
        self.x264 = None
        self.segment_count = len(self.playlist.segments)
        self.ssim = None
        self.ssim_y = None

    def probe(self, fps):
        info = ffprobe_json(self.joined, "-select_streams", "v:0", "-show_entries",
                            "stream=codec_name,profile,width,height,pix_fmt", "-show_entries", "packet=size,flags")
        if not info.get("streams"):
            raise CommandFailed(f"{self.tool}: rendition {self.rung['name']}", ["ffprobe", self.joined],
                                "no video stream", [])
        stream = info["streams"][0]
        packets = info.get("packets", [])
        self.codec = stream.get("codec_name", "?")
        self.profile = stream.get("profile", "?")
        self.width = int(stream["width"])
        self.height = int(stream["height"])
        self.frames = len(packets)
        self.keyframes = sum(1 for p in packets if "K" in p.get("flags", ""))
        payload = sum(int(p["size"]) for p in packets)
        self.kbps = payload * 8 / (self.frames / fps) / 1000 if self.frames else 0.0
        # x264's SEI, from the first access unit as an elementary stream (in a
        # TS file it is cut up by packet headers)
        if self.codec == "h264":
            cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", self.joined, "-map", "0:v:0", "-c", "copy",
                   "-frames:v", "1", "-f", "h264", "pipe:1"]
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=120)
            self.x264 = x264_options(proc.stdout) or None


def ssim_command(rendition_path, source_path, width, height, frame_rate):
    """Pairs pictures by index, not by timestamp: each side is restamped
    N / frame rate in a time base of one frame. (Pairing by PTS-STARTPTS
    misaligns one frame in three when one side's time base cannot express
    1/30 s exactly, e.g. Matroska's milliseconds; a dropped or repeated
    picture shows in the frame counts instead.)"""
    num, _, den = frame_rate.partition("/")
    restamp = f"settb={den or 1}/{num},setpts=N"
    graph = (
        f"[0:v]{restamp},format=yuv420p[dist];"
        f"[1:v]scale={width}:{height}:flags=lanczos,format=yuv420p,{restamp}[ref];"
        "[dist][ref]ssim"
    )
    return ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info",
            "-i", rendition_path, "-i", source_path, "-lavfi", graph, "-f", "null", "-"]


SSIM_RE = re.compile(r"SSIM Y:([0-9.]+).*?All:([0-9.]+)")


def measure_ssim(rendition, source_path, frame_rate, timeout):
    cmd = ssim_command(rendition.joined, source_path, rendition.width, rendition.height, frame_rate)
    _, err = run(cmd, f"ssim {rendition.tool} {rendition.rung['name']}", timeout=timeout)
    matches = SSIM_RE.findall(err)
    if not matches:
        raise CommandFailed(f"ssim {rendition.tool} {rendition.rung['name']}", cmd, "no SSIM line in output",
                            err.splitlines()[-20:])
    rendition.ssim_y = float(matches[-1][0])
    rendition.ssim = float(matches[-1][1])
    return cmd


# --------------------------------------------------------------------------
# the commands being compared


def vbv_kbit(kbps):
    return kbps * VBV_BUFFER_MS // 1000


def ffmpeg_ladder_command(source, rungs, src_size, outdir):
    """ffmpeg's equivalent of abrladder ! abrsink: one decode, split, scale,
    one libx264 per rung, HLS with fMP4 segments and a multivariant playlist."""
    n = len(rungs)
    parts = [f"[0:v]split={n}" + "".join(f"[v{i}]" for i in range(n))]
    maps = []
    for i, rung in enumerate(rungs):
        if rung["size"] == src_size:
            maps.append(f"[v{i}]")
        else:
            parts.append(f"[v{i}]scale={rung['size'][0]}:{rung['size'][1]}[s{i}]")
            maps.append(f"[s{i}]")
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
           "-i", source, "-filter_complex", ";".join(parts)]
    for label in maps:
        cmd += ["-map", label]
    cmd += ["-c:v", "libx264", "-preset", PRESET]
    gop = rungs[0]["gop"]
    cmd += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    for i, rung in enumerate(rungs):
        k = rung["kbps"]
        cmd += [f"-b:v:{i}", f"{k}k", f"-maxrate:v:{i}", f"{k}k", f"-bufsize:v:{i}", f"{vbv_kbit(k)}k"]
    cmd += ["-f", "hls", "-hls_time", str(GOP_SECONDS), "-hls_playlist_type", "vod",
            "-hls_segment_type", "fmp4", "-hls_flags", "independent_segments",
            "-hls_fmp4_init_filename", "init.mp4",
            "-hls_segment_filename", os.path.join(outdir, "%v", "seg_%05d.m4s"),
            "-var_stream_map", " ".join(f"v:{i},name:{r['name']}" for i, r in enumerate(rungs)),
            "-master_pl_name", "master.m3u8", os.path.join(outdir, "%v", "index.m3u8")]
    return cmd


def onair_command(source, outdir):
    template = os.environ.get("ONAIR_BENCH_ONAIR_PIPELINE") or DEFAULT_ONAIR_PIPELINE
    description = template.format(input=shlex.quote(source), outdir=shlex.quote(outdir))
    return ["gst-launch-1.0", "-q", *shlex.split(description)]


def floor_prepare_command(source, rungs, src_size, workdir):
    """Untimed: decodes once and writes each rung's pictures, scaled as
    ffmpeg's ladder scales them, to a y4m file."""
    n = len(rungs)
    parts = [f"[0:v]split={n}" + "".join(f"[v{i}]" for i in range(n))]
    cmd_out = []
    for i, rung in enumerate(rungs):
        if rung["size"] == src_size:
            parts.append(f"[v{i}]null[o{i}]")
        else:
            parts.append(f"[v{i}]scale={rung['size'][0]}:{rung['size'][1]}[o{i}]")
        rung["raw"] = os.path.join(workdir, f"raw-{rung['name']}.y4m")
        cmd_out += ["-map", f"[o{i}]", "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", rung["raw"]]
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", source,
            "-filter_complex", ";".join(parts), *cmd_out]


def floor_decode_command(source):
    return ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-i", source, "-map", "0:v", "-f", "null", "-"]


def floor_encode_command(rung):
    k = rung["kbps"]
    gop = rung["gop"]
    return ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-i", rung["raw"], "-c:v", "libx264", "-preset", PRESET,
            "-b:v", f"{k}k", "-maxrate", f"{k}k", "-bufsize", f"{vbv_kbit(k)}k",
            "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-f", "null", "-"]


# --------------------------------------------------------------------------
# report


def summarize(measures):
    cpus = [m.cpu for m in measures]
    walls = [m.wall for m in measures]
    return {
        "cpu_median": statistics.median(cpus), "cpu_mean": statistics.fmean(cpus),
        "cpu_min": min(cpus), "cpu_max": max(cpus),
        "wall_median": statistics.median(walls), "wall_mean": statistics.fmean(walls),
    }


def diff_x264(a, b):
    """Keys whose values differ between two x264 option dicts."""
    if not a or not b:
        return None
    diffs = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            note = ""
            if key in INERT_WHEN_NO_SCENECUT and a.get("scenecut") == "0" and b.get("scenecut") == "0":
                note = " (no effect: scenecut=0)"
            diffs.append(f"{key}={a.get(key, '(absent)')} vs {b.get(key, '(absent)')}{note}")
    return diffs


# --------------------------------------------------------------------------


def main():
    seconds = env_number("ONAIR_BENCH_SECONDS", 20.0, float, minimum=2, program="bench_ladder")
    rounds = env_number("ONAIR_BENCH_ROUNDS", 2, int, minimum=1, program="bench_ladder")
    keep = os.environ.get("ONAIR_BENCH_KEEP", "") not in ("", "0")
    skip_onair = os.environ.get("ONAIR_BENCH_SKIP_ONAIR", "") not in ("", "0")
    given_input = os.environ.get("ONAIR_BENCH_INPUT", "").strip()

    for tool in ["ffmpeg", "ffprobe"] + ([] if skip_onair else ["gst-launch-1.0", "gst-inspect-1.0"]):
        if not shutil.which(tool):
            log(f"bench_ladder: {tool} not found")
            return 2

    env = dict(os.environ)
    build_root = env.get("ONAIR_BUILD_ROOT")
    if build_root and not env.get("GST_PLUGIN_PATH"):
        env["GST_PLUGIN_PATH"] = os.path.join(build_root, "plugins")

    workdir = tempfile.mkdtemp(prefix="onair-bench-ladder-", dir=os.environ.get("ONAIR_BENCH_TMPDIR") or None)
    try:
        return bench(workdir, env, seconds, rounds, skip_onair, given_input)
    except CommandFailed as e:
        log(e.report())
        return 1
    finally:
        kill_children()
        if keep:
            log(f"bench_ladder: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def bench(workdir, env, seconds, rounds, skip_onair, given_input):
    t_start = time.monotonic()
    log("== ladder_vs_ffmpeg: abrladder ! abrsink against ffmpeg (libx264 "
        f"{PRESET}), {rounds} round(s) ==")
    log(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, "
        f"GST_PLUGIN_PATH={env.get('GST_PLUGIN_PATH', '(unset)')}")
    log(run(["ffmpeg", "-hide_banner", "-version"], "ffmpeg -version")[0].splitlines()[0])
    if not skip_onair:
        log(run(["gst-launch-1.0", "--version"], "gst-launch-1.0 --version", env=env)[0].splitlines()[1])

    # -- input
    if given_input:
        source = os.path.abspath(given_input)
        log(f"input: {source}")
    else:
        source = os.path.join(workdir, "input.mp4")
        t0 = time.monotonic()
        generate_input(source, seconds)
        log(f"input: generated {seconds:g} s 1080p30 (Mandelbrot pan + testsrc2 + life + grain) "
            f"in {time.monotonic() - t0:.1f} s")
    src = probe_input(source)
    src_size = (src["width"], src["height"])
    log(f"       {src['codec']} {src['width']}x{src['height']} {src['pix_fmt']} {src['fps']:g} fps, "
        f"{src['duration']:.2f} s, {src['frames']} frames, {src['bit_rate'] / 1e6:.1f} Mbit/s")

    gop = int(round(GOP_SECONDS * src["fps"]))
    rungs = []
    for name, lines, kbps in LADDER:
        size = rung_dimensions(lines, *src_size)
        if size is None:
            log(f"ladder: {name} skipped (larger than the input, no upscaling)")
            continue
        rungs.append({"name": name, "lines": lines, "kbps": kbps, "size": size, "gop": gop})
    log("ladder: " + ", ".join(f"{r['name']} {r['size'][0]}x{r['size'][1]} {r['kbps']}k" for r in rungs)
        + f"; GOP {gop} frames ({GOP_SECONDS} s), no scene-cut keyframes; "
        f"VBV maxrate = bitrate, buffer {VBV_BUFFER_MS} ms")

    # -- onair availability, and a warm registry before anything is timed
    if not skip_onair and not os.environ.get("ONAIR_BENCH_ONAIR_PIPELINE"):
        for element in ("abrladder", "abrsink"):
            run(["gst-inspect-1.0", element], f"gst-inspect-1.0 {element}", env=env, timeout=120)
    elif not skip_onair:
        run(["gst-inspect-1.0", "--version"], "gst-inspect-1.0 (registry warm-up)", env=env, timeout=120)

    # -- floor preparation (untimed)
    prep = floor_prepare_command(source, rungs, src_size, workdir)
    t0 = time.monotonic()
    run(prep, "floor: pre-scale raw pictures", timeout=max(600, 60 * seconds))
    log(f"floor: pre-scaled raw y4m for each rung in {time.monotonic() - t0:.1f} s (untimed)")

    timeout = max(900, 60 * seconds)
    out_of = {}
    commands = {}
    results = {"onair": [], "ffmpeg": [], "floor": []}
    floor_parts = []  # per round: {"decode": Measure, name: Measure}
    per_round_rows = []

    def run_ladder(tool, rnd):
        outdir = os.path.join(workdir, f"out-{tool}-{rnd}")
        if tool == "ffmpeg":
            os.makedirs(outdir)
            cmd = ffmpeg_ladder_command(source, rungs, src_size, outdir)
            m = run_timed(cmd, f"ffmpeg ladder round {rnd}", workdir, timeout=timeout)
        else:
            os.makedirs(outdir)
            cmd = onair_command(source, outdir)
            m = run_timed(cmd, f"onair ladder round {rnd}", workdir, env=env, timeout=timeout)
        commands[tool] = cmd
        # keep the last round's output only
        previous = out_of.get(tool)
        if previous:
            shutil.rmtree(previous, ignore_errors=True)
        out_of[tool] = outdir
        results[tool].append(m)
        per_round_rows.append((rnd, tool, m))

    def run_floor(rnd):
        # The decode and every rung's encode run at the same time, as in a
        # ladder: x264 spends measurably less CPU per picture when its
        # threads share the cores with other work than when it runs alone
        # (about 6% here), so sequential runs would not be a floor.
        jobs = [(floor_decode_command(source), f"floor decode round {rnd}")]
        commands["floor decode"] = jobs[0][0]
        for rung in rungs:
            cmd = floor_encode_command(rung)
            commands[f"floor encode {rung['name']}"] = cmd
            jobs.append((cmd, f"floor encode {rung['name']} round {rnd}"))
        measures = run_timed_together(jobs, workdir, timeout=timeout)
        parts = dict(zip(["decode"] + [r["name"] for r in rungs], measures))
        total = Measure(sum(m.user for m in measures), sum(m.system for m in measures), measures[0].wall,
                        sum(m.maxrss_kb for m in measures), measures[0].other, measures[0].steal)
        floor_parts.append(parts)
        results["floor"].append(total)
        per_round_rows.append((rnd, "floor", total))

    tools = ["ffmpeg"] if skip_onair else ["onair", "ffmpeg"]
    for rnd in range(1, rounds + 1):
        # alternate which tool goes first, so drift (caches, clocks) is shared
        order = tools if rnd % 2 == 1 else list(reversed(tools))
        for tool in order:
            run_ladder(tool, rnd)
            m = results[tool][-1]
            log(f"round {rnd}: {tool:6} cpu {m.cpu:7.2f} s  wall {m.wall:6.2f} s  "
                f"(meanwhile others used {fmt(m.other)} cpu s, steal {fmt(m.steal)} s)")
        run_floor(rnd)
        m = results["floor"][-1]
        log(f"round {rnd}: floor  cpu {m.cpu:7.2f} s  wall {m.wall:6.2f} s  "
            f"(meanwhile others used {fmt(m.other)} cpu s, steal {fmt(m.steal)} s)")

    # -- renditions: join, probe, x264 options
    renditions = {}
    for tool in tools:
        for rung in rungs:
            playlist = find_rung_playlist(out_of[tool], rung["name"], rung["size"])
            if playlist is None:
                listing = sorted(os.path.relpath(os.path.join(d, f), out_of[tool])
                                 for d, _, fs in os.walk(out_of[tool]) for f in fs)
                raise CommandFailed(f"{tool}: no playlist for rung {rung['name']}", commands[tool],
                                    "output incomplete", ["output tree: " + " ".join(listing[:40])])
            try:
                r = Rendition(tool, rung, playlist, workdir)
            except (OSError, ValueError, KeyError) as e:
                raise CommandFailed(f"{tool}: rendition {rung['name']} unreadable", commands[tool],
                                    "output incomplete", [f"{playlist}: {e}"])
            r.probe(src["fps"])
            renditions[(tool, rung["name"])] = r

    # -- SSIM (untimed, two at a time)
    t0 = time.monotonic()
    ssim_cmds = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        futures = {pool.submit(measure_ssim, r, source, src["frame_rate"], timeout): key
                   for key, r in renditions.items()}
        for future in concurrent.futures.as_completed(futures):
            ssim_cmds[futures[future]] = future.result()
    ssim_seconds = time.monotonic() - t0

    # ---------------------------------------------------------------- report
    log("")
    log("commands (last round):")
    for label, cmd in commands.items():
        log(f"  {label}: {shlex.join(cmd)}")
    any_ssim = next(iter(ssim_cmds.values()))
    log(f"  ssim (per rung and tool, e.g.): {shlex.join(any_ssim)}")

    log("")
    log("per round (CPU = user + system of the child and its threads, from wait4):")
    rows = []
    for rnd, tool, m in per_round_rows:
        rows.append((rnd, tool, f"{m.cpu:.2f}", f"{m.user:.2f}", f"{m.system:.2f}",
                     f"{m.wall:.2f}", f"{m.cpu / m.wall:.2f}", f"{m.maxrss_kb / 1024:.0f}",
                     fmt(m.other), fmt(m.steal)))
    print_table(("round", "tool", "cpu s", "user s", "sys s", "wall s", "cpu/wall", "max RSS MB", "others cpu s",
                 "steal s"), rows)
    log("  floor = decode + each rung's encode from pre-scaled raw pictures, five processes at once "
        "(max RSS: their sum)")
    log("  others cpu s = busy seconds of the whole machine during the run minus the child's: "
        "well above 0 means other work competed for the cores;\n"
        "  steal s = time the hypervisor gave these cores to someone else (a noisy host also inflates cpu s)")

    stats = {tool: summarize(ms) for tool, ms in results.items() if ms}
    log("")
    log(f"over {rounds} round(s):")
    rows = []
    for tool in tools + ["floor"]:
        s = stats[tool]
        rows.append((tool, f"{s['cpu_median']:.2f}", f"{s['cpu_mean']:.2f}",
                     f"{s['cpu_min']:.2f}-{s['cpu_max']:.2f}",
                     f"{s['wall_median']:.2f}", f"{s['wall_mean']:.2f}",
                     f"{src['duration'] / s['wall_median']:.2f}x"))
    print_table(("tool", "cpu median", "cpu mean", "cpu range", "wall median", "wall mean", "speed"), rows)

    floor_cpu = {k: statistics.median(p[k].cpu for p in floor_parts) for k in floor_parts[0]}
    log("floor parts (median cpu s): " + ", ".join(
        f"{'decode' if k == 'decode' else 'encode ' + k} {v:.2f}" for k, v in floor_cpu.items()))

    cpu_ratio = ratio(stats["onair"]["cpu_median"], stats["ffmpeg"]["cpu_median"]) if not skip_onair else None
    wall_ratio = ratio(stats["onair"]["wall_median"], stats["ffmpeg"]["wall_median"]) if not skip_onair else None
    onair_floor = ratio(stats["onair"]["cpu_median"], stats["floor"]["cpu_median"]) if not skip_onair else None
    ffmpeg_floor = ratio(stats["ffmpeg"]["cpu_median"], stats["floor"]["cpu_median"])
    onair_floor_wall = (ratio(stats["onair"]["wall_median"], stats["floor"]["wall_median"])
                        if not skip_onair else None)
    log("")
    best_ratio = ratio(stats["onair"]["cpu_min"], stats["ffmpeg"]["cpu_min"]) if not skip_onair else None
    log(f"CPU  onair/ffmpeg = {fmt(cpu_ratio, '.3f')} (target <= {CPU_TARGET}; medians)   "
        f"best round against best round = {fmt(best_ratio, '.3f')}   "
        f"wall onair/ffmpeg = {fmt(wall_ratio, '.3f')}")
    log(f"CPU  onair/floor  = {fmt(onair_floor, '.3f')}   ffmpeg/floor = {fmt(ffmpeg_floor, '.3f')}   "
        f"(wall: onair/floor = {fmt(onair_floor_wall, '.3f')}, "
        f"ffmpeg/floor = {fmt(ratio(stats['ffmpeg']['wall_median'], stats['floor']['wall_median']), '.3f')})")

    log("")
    log("per rung: bitrate = H.264 payload bits / (frames / frame rate); frames/keyframes from ffprobe")
    rows = []
    for rung in rungs:
        row = [rung["name"], f"{rung['size'][0]}x{rung['size'][1]}", rung["kbps"]]
        for tool in ("onair", "ffmpeg"):
            r = renditions.get((tool, rung["name"]))
            if r is None:
                row += ["-", "-", "-"]
                continue
            dev = (r.kbps / rung["kbps"] - 1) * 100
            size_note = "" if (r.width, r.height) == rung["size"] else f" ({r.width}x{r.height}!)"
            row += [f"{r.kbps:.0f} ({dev:+.1f}%){size_note}", f"{r.frames}/{r.keyframes}", str(r.segment_count)]
        rows.append(row)
    print_table(("rung", "size", "target", "onair kbit/s", "frm/key", "segs", "ffmpeg kbit/s", "frm/key",
                 "segs"), rows)
    log(f"  source: {src['frames']} frames; a GOP of {gop} frames gives "
        f"{math.ceil(src['frames'] / gop)} keyframe(s)")
    for r in renditions.values():
        if r.frames != src["frames"]:
            log(f"  WARNING: {r.tool} {r.rung['name']} has {r.frames} frames, the source {src['frames']}: "
                "SSIM pairs pictures by index and is off after the first missing or extra one")

    log("")
    log(f"per rung: SSIM against the source scaled to the rung with lanczos (took {ssim_seconds:.0f} s)")
    rows = []
    deltas = []
    for rung in rungs:
        name = rung["name"]
        f = renditions[("ffmpeg", name)]
        o = renditions.get(("onair", name))
        delta = (o.ssim - f.ssim) if o else None
        deltas.append((name, delta))
        verdict = "-" if delta is None else ("ok" if delta >= -SSIM_TOLERANCE else "worse")
        rows.append((name, fmt(o.ssim if o else None, ".4f"), fmt(f.ssim, ".4f"), fmt(delta, "+.4f"), verdict,
                     fmt(o.ssim_y if o else None, ".4f"), fmt(f.ssim_y, ".4f")))
    print_table(("rung", "onair All", "ffmpeg All", "delta", f"(>= -{SSIM_TOLERANCE})", "onair Y", "ffmpeg Y"),
                rows)

    log("")
    log("x264 settings (from the SEI each encoder writes):")
    ref = renditions[("ffmpeg", rungs[0]["name"])].x264
    log(f"  ffmpeg {rungs[0]['name']}: " + (" ".join(f"{k}={v}" for k, v in ref.items()) if ref else "(none found)"))
    if not skip_onair:
        for rung in rungs:
            o = renditions[("onair", rung["name"])].x264
            f = renditions[("ffmpeg", rung["name"])].x264
            d = diff_x264(o, f)
            if d is None:
                log(f"  {rung['name']}: x264 options not found in "
                    f"{'onair' if o is None else 'ffmpeg'} output")
            elif not d:
                log(f"  {rung['name']}: onair and ffmpeg identical")
            else:
                log(f"  {rung['name']}: onair vs ffmpeg differ: " + "; ".join(d))

    log("")
    if skip_onair:
        log(f"ladder CPU ratio onair/ffmpeg = - (onair skipped); ffmpeg/floor = {fmt(ffmpeg_floor)}")
    else:
        ssim_ok = all(d is not None and d >= -SSIM_TOLERANCE for _, d in deltas)
        cpu_ok = cpu_ratio is not None and cpu_ratio <= CPU_TARGET
        verdict = "target met" if cpu_ok and ssim_ok else "target NOT met (" + ", ".join(
            x for x, bad in (("CPU", not cpu_ok), ("SSIM", not ssim_ok)) if bad) + ")"
        log(f"ladder CPU ratio onair/ffmpeg = {cpu_ratio:.2f} (target <= {CPU_TARGET}); "
            f"floor ratio onair/floor = {onair_floor:.2f}, ffmpeg/floor = {ffmpeg_floor:.2f}; "
            "SSIM delta per rung (onair - ffmpeg, tolerance -" + f"{SSIM_TOLERANCE}): "
            + ", ".join(f"{n} {fmt(d, '+.4f')}" for n, d in deltas) + f"; {verdict}")
    log(f"bench_ladder: done in {time.monotonic() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    run_main(main)
