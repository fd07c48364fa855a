#!/usr/bin/env python3
# onair — onair-launch from the outside: --check gives the exact messages for
# the broken files in tests/data/pipelines and fails; --print runs under
# gst-launch-1.0; a live test card stopped with SIGINT ends with EOS; a second
# SIGINT stops a pipeline that swallows EOS; a file becomes VOD and ends by
# itself; an RTMP publish through live-remux ends with its publisher; outputs
# pass ffprobe.
# SPDX-License-Identifier: LGPL-2.1-or-later

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SOURCE_ROOT = os.environ.get("ONAIR_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_ROOT = os.environ.get("ONAIR_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))
LAUNCH = os.environ.get("ONAIR_LAUNCH", os.path.join(BUILD_ROOT, "pipelines", "onair-launch"))
DATA = os.path.join(SOURCE_ROOT, "tests", "data", "pipelines")
PIPELINES = os.path.join(SOURCE_ROOT, "pipelines")
# Small and quick on a loaded 2-core machine; nothing below asserts a duration.
SMALL = ["ladder=360p:800,144p:200", "width=640", "height=360", "speed-preset=ultrafast"]
TIMEOUT = 240

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, finish  # noqa: E402


@contextlib.contextmanager
def launched(*args):
    """onair-launch ARGS running in the background (stdout and stderr piped),
    killed if it still runs when the block ends."""
    process = subprocess.Popen([LAUNCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def launch(*args, timeout=TIMEOUT):
    return subprocess.run([LAUNCH, *args], capture_output=True, text=True, timeout=timeout)


def run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        print("command failed:", " ".join(args), "\n", result.stdout[-3000:], result.stderr[-3000:], flush=True)
        sys.exit(1)
    return result.stdout


def ffprobe_rendition(directory, expect_codec):
    """Init segment plus every media segment of one rendition, as a player
    reads them: ffprobe must decode the stream without a complaint. Returns
    ffprobe's stream (packets counted), or None."""
    with open(os.path.join(directory, "index.m3u8")) as f:
        segments = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    if not check(segments, f"{directory}: no segments in the playlist"):
        return None
    joined = os.path.join(directory, "joined.mp4")
    with open(joined, "wb") as out:
        for name in ["init.mp4"] + segments:
            with open(os.path.join(directory, name), "rb") as f:
                out.write(f.read())
    result = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-of", "json", "-show_streams", joined],
                            capture_output=True, text=True)
    os.unlink(joined)
    check(result.returncode == 0 and not result.stderr.strip(), f"{directory}: ffprobe: {result.stderr[-500:]}")
    if result.returncode != 0:
        return None
    streams = json.loads(result.stdout)["streams"]
    check(len(streams) == 1 and streams[0]["codec_name"] == expect_codec,
          f"{directory}: streams {[s.get('codec_name') for s in streams]}, expected {expect_codec}")
    check(int(streams[0].get("nb_read_packets", 0)) > 0, f"{directory}: no packets")
    return streams[0]


def check_output(output, renditions, audio=True, endlist=True):
    """Returns ffprobe's stream of each rendition that it read, by name."""
    probed = {}
    check(os.path.isfile(os.path.join(output, "master.m3u8")), f"{output}: no master.m3u8")
    check(os.path.isfile(os.path.join(output, "manifest.mpd")), f"{output}: no manifest.mpd")
    names = renditions + (["audio"] if audio else [])
    check(sorted(d for d in os.listdir(output) if os.path.isdir(os.path.join(output, d))) == sorted(names),
          f"{output}: renditions {sorted(os.listdir(output))}, expected {sorted(names)}")
    for name in names:
        directory = os.path.join(output, name)
        if not check(os.path.isfile(os.path.join(directory, "index.m3u8")), f"{directory}: no index.m3u8"):
            continue
        with open(os.path.join(directory, "index.m3u8")) as f:
            playlist = f.read()
        if endlist:
            check(playlist.rstrip().endswith("#EXT-X-ENDLIST"), f"{directory}/index.m3u8 has no EXT-X-ENDLIST")
        stream = ffprobe_rendition(directory, "aac" if name == "audio" else "h264")
        if stream:
            probed[name] = stream
    return probed


def test_check_messages():
    """--check: every broken file fails with exit status 2 and exactly these
    messages, each with the file, the line and the thing at fault."""
    cases = {
        "unknown-element.pipeline": (["output=/tmp/x"], [
            '{f}:12: element "abrladdr" does not exist (did you mean "abrladder"?)',
        ]),
        "bad-properties.pipeline": (["output=/tmp/x"], [
            '{f}:15: element "videotestsrc" has no property "patern" (did you mean "pattern"?)',
            '{f}:16: property "gop-duration" of element "abrladder": "two seconds" is not a number (0.1 to 60)',
            '{f}:16: property "audio-bitrate" of element "abrladder": 9000 is out of range (16 to 512)',
            '{f}:16: property "renditions" of element "abrladder" is read-only',
            '{f}:17: property "mode" of element "abrsink": "livestream" is not one of live, vod',
        ]),
        "bad-references.pipeline": (["output=/tmp/x"], [
            '{f}:12: element "abrladder" (ladder) has no pad "audoi" (did you mean "audio"?) '
            '(pads: audio, audio_src, sink, src_%u)',
            '{f}:13: no element is named "ladr" (did you mean "ladder"?)',
        ]),
        "bad-parameters.pipeline": ([], [
            '{f}:21: unknown key "defualt" in [param gop] (did you mean "default"?) '
            '(keys: type, default, description, required, min, max, values)',
            '{f}:8: parameter "port": default "-1" is not an unsigned integer',
            '{f}:13: parameter "preset": default "fastest" is not one of fast, slow (did you mean "fast"?)',
            '{f}:16: parameter "size": unknown type "integer" (did you mean "int"?) '
            '(types: string, int, uint, double, bool, enum, duration, path, uri)',
            '{f}:19: parameter "gop": give it a default or required=true',
            '{f}:24: ${{prot}} is not a declared parameter (did you mean ${{port}}?)',
        ]),
        # values given on the command line: unknown, wrong type, out of range,
        # not an enum value, required and missing
        "values.pipeline": (["port=abc", "preset=slow", "gop=90s", "strem-key=1"], [
            '{f}: unknown parameter "strem-key" (parameters: port, preset, gop, key)',
            '{f}:6: parameter "port": "abc" is not an unsigned integer',
            '{f}:12: parameter "preset": "slow" is not one of ultrafast, veryfast, medium',
            '{f}:17: parameter "gop": 90s is above the maximum 60s',
            '{f}:22: parameter "key" is required and has no value',
        ]),
    }
    for name, (values, expected) in cases.items():
        path = os.path.join(DATA, name)
        for mode in (["--check"], []):  # running checks the same way first
            result = launch(*mode, path, *values)
            want = [line.format(f=path) for line in expected]
            got = result.stderr.splitlines()
            check(result.returncode == 2, f"{' '.join(mode)} {name}: exit status {result.returncode}, expected 2")
            check(got == want, f"{' '.join(mode)} {name}: messages differ\n  got:\n    " + "\n    ".join(got) +
                  "\n  expected:\n    " + "\n    ".join(want))
            check(result.stdout == "", f"{name}: unexpected output {result.stdout!r}")

    result = launch("--check", os.path.join(DATA, "values.pipeline"), "key=sink", "port")
    check(result.returncode == 2 and result.stderr == 'onair-launch: "port": parameters are given as NAME=VALUE\n',
          f"NAME=VALUE: {result.returncode} {result.stderr!r}")
    result = launch("--check", "/nonexistent/file.pipeline")
    check(result.returncode == 2 and result.stderr.startswith("/nonexistent/file.pipeline: "),
          f"missing file: {result.returncode} {result.stderr!r}")
    result = launch("--check", os.path.join(DATA, "values.pipeline"), "key=sink")
    check(result.returncode == 0 and result.stdout.endswith("values.pipeline: ok\n"),
          f"values.pipeline with a key: {result.returncode} {result.stderr!r}")


def test_shipped_files_pass_check():
    required = {"live-abr": ["stream-key=secret"], "live-remux": ["stream-key=secret"],
                "file-vod": ["input=/nonexistent/input.mp4"]}
    for name in ("live-abr", "live-remux", "srt-abr", "file-vod", "test-card"):
        path = os.path.join(PIPELINES, name + ".pipeline")
        result = launch("--check", path, "output=/tmp/onair-check", *required.get(name, []))
        check(result.returncode == 0 and result.stdout == f"{path}: ok\n",
              f"--check {name}: {result.returncode} {result.stdout!r} {result.stderr!r}")
        # a bare name finds the shipped file
        result = launch("--check", name, "output=/tmp/onair-check", *required.get(name, []))
        check(result.returncode == 0, f"--check {name} by name: {result.returncode} {result.stderr!r}")


def test_print_runs_under_gst_launch(work):
    """The printed command line, given to a shell as is, runs under
    gst-launch-1.0 and writes a complete live output (3 s of frames, then EOS)."""
    output = os.path.join(work, "printed")
    result = launch("--print", "test-card", f"output={output}", "num-buffers=90",
                    'channel-name=It\'s "live" $HOME ü', *SMALL)
    if not check(result.returncode == 0, f"--print: {result.returncode} {result.stderr}"):
        return
    command = result.stdout
    print(command, flush=True)
    check(command.startswith("gst-launch-1.0 -e \\\n"), "--print does not start with gst-launch-1.0 -e")
    ran = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=TIMEOUT)
    check(ran.returncode == 0 and "Got EOS from element" in ran.stdout,
          f"gst-launch-1.0: {ran.returncode}\n{ran.stdout[-2000:]}\n{ran.stderr[-2000:]}")
    check_output(output, ["360p", "144p"])


def wait_for_segments(directory, count, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if os.path.isdir(directory) and len([n for n in os.listdir(directory) if n.endswith(".m4s")]) >= count:
            return True
        time.sleep(0.2)
    return False


def test_sigint_ends_with_eos(work):
    output = os.path.join(work, "interrupted")
    with launched("test-card", f"output={output}", "channel-name=Interrupted", *SMALL) as process:
        check(wait_for_segments(os.path.join(output, "144p"), 2, process, TIMEOUT),
              "no segments from the running test card")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    print(stderr, flush=True)
    check(process.returncode == 0, f"SIGINT: exit status {process.returncode}")
    check("onair-launch: end of stream" in stderr, "SIGINT did not end with EOS")
    check_output(output, ["360p", "144p"])


class StderrLines:
    """The lines a process writes to stderr, read by a thread so that waiting
    for one never blocks past its deadline."""

    def __init__(self, process):
        self.lines = queue.Queue()
        threading.Thread(target=self._read, args=(process.stderr,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.put(line)

    def wait_for(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith(prefix):
                return True
        return False


def test_second_sigint_forces_stop():
    """A pipeline that swallows EOS keeps running after one SIGINT; a second
    one stops it at once, with exit status 130."""
    with launched(os.path.join(DATA, "never-ends.pipeline")) as process:
        lines = StderrLines(process)
        # the signal handlers are in place once it plays
        check(lines.wait_for("onair-launch: playing", TIMEOUT), "never-ends does not play")
        process.send_signal(signal.SIGINT)
        check(lines.wait_for("onair-launch: stopping: sent EOS", TIMEOUT), "first SIGINT: no EOS sent")
        check(process.poll() is None, "a pipeline that swallows EOS ended after one SIGINT")
        process.send_signal(signal.SIGINT)
        check(lines.wait_for("onair-launch: stopped without EOS", TIMEOUT), "second SIGINT: not stopped")
        process.wait(timeout=TIMEOUT)
        check(process.returncode == 130, f"second SIGINT: exit status {process.returncode}")


def test_file_vod(work):
    """A generated file with sound, and one without (audio=false), each end by
    themselves with complete VOD playlists."""
    seconds = 6
    with_audio = os.path.join(work, "with audio.mp4")  # a space in the path, on purpose
    video_only = os.path.join(work, "video-only.mp4")
    run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", with_audio])
    run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=30:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", video_only])
    for source, audio in ((with_audio, True), (video_only, False)):
        output = os.path.join(work, "vod-" + ("audio" if audio else "video"))
        result = launch("file-vod", f"input={source}", f"output={output}", f"audio={str(audio).lower()}",
                        "ladder=240p:300,144p:100", "speed-preset=ultrafast")
        print(result.stderr, flush=True)
        check(result.returncode == 0 and "onair-launch: end of stream" in result.stderr,
              f"file-vod {os.path.basename(source)}: exit status {result.returncode}")
        check_output(output, ["240p", "144p"], audio=audio)
        with open(os.path.join(output, "240p", "index.m3u8")) as f:
            total = sum(float(line.split(":")[1].rstrip(",\n")) for line in f if line.startswith("#EXTINF:"))
        check(abs(total - seconds) < 0.5, f"file-vod {os.path.basename(source)} lasts {total:.2f} s, not {seconds}")

    # an input that cannot be read is an error from the pipeline: exit 1
    result = launch("file-vod", f"input={os.path.join(work, 'missing.mp4')}", f"output={work}/vod-missing")
    check(result.returncode == 1 and "ERROR from /GstPipeline:file-vod/GstURIDecodeBin:decode" in result.stderr,
          f"missing input: {result.returncode} {result.stderr!r}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_live_remux_publish(work):
    """live-remux as shipped (no parsers between flvdemux and abrsink), with
    a real publisher: ffmpeg over RTMP, one-second GOPs, 4 s. The publisher
    leaving ends the stream; every frame is in the segments, at the size the
    publisher sent."""
    output = os.path.join(work, "remux")
    port = free_port()
    with launched("live-remux", "stream-key=secret", f"rtmp-port={port}", "address=127.0.0.1",
                  f"output={output}") as process:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        run(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=4",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "30", "-keyint_min", "30",
             "-sc_threshold", "0", "-c:a", "aac", "-f", "flv", f"rtmp://127.0.0.1:{port}/live/secret"], timeout=TIMEOUT)
        _, stderr = process.communicate(timeout=TIMEOUT)
    print(stderr, flush=True)
    check(process.returncode == 0 and "onair-launch: end of stream" in stderr,
          f"live-remux: exit status {process.returncode}")
    video = check_output(output, ["video_0"]).get("video_0", {})
    with open(os.path.join(output, "master.m3u8")) as f:
        master = f.read()
    check("RESOLUTION=320x240,FRAME-RATE=30.000," in master, f"live-remux master.m3u8:\n{master}")
    frames = f"{video.get('width')},{video.get('height')},{video.get('nb_read_packets')}"
    check(frames == "320,240,120", f"live-remux: video {frames!r}, expected 320,240,120 (width, height, frames)")


def main():
    work = tempfile.mkdtemp(prefix="onair-launch-")
    try:
        test_check_messages()
        test_shipped_files_pass_check()
        test_print_runs_under_gst_launch(work)
        test_sigint_ends_with_eos(work)
        test_second_sigint_forces_stop()
        test_file_vod(work)
        test_live_remux_publish(work)
    finally:
        subprocess.run(["rm", "-rf", work])
    finish()


if __name__ == "__main__":
    main()
